// Cost of recording on the RTP hot path.
//
//   node bench/record-cost.mjs [calls=500] [seconds=10]
//
// Simulates `calls` recorded calls at 50 packets/s in each of 2 directions
// (20 ms G.711 packets, 172-byte RTP), paced in real time, into a temp dir,
// and prints: process CPU per recorded packet (recorder run minus an
// identical run with the recorder calls left out), write() calls per second,
// bytes per second, and RSS. Then a tight loop: the CPU of packet() alone.
// Both with fdatasync after each flush (the default) and without.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const calls = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 10);
const work = mkdtempSync(join(tmpdir(), 'ticketline-bench-'));
const bundle = join(work, 'recorder.mjs');
await build({ entryPoints: ['src/record/recorder.ts'], outfile: bundle, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
const { createCallRecorder } = await import(pathToFileURL(bundle).href);
const logger = { debug() {}, info() {}, warn: (m) => console.error(m), error: (m) => console.error(m), child() { return logger; } };

function rtp(seq, ssrc) {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80; b[1] = 8; b.writeUInt16BE(seq & 0xffff, 2); b.writeUInt32BE((seq * 160) >>> 0, 4); b.writeUInt32BE(ssrc, 8);
  return b;
}

async function paced(record, fsync) {
  const dir = mkdtempSync(join(work, 'run-'));
  const legs = Array.from({ length: calls }, (_, i) => ({
    caller: { address: '127.0.0.1', port: 40000 + 2 * i }, app: { address: '127.0.0.1', port: 30000 + 2 * i },
    up: rtp(i, 0x1000 + i), down: rtp(i, 0x2000 + i),
    rec: record ? createCallRecorder({ dir, name: `call-${i}.pcap`, logger, fsync }) : undefined,
  }));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let ticks = 0;
  let packets = 0;
  await new Promise((resolve) => {
    const tick = () => {
      ticks++;
      const now = Date.now();
      for (const l of legs) {
        l.up.writeUInt16BE(ticks & 0xffff, 2); // what a relay does to each packet anyway
        l.down.writeUInt16BE(ticks & 0xffff, 2);
        if (l.rec) {
          l.rec.packet('caller', l.caller, l.app, l.up, now);
          l.rec.packet('appliance', l.app, l.caller, l.down, now);
        }
        packets += 2;
      }
      const next = t0 + ticks * 20 - performance.now(); // 20 ms ticks without drift
      if (performance.now() - t0 >= seconds * 1000) resolve();
      else setTimeout(tick, Math.max(0, next));
    };
    tick();
  });
  await Promise.all(legs.map((l) => l.rec?.close()));
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) / 1000;
  const writes = legs.reduce((n, l) => n + (l.rec?.stats.writes ?? 0), 0);
  const bytes = legs.reduce((n, l) => n + (l.rec?.stats.bytesWritten ?? 0), 0);
  const dropped = legs.reduce((n, l) => n + (l.rec?.stats.dropped ?? 0), 0);
  rmSync(dir, { recursive: true, force: true });
  return { cpuUs: cpu.user + cpu.system, sysUs: cpu.system, packets, wall, writes, bytes, dropped, rss: process.memoryUsage().rss };
}

function tight(n) {
  const dir = mkdtempSync(join(work, 'tight-'));
  const rec = createCallRecorder({ dir, name: 'tight.pcap', logger, fsync: false, maxBufferBytes: 1 << 20, maxQueuedBytes: Infinity });
  const a = { address: '127.0.0.1', port: 40000 };
  const b = { address: '127.0.0.1', port: 30000 };
  const p = rtp(1, 1);
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) rec.packet(i & 1 ? 'appliance' : 'caller', i & 1 ? b : a, i & 1 ? a : b, p, 1.7e12 + i);
  const c = process.cpuUsage(t0);
  if (rec.stats.buffered !== n) throw new Error(`tight loop: only ${rec.stats.buffered} of ${n} accepted`);
  return rec.close().then(() => {
    rmSync(dir, { recursive: true, force: true });
    return (c.user + c.system) / n;
  });
}

const f = (x, d = 2) => x.toFixed(d);
console.log(`recording cost: ${calls} calls x 50 pps x 2 directions = ${calls * 100} packets/s, ${seconds} s per run, node ${process.version}`);
const base = await paced(false, false);
for (const fsync of [true, false]) {
  const r = await paced(true, fsync);
  const net = (r.cpuUs - (base.cpuUs * r.packets) / base.packets) / r.packets;
  console.log(
    `fsync=${fsync ? 'yes' : 'no '}: ${f(r.cpuUs / r.packets)} µs CPU/packet total, ${f(net)} µs/packet for recording` +
      ` (loop alone ${f(base.cpuUs / base.packets)}; kernel ${f(r.sysUs / r.packets)}), ${f(r.writes / r.wall, 0)} write()/s, ${f(r.bytes / r.wall / 1e6)} MB/s, ` +
      `${r.packets} packets, ${r.dropped} dropped, RSS ${f(r.rss / 1e6, 0)} MB`,
  );
}
console.log(`packet() alone, tight loop: ${f(await tight(500_000), 3)} µs CPU/packet`);
rmSync(work, { recursive: true, force: true });
