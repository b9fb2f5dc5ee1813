import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { identityOf, withFileLock } from '../../src/tickets/file-lock.js';
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
  t.equal(seen, `${process.pid} ${identityOf(process.pid)}`, 'it holds our pid and its boot/start time');
  t.match(seen, /^\d+ [0-9a-f-]{36}\/\d+$/);
  t.notOk(existsSync(lock));
  await t.rejects(withFileLock(lock, async () => { throw new Error('boom'); }, log, FAST), /boom/);
  t.notOk(existsSync(lock));
});

t.test('a live, fresh lock is respected until the time-out', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  const mine = `${process.pid} ${identityOf(process.pid)}\n`;
  writeFileSync(lock, mine);
  let ran = false;
  await t.rejects(withFileLock(lock, async () => { ran = true; }, memoryLogger(), FAST), /still held after 300 ms/);
  t.notOk(ran);
  t.equal(readFileSync(lock, 'utf8'), mine, 'the holder keeps its lock');
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
  t.match(log.lines[0], new RegExp(`WARN lock .*x\\.lock: taking over the lock of pid ${pid} \\(process gone\\)`));
});

t.test('an old lock of a live pid without identity (written by an older version) is taken over by age', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, '1\n');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(lock, old, old);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, FAST), 'ok');
  t.match(log.lines[0], /lock of pid 1 \(held 3600 s\)/);
});

/** Waiting for age would take staleMs (60 s) and time out first (20 s): only an at-once take-over passes. */
const NO_AGE_WAIT = { staleMs: 60_000, retryMs: 5, timeoutMs: 20_000, emptyMs: 1_000 };

async function bundleChild(card: string, name: string): Promise<string> {
  const script = join(card, name.replace(/\.ts$/, '.mjs'));
  await build({ entryPoints: [join(import.meta.dirname, name)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, logLevel: 'error' });
  return script;
}

t.test('a lock left by a process killed with SIGKILL is taken over at once', async (t) => {
  t.teardown(stopAll);
  const card = tempCard(t);
  const lock = join(card, 'TicketNR.txt.lock');
  const holder = start('holder', process.execPath, [await bundleChild(card, 'hold-lock.ts'), lock]);
  await holder.waitFor(/held/, 30_000);
  const content = readFileSync(lock, 'utf8');
  t.equal(content, `${holder.child.pid} ${identityOf(holder.child.pid!)}\n`, 'the child wrote its pid and identity with the lock');
  holder.child.kill('SIGKILL');
  t.equal(await holder.exited(10_000), 'SIGKILL');
  t.equal(readFileSync(lock, 'utf8'), content, 'the dead holder left its lock');
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'taken', log, NO_AGE_WAIT), 'taken');
  t.match(log.lines.join('\n'), new RegExp(`taking over the lock of pid ${holder.child.pid} \\(process gone\\)`));
  t.notOk(existsSync(lock));
});

t.test('a live holder (a real child process) is respected until it dies', async (t) => {
  t.teardown(stopAll);
  const card = tempCard(t);
  const lock = join(card, 'x.lock');
  const holder = start('holder', process.execPath, [await bundleChild(card, 'hold-lock.ts'), lock]);
  await holder.waitFor(/held/, 30_000);
  await t.rejects(withFileLock(lock, async () => 1, memoryLogger(), { ...NO_AGE_WAIT, timeoutMs: 300 }), /still held after 300 ms/);
  const waiting = withFileLock(lock, async () => 'after', memoryLogger(), NO_AGE_WAIT);
  holder.child.kill('SIGKILL');
  t.equal(await waiting, 'after', 'taken as soon as the holder is gone');
});

t.test('an empty lock (crash or full card between create and write) is dead once 1 s old', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, '');
  const old = new Date(Date.now() - 5_000);
  utimesSync(lock, old, old);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, NO_AGE_WAIT), 'ok');
  t.match(log.lines[0], /taking over the lock of pid \? \(empty lock, \d+ ms old\)/);
});

t.test('a fresh empty lock is waited for only until emptyMs, not staleMs', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, '');
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, { ...NO_AGE_WAIT, emptyMs: 200 }), 'ok');
  t.match(log.lines[0], /empty lock/);
});

t.test('a garbled lock from the future (clock stepped back) is dead too', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  writeFileSync(lock, '\u0000\u0000garbage');
  const future = new Date(Date.now() + 86_400_000);
  utimesSync(lock, future, future);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, NO_AGE_WAIT), 'ok');
  t.match(log.lines[0], /unreadable lock/);
});

t.test('a live pid that belongs to another process now (pid reused after a reboot) is dead at once', async (t) => {
  t.teardown(stopAll);
  const lock = join(tempCard(t), 'x.lock');
  const other = start('sleeper', process.execPath, ['-e', 'setTimeout(() => {}, 60000); console.log("up")']);
  await other.waitFor(/up/, 30_000);
  const pid = other.child.pid!;
  const [boot, ticks] = identityOf(pid)!.split('/');
  // same pid, alive, but started at another time: the lock's holder is not this process
  writeFileSync(lock, `${pid} ${boot}/${Number(ticks) + 1}\n`);
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, NO_AGE_WAIT), 'ok');
  t.match(log.lines[0], new RegExp(`lock of pid ${pid} \\(its pid now belongs to another process\\)`));
  // another boot: same
  writeFileSync(lock, `${pid} 00000000-0000-0000-0000-000000000000/${ticks}\n`);
  t.equal(await withFileLock(lock, async () => 'ok2', memoryLogger(), NO_AGE_WAIT), 'ok2');
  // its real identity: respected
  writeFileSync(lock, `${pid} ${identityOf(pid)}\n`);
  await t.rejects(withFileLock(lock, async () => 1, memoryLogger(), { ...NO_AGE_WAIT, timeoutMs: 300 }), /still held/);
});

t.test('without link() (FAT): exclusive create with the content; an empty lock of a crash is dead after emptyMs', async (t) => {
  const lock = join(tempCard(t), 'x.lock');
  const fat = { ...NO_AGE_WAIT, noLink: true };
  const seen = await withFileLock(lock, async () => readFileSync(lock, 'utf8'), memoryLogger(), fat);
  t.equal(seen, `${process.pid} ${identityOf(process.pid)}\n`);
  t.notOk(existsSync(lock));
  // a crash between the create and the write
  writeFileSync(lock, '');
  const log = memoryLogger();
  t.equal(await withFileLock(lock, async () => 'ok', log, { ...fat, emptyMs: 200 }), 'ok');
  t.match(log.lines[0], /empty lock/);
  // a live holder's lock is respected the same way
  writeFileSync(lock, `${process.pid} ${identityOf(process.pid)}\n`);
  await t.rejects(withFileLock(lock, async () => 1, memoryLogger(), { ...fat, timeoutMs: 300 }), /still held/);
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
  const script = await bundleChild(card, 'take-numbers.ts');
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
