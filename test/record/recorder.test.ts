import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createCallRecorder, defaultRecordingDir, recordingName } from '../../src/record/recorder.js';
import { readCapture } from '../../src/record/pcap-reader.js';
import { decodeUdp } from '../../src/record/frame-decode.js';
import { buildCli, dominantFreq, rms, rtpPacket, runCli, soxInfo, tempDir, toneG711, tshark } from './helpers.js';
import { APP_CALLER_LEG, CALLER_GAP, syntheticCall, TECHS } from './synthetic-call.js';

const decodeAs = ['-d', `udp.port==${APP_CALLER_LEG.port},rtp`, ...TECHS.flatMap((h) => ['-d', `udp.port==${h.leg.port},rtp`])];

t.test('recordingName sorts by local time and carries every ticket of the call between underscores', async (t) => {
  const d = new Date(2026, 0, 5, 7, 8, 9);
  const rows: Array<[number[], string, string]> = [
    [[], '0612345678', '2026-01-05_07.08.09_Caller_0612345678.pcap'],
    [[1234], '0612345678', '2026-01-05_07.08.09_Ticket_1234_Caller_0612345678.pcap'],
    [[1234, 1236, 1237], '+39x1', '2026-01-05_07.08.09_Ticket_1234_1236_1237_Caller_+39x1.pcap'],
    [[7], '../a b', '2026-01-05_07.08.09_Ticket_7_Caller_ab.pcap'],
    [[7], '', '2026-01-05_07.08.09_Ticket_7_Caller_anonymous.pcap'],
  ];
  for (const [tickets, caller, want] of rows) t.equal(recordingName(d, tickets, caller), want);
  const many = Array.from({ length: 40 }, (_, i) => 100 + i);
  const long = recordingName(d, many, '0612345678');
  t.ok(long.length < 255 && long.includes('_139_Caller'), `40 hops: a FAT-length name with the last ticket (${long.length} chars)`);
  for (const n of [1236, 1237]) t.match(recordingName(d, [1234, 1236, 1237], '1'), new RegExp(`_${n}_`), `ticket ${n} is found by _${n}_`);
  const later = recordingName(new Date(2026, 9, 15, 17, 0, 0), [7], '1');
  t.ok(recordingName(d, [99999], '1') < later, 'a later call sorts after an earlier one whatever the ticket');
  t.equal(defaultRecordingDir('/media/card/CF0/TicketSMS'), '/media/card/CF0/TED_RECORDING', 'beside the application folder');
  t.equal(defaultRecordingDir('/media/card/CF0/TicketSMS/'), '/media/card/CF0/TED_RECORDING');
});

t.test('a recorded call opens in tshark as RTP both ways and converts to a 1 kHz / 440 Hz WAV', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const start = Date.UTC(2026, 10, 25, 12, 0, 0);
  const rec = createCallRecorder({ dir, name: recordingName(new Date(start), [42], '0612345678'), logger: log });
  const packets = syntheticCall(start);
  for (const p of packets) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  await rec.close(); // idempotent
  t.equal(rec.stats.packets, packets.length, 'every packet recorded');
  t.equal(rec.stats.buffered, 0, 'nothing left in memory');
  t.equal(rec.stats.failure, undefined);
  t.ok(rec.stats.writes >= 2 && rec.stats.writes < 40, `few large writes (${rec.stats.writes} for ${packets.length} packets)`);
  t.equal(statSync(rec.path).size, rec.stats.bytesWritten, 'file size = bytes written');

  const caps = execFileSync('capinfos', ['-c', '-M', '-E', rec.path], { encoding: 'utf8' });
  t.match(caps, new RegExp(`Number of packets:\\s+${packets.length}\\n`), 'capinfos counts every packet');
  t.match(caps, /File encapsulation:\s+ether\n/, 'link type Ethernet');
  const fields = tshark(['-r', rec.path, ...decodeAs, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'rtp.p_type', '-e', 'rtp.ssrc', '-e', 'eth.src']);
  const rows = fields.trim().split('\n').map((l) => l.split('\t'));
  t.equal(rows.length, packets.length);
  t.ok(rows.every((r) => r[2] === '0' || r[2] === '8'), 'every frame is RTP with PT 0 or 8');
  t.ok(rows.some((r) => r[0] === '40000' && r[1] === '30000' && r[2] === '8' && r[4] === '02:00:00:00:00:01'), 'caller -> appliance, PCMA, caller MAC');
  t.ok(rows.some((r) => r[0] === '30000' && r[1] === '40000' && r[2] === '0' && r[4] === '02:00:00:00:00:00'), 'appliance -> caller, PCMU, appliance MAC');
  t.ok(rows.some((r) => r[0] === '41000' && r[4] === '02:00:00:00:00:02'), 'technician MAC');
  const bad = tshark(['-r', rec.path, ...decodeAs, '-o', 'ip.check_checksum:TRUE', '-Y', '_ws.malformed || _ws.expert.severity >= "warning" || ip.checksum.status == "Bad"']);
  t.equal(bad.trim(), '', 'no malformed frames, no bad IPv4 checksum');
  const streams = tshark(['-r', rec.path, ...decodeAs, '-q', '-z', 'rtp,streams']);
  const streamRows = streams.split('\n').filter((l) => /0x[0-9A-Fa-f]{8}/.test(l));
  t.equal(streamRows.length, 7, 'caller, 2 hops relayed to the caller, 2 technicians, 2 relayed to technicians');
  t.ok(streamRows.every((l) => /g711[AU]/.test(l)), 'each stream has a G.711 payload type');

  const cliDir = tempDir(t);
  const cli = await buildCli(cliDir);
  const wav = join(cliDir, 'call.wav');
  const r = runCli(cli, [rec.path, wav]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /wrote .*call\.wav: 6\.0\d s, stereo \(left caller, right what the caller heard\)/);
  const info = soxInfo(wav);
  t.equal(info.channels, 2);
  t.equal(info.rate, 8000);
  const span = (packets[packets.length - 1].timeMs - packets[0].timeMs) / 1000;
  t.ok(Math.abs(info.seconds - span) < 0.1, `WAV ${info.seconds} s vs first-to-last packet ${span.toFixed(3)} s`);
  t.ok(Math.abs(dominantFreq(wav, 1) - 1000) < 20, 'left (caller) is 1 kHz');
  t.ok(Math.abs(dominantFreq(wav, 2) - 440) < 20, 'right (what the caller heard) is 440 Hz');
  const gap = (CALLER_GAP[0] + 100) / 1000;
  t.ok(rms(wav, 1, gap, 0.3) < 0.001, 'caller silent in the gap');
  t.ok(rms(wav, 1, 0.5, 1) > 0.2, 'caller loud outside the gap');
  t.ok(rms(wav, 2, gap, 0.3) > 0.2, 'technician heard across the hop change');

  const mono = join(cliDir, 'mix.wav');
  t.equal(runCli(cli, [rec.path, mono, '--mix']).status, 0);
  const mi = soxInfo(mono);
  t.equal(mi.channels, 1, '--mix is mono');
  t.ok(Math.abs(mi.seconds - info.seconds) < 0.001, 'same length mixed');
  t.ok(log.lines.some((l) => new RegExp(`INFO recording .*Ticket_42_Caller_0612345678\\.pcap closed: ${packets.length} packets in the file, \\d+ bytes, 0 dropped`).test(l)), 'one closing line');
});

t.test('the file is a valid pcap after every flush, with whole records only', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'flush.pcap', logger: memoryLogger(), flushIntervalMs: 60_000, maxBufferBytes: 8192 });
  const packets = syntheticCall(Date.now());
  let checks = 0;
  for (let i = 0; i < 400; i++) {
    const p = packets[i];
    rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
    if (i % 97 === 96) {
      await rec.flush();
      const cap = readCapture(readFileSync(rec.path));
      t.equal(cap.truncated, undefined, `after flush ${++checks}: no cut record`);
      t.equal(cap.packets.length, i + 1, 'every packet so far is in the file');
      t.ok(cap.packets.every((c) => decodeUdp(c.linkType, c.data) !== undefined));
    }
  }
  t.ok(rec.stats.writes >= 4, 'size-triggered flushes happened');
  await rec.close();
  const all = readCapture(readFileSync(rec.path));
  t.equal(all.packets.length, 400);
});

t.test('the flush timer writes buffered packets without a close', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'timer.pcap', logger: memoryLogger(), flushIntervalMs: 50 });
  t.teardown(() => rec.close());
  const p = syntheticCall(Date.now())[0];
  rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  const deadline = Date.now() + 10_000;
  while (rec.stats.writes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(readCapture(readFileSync(rec.path)).packets.length, 1, 'on the card within the interval');
});

t.test('a full card stops the recording with one log line; the call goes on', async (t) => {
  const dir = tempDir(t);
  const name = 'full.pcap';
  symlinkSync('/dev/full', join(dir, name)); // every write fails with ENOSPC
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name, logger: log, maxBufferBytes: 4096 });
  const packets = syntheticCall(Date.now());
  t.doesNotThrow(() => {
    for (const p of packets) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  }, 'packet() never throws');
  await rec.close();
  await rec.close();
  const errors = log.lines.filter((l) => / ERROR /.test(l));
  t.equal(errors.length, 1, 'exactly one error line');
  t.match(errors[0], /recording .*full\.pcap stopped: ENOSPC/, 'names the file and the cause');
  t.match(rec.stats.failure ?? '', /ENOSPC/);
  t.ok(rec.stats.dropped > 0, 'later packets are dropped, counted');
});

t.test('a recording folder that cannot be created fails once, quietly for the call', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir: join('/dev/null', 'x'), name: 'a.pcap', logger: log });
  const p = syntheticCall(Date.now())[0];
  for (let i = 0; i < 10; i++) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  t.equal(log.lines.filter((l) => / ERROR /.test(l)).length, 1);
  t.match(log.lines.join('\n'), /recording \/dev\/null\/x\/a\.pcap stopped: (ENOTDIR|EEXIST)/);
  t.notOk(existsSync(join(dir, 'a.pcap')));
});

t.test('bad arguments from a tap never throw', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name: 'odd.pcap', logger: log });
  const ep = { address: 'not-an-ip', port: 70000 };
  t.doesNotThrow(() => {
    rec.packet('caller', ep, ep, new Uint8Array(0), Date.now());
    rec.packet('caller', ep, ep, new Uint8Array(70000), Date.now());
    rec.packet('caller', ep, ep, new Uint8Array(20), Date.now());
  });
  await rec.close();
  t.equal(rec.stats.packets, 1, 'the plausible one is kept');
  t.equal(rec.stats.dropped, 2, 'empty and oversized are dropped');
  t.equal(readCapture(readFileSync(rec.path)).packets.length, 1);
});

t.test('a card too slow to keep up: packets are dropped with one warning, the file stays whole', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name: 'slow.pcap', logger: log, maxBufferBytes: 4096, maxQueuedBytes: 8192 });
  const packets = syntheticCall(Date.now());
  // A synchronous burst: no write can complete in between, so the queue only grows
  for (const p of packets.slice(0, 300)) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  t.ok(rec.stats.dropped > 0, `${rec.stats.dropped} dropped`);
  t.equal(rec.stats.buffered + rec.stats.dropped, 300, 'accepted (in memory) + dropped');
  t.equal(rec.stats.packets, 0, 'nothing counted as recorded before it is on the card');
  t.equal(log.lines.filter((l) => /WARN .*slow\.pcap: card too slow/.test(l)).length, 1, 'one warning per episode');
  await rec.close();
  t.equal(rec.stats.packets + rec.stats.dropped, 300);
  const cap = readCapture(readFileSync(rec.path));
  t.equal(cap.truncated, undefined);
  t.equal(cap.packets.length, rec.stats.packets, 'every accepted packet is in the file');
});

t.test('packets after close() are counted, not written', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'late.pcap', logger: memoryLogger() });
  const [a, b] = syntheticCall(Date.now());
  rec.packet(a.role, a.src, a.dst, a.rtp, a.timeMs);
  const closing = rec.close();
  rec.packet(b.role, b.src, b.dst, b.rtp, b.timeMs);
  await closing;
  t.equal(rec.stats.packets, 1);
  t.equal(rec.stats.dropped, 1);
  t.equal(readCapture(readFileSync(rec.path)).packets.length, 1);
});

t.test('the receiver role is learned from where the legs send from', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'roles.pcap', logger: memoryLogger() });
  const rtp = Buffer.alloc(172, 0xd5);
  rtp[0] = 0x80;
  const caller = { address: '127.0.0.1', port: 40000 };
  const tech = { address: '127.0.0.1', port: 41000 };
  const app1 = { address: '127.0.0.1', port: 30000 };
  const app2 = { address: '127.0.0.1', port: 30002 };
  rec.packet('appliance', app2, { ...tech }, rtp, 1); // tech not heard from yet: unknown
  rec.packet('caller', { ...caller }, app1, rtp, 2);
  rec.packet('technician', { ...tech }, app2, rtp, 3);
  rec.packet('appliance', app1, { ...caller }, rtp, 4);
  rec.packet('appliance', app2, { ...tech }, rtp, 5);
  rec.packet('appliance', app2, { ...tech }, rtp, 6, 'caller'); // an explicit `to` wins
  await rec.close();
  const macs = readCapture(readFileSync(rec.path)).packets.map((p) => `${p.data.toString('hex', 11, 12)}>${p.data.toString('hex', 5, 6)}`);
  t.same(macs, ['00>ff', '01>00', '02>00', '00>01', '00>02', '00>01']);
});

t.test('a long hunt (more flows than the recorder keeps frames for) frames every packet with its own endpoints', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'hunt.pcap', logger: memoryLogger() });
  const caller = { address: '127.0.0.1', port: 40000 };
  const app = { address: '127.0.0.1', port: 30000 };
  const want: string[] = [];
  // 15 technician legs, each both ways, interleaved with the caller: 31 flows, revisited out of order
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 15; i++) {
      const leg = { address: `10.0.${round}.${i + 1}`, port: 5000 + 2 * i };
      const mine = { address: '127.0.0.1', port: 31000 + 2 * i };
      const seq = round * 100 + i;
      rec.packet('caller', { ...caller }, app, rtpPacket(8, seq, 0, 1, Buffer.alloc(160 + i)), 1000 + seq);
      rec.packet('technician', { ...leg }, mine, rtpPacket(8, seq, 0, 2, Buffer.alloc(160 + i)), 1000 + seq);
      rec.packet('appliance', mine, { ...leg }, rtpPacket(8, seq, 0, 3, Buffer.alloc(160 + i)), 1000 + seq);
      want.push(`127.0.0.1:40000>127.0.0.1:30000 01>00 ${172 + i}`);
      want.push(`${leg.address}:${leg.port}>127.0.0.1:${mine.port} 02>00 ${172 + i}`);
      want.push(`127.0.0.1:${mine.port}>${leg.address}:${leg.port} 00>02 ${172 + i}`);
    }
  }
  await rec.close();
  const got = readCapture(readFileSync(rec.path)).packets.map((p) => {
    const u = decodeUdp(1, p.data);
    return `${u?.srcAddr}:${u?.srcPort}>${u?.dstAddr}:${u?.dstPort} ${p.data.toString('hex', 11, 12)}>${p.data.toString('hex', 5, 6)} ${u?.payload.length}`;
  });
  t.same(got, want);
});

t.test('IPv6 endpoints are framed as IPv6 with a valid UDP checksum, and convert', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'v6.pcap', logger: memoryLogger() });
  const caller = { address: '::1', port: 40000 };
  const app = { address: '::1', port: 30000 };
  const up = toneG711('PCMA', 1000, 1);
  const down = toneG711('PCMU', 440, 1);
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) {
    rec.packet('caller', caller, app, rtpPacket(8, i, i * 160, 1, up.subarray(i * 160, i * 160 + 160)), t0 + i * 20);
    rec.packet('appliance', app, caller, rtpPacket(0, i, i * 160, 2, down.subarray(i * 160, i * 160 + 160)), t0 + i * 20 + 1);
  }
  await rec.close();
  const rows = tshark(['-r', rec.path, '-d', 'udp.port==30000,rtp', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-e', 'ipv6.src', '-e', 'udp.checksum.status', '-e', 'rtp.p_type']);
  const lines = rows.trim().split('\n');
  t.equal(lines.length, 100);
  t.ok(lines.every((l) => /^::1\t1\t(0|8)$/.test(l)), `IPv6, checksum status 1 (good), RTP PT 0/8: ${lines[0]}`);
  const bad = tshark(['-r', rec.path, '-d', 'udp.port==30000,rtp', '-o', 'udp.check_checksum:TRUE', '-Y', '_ws.malformed || udp.checksum.status == "Bad"']);
  t.equal(bad.trim(), '');
  const cli = await buildCli(dir);
  const wav = join(dir, 'v6.wav');
  t.equal(runCli(cli, [rec.path, wav]).status, 0);
  t.ok(Math.abs(dominantFreq(wav, 1) - 1000) < 20);
  t.ok(Math.abs(dominantFreq(wav, 2) - 440) < 20);
});

t.test('a card that fills up mid-call: one error line, the file cut back to its last whole record', async (t) => {
  const dir = tempDir(t);
  const child = join(dir, 'child.cjs');
  await build({ entryPoints: ['test/record/fill-card-child.ts'], outfile: child, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  // ulimit -f 64: at most 64 KiB per file, like a card with 64 KiB left: a write is cut short, the next gets EFBIG
  const out = execFileSync('bash', ['-c', 'ulimit -f 64 && exec "$0" "$@"', process.execPath, child, dir, 'limited.pcap'], { encoding: 'utf8' });
  const r = JSON.parse(out) as { stats: { packets: number; bytesWritten: number; dropped: number; failure?: string }; lines: string[]; threw: number; path: string };
  t.equal(r.threw, 0, 'packet() never threw');
  const errors = r.lines.filter((l) => / ERROR /.test(l));
  t.equal(errors.length, 1, 'one error line');
  t.match(errors[0], /recording .*limited\.pcap stopped: EFBIG/);
  const size = statSync(r.path).size;
  t.ok(size <= 65536 && size > 30000, `file kept what fitted (${size} bytes)`);
  t.equal(size, r.stats.bytesWritten, 'stats match the file');
  const cap = readCapture(readFileSync(r.path));
  t.equal(cap.truncated, undefined, 'no partial record at the end');
  t.ok(cap.packets.length > 100 && cap.packets.length < 1000, `${cap.packets.length} whole packets readable`);
  t.equal(r.stats.packets, cap.packets.length, 'the packet count is what the file holds');
  t.equal(r.stats.packets + r.stats.dropped, 1000, 'every other packet is counted as dropped');
  const closing = r.lines.find((l) => / closed after a failure/.test(l));
  t.match(closing, new RegExp(`: ${cap.packets.length} packets in the file, ${size} bytes, ${1000 - cap.packets.length} dropped`), 'the log says so');
});

t.test('an existing recording of the same name is never overwritten', async (t) => {
  const dir = tempDir(t);
  const first = createCallRecorder({ dir, name: 'same.pcap', logger: memoryLogger() });
  const [a] = syntheticCall(Date.now());
  first.packet(a.role, a.src, a.dst, a.rtp, a.timeMs);
  await first.close();
  const second = createCallRecorder({ dir, name: 'same.pcap', logger: memoryLogger() });
  second.packet(a.role, a.src, a.dst, a.rtp, a.timeMs);
  second.packet(a.role, a.src, a.dst, a.rtp, a.timeMs + 20);
  await second.close();
  t.equal(first.path, join(dir, 'same.pcap'));
  t.equal(second.path, join(dir, 'same_2.pcap'));
  t.equal(readCapture(readFileSync(first.path)).packets.length, 1, 'the first is intact');
  t.equal(readCapture(readFileSync(second.path)).packets.length, 2);
});

t.test('the file is a valid, empty pcap before the first packet, and never exists without its header', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'early.pcap', logger: memoryLogger(), flushIntervalMs: 60_000 });
  // only what the kernel sees: the name either is not there yet, or holds a whole header
  let seen = 0;
  const watch = setInterval(() => {
    if (!existsSync(rec.path)) return;
    seen++;
    const b = readFileSync(rec.path);
    if (b.length < 24) t.fail(`${rec.path} seen with ${b.length} bytes`);
  }, 0);
  await rec.rename('early.pcap'); // resolves once the file is made
  clearInterval(watch);
  t.equal(statSync(rec.path).size, 24, 'the global header is on the card');
  const cap = readCapture(readFileSync(rec.path));
  t.same([cap.packets.length, cap.truncated], [0, undefined], 'a valid capture without packets');
  t.notOk(existsSync(`${rec.path}.part`), 'no .part left');
  t.equal(rec.stats.bytesWritten, 24);
  const p = syntheticCall(Date.now())[0];
  rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  t.equal(readCapture(readFileSync(rec.path)).packets.length, 1);
  t.ok(seen >= 0);
});

t.test('a recording is renamed while written and after close; a taken name gets a suffix', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name: 'a_Caller_1.pcap', logger: log, flushIntervalMs: 60_000 });
  const packets = syntheticCall(Date.now());
  for (const p of packets.slice(0, 50)) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.rename('a_Ticket_5_Caller_1.pcap');
  for (const p of packets.slice(50, 100)) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  t.equal(rec.path, join(dir, 'a_Ticket_5_Caller_1.pcap'));
  writeFileSync(join(dir, 'a_Ticket_5_6_Caller_1.pcap'), 'someone else');
  await rec.rename('a_Ticket_5_6_Caller_1.pcap');
  t.equal(rec.path, join(dir, 'a_Ticket_5_6_Caller_1_2.pcap'), 'never overwrites');
  t.equal(readFileSync(join(dir, 'a_Ticket_5_6_Caller_1.pcap'), 'utf8'), 'someone else');
  t.equal(readCapture(readFileSync(rec.path)).packets.length, 100, 'every packet, across the renames');
  t.same(readdirSync(dir).sort(), ['a_Ticket_5_6_Caller_1.pcap', 'a_Ticket_5_6_Caller_1_2.pcap']);
  t.ok(log.lines.some((l) => /renamed to a_Ticket_5_6_Caller_1_2\.pcap/.test(l)));
});

t.test('two recordings of one name at once (same second, same caller) get two files', async (t) => {
  const dir = tempDir(t);
  const a = createCallRecorder({ dir, name: 'x.pcap', logger: memoryLogger() });
  const b = createCallRecorder({ dir, name: 'x.pcap', logger: memoryLogger() });
  const p = syntheticCall(Date.now())[0];
  a.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await Promise.all([a.close(), b.close()]);
  t.not(a.path, b.path);
  t.same(readdirSync(dir).sort(), ['x.pcap', 'x_2.pcap']);
  t.same([a, b].map((r) => readCapture(readFileSync(r.path)).packets.length), [1, 0]);
});

t.test('a rename the card refuses is one warning; the recording keeps its name', async (t) => {
  const dir = tempDir(t);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name: 'keep.pcap', logger: log });
  await rec.close();
  await rec.rename('sub/dir/nope.pcap');
  t.equal(rec.path, join(dir, 'keep.pcap'));
  t.equal(log.lines.filter((l) => /WARN recording .*keep\.pcap: not renamed to sub\/dir\/nope\.pcap: ENOENT/.test(l)).length, 1);
});

t.test('a kill -9 in the first moments of a recording leaves no file or a valid one, never a broken one', async (t) => {
  const dir = tempDir(t);
  const child = join(dir, 'child.cjs');
  await build({ entryPoints: ['test/record/kill-early-child.ts'], outfile: child, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  const cli = await buildCli(dir);
  // [stage, a file must exist]: the child kills itself at the stage (see kill-early-child.ts)
  const stages: Array<[string, boolean]> = [
    ['created', false],
    ['packets', false],
    ['file', true],
    ['flushed', true],
    ...Array.from({ length: 8 }, (_, i): [string, boolean] => [`after:${i * 15}`, false]),
  ];
  for (const [stage, mustExist] of stages) {
    const rec = join(dir, stage.replace(':', '-'));
    const r = spawnSync(process.execPath, [child, rec, stage], { timeout: 30_000 });
    t.equal(r.signal, 'SIGKILL', `${stage}: killed`);
    const files = existsSync(rec) ? readdirSync(rec).filter((f) => f.endsWith('.pcap')) : [];
    if (mustExist) t.equal(files.length, 1, `${stage}: the recording is on the card`);
    else t.ok(files.length <= 1, `${stage}: at most one recording`);
    for (const f of files) {
      const cap = readCapture(readFileSync(join(rec, f)));
      t.equal(cap.truncated, undefined, `${stage}: ${f} is whole (${cap.packets.length} packets)`);
      if (stage === 'flushed') t.ok(cap.packets.length > 0, `${stage}: with the flushed packets`);
      const out = runCli(cli, [join(rec, f), join(rec, 'out.wav')]);
      t.equal(out.status, 0, `${stage}: pcap2wave reads it: ${out.stderr}`);
    }
  }
});
