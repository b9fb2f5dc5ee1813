// `ticketline status` on a healthy and on a broken card; the status.txt format; the last calls from Ticket/.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockProblem } from '../../src/health/clock.js';
import { markRunning, markStopped, previousRun } from '../../src/health/run-marker.js';
import { lastCalls, runStatus } from '../../src/health/status-cmd.js';
import { formatStatus, parseStatus } from '../../src/health/status-file.js';

function card(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-status-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function capture(): { write(s: string): boolean; text(): string } {
  let out = '';
  return { write: (s: string) => ((out += s), true), text: () => out };
}

const T0 = new Date(2026, 11, 7, 2, 14, 0).getTime();
const ok = (name: string, reason: string) => ({ name, ok: true, since: T0, reason, alerted: false });
const failing = (name: string, reason: string) => ({ name, ok: false, since: T0, reason, alerted: true });

function statusText(checks: ReturnType<typeof ok>[], pid = process.pid): string {
  return formatStatus({ name: 'ticketline 799', now: new Date(T0 + 60_000), started: new Date(T0), pid, checks, smsWaiting: 1, imWaiting: 0 });
}

const HOPS = [
  '07.12.2026_02.00_07.12.2026_02.01_Ticket_10_Caller_0347111_Called_731_1.txt',
  '07.12.2026_02.01_07.12.2026_02.05_Ticket_11_Caller_0347111_Called_732_END_2.txt',
  '07.12.2026_03.00_07.12.2026_03.02_Ticket_12_Caller_anonymous_Called_731_END_3.txt',
  'Open_Ticket_13.jnl',
  'not a ticket.txt',
];

t.test('status.txt round trip: the failing checks and the writer pid', async (t) => {
  const text = statusText([ok('registration', 'registered'), failing('card', 'read-only (EROFS)')], 4711);
  t.match(text, /^ticketline 799 status at 2026-12-07 02:15:00 \(started 2026-12-07 02:14:00, pid 4711\)\ncheck registration: ok since 2026-12-07 02:14:00 \(registered\)\ncheck card: FAILING since .* \(read-only \(EROFS\)\)\noutbox: 1 SMS, 0 IM waiting\n$/);
  t.same(parseStatus(text).failing, ['card']);
  t.equal(parseStatus(text).pid, 4711);
});

t.test('the last calls: each _END hop with the hops before it, newest first', async (t) => {
  const calls = lastCalls(HOPS);
  t.same(calls.map((c) => [c.tickets, c.called, c.end.caller]), [[[12], ['731'], 'anonymous'], [[10, 11], ['731', '732'], '0347111']]);
  t.equal(lastCalls(HOPS, 1).length, 1);
});

t.test('status on a healthy card: the checks, the last calls, exit 0', async (t) => {
  const dir = card(t);
  writeFileSync(join(dir, 'status.txt'), statusText([ok('registration', 'registered'), ok('card', 'writable')]));
  await markRunning(dir, new Date(T0));
  mkdirSync(join(dir, 'Ticket'));
  for (const h of HOPS) writeFileSync(join(dir, 'Ticket', h), '');
  const out = capture();
  t.equal(await runStatus(['status', dir], out, '/nonexistent'), 0);
  t.match(out.text(), /check registration: ok .*\ncheck card: ok .*\noutbox: 1 SMS, 0 IM waiting\nlast 2 emergency call\(s\):\n  07\.12\.2026 03:00  caller anonymous  tickets 12  called 731  END 07\.12\.2026 03:02\n  07\.12\.2026 02:00  caller 0347111  tickets 10,11  called 731 -> 732  END 07\.12\.2026 02:05\nall well\n$/);
});

t.test('status on a broken card: a failing check, a dead writer, no status.txt: exit 1 each', async (t) => {
  const dir = card(t);
  const out = capture();
  t.equal(await runStatus([dir], out, '/nonexistent'), 1);
  t.match(out.text(), /^status.txt: missing: .*\nlast 0 emergency call\(s\):\nNOT all well\n$/);

  writeFileSync(join(dir, 'status.txt'), statusText([ok('registration', 'registered'), failing('card', 'read-only (EROFS)')]));
  await markRunning(dir, new Date(T0));
  const failed = capture();
  t.equal(await runStatus([dir], failed, '/nonexistent'), 1);
  t.match(failed.text(), /check card: FAILING .*\n(.|\n)*FAILING: card\n(.|\n)*NOT all well\n$/);

  writeFileSync(join(dir, 'status.txt'), statusText([ok('registration', 'registered')]));
  await markRunning(dir, new Date(T0), 2 ** 22 + 12345); // above pid_max's default: no such process
  const dead = capture();
  t.equal(await runStatus([dir], dead, '/nonexistent'), 1);
  t.match(dead.text(), /NOT RUNNING: pid \d+ is gone without a clean stop/);

  await markStopped(dir);
  const stopped = capture();
  t.equal(await runStatus(['status'], stopped, dir), 1, 'the default folder');
  t.match(stopped.text(), /NOT RUNNING: stopped cleanly \(no Running.txt\)/);
});

t.test('Running.txt: absent = clean; present = the previous run crashed, about when status.txt or the marker was last written', async (t) => {
  const dir = card(t);
  t.same(await previousRun(dir), { crashed: false });
  await markRunning(dir, new Date());
  const prev = await previousRun(dir);
  t.equal(prev.crashed, true);
  t.ok(prev.lastAlive && Math.abs(prev.lastAlive.getTime() - Date.now()) < 60_000);
  await markStopped(dir);
  t.same(await previousRun(dir), { crashed: false });
});

t.test('the clock: before the build time = not set', async (t) => {
  const built = Date.UTC(2026, 5, 1);
  t.equal(clockProblem(new Date(built + 1), built), undefined);
  t.match(clockProblem(new Date(0), built), /^it says 1970-01-01 00:00 UTC, before this software was built \(2026-06-01\)$/);
});
