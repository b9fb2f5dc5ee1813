/**
 * UA start/stop: stop() ends every transaction, dialog and timer and closes
 * the socket, so a process exits by itself afterwards (no open handles),
 * and everything still waiting is settled.
 */
import t from 'tap';
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, stopAll } from '../lab/proc.js';
import { freePort } from '../lab/ports.js';

t.teardown(stopAll);

t.test('after stop() the process exits by itself, with transactions of every kind in flight before', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ua-stop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'stop-child.cjs');
  buildSync({ entryPoints: [fileURLToPath(new URL('./fixtures/stop-child.ts', import.meta.url))], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
  const [port, dead] = [await freePort(), await freePort()];
  const p = start('stop-child', process.execPath, [out, String(port), String(dead)]);
  const running = await p.waitFor(/running clients=(\d+) servers=(\d+) own=(\d+)/, 20000);
  t.ok(Number(running[1]) >= 4, `client transactions in flight: ${running[1]}`);
  t.ok(Number(running[2]) >= 2, `server transactions in flight: ${running[2]}`);
  t.equal(running[3], '405', 'MESSAGE to itself answered (no TU handler: 405)');
  const stopped = await p.waitFor(/stopped pending=(\d+) failures=(.*) reg=(\w+)/, 20000);
  t.equal(stopped[1], '503', 'a request still waiting is settled with a local 503');
  t.match(stopped[2], /UA stopped\|UA stopped/, 'both calls being set up reported failed');
  t.equal(stopped[3], 'stopped');
  // Default timers B/F/H/J are 32 s: exiting well before proves none is left.
  const code = await p.exited(15000);
  t.equal(code, 0, 'exited by itself');
});
