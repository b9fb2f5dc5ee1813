/** Issue 10 rows of the hunt table: the accept key, rounds, and the message phase. */
import t from 'tap';
import { step } from '../../src/hotline/hunt.js';
import type { HuntOptions } from '../../src/hotline/hunt.js';
import { ev, cmd, directory, play } from './hunt-fixtures.js';

const MOBILE = '00393471112233';
const OPTS: HuntOptions = { acceptSec: 4, retryPauseSec: 2, messageSec: 8 };
// 731 (desk only) -> 732 (desk + mobile) -> 731; both must press 5.
const keyed = directory({
  '731': { next: '732', timeoutSec: 20, acceptKey: '5' },
  '732': { next: '731', fork: MOBILE, timeoutSec: 15, acceptKey: '5' },
});
const start731 = { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] };
const start732 = { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] };

t.test('accept: an answer is confirmed first, the key bridges it', async (t) => {
  const s = play(t, keyed, [
    start731,
    { event: ev.answered('1.desk', 3), commands: [cmd.confirm('1.desk', '5', 4)], phase: 'hunting' },
    { event: ev.answered('1.desk', 3), commands: [], phase: 'hunting' }, // a retransmitted 200
    { event: ev.accepted('1.desk', 5), commands: [cmd.bridge('1.desk'), cmd.stop(1)], phase: 'connected' },
    { event: ev.techHungUp('1.desk', 60), commands: [cmd.release('technician-hung-up'), cmd.close(1, '731', 0, 60, true), cmd.notify(1, '731', 0, 60)], phase: 'ended' },
  ], undefined, OPTS);
  t.equal(s.outcome, 'answered');
});

t.test('accept: a voicemail that never presses the key is hung up; the mobile rings on until the hop times out', async (t) => {
  play(t, keyed, [
    start732,
    { event: ev.answered('1.fork', 2), commands: [cmd.confirm('1.fork', '5', 4)] },
    { event: ev.notAccepted('1.fork', 6), commands: [cmd.hangup('1.fork')], phase: 'hunting' },
    { event: ev.accepted('1.fork', 7), commands: [], phase: 'hunting' }, // too late: ignored
    { event: ev.timeout(1, 15), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '732', 0, 15, false), cmd.open(2, '731', 15), cmd.desk(2, '731'), cmd.timer(2, 20)] },
  ], undefined, OPTS);
});

t.test('accept: the only leg not accepting ends the hop at once (not a busy round: the next round follows without a hold)', async (t) => {
  const self = directory({ '731': { next: '731', timeoutSec: 20, acceptKey: '#' } });
  play(t, self, [
    start731,
    { event: ev.answered('1.desk', 1), commands: [cmd.confirm('1.desk', '#', 4)] },
    { event: ev.notAccepted('1.desk', 5), commands: [cmd.hangup('1.desk'), cmd.stop(1), cmd.close(1, '731', 0, 5, false), cmd.open(2, '731', 5), cmd.desk(2, '731'), cmd.timer(2, 20)], phase: 'hunting' },
    { event: ev.answered('2.desk', 6), commands: [cmd.confirm('2.desk', '#', 4)] },
    { event: ev.techHungUp('2.desk', 7), commands: [cmd.stop(2), cmd.close(2, '731', 5, 7, false), cmd.open(3, '731', 7), cmd.desk(3, '731'), cmd.timer(3, 20)], phase: 'hunting' },
  ], undefined, OPTS);
});

t.test('accept: a technician hanging up during the prompt, the mobile still ringing, the mobile then confirms', async (t) => {
  play(t, keyed, [
    start732,
    { event: ev.answered('1.desk', 2), commands: [cmd.confirm('1.desk', '5', 4)] },
    { event: ev.techHungUp('1.desk', 3), commands: [], phase: 'hunting' },
    { event: ev.answered('1.fork', 4), commands: [cmd.confirm('1.fork', '5', 4)] },
    { event: ev.accepted('1.fork', 5), commands: [cmd.bridge('1.fork'), cmd.stop(1)], phase: 'connected' },
  ], undefined, OPTS);
});

t.test('accept: two legs confirming, the first key wins and the other is hung up', async (t) => {
  play(t, keyed, [
    start732,
    { event: ev.answered('1.desk', 2), commands: [cmd.confirm('1.desk', '5', 4)] },
    { event: ev.answered('1.fork', 2), commands: [cmd.confirm('1.fork', '5', 4)] },
    { event: ev.accepted('1.fork', 3), commands: [cmd.bridge('1.fork'), cmd.hangup('1.desk'), cmd.stop(1)], phase: 'connected' },
    { event: ev.accepted('1.desk', 3), commands: [], phase: 'connected' },
  ], undefined, OPTS);
});

t.test('accept: a technician without a key on a keyed card is bridged at once; confirming legs are hung up', async (t) => {
  const mixed = directory({ '732': { fork: MOBILE, timeoutSec: 15, acceptKey: ' ' } });
  play(t, mixed, [
    start732,
    { event: ev.answered('1.desk', 2), commands: [cmd.bridge('1.desk'), cmd.cancel('1.fork', 'answered-elsewhere'), cmd.stop(1)], phase: 'connected' },
  ], undefined, OPTS);
  const half = directory({ '732': { fork: MOBILE, timeoutSec: 15, acceptKey: '1' } });
  const s = play(t, half, [start732, { event: ev.answered('1.fork', 2), commands: [cmd.confirm('1.fork', '1', 4)] }], undefined, OPTS);
  // the key decides per technician, not per leg: the desk of the same technician must confirm too
  t.same(step(s, ev.answered('1.desk', 3), half, OPTS).commands, [cmd.confirm('1.desk', '1', 4)]);
});

t.test('accept: the hop times out during a confirmation: the ringing legs stop, the confirmation finishes', async (t) => {
  play(t, keyed, [
    start732,
    { event: ev.answered('1.desk', 13), commands: [cmd.confirm('1.desk', '5', 4)] },
    { event: ev.timeout(1, 15), commands: [cmd.cancel('1.fork', 'timeout')], phase: 'hunting' },
    { event: ev.timeout(1, 15), commands: [], phase: 'hunting' },
    { event: ev.accepted('1.desk', 16), commands: [cmd.bridge('1.desk')], phase: 'connected' }, // no stopTimer: it fired
  ], undefined, OPTS);
  play(t, keyed, [
    start732,
    { event: ev.answered('1.desk', 13), commands: [cmd.confirm('1.desk', '5', 4)] },
    { event: ev.timeout(1, 15), commands: [cmd.cancel('1.fork', 'timeout')] },
    { event: ev.notAccepted('1.desk', 17), commands: [cmd.hangup('1.desk'), cmd.close(1, '732', 0, 17, false), cmd.open(2, '731', 17), cmd.desk(2, '731'), cmd.timer(2, 20)], phase: 'hunting' },
  ], undefined, OPTS);
});

t.test('accept: the caller hangs up during a confirmation: the confirming leg is hung up, the last rung notified', async (t) => {
  play(t, keyed, [
    start732,
    { event: ev.answered('1.fork', 2), commands: [cmd.confirm('1.fork', '5', 4)] },
    { event: ev.callerHungUp(3), commands: [cmd.cancel('1.desk', 'caller-gone'), cmd.hangup('1.fork'), cmd.stop(1), cmd.close(1, '732', 0, 3, true), cmd.notify(1, '732', 0, 3)], phase: 'ended' },
    { event: ev.accepted('1.fork', 4), commands: [], phase: 'ended' },
  ], undefined, OPTS);
});

t.test('rounds: a looping chain with Rounds 2 rings exactly two rounds, then the message phase', async (t) => {
  const two: HuntOptions = { ...OPTS, rounds: 2 };
  const loop = directory({ '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', timeoutSec: 5 } });
  const s = play(t, loop, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.timeout(1, 5), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 5, false), cmd.open(2, '732', 5), cmd.desk(2, '732'), cmd.timer(2, 5)] },
    { event: ev.timeout(2, 10), commands: [cmd.cancel('2.desk', 'timeout'), cmd.close(2, '732', 5, 10, false), cmd.open(3, '731', 10), cmd.desk(3, '731'), cmd.timer(3, 5)] },
    { event: ev.timeout(3, 15), commands: [cmd.cancel('3.desk', 'timeout'), cmd.close(3, '731', 10, 15, false), cmd.open(4, '732', 15), cmd.desk(4, '732'), cmd.timer(4, 5)] },
    { event: ev.timeout(4, 20), commands: [cmd.cancel('4.desk', 'timeout'), cmd.message(8)], phase: 'message' },
    { event: ev.timeout(4, 20), commands: [], phase: 'message' },
    { event: ev.answered('4.desk', 21), commands: [cmd.hangup('4.desk')], phase: 'message' }, // a 200 crossing the CANCEL
    { event: ev.messageDone(true, 30), commands: [cmd.release('message'), cmd.close(4, '732', 15, 30, true), ...cmd.notifyAll(4, '732', 15, 30, ['731', '732'])], phase: 'ended' },
  ], undefined, two);
  t.equal(s.round, 2);
});

t.test('rounds: a chain looping back to a later technician closes its round there', async (t) => {
  const lollipop = directory({ '731': { next: '732', timeoutSec: 5 }, '732': { next: '733', timeoutSec: 5 }, '733': { next: '732', timeoutSec: 5 } });
  const s = play(t, lollipop, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.timeout(1, 5), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 5, false), cmd.open(2, '732', 5), cmd.desk(2, '732'), cmd.timer(2, 5)] },
    { event: ev.timeout(2, 10), commands: [cmd.cancel('2.desk', 'timeout'), cmd.close(2, '732', 5, 10, false), cmd.open(3, '733', 10), cmd.desk(3, '733'), cmd.timer(3, 5)] },
    { event: ev.timeout(3, 15), commands: [cmd.cancel('3.desk', 'timeout'), cmd.message(8)], phase: 'message' },
  ], undefined, { ...OPTS, rounds: 1 });
  t.same(s.roundExts, ['731', '732', '733']);
});

t.test('message: events that do not belong to the message phase are ignored', async (t) => {
  const line = directory({ '731': { timeoutSec: 5 } });
  const s = play(t, line, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.timeout(1, 5), commands: [cmd.cancel('1.desk', 'timeout'), cmd.message(8)], phase: 'message' },
  ], undefined, OPTS);
  for (const e of [ev.pauseOver(6), ev.accepted('1.desk', 6), ev.notAccepted('1.desk', 6), ev.techHungUp('1.desk', 6), ev.ringing('1.desk', 6), ev.failed('1.desk', 'busy', 6), ev.start('731', 6)]) {
    const r = step(s, e, line, OPTS);
    t.same(r.commands, [], e.type);
    t.same(r.state, s, `${e.type}: state unchanged`);
  }
});

t.test('holding: a late 200 is hung up; the caller leaving ends the call with the last rung notified', async (t) => {
  const self = directory({ '731': { next: '731', timeoutSec: 5 } });
  play(t, self, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.failed('1.desk', 'busy', 0), commands: [cmd.stop(1), cmd.hold(2)], phase: 'holding' },
    { event: ev.answered('1.desk', 1), commands: [cmd.hangup('1.desk')], phase: 'holding' },
    { event: ev.messageDone(true, 1), commands: [], phase: 'holding' },
    { event: ev.callerHungUp(1), commands: [cmd.close(1, '731', 0, 1, true), cmd.notify(1, '731', 0, 1)], phase: 'ended' },
    { event: ev.pauseOver(2), commands: [], phase: 'ended' },
  ], undefined, OPTS);
});

t.test('holding: a technician gone from the card during the pause leads to the message phase', async (t) => {
  const self = directory({ '731': { next: '731', timeoutSec: 5 } });
  const s = play(t, self, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.failed('1.desk', 'busy', 0), commands: [cmd.stop(1), cmd.hold(2)], phase: 'holding' },
  ], undefined, OPTS);
  t.same(step(s, ev.pauseOver(2), directory({ '732': { timeoutSec: 5 } }), OPTS).commands, [cmd.message(8)]);
});
