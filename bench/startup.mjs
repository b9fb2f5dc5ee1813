// Start-up time and idle memory of the built bundle on a copy of the default card.
//   node bench/startup.mjs [runs]
// Prints: time from spawn to the "ready" log line (SIP socket bound, card loaded),
// VmRSS and RssAnon from /proc/<pid>/status 3 s after ready (start-up garbage
// still in the heap), and idle: the largest value sampled every second from
// 15 s to 30 s after ready, once V8's memory reducer has run (~8 s after the
// last activity) and while the appliance sits waiting for calls. Figures in
// MiB (kB / 1024).
// Targets (issue sip-media): start <= 150 ms, idle RSS <= 45 MB, anonymous <= 12 MB.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';

const runs = Number(process.argv[2] ?? 3);

function freeUdpPort() {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

/** utime + stime of the process so far, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

function status(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) ?? [0, 0])[1]);
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024 };
}

async function once() {
  const dir = mkdtempSync(join(tmpdir(), 'tl-bench-'));
  cpSync('dist/card', dir, { recursive: true });
  const app = join(dir, 'CF0/TicketSMS');
  const port = await freeUdpPort();
  const rtp = 40000 + 2 * Math.floor(Math.random() * 5000);
  // no PBX to register with in this measurement: register = no
  writeFileSync(join(app, 'pbx.ini'), `[sip]\nlisten = 127.0.0.1:${port}\npbx = 127.0.0.1:9\nregister = no\nallow = 127.0.0.1\n[rtp]\nports = ${rtp}-${rtp + 99}\ncodecs = PCMA,PCMU\n`);
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(app, 'ticketline.js'), app], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      if (/ ready\b/.test(out)) { clearTimeout(timer); resolve(Number(process.hrtime.bigint() - t0) / 1e6); }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (c) => { clearTimeout(timer); reject(new Error(`exited ${c}:\n${out}`)); });
  });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await sleep(3000);
  const early = status(child.pid);
  await sleep(12000);
  const idle = { rss: 0, anon: 0 };
  const ticks0 = cpuTicks(child.pid);
  for (let s = 15; s <= 30; s++) {
    const m = status(child.pid);
    idle.rss = Math.max(idle.rss, m.rss);
    idle.anon = Math.max(idle.anon, m.anon);
    if (s < 30) await sleep(1000);
  }
  const ticks = cpuTicks(child.pid) - ticks0;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { ready, rss3: early.rss, anon3: early.anon, ...idle, ticks };
}

const results = [];
for (let i = 0; i < runs; i++) results.push(await once());
const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
const max = (k) => Math.max(...results.map((r) => r[k]));
console.log(`startup (${runs} runs, node ${process.version}, bundle ${(readFileSync('dist/ticketline.js').length / 1024).toFixed(0)} KiB)`);
console.log(`  start to ready   median ${med('ready').toFixed(1)} ms   max ${max('ready').toFixed(1)} ms   (target <= 150 ms)`);
// MiB, and the kB /proc reports, so that neither reading of "45 MB" is hidden
const mem = (k) => `median ${med(k).toFixed(1)} MiB   max ${max(k).toFixed(1)} MiB (${Math.round(max(k) * 1024)} kB)`;
console.log(`  RSS at 3 s       ${mem('rss3')}`);
console.log(`  RssAnon at 3 s   ${mem('anon3')}`);
console.log(`  idle RSS         ${mem('rss')}   (15-30 s, target <= 45 MB)`);
console.log(`  idle RssAnon     ${mem('anon')}   (15-30 s, target <= 12 MB)`);
// CPU at idle: clock ticks (usually 1/100 s) used from 15 s to 30 s after ready; 0 = nothing wakes while idle
console.log(`  idle CPU         median ${med('ticks')} ticks   max ${max('ticks')} ticks   (15-30 s, target 0)`);
