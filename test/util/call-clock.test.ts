import t from 'tap';
import { CallClock, STEP_MS } from '../../src/util/call-clock.js';

/** A wall clock and a monotonic clock moved by hand: `tick` moves both, `step` only the wall. */
function clocks(wall0: number, mono0 = 5000) {
  const c = { wall: wall0, mono: mono0 };
  return {
    src: { wallMs: () => c.wall, monoMs: () => c.mono },
    tick(ms: number) {
      c.wall += ms;
      c.mono += ms;
    },
    step(ms: number) {
      c.wall += ms;
    },
  };
}

const YEARS_56 = Date.UTC(2026, 11, 7, 18, 25);
const REAL = Date.UTC(2026, 11, 7, 18, 25, 0);

t.test('without a step, stamps are the wall clock', async (t) => {
  const k = clocks(REAL);
  const clock = new CallClock(k.src);
  t.equal(clock.now().getTime(), REAL);
  k.tick(1500);
  t.equal(clock.now().getTime(), REAL + 1500);
  t.equal(clock.nowMs(), REAL + 1500);
  t.equal(clock.elapsedMs(), 1500);
  const d = clock.now();
  t.equal(clock.restamp(d), d, 'nothing to restamp');
  t.equal(clock.steps, 0);
});

t.test('a step moves the call start as the wall sees it, never the stamps or their distances', async (t) => {
  // [name, wall at start, step]: after the step, restamped stamps are in the new time, 7 s apart
  const rows: Array<[string, number, number]> = [
    ['board at 1970, NTP sets 2026', 0, YEARS_56],
    ['clock 56 years ahead, NTP sets it back', REAL + YEARS_56, -YEARS_56],
    ['an installer sets the clock 2 h forward', REAL, 2 * 3600_000],
    ['an installer sets the clock 2 h back', REAL, -2 * 3600_000],
    ['a step just over the bound', REAL, STEP_MS + 1],
  ];
  for (const [name, wall0, step] of rows) {
    const k = clocks(wall0);
    const steps: number[] = [];
    const clock = new CallClock(k.src, (ms) => steps.push(ms));
    const hopStart = clock.now();
    k.tick(3000);
    k.step(step);
    k.tick(4000);
    const hopEnd = clock.now();
    t.equal(hopEnd.getTime() - hopStart.getTime(), 7000, `${name}: the hop lasts its monotonic 7 s`);
    t.equal(clock.nowMs(), wall0 + 7000, `${name}: the recording's timeline stays on the start's anchor`);
    const start = clock.restamp(hopStart);
    const end = clock.restamp(hopEnd);
    t.equal(start.getTime(), wall0 + step, `${name}: the ticket's start is in the new time`);
    t.equal(end.getTime(), wall0 + step + 7000, `${name}: the ticket's end is the wall clock now`);
    t.same(steps, [step], `${name}: one step reported, once`);
    t.equal(clock.steps, 1);
  }
});

t.test('drift within the bound is not a step (NTP slews it)', async (t) => {
  const k = clocks(REAL);
  const clock = new CallClock(k.src);
  const a = clock.now();
  k.tick(60_000);
  k.step(STEP_MS); // exactly the bound
  const b = clock.now();
  t.equal(clock.steps, 0);
  t.equal(b.getTime() - a.getTime(), 60_000, 'the length is monotonic time');
  t.equal(clock.restamp(a), a, 'nothing to restamp: the same stamp comes back');
});

t.test('two steps: every stamp lands on the latest anchor', async (t) => {
  const k = clocks(0);
  const clock = new CallClock(k.src);
  const s = clock.now();
  k.tick(1000);
  k.step(YEARS_56);
  const m = clock.now();
  k.tick(1000);
  k.step(-30_000); // NTP corrects again
  const e = clock.now();
  t.equal(clock.steps, 2);
  t.same(
    [s, m, e].map((d) => clock.restamp(d).getTime()),
    [YEARS_56 - 30_000, YEARS_56 - 30_000 + 1000, YEARS_56 - 30_000 + 2000],
  );
  t.same([s, m, e].map((d) => d.getTime()), [0, 1000, 2000], 'the raw stamps never jumped');
});

t.test('a step is seen by restamp() alone too (no now() in between)', async (t) => {
  const k = clocks(0);
  const clock = new CallClock(k.src);
  const s = clock.now();
  k.tick(500);
  k.step(YEARS_56);
  t.equal(clock.restamp(s).getTime(), YEARS_56);
});

t.test('whatever the wall does, stamps advance by monotonic time only', async (t) => {
  const k = clocks(REAL);
  const clock = new CallClock(k.src);
  let prev = clock.now();
  const moves = [-5000, 0, 900, -900, YEARS_56, -YEARS_56, 10_000];
  for (const w of moves) {
    k.tick(20);
    k.step(w);
    const now = clock.now();
    t.equal(now.getTime() - prev.getTime(), 20, `after a wall move of ${w} ms`);
    t.equal(clock.restamp(now).getTime() - clock.restamp(prev).getTime(), 20, 'restamped too');
    prev = now;
  }
  t.equal(clock.steps, 4, 'the four moves over the bound were steps (900 and -900 are drift)');
});
