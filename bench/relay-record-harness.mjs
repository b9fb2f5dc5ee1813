// The appliance side of bench/relay-record.mjs: the real media classes from
// src/, bundled by esbuild into a temp dir at the start of the benchmark and
// run as a child process (driven over IPC). Not runnable unbundled.
//
// One SIP-less "call" is wired as src/hotline/emergency-call.ts does it: the
// caller leg and the technician leg are RtpSessions on PortPool ports, a
// Relay bridges them, and every packet received and sent on both goes
// through a tap (tapFor) into the call's own recorder (createCallRecorder),
// which writes a pcap into the recording folder.
//
// With `workers` > 1 the calls are spread over that many worker threads,
// each running the same code on its share of the calls (a measurement for
// the "spread calls over worker threads" proposal; the appliance itself runs
// one event loop).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createSocket } from 'node:dgram';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { PortPool } from '../src/media/port-pool.ts';
import { RtpSession } from '../src/media/rtp-session.ts';
import { Relay } from '../src/media/relay.ts';
import { createCallRecorder, recordingName } from '../src/record/recorder.ts';
import { createLogger } from '../src/util/log.ts';

const log = createLogger({ write: (l) => process.stderr.write(l) }, 'warn', 'harness: ');

function media(port) {
  return { remote: { address: '127.0.0.1', port }, codec: 'PCMA', payloadType: 8, ptime: 20, remoteDirection: 'sendrecv', hold: false };
}

/**
 * The recording tap of one leg, as EmergencyCall.tapFor(peer) builds it.
 * inOnly (diagnostic, --record=in): received packets only, i.e. each relayed
 * packet recorded once, to measure that proposal.
 */
function tapFor(call, peer, inOnly) {
  return (dir, packet, local, remote, timeMs) => {
    const r = call.recorder;
    if (!r) return;
    if (dir === 'in') r.packet(peer, remote, local, packet, timeMs);
    else if (!inOnly) r.packet('appliance', local, remote, packet, timeMs, peer);
  };
}

/** Open calls `first..first+count-1`; genPorts[2i] / [2i+1] = call i's caller / technician. */
/**
 * Real calls start at random moments; here the calls open spread evenly over
 * `spreadMs`, so that the recorders' 1 s flush timers are spread too (opened
 * all at once, every recorder would flush in the same tick).
 */
async function openCalls({ first, count, genPorts, portMin, portMax, recDir, spreadMs, fsync, record, inOnly, floor }) {
  if (floor) return openFloorCalls({ first, count, genPorts, portMin, portMax });
  const pool = new PortPool({ min: portMin, max: portMax, bindAddress: '127.0.0.1', log });
  const start = new Date();
  const t0 = performance.now();
  const calls = [];
  for (let i = first; i < first + count; i++) {
    const wait = t0 + ((i - first) * spreadMs) / count - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // record: false (diagnostic) = the relay alone, no taps, to isolate the recording's cost
    const call = { recorder: record ? createCallRecorder({ dir: recDir, name: recordingName(start, [i + 1], `bench${i}`), logger: log, fsync }) : undefined };
    call.caller = new RtpSession(await pool.allocate(), media(genPorts[2 * i]), { log, tap: record ? tapFor(call, 'caller', inOnly) : undefined });
    call.technician = new RtpSession(await pool.allocate(), media(genPorts[2 * i + 1]), { log, tap: record ? tapFor(call, 'technician', inOnly) : undefined });
    call.relay = new Relay(call.caller, call.technician).start();
    calls.push(call);
  }
  return calls;
}

/**
 * --floor (diagnostic): the least a Node relay can do per packet, to tell
 * Node's own per-datagram cost from ours: two sockets per call, each
 * connect()ed to its generator endpoint, 'message' -> the other's send().
 * No RTP check, no latching, no recording.
 */
async function openFloorCalls({ first, count, genPorts, portMin, portMax }) {
  const bindTo = (port) =>
    new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve(s));
    });
  const calls = [];
  let port = portMin;
  for (let i = first; i < first + count; i++) {
    const legs = [];
    for (const g of [genPorts[2 * i], genPorts[2 * i + 1]]) {
      for (;; port += 2) {
        if (port > portMax) throw new Error('floor: port range exhausted');
        const s = await bindTo(port).catch(() => undefined);
        if (!s) continue;
        await new Promise((resolve) => s.connect(g, '127.0.0.1', resolve));
        legs.push(s);
        port += 2;
        break;
      }
    }
    const [a, b] = legs;
    const stats = { aToB: 0, bToA: 0 };
    a.on('message', (m) => {
      stats.aToB++;
      b.send(m);
    });
    b.on('message', (m) => {
      stats.bToA++;
      a.send(m);
    });
    const leg = (s) => ({ local: { port: s.address().port }, close: () => s.close(), stats: { dropped: 0 } });
    calls.push({ caller: leg(a), technician: leg(b), relay: { stop() {}, stats } });
  }
  return calls;
}

/** Release as EmergencyCall.finish() does: relay, legs, then the recorder. */
async function closeCalls(calls) {
  for (const c of calls) c.relay.stop();
  for (const c of calls) {
    c.caller.close();
    c.technician.close();
  }
  await Promise.all(calls.map((c) => c.recorder?.close()));
  const sum = { relayed: 0, recorded: 0, recDropped: 0, recBytes: 0, recWrites: 0, recFailures: 0, sessionDropped: 0 };
  for (const c of calls) {
    sum.relayed += c.relay.stats.aToB + c.relay.stats.bToA;
    const rs = c.recorder?.stats;
    if (rs) {
      sum.recorded += rs.packets;
      sum.recDropped += rs.dropped;
      sum.recBytes += rs.bytesWritten;
      sum.recWrites += rs.writes;
      if (rs.failure) sum.recFailures++;
    }
    sum.sessionDropped += c.caller.stats.dropped + c.technician.stats.dropped;
  }
  return sum;
}

function addSums(a, b) {
  const out = { ...a };
  for (const k of Object.keys(b)) out[k] = (out[k] ?? 0) + b[k];
  return out;
}

/** Worker thread: its share of calls, driven by {open} / {close} messages. */
async function workerMain() {
  const calls = await openCalls(workerData);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  parentPort.postMessage({ ports: calls.flatMap((c) => [c.caller.local.port, c.technician.local.port]) });
  parentPort.once('message', async () => {
    eld.disable();
    const sum = await closeCalls(calls);
    parentPort.postMessage({ sum: { ...sum, eldP99Ms: eld.percentile(99) / 1e6, eldMaxMs: eld.max / 1e6 } });
  });
}

async function mainProcess() {
  const setup = await new Promise((resolve) => process.once('message', (m) => resolve(m.setup)));
  const { calls: n, workers = 1 } = setup;
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let close;
  let ports;
  if (workers <= 1) {
    const calls = await openCalls({ ...setup, first: 0, count: n });
    ports = calls.flatMap((c) => [c.caller.local.port, c.technician.local.port]);
    close = async () => ({ ...(await closeCalls(calls)), eldP99Ms: eld.percentile(99) / 1e6, eldMaxMs: eld.max / 1e6 });
  } else {
    // each worker gets its share of calls and its own slice of the port range
    const span = Math.floor((setup.portMax - setup.portMin + 1) / workers) & ~1;
    const threads = [];
    ports = [];
    for (let w = 0, first = 0; w < workers; w++) {
      const count = Math.floor(n / workers) + (w < n % workers ? 1 : 0);
      const wd = { ...setup, first, count, portMin: setup.portMin + w * span, portMax: setup.portMin + (w + 1) * span - 1 };
      const t = new Worker(new URL(import.meta.url), { workerData: wd });
      t.on('error', (e) => log.error(`worker ${w}: ${e.stack ?? e}`));
      const msg = await new Promise((resolve) => t.once('message', resolve));
      ports.push(...msg.ports);
      threads.push(t);
      first += count;
    }
    close = async () => {
      let sum = {};
      let eldP99Ms = 0;
      for (const t of threads) {
        t.postMessage('close');
        const msg = await new Promise((resolve) => t.once('message', resolve));
        sum = addSums(sum, msg.sum);
        eldP99Ms = Math.max(eldP99Ms, msg.sum.eldP99Ms);
        await t.terminate();
      }
      return { ...sum, eldP99Ms }; // the worst worker's
    };
  }
  eld.enable();
  process.send({ ports });
  process.once('message', async () => {
    eld.disable();
    const sum = await close();
    process.send({ sum, rssAfter: process.memoryUsage().rss });
    process.disconnect();
  });
}

if (isMainThread) {
  mainProcess().catch((e) => {
    log.error(`harness failed: ${e instanceof Error ? e.stack : e}`);
    process.exit(1);
  });
} else {
  workerMain().catch((e) => {
    log.error(`harness worker failed: ${e instanceof Error ? e.stack : e}`);
    process.exit(1);
  });
}
