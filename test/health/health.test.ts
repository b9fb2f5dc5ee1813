/**
 * The health model's timing, driven by explicit times (no clock, no sleeps):
 * grace, one alert per failure, one "recovered" after an alert, the hourly
 * rate limit against flapping.
 */
import t from 'tap';
import { Health, MIN_ALERT_GAP_MS, type HealthEvent } from '../../src/health/health.js';

const S = 1000;
const MIN = 60 * S;
const specs = [
  { name: 'registration', graceMs: 60 * S },
  { name: 'card', graceMs: 0 },
];

/** What was said, as short strings: `alert reg @t` / `recovered reg @t`. */
const said = (evs: HealthEvent[], at: number): string[] => evs.map((e) => `${e.kind} ${e.check} @${at / S}`);

/** Feed a table of steps: [time s, check, ok] reports, or [time s, 'due'] ticks; collect what was said. */
function run(steps: Array<[number, string, boolean?]>, h = new Health(specs)): string[] {
  const out: string[] = [];
  for (const [sec, what, ok] of steps) {
    const now = sec * S;
    const evs = what === 'due' ? h.due(now) : h.report(what, ok ?? true, ok ? 'fine' : 'broken', now);
    out.push(...said(evs, now));
  }
  return out;
}

const cases: Array<{ name: string; steps: Array<[number, string, boolean?]>; said: string[] }> = [
  { name: 'a failure healed within its grace is never mentioned', steps: [[0, 'registration', false], [30, 'due'], [59, 'registration', true], [200, 'due']], said: [] },
  { name: 'a failure that outlasts its grace is alerted once, when the grace ends', steps: [[0, 'registration', false], [59, 'due'], [60, 'due'], [61, 'registration', false], [120, 'due']], said: ['alert registration @60'] },
  { name: 'recovery after an alert is said once', steps: [[0, 'registration', false], [60, 'due'], [90, 'registration', true], [95, 'registration', true]], said: ['alert registration @60', 'recovered registration @90'] },
  { name: 'grace 0: alerted at the first report', steps: [[5, 'card', false], [6, 'card', false]], said: ['alert card @5'] },
  {
    name: 'flapping: the second failure within the hour is held back until the hour is over, and only if it still lasts',
    steps: [[0, 'card', false], [10, 'card', true], [20, 'card', false], [30, 'card', true], [40, 'card', false], [3600, 'due'], [3610, 'card', true]],
    said: ['alert card @0', 'recovered card @10', 'alert card @3600', 'recovered card @3610'],
  },
  { name: 'a failure held back by the rate limit that heals before the hour is never mentioned', steps: [[0, 'card', false], [10, 'card', true], [20, 'card', false], [30, 'card', true], [4000, 'due']], said: ['alert card @0', 'recovered card @10'] },
  { name: 'after the hour, a new failure is alerted at once again', steps: [[0, 'card', false], [10, 'card', true], [3700, 'card', false]], said: ['alert card @0', 'recovered card @10', 'alert card @3700'] },
  { name: 'checks are independent', steps: [[0, 'card', false], [0, 'registration', false], [60, 'due'], [61, 'card', true]], said: ['alert card @0', 'alert registration @60', 'recovered card @61'] },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(run(c.steps), c.said);
  });
}

t.test('nextDue names the time the driver must wake up for, and nothing while all is well', async (t) => {
  const h = new Health(specs);
  t.equal(h.nextDue(), undefined, 'nothing observed: nothing due');
  h.report('registration', true, 'registered', 0);
  t.equal(h.nextDue(), undefined, 'ok: nothing due');
  h.report('registration', false, '408', 10 * S);
  t.equal(h.nextDue(), 70 * S, 'grace ends 60 s after the failure began');
  h.report('registration', false, '503', 40 * S);
  t.equal(h.nextDue(), 70 * S, 'a repeated failure keeps its start');
  t.equal(h.get('registration')?.reason, '503', 'and takes the newest reason');
  t.same(said(h.due(70 * S), 70 * S), ['alert registration @70']);
  t.equal(h.nextDue(), undefined, 'alerted: nothing more due');
  h.report('registration', true, 'registered', 80 * S);
  h.report('registration', false, '408', 90 * S);
  t.equal(h.nextDue(), 70 * S + MIN_ALERT_GAP_MS, 'the next alert waits for the rate limit');
  t.equal(h.healthy, false);
  t.same(h.snapshot().map((s) => s.name), ['registration'], 'only observed checks');
});

t.test('an unknown check is a programming error', async (t) => {
  t.throws(() => new Health(specs).report('nope', true, '', 0), /unknown check nope/);
});

t.test('MIN_ALERT_GAP_MS is an hour', async (t) => {
  t.equal(MIN_ALERT_GAP_MS, 60 * MIN);
});
