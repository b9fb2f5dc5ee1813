// (README) SIP transactions/s against SIPp: `node bench/sip-bench.mjs [rates] [seconds]`
// SIP transactions per second: SIPp sends OPTIONS (answered by the UA core)
// and MESSAGE (answered by a TU handler) at target rates against our UA on
// 127.0.0.1; prints the achieved rate, failures, retransmissions, and our
// process's CPU time per transaction and RSS. Figures, not a test.
//
//   node bench/sip-bench.mjs [rates=500,1000,2000] [seconds=5]
//
// SIPp runs on the same machine, so at high rates the two processes share
// the CPUs; "ours cpu/tx" is only this process's user+system time.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const rates = (process.argv[2] ?? '500,1000,2000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'sip-bench-'));

async function load() {
  const out = join(dir, 'sip.mjs');
  const contents = [
    "export { SipTransport } from './src/sip/transport.ts';",
    "export { UserAgent } from './src/sip/ua.ts';",
    "export { createLogger } from './src/util/log.ts';",
    "export { parseScreen } from './test/lab/sipp.ts';",
  ].join('\n');
  await build({ stdin: { contents, resolveDir: process.cwd(), loader: 'ts' }, outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
  return import(pathToFileURL(out).href);
}

function runSipp(m, scenario, port, rate) {
  const calls = rate * seconds;
  const args = ['-sf', resolve('test/sipp', scenario), '-i', '127.0.0.1', '-p', '0', '-s', '799', '-r', String(rate), '-m', String(calls),
    '-nostdin', '-timeout', `${seconds * 4 + 10}s`, '-max_socket', '100', `127.0.0.1:${port}`];
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const s = m.parseScreen(out);
      const retrans = s.counters.reduce((a, c) => a + c.retrans, 0);
      res({ code, wall, calls, retrans, ...s });
    });
  });
}

const m = await load();
const logger = m.createLogger({ write: () => {} }, 'error');
const transport = new m.SipTransport({ host: '127.0.0.1', port: 0, logger });
await transport.start();
const port = transport.local.port;
// No cap on live server transactions here: this measures throughput, not the overload guard.
const ua = new m.UserAgent({ transport, contactHost: '127.0.0.1', contactPort: port, logger, maxServerTransactions: 1e9 });
ua.onRequest = (req) => req.respond(200);
await ua.start();
console.log(`node ${process.version}, UA on 127.0.0.1:${port}, ${seconds} s per rate`);
console.log('scenario       target/s  achieved/s  ok      failed  retrans  ours cpu/tx  rss MB  live server tx (Timer J = 64*T1 keeps them)');
for (const scenario of ['uac-options.xml', 'uac-message.xml']) {
  for (const rate of rates) {
    const cpu0 = process.cpuUsage();
    const r = await runSipp(m, scenario, port, rate);
    const cpu = process.cpuUsage(cpu0);
    const tx = Math.max(1, r.successful + r.failed);
    const name = scenario.replace('uac-', '').replace('.xml', '');
    console.log(
      `${name.padEnd(14)} ${String(rate).padStart(8)}  ${(r.successful / r.wall).toFixed(0).padStart(10)}  ${String(r.successful).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.retrans).padStart(7)}  ${(((cpu.user + cpu.system) / tx)).toFixed(1).padStart(8)} µs  ${(process.memoryUsage().rss / 1048576).toFixed(1).padStart(6)}  ${String(ua.stats.servers).padStart(6)}${r.code === 0 ? '' : `  (sipp rc ${r.code})`}`,
    );
  }
}
await ua.stop();
rmSync(dir, { recursive: true, force: true });
