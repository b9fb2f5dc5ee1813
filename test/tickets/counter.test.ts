import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TicketCounter, parseCounter } from '../../src/tickets/counter.js';
import { memoryLogger } from '../../src/util/log.js';

function tempCard(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ticketnr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('parseCounter: blank, numbers with Windows line ends, garbage', async (t) => {
  t.same(parseCounter(''), { kind: 'blank' });
  t.same(parseCounter(' \r\n'), { kind: 'blank' });
  t.same(parseCounter('100\r\n'), { kind: 'number', next: 100 });
  t.same(parseCounter('\uFEFF42\n'), { kind: 'number', next: 42 }, 'a BOM from Notepad is tolerated');
  for (const bad of ['abc', '12a', '-5', '0', '1.5', '1e3', '99999999999999999', '1 2']) t.equal(parseCounter(bad).kind, 'garbage', bad);
});

t.test('a missing file gives 1 and then holds 2', async (t) => {
  const dir = tempCard(t);
  const path = join(dir, 'TicketNR.txt');
  const c = new TicketCounter(path, memoryLogger());
  t.equal(await c.take(), 1);
  t.equal(readFileSync(path, 'utf8').trim(), '2');
  t.equal(await c.take(), 2);
  t.equal(readFileSync(path, 'utf8').trim(), '3');
});

t.test('a blank file gives 1', async (t) => {
  const path = join(tempCard(t), 'TicketNR.txt');
  writeFileSync(path, '\r\n');
  t.equal(await new TicketCounter(path, memoryLogger()).take(), 1);
  t.equal(readFileSync(path, 'utf8').trim(), '2');
});

t.test('the installer edit to 100 is picked up while running', async (t) => {
  const path = join(tempCard(t), 'TicketNR.txt');
  const log = memoryLogger();
  const c = new TicketCounter(path, log);
  t.equal(await c.take(), 1);
  t.equal(await c.take(), 2);
  writeFileSync(path, '100\r\n');
  t.equal(await c.take(), 100);
  t.equal(await c.take(), 101);
  t.equal(readFileSync(path, 'utf8').trim(), '102');
  t.same(log.lines, [], 'no error for a good edit');
});

t.test('200 concurrent takes give 200 distinct consecutive numbers; the file holds the next', async (t) => {
  const dir = tempCard(t);
  const path = join(dir, 'TicketNR.txt');
  writeFileSync(path, '500');
  const c = new TicketCounter(path, memoryLogger());
  const got = await Promise.all(Array.from({ length: 200 }, () => c.take()));
  t.equal(new Set(got).size, 200, 'all distinct');
  t.same([...got].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => 500 + i), 'consecutive from 500');
  t.same(got, [...got].sort((a, b) => a - b), 'given in call order');
  t.equal(readFileSync(path, 'utf8').trim(), '700');
  t.same(readdirSync(dir), ['TicketNR.txt'], 'no temp file left behind');
});

t.test('a garbage file is one error naming it, and numbering continues without reuse', async (t) => {
  const path = join(tempCard(t), 'TicketNR.txt');
  writeFileSync(path, '41');
  const log = memoryLogger();
  const c = new TicketCounter(path, log);
  t.equal(await c.take(), 41);
  t.equal(await c.take(), 42);
  writeFileSync(path, 'x\u0000garbage');
  t.equal(await c.take(), 43, 'continues after the last number given');
  t.equal(log.lines.length, 1, 'one line');
  t.match(log.lines[0], /ERROR/);
  t.match(log.lines[0], path);
  t.match(log.lines[0], /next ticket number/);
  t.equal(readFileSync(path, 'utf8').trim(), '44', 'rewritten with a good value');
  t.equal(await c.take(), 44);
  t.equal(log.lines.length, 1, 'no more errors once repaired');
});

t.test('garbage at start-up begins at 1 (nothing given yet) and repairs the file', async (t) => {
  const path = join(tempCard(t), 'TicketNR.txt');
  writeFileSync(path, 'hello');
  const log = memoryLogger();
  t.equal(await new TicketCounter(path, log).take(), 1);
  t.equal(log.lines.length, 1);
  t.equal(readFileSync(path, 'utf8').trim(), '2');
});

t.test('an unreadable counter (a folder in its place) is reported, and the failed write rejects', async (t) => {
  const dir = tempCard(t);
  const path = join(dir, 'TicketNR.txt');
  mkdirSync(path);
  const log = memoryLogger();
  const c = new TicketCounter(path, log);
  await t.rejects(c.take(), /ticket counter .*TicketNR\.txt: cannot store next number 2, ticket 1 not given/);
  t.match(log.lines[0], /cannot read it/);
  rmSync(path, { recursive: true });
  t.equal(await c.take(), 1, 'the number that was not given is given once the card is healthy');
});

t.test('a write that fails rejects, gives no number, and the queue goes on', async (t) => {
  // A name so long that the temp file beside it (".<name>.<8 hex>.tmp") cannot
  // be created: a real ENAMETOOLONG from the file system, also as root.
  const dir = tempCard(t);
  const path = join(dir, `${'T'.repeat(240)}.txt`);
  writeFileSync(path, '7');
  const c = new TicketCounter(path, memoryLogger());
  const results = await Promise.allSettled([c.take(), c.take()]);
  t.same(results.map((r) => r.status), ['rejected', 'rejected']);
  const reason = (results[0] as PromiseRejectedResult).reason as Error;
  t.match(reason.message, /cannot store next number 8, ticket 7 not given/);
  t.equal(readFileSync(path, 'utf8'), '7', 'the file is untouched');
  t.same(readdirSync(dir).length, 1, 'no temp file left');
});

t.test('a read-only card folder rejects the take', { skip: process.getuid?.() === 0 ? 'root ignores folder permissions' : false }, async (t) => {
  const dir = tempCard(t);
  const path = join(dir, 'TicketNR.txt');
  writeFileSync(path, '5');
  chmodSync(dir, 0o555);
  t.teardown(() => chmodSync(dir, 0o755));
  await t.rejects(new TicketCounter(path, memoryLogger()).take(), /ticket 5 not given/);
  t.equal(readFileSync(path, 'utf8'), '5');
});
