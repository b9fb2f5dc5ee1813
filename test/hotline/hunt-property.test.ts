import t from 'tap';
import { initialHunt, step } from '../../src/hotline/hunt.js';
import type { Directory, FailCause, HuntCommand, HuntEvent, HuntOptions, HuntState, Technician } from '../../src/hotline/hunt.js';
import { deepFreeze } from './hunt-fixtures.js';
import { prng as rng } from '../lab/prng.js';


const EXTS = ['731', '732', '733', '734'];
const CAUSES: FailCause[] = ['busy', 'rejected', 'unreachable'];

function randomDirectory(r: () => number): Directory {
  const n = 1 + Math.floor(r() * EXTS.length);
  const dir = new Map<string, Technician>();
  for (const ext of EXTS.slice(0, n)) {
    const nextPick = Math.floor(r() * (n + 2)); // n: none, n+1: not on the card
    const next = nextPick < n ? EXTS[nextPick] : nextPick === n ? undefined : '799';
    const acceptKey = r() < 0.4 ? '5' : undefined;
    dir.set(ext, { next, fork: r() < 0.5 ? `0039347${ext}` : undefined, timeoutSec: Math.floor(r() * 30), acceptKey });
  }
  return dir;
}

function randomOptions(r: () => number): HuntOptions {
  return { acceptSec: 1 + Math.floor(r() * 15), retryPauseSec: Math.floor(r() * 12), messageSec: 1 + Math.floor(r() * 120), rounds: r() < 0.5 ? undefined : 1 + Math.floor(r() * 3) };
}

function randomEvent(r: () => number, s: HuntState, at: Date): HuntEvent {
  const legIds = [...s.legs.map((l) => l.id), '0.desk', '99.fork', ''];
  const leg = legIds[Math.floor(r() * legIds.length)];
  const hop = Math.floor(r() * (s.hops.length + 2));
  const k = r();
  const confirming = s.legs.find((l) => l.status === 'confirming')?.id ?? leg;
  if (k < 0.04) return { type: 'start', first: EXTS[Math.floor(r() * 5)] ?? 'nobody', at };
  if (k < 0.18) return { type: 'ringing', leg, at };
  if (k < 0.33) return { type: 'answered', leg, at };
  if (k < 0.4) return { type: r() < 0.6 ? 'accepted' : 'notAccepted', leg: r() < 0.8 ? confirming : leg, at };
  if (k < 0.58) return { type: 'failed', leg, cause: CAUSES[Math.floor(r() * 3)], at };
  if (k < 0.74) return { type: 'hopTimeout', hop: r() < 0.7 ? s.hops.length : hop, at };
  if (k < 0.8) return { type: 'pauseOver', at };
  if (k < 0.84) return { type: 'messageDone', left: r() < 0.5, at };
  if (k < 0.88) return { type: 'callerHungUp', at };
  return { type: 'technicianHungUp', leg: r() < 0.7 && s.bridged ? s.bridged : leg, at };
}

/** What the driver would see: checks every command against the stream so far; returns a problem or null. */
class Observer {
  readonly rung = new Map<string, { hop: number; ext: string; number?: string }>();
  readonly opened = new Map<number, { ext: string; at: Date }>();
  readonly closed = new Map<number, number>();
  readonly cancelled = new Set<string>();
  readonly hungUp = new Set<string>();
  readonly timers = new Set<number>();
  bridged: string | null = null;
  finals = 0;
  notifies: Array<Extract<HuntCommand, { type: 'notify' }>> = [];
  releases = 0;
  endedSeen = false;
  readonly confirming = new Set<string>();
  holding = false;
  messageTaken = false;

  check(ev: HuntEvent, before: HuntState, after: HuntState, cmds: readonly HuntCommand[], dir: Directory): string | null {
    if (ev.type === 'hopTimeout' && this.timers.has(ev.hop)) {
      this.timers.delete(ev.hop);
      const waits = before.legs.some((l) => l.hop === ev.hop && l.status === 'confirming');
      if (cmds.length === 0 && !waits) return `timer of hop ${ev.hop} fired and was ignored: the hop would ring forever`;
    }
    if (ev.type === 'pauseOver' && this.holding) {
      this.holding = false;
      if (cmds.length === 0 && after.phase !== 'ended') return 'the pause ended and was ignored: the caller would hold forever';
    }
    if ((ev.type === 'technicianHungUp' || ev.type === 'failed') && before.phase === 'hunting') this.confirming.delete(ev.leg); // gone by itself
    if ((ev.type === 'accepted' || ev.type === 'notAccepted') && this.confirming.has(ev.leg)) {
      // its bridge or hangup below takes it out of `confirming`
      if (cmds.length === 0) return `${ev.type} of a confirming leg ${ev.leg} was ignored`;
    }
    for (const c of cmds) {
      const p = this.command(c, dir);
      if (p) return `${c.type}: ${p}`;
      if (before.phase === 'ended' && c.type !== 'hangup') return `${c.type} after the end`;
    }
    if (after.phase === 'ended' && before.phase !== 'ended') return this.atEnd(after, dir, ev);
    return null;
  }

  private command(c: HuntCommand, dir: Directory): string | null {
    switch (c.type) {
      case 'openTicket':
        if (c.hop !== this.opened.size + 1) return `hop ${c.hop} out of order`;
        if (!dir.has(c.ext)) return `unknown extension ${c.ext}`;
        this.opened.set(c.hop, { ext: c.ext, at: c.at });
        return null;
      case 'ring':
        if (this.rung.has(c.leg)) return `leg ${c.leg} rung twice`;
        if (this.opened.get(c.hop)?.ext !== c.ext) return `leg ${c.leg} rings outside its hop`;
        if (c.kind === 'fork' && c.number !== dir.get(c.ext)?.fork) return 'fork number not the card value';
        this.rung.set(c.leg, { hop: c.hop, ext: c.ext, number: c.kind === 'fork' ? c.number : undefined });
        return null;
      case 'startTimer':
        if (c.seconds < 1 || !Number.isInteger(c.seconds)) return `bad seconds ${c.seconds}`;
        this.timers.add(c.hop);
        return null;
      case 'stopTimer':
        return this.timers.delete(c.hop) ? null : `hop ${c.hop} has no running timer`;
      case 'cancel':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.cancelled.has(c.leg) || this.bridged === c.leg || this.hungUp.has(c.leg)) return `leg ${c.leg} cancelled twice or after answer`;
        this.cancelled.add(c.leg);
        return null;
      case 'confirm':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.cancelled.has(c.leg) || this.confirming.has(c.leg) || this.hungUp.has(c.leg)) return `leg ${c.leg} confirmed twice or after cancel`;
        if (c.key !== dir.get(this.rung.get(c.leg)?.ext ?? '')?.acceptKey) return 'confirm without the technician\'s key';
        this.confirming.add(c.leg);
        return null;
      case 'bridge':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.bridged !== null) return 'second bridge';
        if (this.cancelled.has(c.leg)) return 'bridge of a cancelled leg';
        if (dir.get(this.rung.get(c.leg)?.ext ?? '')?.acceptKey && !this.confirming.has(c.leg)) return 'a keyed leg bridged without its key';
        this.confirming.delete(c.leg);
        this.bridged = c.leg;
        return null;
      case 'hangup':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.hungUp.has(c.leg)) return `leg ${c.leg} hung up twice`;
        this.hungUp.add(c.leg);
        this.confirming.delete(c.leg);
        return null;
      case 'hold':
        if (this.holding || this.messageTaken) return 'hold while holding or after the message';
        if (this.timers.size > 0) return 'hold with a hop timer running';
        this.holding = true;
        return null;
      case 'takeMessage':
        if (this.messageTaken || this.bridged !== null) return 'a second message, or a message after an answer';
        if (this.timers.size > 0) return 'message with a hop timer running';
        this.messageTaken = true;
        return null;
      case 'closeTicket':
        return this.close(c);
      case 'notify': {
        if (this.notifies.some((n) => n.to === c.to)) return `second notify to ${c.to}`;
        const o = this.opened.get(c.hop);
        if (!o || o.ext !== c.ext) return 'notify for a hop that was not opened';
        if (c.message !== this.messageTaken) return 'notify names a message phase that did not (or did) happen';
        this.notifies.push(c);
        return null;
      }
      case 'release':
        this.releases++;
        // issue 10: an unanswered caller is never released without the message phase
        if (c.reason !== 'technician-hung-up' && !this.messageTaken && this.opened.size > 0) return `released (${c.reason}) without the message phase`;
        return this.releases > 1 ? 'second release' : null;
    }
  }

  private close(c: Extract<HuntCommand, { type: 'closeTicket' }>): string | null {
    const o = this.opened.get(c.hop);
    if (!o || o.ext !== c.ext || o.at.getTime() !== c.start.getTime()) return `hop ${c.hop} was not opened like this`;
    if (this.closed.has(c.hop)) return `hop ${c.hop} closed twice`;
    if (c.end.getTime() < c.start.getTime()) return `hop ${c.hop} ends before it starts`;
    this.closed.set(c.hop, c.end.getTime());
    if (c.final) this.finals++;
    return this.finals > 1 ? 'second END' : null;
  }

  atEnd(s: HuntState, dir: Directory, last: HuntEvent): string | null {
    if (s.legs.some((l) => l.status === 'calling' || l.status === 'ringing' || l.status === 'confirming')) return 'a leg still rings or confirms after the end';
    if (this.timers.size > 0) return `timers still running: ${[...this.timers]}`;
    if (this.closed.size !== this.opened.size) return `opened ${this.opened.size} tickets, closed ${this.closed.size}`;
    const hasHops = this.opened.size > 0;
    if (this.finals !== (hasHops ? 1 : 0)) return `${this.finals} END tickets for ${this.opened.size} hops`;
    // issue 10: unanswered -> the message phase or the caller's hang-up, never a release without it
    if (hasHops && this.bridged === null && !this.messageTaken && last.type !== 'callerHungUp') return `unanswered call ended by ${last.type} without the message phase`;
    if (!hasHops) return this.notifies.length === 0 ? null : 'notified without a hop';
    const lastHop = Math.max(...this.opened.keys());
    if (this.notifies.some((n) => n.hop !== lastHop)) return `notified a hop that is not the last (${lastHop})`;
    const to = this.notifies.map((n) => n.to);
    if (this.messageTaken) {
      // everyone on the card
      if (to.join() !== [...dir.keys()].join()) return `after the message phase notified ${to}, not every technician`;
    } else {
      // seed: the answering technician, or the last rung
      const want = this.bridged !== null ? this.rung.get(this.bridged)?.ext : this.opened.get(lastHop)?.ext;
      if (to.join() !== want) return `notified ${to}, not only ${want}`;
    }
    if ([...this.rung.values()].some((l) => l.number !== undefined && to.includes(l.number))) return 'notified a fork number';
    return null;
  }
}

t.test('random event sequences never throw and keep the invariants (seeded)', async (t) => {
  const RUNS = 3000;
  let endedRuns = 0;
  let answeredRuns = 0;
  let messageRuns = 0;
  let maxHops = 0;
  for (let seed = 1; seed <= RUNS; seed++) {
    const r = rng(seed);
    const dir = randomDirectory(r);
    const opts = randomOptions(r);
    const obs = new Observer();
    let s = deepFreeze(initialHunt());
    let clock = Date.UTC(2026, 0, 1);
    const events: HuntEvent[] = [{ type: 'start', first: r() < 0.9 ? '731' : 'nobody', at: new Date(clock) }];
    const length = Math.floor(r() * 60);
    let problem: string | null = null;
    for (let i = 0; problem === null && i <= length + 2; i++) {
      clock += r() < 0.05 ? -5000 : Math.floor(r() * 20_000); // sometimes the clock steps back
      let ev = events[i] ?? randomEvent(r, s, new Date(clock));
      if (i === length + 1) ev = { type: 'callerHungUp', at: new Date(clock) }; // the call must end
      if (i === length + 2) ev = { type: 'answered', leg: s.legs[0]?.id ?? '1.desk', at: new Date(clock) }; // a late 200 after the end
      events[i] = ev;
      try {
        const res = step(s, ev, dir, opts);
        problem = obs.check(ev, s, res.state, res.commands, dir);
        s = deepFreeze(res.state);
      } catch (e) {
        problem = `threw ${(e as Error).message}`;
      }
    }
    if (problem === null && s.phase !== 'ended') problem = 'the call did not end after the caller hung up';
    if (problem !== null) {
      t.fail(`seed ${seed}: ${problem}`, { events: events.map((e) => JSON.stringify(e)) });
      return;
    }
    endedRuns++;
    if (s.outcome === 'answered') answeredRuns++;
    if (s.outcome === 'message') messageRuns++;
    maxHops = Math.max(maxHops, s.hops.length);
  }
  t.equal(endedRuns, RUNS, 'every run ended with every invariant held');
  // The generator must actually reach the interesting states, or the test proves little.
  t.ok(answeredRuns > RUNS / 10, `${answeredRuns} runs had a conversation`);
  t.ok(maxHops >= 5, `some run went through ${maxHops} hops`);
  t.ok(messageRuns > RUNS / 20, `${messageRuns} runs reached the message phase`);
});

t.test('the observer itself catches a broken machine (it is not vacuous)', async (t) => {
  const dir: Directory = new Map([['731', { timeoutSec: 5 }]]);
  const obs = new Observer();
  const s0 = initialHunt();
  const start: HuntEvent = { type: 'start', first: '731', at: new Date(0) };
  const r1 = step(s0, start, dir);
  t.equal(obs.check(start, s0, r1.state, r1.commands, dir), null);
  const bogus: HuntCommand[] = [{ type: 'cancel', leg: '7.desk', reason: 'timeout' }];
  t.match(obs.check({ type: 'ringing', leg: 'x', at: new Date(1) }, r1.state, r1.state, bogus, dir), /unknown leg/);
  const twoEnds: HuntCommand[] = [{ type: 'closeTicket', hop: 1, ext: '731', start: new Date(0), end: new Date(2), final: true }];
  t.equal(obs.check({ type: 'ringing', leg: 'x', at: new Date(2) }, r1.state, r1.state, twoEnds, dir), null);
  t.match(obs.check({ type: 'ringing', leg: 'x', at: new Date(2) }, r1.state, r1.state, twoEnds, dir), /closed twice/);
  const ignoredTimer = obs.check({ type: 'hopTimeout', hop: 1, at: new Date(3) }, r1.state, r1.state, [], dir);
  t.match(ignoredTimer, /fired and was ignored/);
});

/** What the driver does when nobody accepts: timers fire, pauses end, messages end, keyed answers time out. */
function unansweredEvent(r: () => number, s: HuntState, at: Date): HuntEvent {
  const active = s.legs.filter((l) => l.status === 'calling' || l.status === 'ringing');
  const confirming = s.legs.find((l) => l.status === 'confirming');
  const k = r();
  if (s.phase === 'holding') return { type: 'pauseOver', at };
  if (s.phase === 'message') return { type: 'messageDone', left: r() < 0.5, at };
  if (confirming && k < 0.5) return { type: r() < 0.7 ? 'notAccepted' : 'technicianHungUp', leg: confirming.id, at };
  const leg = active[Math.floor(r() * active.length)];
  if (leg && k < 0.7) return { type: 'failed', leg: leg.id, cause: CAUSES[Math.floor(r() * 3)], at };
  if (leg && k < 0.8) return { type: 'ringing', leg: leg.id, at };
  return { type: 'hopTimeout', hop: s.hops.length, at };
}

t.test('an unanswered call always ends in the message phase or a caller hang-up, never in a release without it', async (t) => {
  const RUNS = 2000;
  let messages = 0;
  let hangUps = 0;
  for (let seed = 1; seed <= RUNS; seed++) {
    const r = rng(seed * 7919);
    // every technician has a key that nobody presses: no answer is ever bridged
    const dir = new Map([...randomDirectory(r)].map(([ext, tech]) => [ext, { ...tech, acceptKey: '5' }]));
    const capped = r() < 0.7;
    const opts = { ...randomOptions(r), rounds: capped ? 1 + Math.floor(r() * 3) : undefined };
    const obs = new Observer();
    let s = initialHunt();
    let clock = Date.UTC(2026, 0, 1);
    const hangUpAt = capped ? Infinity : Math.floor(r() * 200); // an uncapped loop rings until the caller gives up
    const events: HuntEvent[] = [];
    let problem: string | null = null;
    for (let i = 0; problem === null && s.phase !== 'ended' && i < 400; i++) {
      clock += Math.floor(r() * 20_000);
      const at = new Date(clock);
      let ev: HuntEvent = i === 0 ? { type: 'start', first: '731', at } : unansweredEvent(r, s, at);
      if (i > 0 && s.legs.some((l) => l.status === 'ringing') && r() < 0.3) {
        const ringing = s.legs.filter((l) => l.status === 'ringing');
        ev = { type: 'answered', leg: ringing[Math.floor(r() * ringing.length)].id, at };
      }
      if (i === hangUpAt) ev = { type: 'callerHungUp', at };
      events.push(ev);
      const res = step(s, ev, dir, opts);
      problem = obs.check(ev, s, res.state, res.commands, dir);
      s = res.state;
    }
    if (problem === null && s.phase !== 'ended') problem = `not ended after ${events.length} events (${s.phase}, round ${s.round})`;
    if (problem === null && s.bridged !== undefined) problem = 'bridged a leg that never accepted';
    if (problem === null && s.outcome !== 'message' && s.outcome !== 'caller-gave-up') problem = `ended as ${s.outcome}`;
    if (problem !== null) {
      t.fail(`seed ${seed}: ${problem}`, { events: events.map((e) => JSON.stringify(e)) });
      return;
    }
    if (s.outcome === 'message') messages++;
    else hangUps++;
  }
  t.equal(messages + hangUps, RUNS, `${messages} message phases, ${hangUps} caller hang-ups`);
  t.ok(messages > RUNS / 2, 'most unanswered calls reach the message phase');
});

t.test('the observer catches a release without the message phase', async (t) => {
  const dir: Directory = new Map([['731', { timeoutSec: 5 }]]);
  const obs = new Observer();
  const s0 = initialHunt();
  const start: HuntEvent = { type: 'start', first: '731', at: new Date(0) };
  const r1 = step(s0, start, dir);
  obs.check(start, s0, r1.state, r1.commands, dir);
  const release: HuntCommand[] = [{ type: 'release', reason: 'no-technician' }];
  t.match(obs.check({ type: 'ringing', leg: 'x', at: new Date(1) }, r1.state, r1.state, release, dir), /without the message phase/);
});
