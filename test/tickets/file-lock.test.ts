import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { withFileLock } from '../../src/tickets/file-lock.js';
import { TicketCounter } from '../../src/tickets/counter.js';
import { memoryLogger } from '../../src/util/log.js';
import { start, stopAll } from '../lab/proc.js';

function tempCard(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ticketlock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const FAST = { staleMs: 60_000, retryMs: 5, timeoutMs: 300 };

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
}

t.test('the lock file exists only while fn runs, also when fn throws', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  const log = memoryLogger();
  const seen = await withFileLock(lock, async () => readFileSync(lock, 'utf8').trim(), log, FAST);
  t.equal(seen, String(process.pid), 'it holds our pid');
  t.notOk(existsSync(lock));
  await t.rejects(withFileLock(lock, async () => { throw new Error('boom'); }, log, FAST), /boom/);
  t.notOk(existsSync(lock));
});

t.test('a live, fresh lock is respected until the time-out', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, `${process.pid}\n`);
  let ran = false;
  await t.rejects(withFileLock(lock, async () => { ran = true; }, memoryLogger(), FAST), /still held after 300 ms/);
  t.notOk(ran);
  t.equal(readFileSync(lock, 'utf8'), `${process.pid}\n`, 'the holder keeps its lock');
});

t.test('a waiter goes on once the holder releases', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, `${process.pid}\n`);
  const waiting = withFileLock(lock, async () => 'mine', memoryLogger(), { ...FAST, timeoutMs: 60_000 });
  rmSync(lock);
  t.equal(await waiting, 'mine');
});

t.test('a lock of a process that is gone is taken over, with one warning', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  const pid = deadPid();
  writeFileSync(lock, `${pid}\n`);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 7, log, FAST), 7);
  t.equal(log.lines.length, 1);
  t.match(log.lines[0], new RegExp(`WARN lock .*x\\.lock: taking over a stale lock of pid ${pid} \\(process gone\\)`));
});

t.test('an old lock of a live pid (pid reused after a power cut) is taken over by age', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, '1\n');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(lock, old, old);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, FAST), 'ok');
  t.match(log.lines[0], /stale lock of pid 1 \(3600 s old\)/);
});

t.test('a lock that cannot be created is a clear rejection', async (t) => {
  const lock = join(tempCard(t), 'missing-folder', 'x.lock');
  await t.rejects(withFileLock(lock, async () => 1, memoryLogger(), FAST), /lock .*x\.lock: cannot create it: ENOENT/);
});

t.test('two counters on one file (two processes in effect) never share a number', async (t) => {
  const path = join(tempCard(t), 'TicketNR.txt');
  const a = new TicketCounter(path, memoryLogger());
  const b = new TicketCounter(path, memoryLogger());
  const got = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).take()));
  t.equal(new Set(got).size, 100);
  t.same([...got].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
  t.equal(readFileSync(path, 'utf8').trim(), '101');
});

t.test('three real processes taking numbers from one card never share one', async (t) => {
  t.teardown(stopAll);
  const card = tempCard(t);
  const script = join(card, 'take-numbers.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'take-numbers.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, logLevel: 'error' });
  const path = join(card, 'TicketNR.txt');
  writeFileSync(path, '1000\n');
  const procs = [1, 2, 3].map((i) => start(`taker${i}`, process.execPath, [script, path, '40']));
  for (const p of procs) t.equal(await p.exited(60_000), 0, `${p.name} exit code`);
  const numbers = procs.flatMap((p) => p.output().split('\n').filter((l) => /^\d+$/.test(l)).map(Number));
  t.equal(numbers.length, 120);
  t.equal(new Set(numbers).size, 120, 'all distinct');
  t.same([...numbers].sort((x, y) => x - y), Array.from({ length: 120 }, (_, i) => 1000 + i), 'consecutive');
  t.equal(readFileSync(path, 'utf8').trim(), '1120');
  t.notOk(existsSync(`${path}.lock`), 'no lock left behind');
});
