/**
 * pcap2wave on captures made by tshark on the loopback interface (what a
 * user gets from Wireshark): Ethernet on `lo` (pcapng by default), Linux
 * cooked v1/v2 on `any`, then the same file rewritten to nanosecond pcap,
 * big-endian pcap, BSD null and raw-IPv4 link types.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lab/ports.js';
import { start, stopAll, until, type Proc } from '../lab/proc.js';
import { buildCli, dominantFreq, rtpPacket, runCli, soxInfo, tempDir, toneG711, tshark } from './helpers.js';

const PACKETS = 100;

/** Rewrite a little-endian µs pcap record by record. */
function rewritePcap(src: Buffer, opts: { linkType?: number; bigEndian?: boolean; link?: (frame: Buffer) => Buffer }): Buffer {
  const parts: Buffer[] = [];
  const w32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (opts.bigEndian) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  };
  const w16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (opts.bigEndian) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  };
  parts.push(w32(0xa1b2c3d4), w16(2), w16(4), w32(0), w32(0), w32(65535), w32(opts.linkType ?? src.readUInt32LE(20)));
  for (let off = 24; off + 16 <= src.length; ) {
    const incl = src.readUInt32LE(off + 8);
    let frame = src.subarray(off + 16, off + 16 + incl);
    if (opts.link) frame = opts.link(frame);
    parts.push(w32(src.readUInt32LE(off)), w32(src.readUInt32LE(off + 4)), w32(frame.length), w32(frame.length), frame);
    off += 16 + incl;
  }
  return Buffer.concat(parts);
}

function leftSamples(wav: string): Int16Array {
  const b = readFileSync(wav);
  const out = new Int16Array((b.length - 44) / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(44 + i * 4);
  return out;
}

async function sendCall(portA: number, portB: number): Promise<void> {
  const a = createSocket('udp4');
  const b = createSocket('udp4');
  await Promise.all([new Promise<void>((r) => a.bind(portA, '127.0.0.1', r)), new Promise<void>((r) => b.bind(portB, '127.0.0.1', r))]);
  const toneA = toneG711('PCMA', 1000, 3);
  const toneB = toneG711('PCMU', 440, 3);
  await new Promise<void>((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (i < PACKETS) a.send(rtpPacket(8, 1000 + i, 160 * i, 0x1a1a1a1a, toneA.subarray(i * 160, i * 160 + 160)), portB, '127.0.0.1');
      // the answering side starts 10 packets later, as after a ringing period
      const j = i - 10;
      if (j >= 0 && j < PACKETS) b.send(rtpPacket(0, 7 + j, 99999 + 160 * j, 0x2b2b2b2b, toneB.subarray(j * 160, j * 160 + 160)), portA, '127.0.0.1');
      if (++i >= PACKETS + 10) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  a.close();
  b.close();
}

t.test('live tshark captures on loopback convert to 1 kHz left / 440 Hz right', async (t) => {
  t.teardown(stopAll);
  const dir = tempDir(t);
  const cli = await buildCli(dir);
  const [portA, portB] = [await freePort(), await freePort()];
  const filter = `udp port ${portB}`;
  const caps: [string, string[]][] = [
    ['lo.pcapng', ['-i', 'lo']],
    ['sll.pcap', ['-i', 'any', '-y', 'LINUX_SLL', '-F', 'pcap']],
    ['sll2.pcap', ['-i', 'any', '-y', 'LINUX_SLL2', '-F', 'pcap']],
  ];
  const procs: Proc[] = caps.map(([file, args]) => start(`tshark ${file}`, 'tshark', [...args, '-f', filter, '-a', 'duration:180', '-P', '-w', join(dir, file)]));
  await Promise.all(procs.map((p) => p.waitFor(/Capturing on/, 60_000)));
  // Probes (4 bytes, not RTP) until every capture shows one: then capturing is really on
  const probe = createSocket('udp4');
  t.teardown(() => probe.close());
  await until(() => {
    probe.send(Buffer.alloc(4), portB, '127.0.0.1');
    return procs.every((p) => /Len=4\b/.test(p.output()));
  }, 'tshark to capture a probe', 60_000, 100);
  await sendCall(portA, portB);
  await until(() => {
    probe.send(Buffer.alloc(8), portB, '127.0.0.1');
    return procs.every((p) => /Len=8\b/.test(p.output()));
  }, 'tshark to capture the end marker', 60_000, 100);
  await Promise.all(procs.map((p) => p.stop()));

  const loPcap = join(dir, 'lo.pcap');
  execFileSync('editcap', ['-F', 'pcap', join(dir, 'lo.pcapng'), loPcap]);
  const loBytes = readFileSync(loPcap);
  t.equal(loBytes.readUInt32LE(20), 1, 'tshark writes Ethernet on lo');
  const derived: [string, Buffer][] = [
    ['be.pcap', rewritePcap(loBytes, { bigEndian: true })],
    ['null.pcap', rewritePcap(loBytes, { linkType: 0, link: (f) => Buffer.concat([Buffer.from([2, 0, 0, 0]), f.subarray(14)]) })],
    ['raw.pcap', rewritePcap(loBytes, { linkType: 101, link: (f) => f.subarray(14) })],
    ['ipv4.pcap', rewritePcap(loBytes, { linkType: 228, link: (f) => f.subarray(14) })],
  ];
  for (const [name, data] of derived) writeFileSync(join(dir, name), data);
  execFileSync('editcap', ['-F', 'nsecpcap', loPcap, join(dir, 'ns.pcap')]);

  // The RTP time span, as tshark sees it
  const times = tshark(['-r', loPcap, '-Y', 'udp.length > 100', '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n').map(Number);
  t.equal(times.length, 2 * PACKETS, 'tshark captured every RTP packet');
  const span = times[times.length - 1] - times[0];

  let reference: Int16Array | undefined;
  for (const name of ['lo.pcapng', 'lo.pcap', 'ns.pcap', 'be.pcap', 'null.pcap', 'raw.pcap', 'ipv4.pcap', 'sll.pcap', 'sll2.pcap']) {
    const input = join(dir, name);
    if (['null.pcap', 'raw.pcap', 'ipv4.pcap', 'be.pcap'].includes(name)) {
      const n = tshark(['-r', input, '-d', `udp.port==${portB},rtp`, '-Y', 'rtp', '-T', 'fields', '-e', 'rtp.seq']).trim().split('\n').length;
      t.equal(n, 2 * PACKETS, `${name}: our rewrite is a capture tshark reads as RTP`);
    }
    const wav = join(dir, `${name}.wav`);
    const r = runCli(cli, [input, wav]);
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.match(r.stdout, /left first RTP source, right its peer\), left 1 stream, right 1 stream, codec PCMA\+PCMU/, name);
    const info = soxInfo(wav);
    t.ok(Math.abs(info.seconds - span) < 0.1, `${name}: ${info.seconds} s vs ${span.toFixed(3)} s captured`);
    t.ok(Math.abs(dominantFreq(wav, 1) - 1000) < 20, `${name}: left 1 kHz`);
    t.ok(Math.abs(dominantFreq(wav, 2) - 440) < 20, `${name}: right 440 Hz`);
    if (name.startsWith('sll')) continue; // another capture: kernel timestamps may differ slightly
    const left = leftSamples(wav);
    if (!reference) reference = left;
    else t.same(left, reference, `${name}: same samples as the pcapng`);
  }
});
