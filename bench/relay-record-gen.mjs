// Load generator for bench/relay-record.mjs (a child process, driven over IPC).
//
// N calls = 2N UDP endpoints on 127.0.0.1: endpoint 2i is call i's caller,
// 2i+1 its technician. Each sends a 20 ms G.711 A-law packet (RTP v2, PT 8,
// 160-byte payload, its own SSRC, seq +1 and timestamp +160 per packet) to
// its target (the relay's port for its leg, or its peer directly for the
// no-relay baseline). The 2N streams are spread evenly over the 20 ms period,
// paced by absolute due times (no drift).
//
// Payload bytes 0-7 = send time (performance.now(), float64), 8-11 = sending
// endpoint, 12-15 = a magic number: A-law on both legs, so the relay forwards
// the payload untouched and the receiver can check it came from its peer.
//
// Measured over a window that starts after the warm-up: per direction, the
// packets sent in the window and how many of them arrived (a grace period
// after the window lets late ones in); the one-way latency of each; the CPU
// time (utime+stime from /proc/<pid>/stat) and RSS of the relay process
// between the window's edges; and the generator's own CPU and lateness
// against its schedule (is the generator the bottleneck?).
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const PERIOD_MS = 20;
const PKT_LEN = 12 + 160;
const MAGIC = 0x7e1c0de5;
const ALAW_SILENCE = 0xd5;

const send = (msg) => process.send(msg);
const nextMessage = (key) =>
  new Promise((resolve) => {
    const h = (msg) => {
      if (msg && msg[key] !== undefined) {
        process.off('message', h);
        resolve(msg);
      }
    };
    process.on('message', h);
  });

/**
 * Time the threads of a process spent runnable but waiting for a CPU, in ms
 * (/proc/<pid>/task/<tid>/schedstat, 2nd field, ns): how much the machine's
 * other load held the process back.
 */
function runQueueWaitMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

/** utime + stime of a process in ms, its RSS in bytes, its run-queue wait in ms (Linux /proc). */
function procSample(pid, clkTck) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  const userMs = (Number(f[11]) * 1000) / clkTck; // field 14 utime
  const cpuMs = userMs + (Number(f[12]) * 1000) / clkTck; // + field 15 stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  return { cpuMs, userMs, rss, waitMs: runQueueWaitMs(pid) };
}

function bind() {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

function quantile(sorted, n, p) {
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.floor(p * n))];
}

async function main() {
  const { setup } = await nextMessage('setup');
  const { calls, warmupMs, windowMs, graceMs, clkTck } = setup;
  const nEp = 2 * calls;
  const socks = [];
  for (let e = 0; e < nEp; e++) {
    const s = await bind();
    // a few seconds of packets may queue while the event loop is busy
    s.setRecvBufferSize(1 << 20);
    socks.push(s);
  }
  send({ ports: socks.map((s) => s.address().port) });
  const { targets, relayPid } = await nextMessage('targets');
  // connected sockets: no address lookup per send, and the kernel drops
  // datagrams from anyone but the target (the relay answers from the port
  // it was sent to: symmetric RTP)
  let sendErrors = 0;
  for (let e = 0; e < nEp; e++) {
    socks[e].on('error', () => sendErrors++);
    await new Promise((resolve) => socks[e].connect(targets[e], '127.0.0.1', resolve));
  }

  // --- counters: index 0 = caller -> technician, 1 = technician -> caller
  const perDirCap = Math.ceil(((windowMs + PERIOD_MS) / PERIOD_MS) * calls) + 16;
  const lat = [new Float64Array(perDirCap), new Float64Array(perDirCap)];
  const sentWin = [0, 0];
  const recvWin = [0, 0];
  let arrivedInWindow = 0; // by arrival time: the packets relayed during the window
  let misrouted = 0;
  let garbled = 0;
  let w0 = Infinity;
  let w1 = Infinity;
  let wEndDue = Infinity;

  socks.forEach((s, e) => {
    const peer = e ^ 1;
    const dir = e & 1 ? 0 : 1; // a technician receives caller -> technician
    s.on('message', (b) => {
      const now = performance.now();
      if (now >= w0 && now < w1) arrivedInWindow++;
      if (b.length !== PKT_LEN || b.readUInt32BE(24) !== MAGIC) {
        garbled++;
        return;
      }
      if (b.readUInt32BE(20) !== peer) {
        misrouted++;
        return;
      }
      const t = b.readDoubleBE(12);
      if (t >= w0 && t < wEndDue) {
        const n = recvWin[dir]++;
        if (n < perDirCap) lat[dir][n] = now - t;
      }
    });
  });

  // --- sender state, one template packet per endpoint
  const eps = socks.map((s, e) => {
    const b = Buffer.alloc(PKT_LEN, ALAW_SILENCE);
    b[0] = 0x80;
    b[1] = 8;
    b.writeUInt32BE(0x5000_0000 + e, 8);
    b.writeUInt32BE(e, 20);
    b.writeUInt32BE(MAGIC, 24);
    return { s, b, seq: (e * 7919) & 0xffff, ts: (e * 104729) >>> 0, dir: e & 1 ? 1 : 0 };
  });

  const t0 = performance.now() + 50;
  const wStartDue = t0 + warmupMs;
  wEndDue = wStartDue + windowMs;
  const phase = PERIOD_MS / nEp;
  const due = (k) => t0 + Math.floor(k / nEp) * PERIOD_MS + (k % nEp) * phase;
  const lateness = new Float64Array(Math.ceil((warmupMs + windowMs) / 1) + 1000);
  let nLate = 0;
  let sample0;
  let sample1;
  let k = 0;

  await new Promise((resolve) => {
    const tick = () => {
      const now0 = performance.now();
      if (w0 === Infinity && now0 >= wStartDue) {
        sample0 = { t: performance.now(), relay: relayPid ? procSample(relayPid, clkTck) : undefined, gen: process.cpuUsage(), genWait: runQueueWaitMs(process.pid) };
        w0 = sample0.t;
      }
      if (w0 !== Infinity && w1 === Infinity && now0 >= wEndDue) {
        sample1 = { t: performance.now(), relay: relayPid ? procSample(relayPid, clkTck) : undefined, gen: process.cpuUsage(), genWait: runQueueWaitMs(process.pid) };
        w1 = sample1.t;
        resolve();
        return;
      }
      if (w0 !== Infinity && nLate < lateness.length) lateness[nLate++] = now0 - due(k);
      for (let d = due(k); d <= performance.now(); d = due(k)) {
        const ep = eps[k % nEp];
        k++;
        const b = Buffer.allocUnsafe(PKT_LEN);
        ep.b.copy(b);
        b.writeUInt16BE(ep.seq, 2);
        b.writeUInt32BE(ep.ts, 4);
        ep.seq = (ep.seq + 1) & 0xffff;
        ep.ts = (ep.ts + 160) >>> 0;
        const t = performance.now();
        b.writeDoubleBE(t, 12);
        if (t >= w0 && t < wEndDue) sentWin[ep.dir]++;
        ep.s.send(b, 0, PKT_LEN);
      }
      setTimeout(tick, Math.max(0, due(k) - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });

  // grace: late packets of the window still count as received
  await new Promise((r) => setTimeout(r, graceMs));
  for (const s of socks) s.close();

  const dirs = [0, 1].map((d) => {
    const n = Math.min(recvWin[d], perDirCap);
    const a = lat[d].subarray(0, n).sort();
    return { sent: sentWin[d], received: recvWin[d], p50: quantile(a, n, 0.5), p99: quantile(a, n, 0.99), max: n ? a[n - 1] : NaN };
  });
  const all = new Float64Array(dirs[0].received + dirs[1].received);
  all.set(lat[0].subarray(0, Math.min(recvWin[0], perDirCap)), 0);
  all.set(lat[1].subarray(0, Math.min(recvWin[1], perDirCap)), Math.min(recvWin[0], perDirCap));
  all.sort();
  const lateSorted = lateness.subarray(0, nLate).sort();
  const windowS = (w1 - w0) / 1000;
  const genCpu = (sample1.gen.user - sample0.gen.user + sample1.gen.system - sample0.gen.system) / 1000;
  send({
    result: {
      windowS,
      dirs,
      p50: quantile(all, all.length, 0.5),
      p99: quantile(all, all.length, 0.99),
      max: all.length ? all[all.length - 1] : NaN,
      arrivedInWindow,
      misrouted,
      garbled,
      sendErrors,
      relayCpuMs: sample0.relay ? sample1.relay.cpuMs - sample0.relay.cpuMs : NaN,
      relayUserMs: sample0.relay ? sample1.relay.userMs - sample0.relay.userMs : NaN,
      relayRss: sample1.relay ? sample1.relay.rss : NaN,
      relayWaitPct: sample0.relay ? (sample1.relay.waitMs - sample0.relay.waitMs) / 10 / windowS : NaN,
      genWaitPct: (sample1.genWait - sample0.genWait) / 10 / windowS,
      genCpuPct: genCpu / 10 / windowS,
      genLateP99: quantile(lateSorted, nLate, 0.99),
      genLateMax: nLate ? lateSorted[nLate - 1] : NaN,
    },
  });
  process.disconnect();
}

main().catch((e) => {
  console.error(`load generator: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
