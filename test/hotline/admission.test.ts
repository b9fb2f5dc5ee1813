import t from 'tap';
import { Admission, KEYED_CALLS_RESERVED, MAX_WAITING_PER_CALLER, reservedPorts, type Refusal, type WaitingSlot } from '../../src/hotline/admission.js';
import type { CardConfig } from '../../src/config/card.js';

type Step = ['enter', string, string | undefined] | ['leave', number];

// [name, maxWaiting, steps, expected results of the 'enter' steps ('ok' or the cap that refused), count at the end]
const TABLE: [string, number, Step[], string[], number][] = [
  [
    'the total cap refuses the call over MaxWaiting, whoever it is',
    3,
    [['enter', 'pbx', '0611'], ['enter', 'pbx', '0622'], ['enter', 'pbx', '0633'], ['enter', 'pbx', '0644']],
    ['ok', 'ok', 'ok', 'total'],
    3,
  ],
  [
    'one number holds at most MAX_WAITING_PER_CALLER places; another number behind the same PBX still gets in',
    10,
    [['enter', 'pbx', '0611'], ['enter', 'pbx', '0611'], ['enter', 'pbx', '0611'], ['enter', 'pbx', '0622']],
    ['ok', 'ok', 'per-caller', 'ok'],
    3,
  ],
  [
    'the same number from another source is another caller',
    10,
    [['enter', 'pbx', '0611'], ['enter', 'pbx', '0611'], ['enter', 'gw2', '0611']],
    ['ok', 'ok', 'ok'],
    3,
  ],
  [
    'withheld numbers are held by the total only',
    3,
    [['enter', 'pbx', undefined], ['enter', 'pbx', undefined], ['enter', 'pbx', undefined], ['enter', 'pbx', undefined]],
    ['ok', 'ok', 'ok', 'total'],
    3,
  ],
  [
    'a place given back lets the next call in; leaving twice gives it back once',
    2,
    [['enter', 'pbx', '0611'], ['enter', 'pbx', '0622'], ['leave', 0], ['leave', 0], ['enter', 'pbx', '0633'], ['enter', 'pbx', '0644']],
    ['ok', 'ok', 'ok', 'total'],
    2,
  ],
  [
    'a caller over the per-caller cap gets in again once one of its calls left',
    10,
    [['enter', 'pbx', '0611'], ['enter', 'pbx', '0611'], ['leave', 1], ['enter', 'pbx', '0611'], ['enter', 'pbx', '0611']],
    ['ok', 'ok', 'ok', 'per-caller'],
    2,
  ],
];

t.test('admission: caps for calls not yet keyed', async (t) => {
  t.equal(MAX_WAITING_PER_CALLER, 2);
  for (const [name, max, steps, want, count] of TABLE) {
    const a = new Admission();
    const slots: WaitingSlot[] = [];
    const got: string[] = [];
    for (const s of steps) {
      if (s[0] === 'leave') {
        slots[s[1]].leave();
        continue;
      }
      const r = a.enter(s[1], s[2], max);
      if (r.ok) slots.push(r);
      got.push(r.ok ? 'ok' : (r as Refusal).cap);
    }
    t.same(got, want, name);
    t.equal(a.count, count, `${name}: count`);
  }
});

t.test('admission: every place given back leaves nothing behind (no growth after a flood)', async (t) => {
  const a = new Admission();
  const slots: WaitingSlot[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = a.enter('pbx', String(1000 + (i % 7)), 50);
    if (r.ok) slots.push(r);
  }
  t.equal(slots.length, 14, '7 numbers x 2 places');
  t.equal(a.callers, 7);
  for (const s of slots) s.leave();
  t.equal(a.count, 0);
  t.equal(a.callers, 0, 'no per-caller entry left');
});

t.test('admission: a refusal names its cap and limit', async (t) => {
  const a = new Admission();
  a.enter('pbx', '0611', 1);
  t.same(a.enter('pbx', '0622', 1), { ok: false, cap: 'total', limit: 1 });
});

t.test('port reserve: legs per hop x KEYED_CALLS_RESERVED, 2 legs when any technician has a Fork.txt', async (t) => {
  const card = (forks: (string | undefined)[]): CardConfig =>
    ({ technicians: new Map(forks.map((fork, i) => [String(731 + i), { ext: String(731 + i), timeoutSec: 20, fork }])) }) as unknown as CardConfig;
  t.same(reservedPorts(card([undefined, undefined])), { ports: KEYED_CALLS_RESERVED, legsPerHop: 1, calls: KEYED_CALLS_RESERVED });
  t.same(reservedPorts(card([undefined, '0347123'])), { ports: 2 * KEYED_CALLS_RESERVED, legsPerHop: 2, calls: KEYED_CALLS_RESERVED });
  t.same(reservedPorts(card([' '])).legsPerHop, 1, 'a blank Fork.txt rings nothing');
});
