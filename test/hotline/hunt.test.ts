import t from 'tap';
import { initialHunt, step, DEFAULT_TIMEOUT_SEC } from '../../src/hotline/hunt.js';
import type { HuntEvent } from '../../src/hotline/hunt.js';
import { T, ev, cmd, directory, play, deepFreeze, type Row } from './hunt-fixtures.js';

const MOBILE = '00393471112233';
// The seed's ring: 731 -> 732 -> 731, 732 has a mobile fork.
const ring = directory({
  '731': { next: '732', timeoutSec: 20 },
  '732': { next: '731', fork: MOBILE, timeoutSec: 15 },
});

t.test('the first technician answers, then hangs up: the caller is released at once', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)], phase: 'hunting' },
    { event: ev.ringing('1.desk', 1), commands: [], phase: 'hunting' },
    { event: ev.answered('1.desk', 5), commands: [cmd.bridge('1.desk'), cmd.stop(1)], phase: 'connected' },
    { event: ev.techHungUp('1.desk', 125), commands: [cmd.release('technician-hung-up'), cmd.close(1, '731', 0, 125, true), cmd.notify(1, '731', 0, 125)], phase: 'ended' },
  ]);
  t.equal(s.outcome, 'answered');
});

t.test('first does not answer, the second answers (desk), the caller hangs up during the conversation', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.ringing('1.desk', 0), commands: [] },
    {
      event: ev.timeout(1, 20),
      commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 20, false), cmd.open(2, '732', 20), cmd.desk(2, '732'), cmd.fork(2, '732', MOBILE), cmd.timer(2, 15)],
      phase: 'hunting',
    },
    { event: ev.answered('2.desk', 25), commands: [cmd.bridge('2.desk'), cmd.cancel('2.fork', 'answered-elsewhere'), cmd.stop(2)], phase: 'connected' },
    { event: ev.failed('2.fork', 'rejected', 25), commands: [], phase: 'connected' }, // the 487 to our CANCEL
    { event: ev.callerHungUp(145), commands: [cmd.hangup('2.desk'), cmd.close(2, '732', 20, 145, true), cmd.notify(2, '732', 20, 145)], phase: 'ended' },
  ]);
  t.same(s.hops.map((h) => [h.hop, h.ext, h.final]), [[1, '731', false], [2, '732', true]], 'two tickets, only the second is END');
});

t.test('the caller gives up while ringing: every leg is cancelled, the last rung is notified', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.ringing('1.fork', 2), commands: [] },
    { event: ev.callerHungUp(9), commands: [cmd.cancel('1.desk', 'caller-gone'), cmd.cancel('1.fork', 'caller-gone'), cmd.stop(1), cmd.close(1, '732', 0, 9, true), cmd.notify(1, '732', 0, 9)], phase: 'ended' },
  ]);
  t.equal(s.outcome, 'caller-gave-up');
});

t.test('the caller gives up on the second hop: only the second technician is notified', async (t) => {
  play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.timeout(1, 15), commands: [cmd.cancel('1.desk', 'timeout'), cmd.cancel('1.fork', 'timeout'), cmd.close(1, '732', 0, 15, false), cmd.open(2, '731', 15), cmd.desk(2, '731'), cmd.timer(2, 20)] },
    { event: ev.callerHungUp(30), commands: [cmd.cancel('2.desk', 'caller-gone'), cmd.stop(2), cmd.close(2, '731', 15, 30, true), cmd.notify(2, '731', 15, 30)] },
  ]);
});

t.test('the mobile fork answers first: the desk is cancelled, the ticket and the notification name the extension', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.answered('1.fork', 6), commands: [cmd.bridge('1.fork'), cmd.cancel('1.desk', 'answered-elsewhere'), cmd.stop(1)], phase: 'connected' },
    { event: ev.techHungUp('1.fork', 66), commands: [cmd.release('technician-hung-up'), cmd.close(1, '732', 0, 66, true), cmd.notify(1, '732', 0, 66)], phase: 'ended' },
  ]);
  t.equal(s.bridged, '1.fork');
});

t.test('busy goes to the next hop at once, without waiting for the timeout', async (t) => {
  play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.failed('1.desk', 'busy', 1), commands: [cmd.stop(1), cmd.close(1, '731', 0, 1, false), cmd.open(2, '732', 1), cmd.desk(2, '732'), cmd.fork(2, '732', MOBILE), cmd.timer(2, 15)], phase: 'hunting' },
    { event: ev.answered('2.desk', 4), commands: [cmd.bridge('2.desk'), cmd.cancel('2.fork', 'answered-elsewhere'), cmd.stop(2)] },
  ]);
});

t.test('a busy desk with the mobile still ringing keeps ringing; the mobile may answer', async (t) => {
  play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.failed('1.desk', 'busy', 1), commands: [], phase: 'hunting' },
    { event: ev.ringing('1.fork', 3), commands: [] },
    { event: ev.answered('1.fork', 8), commands: [cmd.bridge('1.fork'), cmd.stop(1)], phase: 'connected' },
  ]);
});

t.test('the hop moves on when the desk is busy and then the mobile is unreachable', async (t) => {
  play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.failed('1.desk', 'busy', 1), commands: [] },
    { event: ev.failed('1.fork', 'unreachable', 4), commands: [cmd.stop(1), cmd.close(1, '732', 0, 4, false), cmd.open(2, '731', 4), cmd.desk(2, '731'), cmd.timer(2, 20)] },
  ]);
});

t.test('the ring loops back to the first technician', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.timeout(1, 20), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 20, false), cmd.open(2, '732', 20), cmd.desk(2, '732'), cmd.fork(2, '732', MOBILE), cmd.timer(2, 15)] },
    { event: ev.timeout(2, 35), commands: [cmd.cancel('2.desk', 'timeout'), cmd.cancel('2.fork', 'timeout'), cmd.close(2, '732', 20, 35, false), cmd.open(3, '731', 35), cmd.desk(3, '731'), cmd.timer(3, 20)] },
    { event: ev.answered('3.desk', 40), commands: [cmd.bridge('3.desk'), cmd.stop(3)], phase: 'connected' },
  ]);
  t.same(s.hops.map((h) => h.ext), ['731', '732', '731']);
});

t.test('a technician with no next ends the round: the message phase, then END and every technician notified', async (t) => {
  const line = directory({ '731': { next: '732', timeoutSec: 20 }, '732': { timeoutSec: 10 } });
  const s = play(t, line, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.timeout(1, 20), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 20, false), cmd.open(2, '732', 20), cmd.desk(2, '732'), cmd.timer(2, 10)] },
    { event: ev.timeout(2, 30), commands: [cmd.cancel('2.desk', 'timeout'), cmd.message(120)], phase: 'message' },
    { event: ev.callerHungUp(31), commands: [cmd.close(2, '732', 20, 31, true), ...cmd.notifyAll(2, '732', 20, 31, ['731', '732'])], phase: 'ended' },
  ]);
  t.equal(s.outcome, 'message');
});

t.test('a next that is not on the card ends the round the same way; a busy chain end holds and starts again, three times', async (t) => {
  const broken = directory({ '731': { next: '799', timeoutSec: 20 } });
  const s = play(t, broken, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.failed('1.desk', 'unreachable', 2), commands: [cmd.stop(1), cmd.hold(10)], phase: 'holding' },
    { event: ev.pauseOver(12), commands: [cmd.close(1, '731', 0, 12, false), cmd.open(2, '731', 12), cmd.desk(2, '731'), cmd.timer(2, 20)], phase: 'hunting' },
    { event: ev.failed('2.desk', 'busy', 12), commands: [cmd.stop(2), cmd.hold(10)], phase: 'holding' },
    { event: ev.pauseOver(22), commands: [cmd.close(2, '731', 12, 22, false), cmd.open(3, '731', 22), cmd.desk(3, '731'), cmd.timer(3, 20)], phase: 'hunting' },
    { event: ev.failed('3.desk', 'busy', 23), commands: [cmd.stop(3), cmd.message(120)], phase: 'message' },
    { event: ev.messageDone(false, 40), commands: [cmd.release('message'), cmd.close(3, '731', 22, 40, true), ...cmd.notifyAll(3, '731', 22, 40, ['731'])], phase: 'ended' },
  ]);
  t.equal(s.outcome, 'message');
});

t.test('everybody busy: hold for RetryPause, the next round, and after three busy rounds the message phase', async (t) => {
  const busyRound = (hop: number, at: number): Row[] => [
    { event: ev.failed(`${hop}.desk`, 'busy', at), commands: [cmd.stop(hop), cmd.close(hop, '731', at, at, false), cmd.open(hop + 1, '732', at), cmd.desk(hop + 1, '732'), cmd.fork(hop + 1, '732', MOBILE), cmd.timer(hop + 1, 15)] },
    { event: ev.failed(`${hop + 1}.desk`, 'busy', at), commands: [] },
  ];
  const s = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    ...busyRound(1, 0),
    { event: ev.failed('2.fork', 'unreachable', 1), commands: [cmd.stop(2), cmd.hold(10)], phase: 'holding' },
    { event: ev.timeout(2, 15), commands: [], phase: 'holding' }, // the stopped timer, racing
    { event: ev.pauseOver(11), commands: [cmd.close(2, '732', 0, 11, false), cmd.open(3, '731', 11), cmd.desk(3, '731'), cmd.timer(3, 20)], phase: 'hunting' },
    ...busyRound(3, 11),
    { event: ev.failed('4.fork', 'busy', 11), commands: [cmd.stop(4), cmd.hold(10)], phase: 'holding' },
    { event: ev.pauseOver(21), commands: [cmd.close(4, '732', 11, 21, false), cmd.open(5, '731', 21), cmd.desk(5, '731'), cmd.timer(5, 20)], phase: 'hunting' },
    ...busyRound(5, 21),
    { event: ev.failed('6.fork', 'busy', 21), commands: [cmd.stop(6), cmd.message(120)], phase: 'message' },
    { event: ev.messageDone(true, 60), commands: [cmd.release('message'), cmd.close(6, '732', 21, 60, true), ...cmd.notifyAll(6, '732', 21, 60, ['731', '732'])], phase: 'ended' },
  ]);
  t.equal(s.outcome, 'message');
  t.equal(s.hops.length, 6, 'every hop got its ticket');
  t.equal(s.hops.filter((h) => h.final).length, 1);
});

t.test('a busy round between rounds that rang does not count toward three in a row', async (t) => {
  const self = directory({ '731': { next: '731', timeoutSec: 5 } });
  play(t, self, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] },
    { event: ev.failed('1.desk', 'busy', 0), commands: [cmd.stop(1), cmd.hold(10)] },
    { event: ev.pauseOver(10), commands: [cmd.close(1, '731', 0, 10, false), cmd.open(2, '731', 10), cmd.desk(2, '731'), cmd.timer(2, 5)] },
    { event: ev.failed('2.desk', 'busy', 10), commands: [cmd.stop(2), cmd.hold(10)] },
    { event: ev.pauseOver(20), commands: [cmd.close(2, '731', 10, 20, false), cmd.open(3, '731', 20), cmd.desk(3, '731'), cmd.timer(3, 5)] },
    { event: ev.timeout(3, 25), commands: [cmd.cancel('3.desk', 'timeout'), cmd.close(3, '731', 20, 25, false), cmd.open(4, '731', 25), cmd.desk(4, '731'), cmd.timer(4, 5)] },
    { event: ev.failed('4.desk', 'busy', 25), commands: [cmd.stop(4), cmd.hold(10)], phase: 'holding' },
  ]);
});

t.test('the loop guard resets after a hop that rang out: a ring with someone ringing goes on', async (t) => {
  play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.failed('1.desk', 'busy', 0), commands: [cmd.stop(1), cmd.close(1, '731', 0, 0, false), cmd.open(2, '732', 0), cmd.desk(2, '732'), cmd.fork(2, '732', MOBILE), cmd.timer(2, 15)] },
    { event: ev.timeout(2, 15), commands: [cmd.cancel('2.desk', 'timeout'), cmd.cancel('2.fork', 'timeout'), cmd.close(2, '732', 0, 15, false), cmd.open(3, '731', 15), cmd.desk(3, '731'), cmd.timer(3, 20)] },
    { event: ev.failed('3.desk', 'busy', 15), commands: [cmd.stop(3), cmd.close(3, '731', 15, 15, false), cmd.open(4, '732', 15), cmd.desk(4, '732'), cmd.fork(4, '732', MOBILE), cmd.timer(4, 15)], phase: 'hunting' },
  ]);
});

t.test('a technician whose next is himself and who is busy holds instead of spinning', async (t) => {
  const self = directory({ '731': { next: '731', timeoutSec: 20 } });
  play(t, self, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.failed('1.desk', 'rejected', 0), commands: [cmd.stop(1), cmd.hold(10)], phase: 'holding' },
    { event: ev.callerHungUp(4), commands: [cmd.close(1, '731', 0, 4, true), cmd.notify(1, '731', 0, 4)], phase: 'ended' },
  ]);
});

t.test('a stale timeout of an earlier hop is ignored', async (t) => {
  const s1 = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.failed('1.desk', 'busy', 1), commands: [cmd.stop(1), cmd.close(1, '731', 0, 1, false), cmd.open(2, '732', 1), cmd.desk(2, '732'), cmd.fork(2, '732', MOBILE), cmd.timer(2, 15)] },
  ]);
  for (const hop of [1, 3, 0, -1]) {
    const r = step(s1, ev.timeout(hop, 20), ring);
    t.same(r.commands, [], `timeout of hop ${hop}`);
    t.same(r.state, s1, 'state unchanged');
  }
  const connected = play(t, ring, [{ event: ev.answered('2.fork', 5), commands: [cmd.bridge('2.fork'), cmd.cancel('2.desk', 'answered-elsewhere'), cmd.stop(2)] }], s1);
  t.same(step(connected, ev.timeout(2, 16), ring).commands, [], 'the timer of the answered hop, fired in the race with stopTimer');
});

t.test('a late 200 from a cancelled leg gets hangup (ACK+BYE), once', async (t) => {
  const s = play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.timeout(1, 15), commands: [cmd.cancel('1.desk', 'timeout'), cmd.cancel('1.fork', 'timeout'), cmd.close(1, '732', 0, 15, false), cmd.open(2, '731', 15), cmd.desk(2, '731'), cmd.timer(2, 20)] },
    { event: ev.answered('1.fork', 15), commands: [cmd.hangup('1.fork')], phase: 'hunting' },
    { event: ev.answered('1.fork', 15), commands: [], phase: 'hunting' },
    { event: ev.answered('2.desk', 18), commands: [cmd.bridge('2.desk'), cmd.stop(2)], phase: 'connected' },
    { event: ev.answered('1.desk', 19), commands: [cmd.hangup('1.desk')], phase: 'connected' },
    { event: ev.techHungUp('1.desk', 19), commands: [], phase: 'connected' }, // not the bridged leg
    { event: ev.answered('2.desk', 19), commands: [], phase: 'connected' }, // a retransmitted 200
  ]);
  t.equal(s.legs.find((l) => l.id === '1.fork')?.status, 'hungUp');
});

t.test('the desk and the fork answer in the same instant: the first event wins, the other is hung up', async (t) => {
  play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.answered('1.desk', 5), commands: [cmd.bridge('1.desk'), cmd.cancel('1.fork', 'answered-elsewhere'), cmd.stop(1)] },
    { event: ev.answered('1.fork', 5), commands: [cmd.hangup('1.fork')] },
  ]);
});

t.test('a late 200 after the call ended still gets hangup; everything else after the end is ignored', async (t) => {
  const ended = play(t, ring, [
    { event: ev.start('732', 0), commands: [cmd.open(1, '732', 0), cmd.desk(1, '732'), cmd.fork(1, '732', MOBILE), cmd.timer(1, 15)] },
    { event: ev.callerHungUp(3), commands: [cmd.cancel('1.desk', 'caller-gone'), cmd.cancel('1.fork', 'caller-gone'), cmd.stop(1), cmd.close(1, '732', 0, 3, true), cmd.notify(1, '732', 0, 3)], phase: 'ended' },
  ]);
  const ignored: HuntEvent[] = [
    ev.start('731', 4), ev.ringing('1.desk', 4), ev.failed('1.desk', 'busy', 4), ev.timeout(1, 15), ev.timeout(2, 15),
    ev.callerHungUp(5), ev.techHungUp('1.desk', 5), ev.answered('9.desk', 5), ev.answered('bogus', 5),
  ];
  for (const e of ignored) {
    const r = step(ended, e, ring);
    t.same(r.commands, [], `${e.type} after the end`);
    t.same(r.state, ended, `${e.type}: state unchanged`);
  }
  play(t, ring, [
    { event: ev.answered('1.fork', 4), commands: [cmd.hangup('1.fork')], phase: 'ended' },
    { event: ev.answered('1.fork', 4), commands: [], phase: 'ended' },
  ], ended);
});

t.test('after a conversation ended, every event is ignored', async (t) => {
  const ended = play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.answered('1.desk', 2), commands: [cmd.bridge('1.desk'), cmd.stop(1)] },
    { event: ev.techHungUp('1.desk', 60), commands: [cmd.release('technician-hung-up'), cmd.close(1, '731', 0, 60, true), cmd.notify(1, '731', 0, 60)] },
  ]);
  for (const e of [ev.callerHungUp(61), ev.techHungUp('1.desk', 61), ev.answered('1.desk', 61), ev.failed('1.desk', 'busy', 61), ev.timeout(1, 61)]) {
    t.same(step(ended, e, ring).commands, [], `${e.type} after the end`);
  }
});

t.test('a failure report on the answered leg ends the call like its BYE', async (t) => {
  play(t, ring, [
    { event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] },
    { event: ev.answered('1.desk', 2), commands: [cmd.bridge('1.desk'), cmd.stop(1)] },
    { event: ev.failed('1.desk', 'unreachable', 40), commands: [cmd.release('technician-hung-up'), cmd.close(1, '731', 0, 40, true), cmd.notify(1, '731', 0, 40)], phase: 'ended' },
  ]);
});

t.test('no technician to start with: the caller is released, no ticket, nobody notified', async (t) => {
  const s = play(t, ring, [{ event: ev.start('700', 0), commands: [cmd.release('no-technician')], phase: 'ended' }]);
  t.equal(s.outcome, 'no-technician');
  t.same(s.hops, []);
});

t.test('before start only start counts; a caller gone before start ends quietly', async (t) => {
  const idle = deepFreeze(initialHunt());
  for (const e of [ev.ringing('1.desk', 0), ev.answered('1.desk', 0), ev.failed('1.desk', 'busy', 0), ev.timeout(1, 0), ev.techHungUp('1.desk', 0)]) {
    const r = step(idle, e, ring);
    t.same(r.commands, [], e.type);
    t.equal(r.state.phase, 'idle');
  }
  const gone = step(idle, ev.callerHungUp(0), ring);
  t.same(gone.commands, []);
  t.equal(gone.state.phase, 'ended');
  t.same(step(gone.state, ev.start('731', 1), ring).commands, [], 'no hunt after the caller left');
});

t.test('events for legs that do not exist are ignored while hunting', async (t) => {
  const s = play(t, ring, [{ event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] }]);
  for (const e of [ev.answered('1.fork', 1), ev.failed('2.desk', 'busy', 1), ev.ringing('x', 1), ev.techHungUp('1.desk', 1), ev.start('732', 1)]) {
    const r = step(s, e, ring);
    t.same(r.commands, [], `${e.type} ${'leg' in e ? e.leg : ''}`);
    t.same(r.state, s);
  }
});

t.test('timeouts are whole seconds, at least 1; a non-number falls back to the default', async (t) => {
  const odd = directory({ a: { next: 'b', timeoutSec: 0 }, b: { next: 'c', timeoutSec: Number.NaN }, c: { timeoutSec: 7.4 } });
  play(t, odd, [
    { event: ev.start('a', 0), commands: [cmd.open(1, 'a', 0), cmd.desk(1, 'a'), cmd.timer(1, 1)] },
    { event: ev.timeout(1, 1), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, 'a', 0, 1, false), cmd.open(2, 'b', 1), cmd.desk(2, 'b'), cmd.timer(2, DEFAULT_TIMEOUT_SEC)] },
    { event: ev.timeout(2, 21), commands: [cmd.cancel('2.desk', 'timeout'), cmd.close(2, 'b', 1, 21, false), cmd.open(3, 'c', 21), cmd.desk(3, 'c'), cmd.timer(3, 7)] },
  ]);
});

t.test('an empty Fork.txt value rings the desk only', async (t) => {
  const blank = directory({ '731': { fork: '  ', timeoutSec: 5 } });
  play(t, blank, [{ event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 5)] }]);
});

t.test('the next hop is read from the directory at the time of the hop (card edits apply)', async (t) => {
  const s = play(t, ring, [{ event: ev.start('731', 0), commands: [cmd.open(1, '731', 0), cmd.desk(1, '731'), cmd.timer(1, 20)] }]);
  const edited = directory({ '731': { next: '733', timeoutSec: 20 }, '733': { timeoutSec: 30 } });
  play(t, edited, [
    { event: ev.timeout(1, 20), commands: [cmd.cancel('1.desk', 'timeout'), cmd.close(1, '731', 0, 20, false), cmd.open(2, '733', 20), cmd.desk(2, '733'), cmd.timer(2, 30)] },
  ], s);
});

t.test('a clock stepped back never gives a hop an end before its start', async (t) => {
  const s = play(t, ring, [{ event: ev.start('731', 100), commands: [cmd.open(1, '731', 100), cmd.desk(1, '731'), cmd.timer(1, 20)] }]);
  const r = step(s, ev.callerHungUp(50), ring);
  t.same(r.commands.filter((c) => c.type === 'closeTicket'), [cmd.close(1, '731', 100, 100, true)]);
  t.equal(T(100).getTime() - T(50).getTime(), 50_000);
});
