// Cost of the media relay on the RTP hot path.
//
//   node bench/media-relay.mjs [pairs=100,300,500] [seconds=10] [--transcode]
//
// For each N: this process opens N relays (2N RTP sessions from a port pool on
// 127.0.0.1), a child process (the load generator) plays N callers and N
// technicians: 20 ms G.711 streams in both directions, 50 packets/s each,
// paced by absolute target times. With --transcode the technician legs use
// PCMU and the callers PCMA, so every packet is transcoded.
// Prints: relay-process CPU per relayed packet (process.cpuUsage / packets),
// end-to-end one-way latency through the relay as seen by the generator
// (p50/p99/max, includes both processes' scheduling), loss, and the relay
// process RSS, the generator's CPU and the relay's worst event-loop delay
// (a busy machine shows up there: other processes on the same cores add
// latency that is not the relay's). Figures, not a test.
import { build } from 'esbuild';
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const GEN = process.argv[2] === '--gen';

async function loadMedia(dir) {
  const out = join(dir, 'media.mjs');
  await build({ stdin: { contents: "export * from './src/media/index.ts'; export * from './src/media/g711.ts';", resolveDir: process.cwd(), loader: 'ts' }, outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
  return import(pathToFileURL(out).href);
}

// ---------------------------------------------------------------- generator
// Send time (ms, float64) is written as 16 nibbles, each as one of 16 G.711
// codes whose transcoded images are distinct, so it survives the relay.
function nibbleCodes(m) {
  const a = Array.from({ length: 16 }, (_, i) => (i * 16 + 5) & 0xff);
  const u = a.map((x) => m.ALAW_TO_ULAW[x]);
  const dec = (codes) => { const map = new Int16Array(256).fill(-1); codes.forEach((c, i) => { map[c] = i; }); return map; };
  // what arrives: at the technician A->U (or A if no transcode), at the caller U->A (or U)
  return { a, u, decA: dec(a), decU: dec(u), decAtoU: dec(a.map((x) => m.ALAW_TO_ULAW[x])), decUtoA: dec(u.map((x) => m.ULAW_TO_ALAW[x])) };
}

const scratch = Buffer.allocUnsafe(8);
function putTime(buf, off, t, codes) {
  const f = scratch;
  f.writeDoubleBE(t);
  for (let i = 0; i < 8; i++) { buf[off + 2 * i] = codes[f[i] >> 4]; buf[off + 2 * i + 1] = codes[f[i] & 15]; }
}

function getTime(buf, off, dec) {
  const f = scratch;
  for (let i = 0; i < 8; i++) {
    const hi = dec[buf[off + 2 * i]]; const lo = dec[buf[off + 2 * i + 1]];
    if (hi < 0 || lo < 0) return NaN;
    f[i] = (hi << 4) | lo;
  }
  return f.readDoubleBE(0);
}

async function generator() {
  const m = await import(pathToFileURL(process.env.MEDIA_BUNDLE).href);
  const codes = nibbleCodes(m);
  const { pairs, seconds, transcode } = JSON.parse(process.env.GEN_ARGS);
  const bind = () => new Promise((res) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => res(s)); });
  const legs = [];
  const lat = [];
  let received = 0;
  for (let i = 0; i < 2 * pairs; i++) {
    const isCaller = i % 2 === 0;
    const s = await bind();
    const law = isCaller || !transcode ? 'PCMA' : 'PCMU';
    const sendCodes = law === 'PCMA' ? codes.a : codes.u;
    // what this socket receives was sent by the other side in its law, maybe transcoded
    const dec = !transcode ? codes.decA : isCaller ? codes.decUtoA : codes.decAtoU;
    s.on('message', (b) => {
      const t = getTime(b, 12, dec);
      received++;
      if (!Number.isNaN(t)) lat.push(performance.now() - t);
    });
    legs.push({ s, port: s.address().port, law, sendCodes, pt: law === 'PCMA' ? 8 : 0, seq: i * 1000, ts: i * 100000, ssrc: 0x10000 + i, to: 0 });
  }
  process.send({ ports: legs.map((l) => l.port) });
  const relayPorts = await new Promise((res) => process.once('message', (msg) => res(msg.relayPorts)));
  // connected sockets: no per-send address lookup in the generator
  await Promise.all(legs.map((l, i) => new Promise((res) => { l.to = relayPorts[i]; l.s.connect(l.to, '127.0.0.1', res); })));
  process.send({ started: true });
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // the legs are spread over 10 phases 2 ms apart, as independent calls would be
  const GROUPS = 10;
  const total = Math.round((seconds * 1000) / 20) * GROUPS;
  for (let k = 0; k < total; k++) {
    const target = t0 + k * 2;
    const wait = target - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let i = k % GROUPS; i < legs.length; i += GROUPS) {
      const l = legs[i];
      const b = Buffer.allocUnsafe(172);
      b[0] = 0x80; b[1] = l.pt; b.writeUInt16BE(l.seq++ & 0xffff, 2); b.writeUInt32BE(l.ts >>> 0, 4); b.writeUInt32BE(l.ssrc, 8);
      l.ts += 160;
      putTime(b, 12, performance.now(), l.sendCodes);
      l.s.send(b);
      sent++;
    }
  }
  // stragglers: wait until nothing more arrives for 300 ms (bounded by 3 s)
  for (let i = 0, last = -1; i < 30 && received !== last; i++) { last = received; await new Promise((r) => setTimeout(r, 300)); }
  const cpu = process.cpuUsage(cpu0);
  const genCpu = (cpu.user + cpu.system) / 10 / (performance.now() - t0);
  for (const l of legs) l.s.close();
  lat.sort((x, y) => x - y);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
  process.send({ done: true, sent, received, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN, undecoded: received - lat.length, genCpu });
}

// ---------------------------------------------------------------- relay side
async function runOne(m, bundle, pairs, seconds, transcode) {
  const logger = { debug() {}, info() {}, warn: (x) => console.error(x), error: (x) => console.error(x), child() { return logger; } };
  const pool = new m.PortPool({ min: 30000, max: 30000 + 4 * pairs + 200, bindAddress: '127.0.0.1', log: logger });
  const child = fork(new URL(import.meta.url).pathname, ['--gen'], { env: { ...process.env, MEDIA_BUNDLE: bundle, GEN_ARGS: JSON.stringify({ pairs, seconds, transcode }) } });
  const next = (key) => new Promise((res) => { const h = (msg) => { if (msg[key] !== undefined) { child.off('message', h); res(msg); } }; child.on('message', h); });
  const { ports } = await next('ports');
  const sessions = [];
  const relays = [];
  for (let i = 0; i < pairs; i++) {
    const mk = async (port, law) => new m.RtpSession(await pool.allocate(), { remote: { address: '127.0.0.1', port }, codec: law, payloadType: law === 'PCMA' ? 8 : 0, ptime: 20, remoteDirection: 'sendrecv', hold: false }, { log: logger });
    const a = await mk(ports[2 * i], 'PCMA');
    const b = await mk(ports[2 * i + 1], transcode ? 'PCMU' : 'PCMA');
    sessions.push(a, b);
    relays.push(new m.Relay(a, b).start());
  }
  child.send({ relayPorts: sessions.map((s) => s.local.port) });
  await next('started');
  const cpu0 = process.cpuUsage();
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const done = await next('done');
  eld.disable();
  const cpu = process.cpuUsage(cpu0);
  const relayed = relays.reduce((n, r) => n + r.stats.aToB + r.stats.bToA, 0);
  const rss = process.memoryUsage().rss;
  for (const s of sessions) s.close();
  const usPerPkt = (cpu.user + cpu.system) / relayed;
  const loss = 1 - done.received / done.sent;
  console.log(
    `${String(pairs).padStart(4)} pairs ${transcode ? 'A<->u' : 'A<->A'}: ${relayed} relayed, CPU ${usPerPkt.toFixed(2)} µs/packet ` +
      `(${((cpu.user + cpu.system) / 1e4 / seconds).toFixed(1)} % of one core), latency p50 ${done.p50.toFixed(2)} ms p99 ${done.p99.toFixed(2)} ms max ${done.max.toFixed(2)} ms, ` +
      `loss ${(loss * 100).toFixed(3)} % (${done.sent - done.received} of ${done.sent}), RSS ${(rss / 1048576).toFixed(0)} MiB` +
      `, generator CPU ${done.genCpu.toFixed(0)} %, relay loop delay max ${(eld.max / 1e6).toFixed(1)} ms` + (done.undecoded ? `, ${done.undecoded} undecodable` : ''),
  );
}

async function main() {
  const list = (process.argv[2] ?? '100,300,500').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 10);
  const transcode = process.argv.includes('--transcode');
  const work = mkdtempSync(join(tmpdir(), 'ticketline-relay-bench-'));
  try {
    const m = await loadMedia(work);
    console.log(`media relay bench: ${seconds} s per run, 20 ms G.711, both directions, load generator in a child process`);
    for (const n of list) await runOne(m, join(work, 'media.mjs'), n, seconds, transcode);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (GEN) await generator();
else await main();
