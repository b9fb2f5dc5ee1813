/**
 * The monitor turns the model's decisions into texts and wakes up only when
 * an alert is due (a short grace here, so the test waits on the alert itself).
 */
import t from 'tap';
import { CHECKS, HealthMonitor, type CheckText } from '../../src/health/monitor.js';
import { memoryLogger } from '../../src/util/log.js';

function monitor(checks?: readonly CheckText[]) {
  const texts: string[] = [];
  const waiters: Array<() => void> = [];
  const log = memoryLogger();
  const m = new HealthMonitor({ name: () => 'ticketline 799', alert: (x) => (texts.push(x), waiters.splice(0).forEach((w) => w())), now: () => new Date(), log }, checks);
  const next = (): Promise<void> => new Promise((r) => waiters.push(r));
  return { m, texts, log, next };
}

t.test('registration: the failure is said once its grace is over, the recovery once, both in words an owner understands', async (t) => {
  const reg = { ...CHECKS[0], graceMs: 100 };
  const { m, texts, log, next } = monitor([reg]);
  t.teardown(() => m.stop());
  m.observe('registration', true, 'registered for 3600 s');
  m.observe('registration', false, '408 Request Timeout');
  t.same(texts, [], 'nothing within the grace');
  const alerted = next();
  await alerted;
  t.equal(texts.length, 1);
  t.match(texts[0], /^ticketline 799: NOT REGISTERED at the PBX since \d\d:\d\d \(408 Request Timeout\) — emergency calls cannot reach the box$/);
  m.observe('registration', false, '408 Request Timeout');
  m.observe('registration', true, 'registered for 3600 s');
  t.equal(texts.length, 2);
  t.match(texts[1], /^ticketline 799: registered again at \d\d:\d\d$/);
  t.ok(log.lines.some((l) => / ERROR alert: ticketline 799: NOT REGISTERED/.test(l)), 'the alert is in the log too');
});

t.test('a failure healed within its grace: no text, and no timer left behind', async (t) => {
  const { m, texts } = monitor([{ ...CHECKS[0], graceMs: 60_000 }]);
  m.observe('registration', false, '408');
  m.observe('registration', true, 'registered');
  t.same(texts, []);
  t.equal(m.health.nextDue(), undefined, 'nothing pending');
  m.stop();
});

t.test('grace 0 checks alert at once', async (t) => {
  const { m, texts } = monitor();
  t.teardown(() => m.stop());
  m.observe('card', false, 'EROFS: read-only file system');
  t.match(texts, [/^ticketline 799: card NOT WRITABLE since \d\d:\d\d \(EROFS: read-only file system\)/]);
});
