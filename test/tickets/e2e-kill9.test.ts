/**
 * kill -9 during emergency calls, short version of bench/kill9.mjs (issue 15):
 * 10 cycles of call + SIGKILL at a seeded random moment + restart on the same
 * card. Every number the counter gave has exactly one ticket file, and no
 * journal is left open once the appliance has started again.
 */
import t from 'tap';
import { formatReport, runKill9 } from '../lab/kill9.js';

t.test('10 kill -9 cycles: no duplicate number, no number without its ticket file, no open journal left', async (t) => {
  const r = await runKill9({ cycles: 10, seed: 15, maxKillMs: 10000 });
  t.comment(formatReport(r));
  // a kill before the proceed key takes no number; most kills hit a ringing or talking hop
  t.ok(r.numbers >= 5, `${r.numbers} numbers given`);
  t.ok(r.recoveredHops >= 1, `${r.recoveredHops} hop(s) open at a kill were closed by the next start`);
  t.same(r.duplicates, [], 'no number in two files');
  t.same(r.withoutFile, [], 'every number given has its file');
  t.same(r.journalsLeft, [], 'every open hop was closed by the next start');
  t.equal(r.ticketZero, 0, 'the card was writable: every hop got a real number');
});
