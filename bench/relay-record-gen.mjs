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
function procSampleOrThrow(pid, clkTck) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  const userMs = (Number(f[11]) * 1000) / clkTck; // field 14 utime
  const cpuMs = userMs + (Number(f[12]) * 1000) / clkTck; // + field 15 stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  return { cpuMs, userMs, rss, waitMs: runQueueWaitMs(pid) };
}

/** A sample of the relay (undefined when there is none, or it is gone) and of this process. */
function sample(relayPid, clkTck) {
  let relay;
  try {
    relay = relayPid ? procSampleOrThrow(relayPid, clkTck) : undefined;
  } catch (e) {
    console.error(`load generator: relay process ${relayPid} not readable: ${e.message}`);
  }
  return { t: performance.now(), relay, gen: process.cpuUsage(), genWait: runQueueWaitMs(process.pid) };
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

/**
 * One run: 2N connected endpoints, the sender schedule, the receivers'
 * counters. Direction index 0 = caller -> technician, 1 = technician -> caller.
 */
class Load {
  constructor({ calls, warmupMs, windowMs, clkTck }, socks, relayPid) {
    this.nEp = 2 * calls;
    this.socks = socks;
    this.relayPid = relayPid;
    this.clkTck = clkTck;
    this.cap = Math.ceil(((windowMs + PERIOD_MS) / PERIOD_MS) * calls) + 16;
    this.lat = [new Float64Array(this.cap), new Float64Array(this.cap)];
    this.sentWin = [0, 0];
    this.recvWin = [0, 0];
    this.arrivedInWindow = 0; // by arrival time: the packets the relay sent during the window
    this.bad = { misrouted: 0, garbled: 0, sendErrors: 0, stale: 0 };
    this.lastT = new Float64Array(2 * calls); // newest send time received per endpoint
    this.t0 = performance.now() + 50;
    this.wStartDue = this.t0 + warmupMs;
    this.wEndDue = this.wStartDue + windowMs;
    this.w0 = Infinity;
    this.w1 = Infinity;
    this.lateness = new Float64Array(windowMs + 1000);
    this.nLate = 0;
    this.k = 0;
    this.eps = socks.map((s, e) => this.endpoint(s, e));
  }

  /** A template packet per endpoint, and its receiver. */
  endpoint(s, e) {
    const b = Buffer.alloc(PKT_LEN, ALAW_SILENCE);
    b[0] = 0x80; // RTP version 2 (RFC 3550 §5.1)
    b[1] = 8; // PCMA (RFC 3551 §6)
    b.writeUInt32BE(0x5000_0000 + e, 8);
    b.writeUInt32BE(e, 20);
    b.writeUInt32BE(MAGIC, 24);
    s.on('error', () => this.bad.sendErrors++);
    s.on('message', (m) => this.receive(m, e, e & 1 ? 0 : 1));
    return { s, b, seq: (e * 7919) & 0xffff, ts: (e * 104729) >>> 0, dir: e & 1 ? 1 : 0 };
  }

  receive(b, e, dir) {
    const now = performance.now();
    const peer = e ^ 1;
    if (now >= this.w0 && now < this.w1) this.arrivedInWindow++;
    if (b.length !== PKT_LEN || b.readUInt32BE(24) !== MAGIC) {
      this.bad.garbled++;
      return;
    }
    if (b.readUInt32BE(20) !== peer) {
      this.bad.misrouted++;
      return;
    }
    const t = b.readDoubleBE(12);
    // not newer than the last one from this peer: a duplicate or reordered packet
    if (t <= this.lastT[e]) {
      this.bad.stale++;
      return;
    }
    this.lastT[e] = t;
    if (t >= this.w0 && t < this.wEndDue) {
      const n = this.recvWin[dir]++;
      if (n < this.cap) this.lat[dir][n] = now - t;
    }
  }

  /** Due time of the k-th packet: the 2N streams spread evenly over each 20 ms period. */
  due(k) {
    return this.t0 + Math.floor(k / this.nEp) * PERIOD_MS + ((k % this.nEp) * PERIOD_MS) / this.nEp;
  }

  /** Send every packet that is due; stamped with the real send time. */
  sendDue() {
    const now0 = performance.now();
    if (this.w0 !== Infinity && this.nLate < this.lateness.length) this.lateness[this.nLate++] = now0 - this.due(this.k);
    while (this.due(this.k) <= performance.now()) {
      const ep = this.eps[this.k++ % this.nEp];
      const b = Buffer.allocUnsafe(PKT_LEN);
      ep.b.copy(b);
      b.writeUInt16BE(ep.seq, 2);
      b.writeUInt32BE(ep.ts, 4);
      ep.seq = (ep.seq + 1) & 0xffff;
      ep.ts = (ep.ts + 160) >>> 0;
      const t = performance.now();
      b.writeDoubleBE(t, 12);
      if (t >= this.w0 && t < this.wEndDue) this.sentWin[ep.dir]++;
      ep.s.send(b, 0, PKT_LEN);
    }
  }

  /** Warm-up, then the window; resolves at the window's end. */
  run() {
    return new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (this.w0 === Infinity && now >= this.wStartDue) {
          this.s0 = sample(this.relayPid, this.clkTck);
          this.w0 = this.s0.t;
        }
        if (this.w0 !== Infinity && now >= this.wEndDue) {
          this.s1 = sample(this.relayPid, this.clkTck);
          this.w1 = this.s1.t;
          resolve();
          return;
        }
        this.sendDue();
        setTimeout(tick, Math.max(0, this.due(this.k) - performance.now()));
      };
      setTimeout(tick, Math.max(0, this.t0 - performance.now()));
    });
  }

  latencies(d) {
    const n = Math.min(this.recvWin[d], this.cap);
    return this.lat[d].subarray(0, n);
  }

  result() {
    const { s0, s1 } = this;
    const dirs = [0, 1].map((d) => {
      const a = this.latencies(d).sort();
      return { sent: this.sentWin[d], received: this.recvWin[d], p50: quantile(a, a.length, 0.5), p99: quantile(a, a.length, 0.99), max: a.length ? a[a.length - 1] : NaN };
    });
    const all = new Float64Array(this.latencies(0).length + this.latencies(1).length);
    all.set(this.latencies(0), 0);
    all.set(this.latencies(1), this.latencies(0).length);
    all.sort();
    const late = this.lateness.subarray(0, this.nLate).sort();
    const windowS = (this.w1 - this.w0) / 1000;
    const pct = (ms) => ms / 10 / windowS;
    const relay = s0.relay && s1.relay;
    return {
      windowS,
      dirs,
      p50: quantile(all, all.length, 0.5),
      p99: quantile(all, all.length, 0.99),
      max: all.length ? all[all.length - 1] : NaN,
      arrivedInWindow: this.arrivedInWindow,
      ...this.bad,
      relayCpuMs: relay ? s1.relay.cpuMs - s0.relay.cpuMs : NaN,
      relayUserMs: relay ? s1.relay.userMs - s0.relay.userMs : NaN,
      relayRss: relay ? s1.relay.rss : NaN,
      relayWaitPct: relay ? pct(s1.relay.waitMs - s0.relay.waitMs) : NaN,
      genWaitPct: pct(s1.genWait - s0.genWait),
      genCpuPct: pct((s1.gen.user - s0.gen.user + s1.gen.system - s0.gen.system) / 1000),
      genLateP99: quantile(late, late.length, 0.99),
      genLateMax: late.length ? late[late.length - 1] : NaN,
    };
  }
}

async function main() {
  const { setup } = await nextMessage('setup');
  const socks = [];
  for (let e = 0; e < 2 * setup.calls; e++) {
    const s = await bind();
    s.setRecvBufferSize(1 << 20); // packets may queue while this event loop is busy
    socks.push(s);
  }
  send({ ports: socks.map((s) => s.address().port) });
  const { targets, relayPid } = await nextMessage('targets');
  // connected sockets: no address lookup per send, and the kernel drops
  // datagrams from anyone but the target (the relay answers from the port
  // it was sent to: symmetric RTP, RFC 4961)
  for (let e = 0; e < socks.length; e++) await new Promise((resolve) => socks[e].connect(targets[e], '127.0.0.1', resolve));
  const load = new Load(setup, socks, relayPid);
  await load.run();
  await new Promise((r) => setTimeout(r, setup.graceMs)); // late packets of the window still count
  for (const s of socks) s.close();
  send({ result: load.result() });
  process.disconnect();
}

main().catch((e) => {
  console.error(`load generator: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
