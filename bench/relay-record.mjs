// Relay + record benchmark: ticketline's media path against rtpengine.
//
//   node bench/relay-record.mjs 100 300 500
//   node bench/relay-record.mjs 300 --window=20 --warmup=3 --reps=2 [--workers=2] [--prof] [--no-direct] [--no-rtpengine] [--no-ticketline]
//        [--nice=-10] [--no-fsync] [--no-record] [--record=in] [--floor] [--spread=1] [--threads=2] [--src=/path/to/other/src]
//
// N simultaneous recorded calls, SIP-less. Each run has its own processes:
//   - the load generator (bench/relay-record-gen.mjs): 2N endpoints on
//     127.0.0.1 sending 20 ms A-law packets both ways, measuring loss and
//     one-way latency at the receiver, the relay process' CPU (/proc) and RSS;
//   - the relay under test, one of
//       ticketline  bench/relay-record-harness.mjs bundled by esbuild from the
//                   real src/ classes (PortPool, RtpSession, Relay, one
//                   createCallRecorder per call, taps as in emergency-call.ts)
//       rtpengine   Debian's rtpengine-daemon, userspace only (--table=-1),
//                   --recording-method=pcap, calls made over ng (offer/answer
//                   with "record call: yes"), --num-threads = cores
//       direct      no relay: the endpoints send to each other (the
//                   generator's own latency, the baseline).
// Diagnostics, each replacing the ticketline row's relay, to tell where its
// CPU goes: --no-record (the relay alone), --no-fsync (recording without
// the per-second fdatasync: rtpengine's durability), --record=in (each
// relayed packet recorded once, as rtpengine does), --floor (a bare Node
// dgram relay: connect()ed sockets, 'message' -> the other's send(), no
// RTP check, no recording: what Node itself costs per datagram).
// Runs alternate (ticketline, rtpengine, ticketline, rtpengine ...) at each N
// so machine drift hits both. Both legs are PCMA: no transcoding, the payload
// (which carries the send time) is forwarded untouched by both relays.
// Recordings go to a temp dir, checked for size, then deleted.
// Figures, not a test: `npm run bench` runs it with the default N set.
//
// Columns: CPU µs/pkt = the relay process' utime+stime over the window (all
// its threads, /proc) / packets it sent out in the window; kernel % = stime
// share of that; p50/p99/max = one-way latency send -> receive through the
// relay (the `direct` row is the generator's own share: subtract it for
// the added latency); loss over packets sent in the window; RSS at the
// window's end; runq-wait % = time the relay's threads waited for a CPU
// (/proc/<pid>/task/*/schedstat) per wall second: high = the machine's
// other load held it back, latency figures of that run are then the
// machine's, not the relay's; gen CPU/wait %, gen late p99 (ms behind its
// schedule; send times are stamped when actually sent) show whether the
// generator kept up; load1 = load average at the end of the run.
// Worst case measured on this 2-core VM: the generator uses ~45 % of a core
// at N=500 (connected sockets, one process).
import { build } from 'esbuild';
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCalls, startRtpengine } from './relay-record-ng.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const opt = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const flag = (name) => process.argv.includes(`--${name}`);
/** The row of the relay under test: ticketline's media path, or the bare dgram relay of --floor. */
const tlName = flag('floor') ? 'node floor' : 'ticketline';
const Ns = process.argv.slice(2).filter((x) => /^\d+$/.test(x)).map(Number);
const cfg = {
  Ns: Ns.length ? Ns : [100, 300, 500],
  warmupMs: opt('warmup', 3) * 1000,
  windowMs: opt('window', 20) * 1000,
  graceMs: 1000,
  reps: opt('reps', 2),
  workers: opt('workers', 1),
  spreadMs: opt('spread', 1) * 1000,
  nice: opt('nice', 0),
  fsync: !flag('no-fsync'),
  record: !flag('no-record'),
  inOnly: process.argv.includes('--record=in'),
  floor: flag('floor'),
  threads: opt('threads', cpus().length),
  prof: flag('prof'),
  direct: !flag('no-direct'),
  rtpengine: !flag('no-rtpengine'),
  ticketline: !flag('no-ticketline'),
};

// ------------------------------------------------------------ processes
const children = new Set();
const work = mkdtempSync(join(tmpdir(), 'ticketline-relay-record-'));

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping ${children.size} child process(es), removing ${work}`);
    cleanup();
    process.exit(130);
  });
}

/** The next IPC message of `child` that has `key`; rejects if the child exits first or after `ms`. */
function next(child, key, ms = 120_000) {
  return new Promise((resolve, reject) => {
    const done = (f) => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      f();
    };
    const onMsg = (m) => m && m[key] !== undefined && done(() => resolve(m));
    const onExit = (code, sig) => done(() => reject(new Error(`${child.spawnfile} ${child.spawnargs.at(-1)} exited (${code ?? sig}) before sending "${key}"`)));
    const timer = setTimeout(() => done(() => reject(new Error(`no "${key}" from child within ${ms / 1000} s`))), ms);
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

/** Wait for a child to exit; SIGKILL it after `ms`. */
function exited(child, ms = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

// ------------------------------------------------------------ ports
function udpFree(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `count` consecutive free UDP ports (even start) below the ephemeral range, where the generator's sockets live. */
async function freeRange(count) {
  for (let i = 0; i < 300; i++) {
    const start = 10000 + 2 * Math.floor((Math.random() * (32000 - count - 10000)) / 2);
    let ok = true;
    for (let p = start; p < start + count && ok; p++) ok = await udpFree(p);
    if (ok) return start;
  }
  throw new Error(`no ${count} consecutive free UDP ports found on 127.0.0.1`);
}

function dirBytes(dir) {
  let files = 0;
  let bytes = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (!String(f).endsWith('.pcap')) continue;
    files++;
    bytes += statSync(join(dir, String(f))).size;
  }
  return { files, bytes };
}

// ------------------------------------------------------------ one run
const clkTck = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

async function startGenerator(n) {
  const gen = track(fork(join(here, 'relay-record-gen.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  gen.send({ setup: { calls: n, warmupMs: cfg.warmupMs, windowMs: cfg.windowMs, graceMs: cfg.graceMs, clkTck } });
  const { ports } = await next(gen, 'ports');
  return { gen, ports };
}

async function measure(gen, targets, relayPid) {
  gen.send({ targets, relayPid });
  const { result } = await next(gen, 'result', cfg.warmupMs + cfg.windowMs + cfg.graceMs + 120_000);
  result.load = loadavg()[0];
  await exited(gen);
  return result;
}

async function runDirect(n) {
  const { gen, ports } = await startGenerator(n);
  return { result: await measure(gen, ports.map((_, e) => ports[e ^ 1]), undefined), rec: undefined, extra: {} };
}

async function runTicketline(n, bundle, label) {
  const recDir = mkdtempSync(join(work, 'rec-tl-'));
  const { gen, ports } = await startGenerator(n);
  const count = 4 * n + 64; // even ports only (RTP on even ports)
  const portMin = await freeRange(count);
  const execArgv = cfg.prof ? ['--cpu-prof', `--cpu-prof-dir=${join(here, '..', 'tmp', 'relay-record-prof')}`, `--cpu-prof-name=${label}.cpuprofile`] : [];
  const harness = track(fork(bundle, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  harness.send({ setup: { calls: n, genPorts: ports, portMin, portMax: portMin + count - 1, recDir, workers: cfg.workers, spreadMs: cfg.spreadMs, fsync: cfg.fsync, record: cfg.record, inOnly: cfg.inOnly, floor: cfg.floor } });
  const relayPorts = (await next(harness, 'ports')).ports;
  const result = await measure(gen, relayPorts, harness.pid);
  harness.send('stop');
  const { sum } = await next(harness, 'sum');
  await exited(harness);
  const rec = dirBytes(recDir);
  rmSync(recDir, { recursive: true, force: true });
  return { result, rec, extra: sum };
}

async function runRtpengine(n, tag) {
  const recDir = mkdtempSync(join(work, 'rec-re-'));
  const { gen, ports } = await startGenerator(n);
  // rtpengine spreads its allocations over the range (about 36 ports per call here)
  const count = Math.max(2000, 40 * n);
  const portMin = await freeRange(Math.min(count, 20000));
  const [ngPort] = [await freeRange(1)];
  let died;
  const re = await startRtpengine({
    ngPort,
    portMin,
    portMax: portMin + Math.min(count, 20000) - 1,
    recDir,
    threads: cfg.threads,
    onExit: (code, sig, stderr) => {
      died = `exit ${code ?? sig}: ${stderr.trim().split('\n').slice(-2).join(' | ')}`;
    },
  });
  track(re.child);
  try {
    const targets = await createCalls(re.ng, n, ports, tag);
    const result = await measure(gen, targets, re.child.pid);
    if (died) throw new Error(`rtpengine died during the run: ${died}`);
    // delete the calls so the pcaps are complete, then stop the daemon
    for (let i = 0; i < n; i++) await re.ng.command({ command: 'delete', 'call-id': `bench-${tag}-${i}` }).catch(() => {});
    const rec = dirBytes(recDir);
    return { result, rec, extra: {} };
  } finally {
    re.ng.close();
    re.child.kill('SIGTERM');
    await exited(re.child, 5000);
    rmSync(recDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ report
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function row(name, n, r) {
  const res = r.result;
  const pkts = res.arrivedInWindow;
  const sent = res.dirs[0].sent + res.dirs[1].sent;
  const recv = res.dirs[0].received + res.dirs[1].received;
  const loss = (d) => (100 * (d.sent - d.received)) / d.sent;
  return {
    name,
    n,
    cpuUs: (res.relayCpuMs * 1000) / pkts,
    cpuPct: res.relayCpuMs / 10 / res.windowS,
    sysPct: (100 * (res.relayCpuMs - res.relayUserMs)) / res.relayCpuMs,
    p50: res.p50,
    p99: res.p99,
    max: res.max,
    loss: (100 * (sent - recv)) / sent,
    lossCT: loss(res.dirs[0]),
    lossTC: loss(res.dirs[1]),
    rss: res.relayRss / 1048576,
    pps: pkts / res.windowS,
    genCpu: res.genCpuPct,
    genLate: res.genLateP99,
    wait: res.relayWaitPct,
    genWait: res.genWaitPct,
    load: res.load,
    bad: res.misrouted + res.garbled + res.sendErrors,
    stale: res.stale,
    rec: r.rec,
    extra: r.extra,
  };
}

const header =
  'relay          N  CPU µs/pkt  CPU %core  kernel %  p50 ms  p99 ms   max ms  loss %  (c->t / t->c)    RSS MB  out pkt/s  runq-wait %  gen CPU % / wait %  gen late p99  load1  recording';

function line(r) {
  const pc = r.rec ? `${r.rec.files} pcaps ${f(r.rec.bytes / 1048576, 1)} MB` : '';
  return (
    `${r.name.padEnd(13)} ${String(r.n).padStart(3)}  ${f(r.cpuUs).padStart(10)}  ${f(r.cpuPct, 1).padStart(9)}  ${f(r.sysPct, 0).padStart(8)}  ` +
    `${f(r.p50, 3).padStart(6)}  ${f(r.p99, 3).padStart(6)}  ${f(r.max, 1).padStart(7)}  ${f(r.loss, 3).padStart(6)}  ` +
    `(${f(r.lossCT, 3)} / ${f(r.lossTC, 3)})`.padEnd(17) +
    ` ${f(r.rss, 1).padStart(6)}  ${f(r.pps, 0).padStart(9)}  ${f(r.wait, 1).padStart(11)}  ${`${f(r.genCpu, 1)} / ${f(r.genWait, 1)}`.padStart(18)}  ` +
    `${f(r.genLate, 2).padStart(12)}  ${f(r.load, 1).padStart(5)}  ${pc}` +
    (r.bad ? `  ${r.bad} misrouted/garbled/send errors` : '') +
    (r.stale ? `  ${r.stale} duplicate/reordered` : '') +
    (r.extra.recDropped || r.extra.recFailures ? `  recorder dropped ${r.extra.recDropped}, failures ${r.extra.recFailures}` : '') +
    (r.extra.eldP99Ms !== undefined ? `  event-loop delay p99 ${f(r.extra.eldP99Ms, 1)} ms` : '')
  );
}

function mean(rows, key) {
  return rows.reduce((s, r) => s + r[key], 0) / rows.length;
}

function summary(name, rows) {
  if (!rows.length) return undefined;
  return {
    ...rows[0],
    name: `${name} (${rows.length})`,
    cpuUs: mean(rows, 'cpuUs'),
    cpuPct: mean(rows, 'cpuPct'),
    sysPct: mean(rows, 'sysPct'),
    p50: mean(rows, 'p50'),
    p99: mean(rows, 'p99'),
    max: Math.max(...rows.map((r) => r.max)),
    loss: mean(rows, 'loss'),
    lossCT: mean(rows, 'lossCT'),
    lossTC: mean(rows, 'lossTC'),
    rss: Math.max(...rows.map((r) => r.rss)),
    pps: mean(rows, 'pps'),
    genCpu: mean(rows, 'genCpu'),
    genLate: mean(rows, 'genLate'),
    wait: mean(rows, 'wait'),
    genWait: mean(rows, 'genWait'),
    load: mean(rows, 'load'),
    bad: rows.reduce((s, r) => s + r.bad, 0),
    stale: rows.reduce((s, r) => s + r.stale, 0),
    rec: undefined,
    extra: {},
  };
}

// ------------------------------------------------------------ main
async function main() {
  let reVersion = 'rtpengine not run';
  if (cfg.rtpengine) {
    const v = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
    reVersion = `rtpengine ${`${v.stdout}${v.stderr}`.trim().replace(/^Version:\s*/, '')}`;
  }
  console.log(
    `relay+record bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${reVersion} (--num-threads=${cfg.threads}, userspace, pcap recording)\n` +
      `N = ${cfg.Ns.join(', ')}; per run ${cfg.warmupMs / 1000} s warm-up + ${cfg.windowMs / 1000} s window; ${cfg.reps} rep(s) alternating; ` +
      `PCMA both legs (no transcoding); ticketline ${cfg.workers > 1 ? `over ${cfg.workers} worker threads` : 'one event loop'}; latency = one-way send->receive through the relay`,
  );
  const bundle = join(work, 'harness.mjs');
  // --src=DIR bundles the harness against another copy of src/ (to measure a proposed change)
  const srcDir = process.argv.find((x) => x.startsWith('--src='))?.slice(6);
  const plugins = srcDir
    ? [{ name: 'other-src', setup: (b) => b.onResolve({ filter: /^\.\.\/src\// }, (a) => ({ path: resolve(srcDir, a.path.slice('../src/'.length)) })) }]
    : [];
  await build({ entryPoints: [join(here, 'relay-record-harness.mjs')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', plugins });
  if (srcDir) console.log(`harness bundled against ${resolve(srcDir)}`);
  if (cfg.nice) {
    // inherited by every process and thread started from here on (a shared machine's other load then waits)
    setPriority(0, cfg.nice);
    console.log(`benchmark processes run at nice ${getPriority(0)}`);
  }
  const t0 = Date.now();
  const tables = [];
  for (const n of cfg.Ns) {
    const rows = [];
    const say = (r) => {
      rows.push(r);
      console.log(line(r));
    };
    console.log(`\n-- N = ${n} calls (${n * 100} packets/s into the relay)\n${header}`);
    if (cfg.direct) say(row('direct', n, await runDirect(n)));
    for (let rep = 0; rep < cfg.reps; rep++) {
      if (cfg.ticketline) say(row(tlName, n, await runTicketline(n, bundle, `tl-${n}-${rep}`)));
      if (cfg.rtpengine) say(row('rtpengine', n, await runRtpengine(n, `${n}-${rep}`)));
    }
    tables.push({ n, rows });
  }
  console.log(`\n== summary (mean of reps; max = max of reps; RSS = max)    total ${((Date.now() - t0) / 1000).toFixed(0)} s\n${header}`);
  for (const { rows } of tables) {
    for (const name of ['direct', tlName, 'rtpengine']) {
      const s = summary(name, rows.filter((r) => r.name === name));
      if (s) console.log(line(s));
    }
  }
}

try {
  await main();
} catch (e) {
  console.error(`relay-record bench failed: ${e instanceof Error ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
