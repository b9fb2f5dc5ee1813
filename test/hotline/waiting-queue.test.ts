/**
 * The forgiving waiting queue (issue 16) against a leg whose announcement
 * lasts `playMs` of real time: wrong keys never end the call nor count as
 * a try, the proceed key counts at any moment, only complete plays count.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { CardConfig } from '../../src/config/card.js';
import { Prompt, type PlayEnd } from '../../src/media/index.js';
import { waitForProceed, type QueueLeg, type QueueOutcome } from '../../src/hotline/waiting-queue.js';
import { memoryLogger } from '../../src/util/log.js';
import { until } from '../lab/proc.js';

const PLAY_MS = 120;
const SILENCE_MS = 80;

class FakeLeg implements QueueLeg {
  readonly media = new EventEmitter<{ digit: [d: string] }>();
  plays: PlayEnd[] = [];
  started = 0;
  private current: { timer: NodeJS.Timeout; resolve: (e: PlayEnd) => void } | undefined;
  private hangup: Array<() => void> = [];

  get playing(): boolean {
    return this.current !== undefined;
  }

  play(_p: Prompt): Promise<PlayEnd> {
    this.stopPlaying();
    this.started++;
    return new Promise((resolve) => {
      const end = (e: PlayEnd): void => {
        this.current = undefined;
        this.plays.push(e);
        resolve(e);
      };
      this.current = { timer: setTimeout(() => end('end'), PLAY_MS), resolve: end };
    });
  }

  stopPlaying(): void {
    const c = this.current;
    if (!c) return;
    clearTimeout(c.timer);
    c.resolve('stopped');
  }

  onHangup(fn: () => void): void {
    this.hangup.push(fn);
  }

  hangUp(): void {
    this.stopPlaying();
    for (const f of this.hangup) f();
  }

  press(...keys: string[]): void {
    for (const k of keys) this.media.emit('digit', k);
  }
}

/** The card's fields the queue reads (the announcement is joined with the key's digit prompt: spoken.ts). */
const config = (tries: number) =>
  ({ tries, proceedKey: '1', prompts: { announcement: 'announcement.wav', digits: { '1': 'digit-1.wav' } } }) as unknown as CardConfig;
const svc = { prompt: (name: string) => new Prompt(name, new Int16Array(8)) };

function start(leg: FakeLeg, tries: number): { outcome: Promise<QueueOutcome>; settled: () => QueueOutcome | undefined; log: ReturnType<typeof memoryLogger> } {
  const log = memoryLogger();
  let got: QueueOutcome | undefined;
  const outcome = waitForProceed(leg, config(tries), svc, log, SILENCE_MS);
  void outcome.then((o) => (got = o));
  return { outcome, settled: () => got, log };
}

const complete = (leg: FakeLeg): number => leg.plays.filter((p) => p === 'end').length;

t.test('wrong keys 2, 3, 4 during the announcement: it goes on; the 1 right after proceeds', async (t) => {
  const leg = new FakeLeg();
  const q = start(leg, 1);
  leg.press('2', '3', '4');
  t.ok(leg.playing, 'the announcement goes on');
  t.equal(leg.started, 1, 'not restarted');
  leg.press('1');
  t.equal(await q.outcome, 'proceed');
  t.same(leg.plays, ['stopped'], 'the proceed key stopped the announcement');
  t.match(q.log.lines.join('\n'), /key 2 is not the proceed key 1: the announcement goes on/);
});

t.test('a flood of wrong keys never ends the call before `tries` complete plays', async (t) => {
  const leg = new FakeLeg();
  const q = start(leg, 2);
  const timer = setInterval(() => leg.press('2', '9', '#'), 10);
  t.teardown(() => clearInterval(timer));
  t.equal(await q.outcome, 'gave-up');
  clearInterval(timer);
  t.equal(complete(leg), 2, 'exactly `tries` complete announcements before goodbye');
  t.equal(leg.plays.filter((p) => p !== 'end').length, 0, 'no announcement was cut by a wrong key');
});

t.test('a wrong key in the silence starts the announcement again at once, without counting a try', async (t) => {
  const leg = new FakeLeg();
  const q = start(leg, 3);
  await until(() => complete(leg) === 1, 'first complete play', 5000, 2);
  leg.press('5');
  t.ok(leg.playing, 'announcing again at once');
  t.equal(leg.started, 2);
  await until(() => complete(leg) === 2, 'second complete play', 5000, 2);
  t.equal(q.settled(), undefined, 'still waiting in the silence');
  leg.press('3');
  t.equal(leg.started, 3, 'third play started by the key');
  leg.press('1');
  t.equal(await q.outcome, 'proceed', 'the proceed key right after a wrong key counts');
});

t.test('after the last complete play a wrong key does not start it again; the proceed key still counts in the silence', async (t) => {
  const leg = new FakeLeg();
  const q = start(leg, 1);
  await until(() => complete(leg) === 1, 'the one complete play', 5000, 2);
  leg.press('4');
  t.notOk(leg.playing, 'not started again');
  t.equal(await q.outcome, 'gave-up', 'goodbye after the silence');
  const leg2 = new FakeLeg();
  const q2 = start(leg2, 1);
  await until(() => complete(leg2) === 1, 'the one complete play', 5000, 2);
  leg2.press('4', '1');
  t.equal(await q2.outcome, 'proceed');
});

t.test('no key at all: goodbye after exactly `tries` complete plays and the silence after the last', async (t) => {
  for (const tries of [1, 3]) {
    const leg = new FakeLeg();
    const q = start(leg, tries);
    t.equal(await q.outcome, 'gave-up');
    t.equal(leg.started, tries);
    t.equal(complete(leg), tries);
    t.match(q.log.lines.join('\n'), new RegExp(`no proceed key after ${tries} announcements \\(complete plays\\)`));
  }
});

t.test('the caller hangs up: caller-gone, keys afterwards change nothing', async (t) => {
  const leg = new FakeLeg();
  const q = start(leg, 3);
  leg.press('7');
  leg.hangUp();
  leg.press('1');
  t.equal(await q.outcome, 'caller-gone');
});
