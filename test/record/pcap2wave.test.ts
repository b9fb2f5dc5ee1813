import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createCallRecorder, type Role } from '../../src/record/recorder.js';
import { buildCli, dominantFreq, rms, rtpPacket, runCli, soxInfo, tempDir, toneG711, tshark } from './helpers.js';
import { syntheticCall } from './synthetic-call.js';
import { pcap2wave } from '../../src/record/pcap2wave.js';

const G711A = '/usr/share/sip-tester/g711a.pcap';

/** The samples of one channel of a 16-bit WAV written by pcap2wave (44-byte header). */
function channelSamples(wav: string, channel: number, channels: number): Int16Array {
  const b = readFileSync(wav);
  const frames = (b.length - 44) / (2 * channels);
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) out[i] = b.readInt16LE(44 + (i * channels + channel) * 2);
  return out;
}

async function record(dir: string, name: string, packets: { role: Role; src: { address: string; port: number }; dst: { address: string; port: number }; rtp: Buffer; timeMs: number }[]): Promise<string> {
  const rec = createCallRecorder({ dir, name, logger: memoryLogger() });
  for (const p of packets) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  return rec.path;
}

t.test('SIPp g711a.pcap (an ordinary PCMA capture) converts sample-exact, to its length', async (t) => {
  const dir = tempDir(t);
  const cli = await buildCli(dir);
  const wav = join(dir, 'g711a.wav');
  const r = runCli(cli, [G711A, wav]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /left 1 stream, right 0 streams, codec PCMA/);
  const info = soxInfo(wav);
  t.equal(info.channels, 2);
  // capinfos: 7.049628 s first to last packet, plus the last packet's 30 ms
  t.ok(Math.abs(info.seconds - 7.05) < 0.1, `duration ${info.seconds} s`);
  t.equal(rms(wav, 2, 0, 7), 0, 'no reverse stream: right channel silent');
  // Reference: tshark exports the payload, sox decodes the A-law
  const hex = tshark(['-r', G711A, '-d', 'udp.port==2006,rtp', '-Y', 'rtp.p_type==8', '-T', 'fields', '-e', 'rtp.payload']).replace(/[^0-9a-f]/gi, '');
  const alaw = join(dir, 'ref.al');
  writeFileSync(alaw, Buffer.from(hex, 'hex'));
  const ref = execFileSync('sox', ['-t', 'al', '-r', '8000', '-c', '1', alaw, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-']);
  const refPcm = new Int16Array(ref.buffer, ref.byteOffset, ref.length / 2);
  const left = channelSamples(wav, 0, 2);
  t.equal(left.length, refPcm.length, 'same number of samples as the payload (no gap, no loss)');
  let same = 0;
  for (let i = 0; i < refPcm.length; i++) if (left[i] === refPcm[i]) same++;
  t.equal(same, refPcm.length, 'every sample equals sox decoding of the exported payload');
});

t.test('loss (10 %) and reordering keep the length, leave silence where lost, stay 1 kHz', async (t) => {
  const dir = tempDir(t);
  const cli = await buildCli(dir);
  const tone = toneG711('PCMA', 1000, 5);
  const caller = { address: '127.0.0.1', port: 40000 };
  const app = { address: '127.0.0.1', port: 30000 };
  const t0 = Date.UTC(2026, 0, 1);
  const clean = Array.from({ length: 200 }, (_, i) => ({
    role: 'caller' as Role,
    src: caller,
    dst: app,
    rtp: rtpPacket(8, 65500 + i, 4_294_960_000 + i * 160, 0xabc, tone.subarray(i * 160, i * 160 + 160)),
    timeMs: t0 + i * 20,
  }));
  const lostIdx = new Set<number>();
  for (let i = 3; i < 197; i += 10) lostIdx.add(i + (i % 7)); // 10 %, never the first or last packet
  const damaged = clean.filter((_, i) => !lostIdx.has(i));
  let swaps = 0;
  for (let k = 5; k + 1 < damaged.length - 1; k += 9) {
    // neighbours swapped on the wire: the later one arrives on time, the earlier 1 ms after it
    const [a, b] = [damaged[k], damaged[k + 1]];
    damaged[k] = { ...b, timeMs: b.timeMs };
    damaged[k + 1] = { ...a, timeMs: b.timeMs + 1 };
    swaps++;
  }
  damaged.splice(50, 0, { ...damaged[49], timeMs: damaged[49].timeMs + 0.5 }); // and one duplicate
  const cleanWav = join(dir, 'clean.wav');
  const badWav = join(dir, 'bad.wav');
  t.equal(runCli(cli, [await record(dir, 'clean.pcap', clean), cleanWav]).status, 0);
  const r = runCli(cli, [await record(dir, 'bad.pcap', damaged), badWav]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, new RegExp(`left 1 stream, ${lostIdx.size} lost`), 'the loss is reported');
  t.ok(swaps >= 10 && lostIdx.size === 20, `${lostIdx.size} lost, ${swaps} swaps`);
  t.equal(soxInfo(badWav).seconds, soxInfo(cleanWav).seconds, 'length unchanged');
  t.ok(Math.abs(dominantFreq(badWav, 1) - 1000) < 20, 'still 1 kHz');
  const a = channelSamples(cleanWav, 0, 2);
  const b = channelSamples(badWav, 0, 2);
  let wrong = 0;
  for (let i = 0; i < 200; i++) {
    for (let s = i * 160; s < i * 160 + 160; s++) {
      const want = lostIdx.has(i) ? 0 : a[s];
      if (b[s] !== want) wrong++;
    }
  }
  t.equal(wrong, 0, 'every kept packet (swapped ones too) sits where it belongs, lost ones are silence, across the seq and timestamp wrap');
});

t.test('a truncated recording still yields the audio before the cut, with a warning', async (t) => {
  const dir = tempDir(t);
  const cli = await buildCli(dir);
  const full = await record(dir, 'full.pcap', syntheticCall(Date.UTC(2026, 0, 1)));
  const bytes = readFileSync(full);
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 37));
  const r = runCli(cli, [cut]);
  t.equal(r.status, 0, 'not an error');
  t.match(r.stderr, /^pcap2wave: warning: .*cut\.pcap: truncated capture: file ends inside a record/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  const wav = join(dir, 'cut.wav');
  const info = soxInfo(wav);
  t.ok(info.seconds > 2 && info.seconds < 4, `about half the call (${info.seconds} s)`);
  t.ok(Math.abs(dominantFreq(wav, 1) - 1000) < 20);
  t.ok(Math.abs(dominantFreq(wav, 2) - 440) < 20);
});

t.test('bad input: one clear error line, non-zero exit, no stack trace', async (t) => {
  const dir = tempDir(t);
  const cli = await buildCli(dir);
  const file = (name: string, data: Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  const ep = (port: number): { address: string; port: number } => ({ address: '127.0.0.1', port });
  const g729 = Array.from({ length: 20 }, (_, i) => ({ role: 'caller' as Role, src: ep(4000), dst: ep(5000), rtp: rtpPacket(18, i, i * 160, 7, Buffer.alloc(20, 0x5a)), timeMs: 1e12 + i * 20 }));
  const events = Array.from({ length: 20 }, (_, i) => ({ role: 'caller' as Role, src: ep(4000), dst: ep(5000), rtp: rtpPacket(101, i, 0, 7, Buffer.from([1, 0x0a, 0, 160])), timeMs: 1e12 + i * 20 }));
  const good = readFileSync(G711A);
  const notRtp = Buffer.from(good);
  for (let off = 24; off + 16 <= notRtp.length; ) {
    const incl = notRtp.readUInt32LE(off + 8);
    notRtp[off + 16 + 42] = 0x45; // 'E': first payload byte ASCII, version 1: not RTP
    off += 16 + incl;
  }
  const cases: [string, string[], number, RegExp][] = [
    ['garbage', [file('garbage.pcap', Buffer.from('this is not a capture at all, just text\n'))], 1, /not a pcap file \(magic/],
    ['empty file', [file('empty.pcap', Buffer.alloc(0))], 1, /not a capture file \(0 bytes\)/],
    ['header cut short', [file('short.pcap', good.subarray(0, 10))], 1, /pcap global header cut short/],
    ['no RTP inside', [file('nortp.pcap', notRtp)], 1, /no RTP found \(236 packets, 236 UDP\)/],
    ['unknown codec only', [await record(dir, 'g729.pcap', g729)], 1, /no G\.711 \(PCMA\/PCMU\) audio among 20 RTP packets \(found: G729 x20\)/],
    ['telephone-events only', [await record(dir, 'dtmf.pcap', events)], 1, /only telephone-events/],
    ['missing file', [join(dir, 'nope.pcap')], 1, /ENOENT/],
    ['no arguments', [], 2, /^usage: pcap2wave IN\.pcap \[OUT\.wav\] \[--mix\]/],
    ['unknown option', [G711A, '--frobnicate'], 2, /^usage:/],
  ];
  for (const [what, args, code, re] of cases) {
    const r = runCli(cli, args);
    t.equal(r.status, code, `${what}: exit ${code}`);
    t.match(r.stderr, re, `${what}: says why`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
    t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    t.equal(r.stdout, '', `${what}: nothing claimed written`);
  }
});

t.test('the library: role MACs give caller left and what the caller heard right', async (t) => {
  const dir = tempDir(t);
  const call = syntheticCall(Date.UTC(2026, 0, 1));
  const r = pcap2wave(readFileSync(await record(dir, 'call.pcap', call)));
  t.equal(r.mode, 'roles');
  t.equal(r.channels, 2);
  t.same(r.codecs, ['PCMA', 'PCMU']);
  t.same(r.left.map((s) => s.stream), [`${0x11111111}@127.0.0.1:40000`], 'left: the caller only');
  t.same(r.right.map((s) => s.stream), [`${0x22220001}@127.0.0.1:30000`, `${0x22220002}@127.0.0.1:30000`], 'right: the two hops relayed to the caller, not the technician legs again');
  t.equal(r.wav.length, 44 + r.durationSec * 8000 * 4);
  const mixed = pcap2wave(readFileSync(join(dir, 'call.pcap')), { mix: true });
  t.equal(mixed.channels, 1);
  t.equal(mixed.durationSec, r.durationSec);
  // A recording where only the technician legs were tapped: the right channel falls back to them
  const legsOnly = call.filter((p) => !(p.role === 'appliance' && p.dst.port === 40000));
  const f = pcap2wave(readFileSync(await record(dir, 'legs.pcap', legsOnly)));
  t.same(f.right.map((s) => s.stream), [`${0x33330001}@127.0.0.1:41000`, `${0x33330002}@127.0.0.1:42000`]);
  t.throws(() => pcap2wave(Buffer.from('nonsense')), { name: 'Pcap2WaveError', message: /not a pcap file/ });
});

const YEARS_56_MS = Date.UTC(2026, 11, 7) - Date.UTC(1970, 0, 1);

t.test('a 56-year gap (a clock step in an old recording) is cut to silence with a warning naming the packet', async (t) => {
  const dir = tempDir(t);
  // the board at 1970 for the first 3 s, then NTP sets 2026: every later packet 56 years on
  const call = syntheticCall(0).map((p) => (p.timeMs >= 3000 ? { ...p, timeMs: p.timeMs + YEARS_56_MS } : p));
  const path = await record(dir, 'step.pcap', call);
  const r = pcap2wave(readFileSync(path));
  const firstAfter = call.findIndex((p) => p.timeMs >= YEARS_56_MS) + 1;
  t.equal(r.warnings.length, 1, r.warnings.join('\n'));
  t.match(r.warnings[0], new RegExp(`^packet ${firstAfter} comes 56\\.\\d years after packet ${firstAfter - 1} \\(a clock step while recording\\?\\): the gap is cut to 2 s of silence$`));
  // 6 s of call with the ~20 ms between the two packets around the step replaced by 2 s
  t.ok(Math.abs(r.durationSec - (6 + 2 - 0.02)) < 0.1, `WAV ${r.durationSec} s`);
  const cli = await buildCli(dir);
  const wav = join(dir, 'step.wav');
  const out = runCli(cli, [path, wav]);
  t.equal(out.status, 0, out.stderr);
  t.match(out.stderr, /^pcap2wave: warning: .*step\.pcap: packet \d+ comes 56\.\d years after/);
  t.ok(rms(wav, 1, 1, 1.5) > 0.2, 'the caller before the step is there');
  t.ok(rms(wav, 1, 3.3, 0.5) < 0.001, 'the cut gap is silence');
  t.ok(rms(wav, 1, 5.5, 1) > 0.2, 'the caller after the step is there');
  t.ok(Math.abs(dominantFreq(wav, 2) - 440) < 20, 'the technician on the right, both sides of the step');
});

t.test('gaps under the bound are kept; many long gaps are each cut, the warnings bounded', async (t) => {
  const dir = tempDir(t);
  const ep = (port: number): { address: string; port: number } => ({ address: '127.0.0.1', port });
  const hour = 3600_000;
  // 10 bursts of 5 packets, 59 min apart (kept), then 8 bursts 2 h apart (cut)
  const times = [...Array.from({ length: 10 }, (_, b) => b * (hour - 60_000)), ...Array.from({ length: 8 }, (_, b) => 10 * hour + b * 2 * hour)];
  const packets = times.flatMap((at, b) =>
    Array.from({ length: 5 }, (_, i) => ({ role: 'caller' as Role, src: ep(40000), dst: ep(30000), rtp: rtpPacket(8, b * 5 + i, (b * 5 + i) * 160, 9, Buffer.alloc(160, 0xd5)), timeMs: 1e12 + at + i * 20 })),
  );
  const r = pcap2wave(readFileSync(await record(dir, 'gaps.pcap', packets)), { maxSeconds: 20 * 3600 });
  const cut = r.warnings.filter((w) => /the gap is cut to 2 s/.test(w));
  t.equal(cut.length, 5, 'five named');
  t.match(r.warnings.join('\n'), /^3 more gaps over 3600 s cut the same way$/m, 'the rest counted');
  const kept = 9 * (hour - 60_000) / 1000;
  t.ok(Math.abs(r.durationSec - (kept + 1.6 + 8 * 2 + 0.1)) < 1, `the 59 min gaps stay, the 2 h ones are 2 s: ${r.durationSec} s`);
  const bounded = pcap2wave(readFileSync(join(dir, 'gaps.pcap')), { maxSeconds: 600 });
  t.ok(bounded.durationSec <= 600 + 1, `at most the bound converted (${bounded.durationSec} s)`);
  t.match(bounded.warnings.join('\n'), /the capture spans 8\.\d h: converted its first 600\.0 s \(packets up to 5\)/);
});

t.test('a capture without packets (a call cut in its first moments) converts to an empty WAV with a warning', async (t) => {
  const dir = tempDir(t);
  const path = await record(dir, 'empty.pcap', []);
  t.equal(readFileSync(path).length, 24, 'just the global header');
  const cli = await buildCli(dir);
  const out = runCli(cli, [path, join(dir, 'empty.wav')]);
  t.equal(out.status, 0, out.stderr);
  t.match(out.stderr, /warning: .*no packets: the recording ended before any audio/);
  t.equal(soxInfo(join(dir, 'empty.wav')).seconds, 0);
});
