import t from 'tap';
import { initialHunt, step } from '../../src/hotline/hunt.js';
import type { Directory, FailCause, HuntCommand, HuntEvent, HuntState, Technician } from '../../src/hotline/hunt.js';
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
    dir.set(ext, { next, fork: r() < 0.5 ? `0039347${ext}` : undefined, timeoutSec: Math.floor(r() * 30) });
  }
  return dir;
}

function randomEvent(r: () => number, s: HuntState, at: Date): HuntEvent {
  const legIds = [...s.legs.map((l) => l.id), '0.desk', '99.fork', ''];
  const leg = legIds[Math.floor(r() * legIds.length)];
  const hop = Math.floor(r() * (s.hops.length + 2));
  const k = r();
  if (k < 0.05) return { type: 'start', first: EXTS[Math.floor(r() * 5)] ?? 'nobody', at };
  if (k < 0.25) return { type: 'ringing', leg, at };
  if (k < 0.4) return { type: 'answered', leg, at };
  if (k < 0.65) return { type: 'failed', leg, cause: CAUSES[Math.floor(r() * 3)], at };
  if (k < 0.85) return { type: 'hopTimeout', hop: r() < 0.7 ? s.hops.length : hop, at };
  if (k < 0.9) return { type: 'callerHungUp', at };
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
  notifies: HuntCommand[] = [];
  releases = 0;
  endedSeen = false;

  check(ev: HuntEvent, before: HuntState, after: HuntState, cmds: readonly HuntCommand[], dir: Directory): string | null {
    if (ev.type === 'hopTimeout' && this.timers.has(ev.hop)) {
      this.timers.delete(ev.hop);
      if (cmds.length === 0) return `timer of hop ${ev.hop} fired and was ignored: the hop would ring forever`;
    }
    for (const c of cmds) {
      const p = this.command(c, dir);
      if (p) return `${c.type}: ${p}`;
      if (before.phase === 'ended' && c.type !== 'hangup') return `${c.type} after the end`;
    }
    if (after.phase === 'ended') return this.atEnd(after);
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
      case 'bridge':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.bridged !== null) return 'second bridge';
        if (this.cancelled.has(c.leg)) return 'bridge of a cancelled leg';
        this.bridged = c.leg;
        return null;
      case 'hangup':
        if (!this.rung.has(c.leg)) return `unknown leg ${c.leg}`;
        if (this.hungUp.has(c.leg)) return `leg ${c.leg} hung up twice`;
        this.hungUp.add(c.leg);
        return null;
      case 'closeTicket':
        return this.close(c);
      case 'notify': {
        if (this.notifies.length > 0) return 'second notify';
        const o = this.opened.get(c.hop);
        if (!o || o.ext !== c.ext) return 'notify for a hop that was not opened, or not to its extension';
        this.notifies.push(c);
        return null;
      }
      case 'release':
        this.releases++;
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

  private atEnd(s: HuntState): string | null {
    if (s.legs.some((l) => l.status === 'calling' || l.status === 'ringing')) return 'a leg still rings after the end';
    if (this.timers.size > 0) return `timers still running: ${[...this.timers]}`;
    if (this.closed.size !== this.opened.size) return `opened ${this.opened.size} tickets, closed ${this.closed.size}`;
    const hasHops = this.opened.size > 0;
    if (this.finals !== (hasHops ? 1 : 0)) return `${this.finals} END tickets for ${this.opened.size} hops`;
    if (this.notifies.length !== this.finals) return 'notify count differs from END count';
    const n = this.notifies[0];
    if (n && n.type === 'notify') {
      const last = Math.max(...this.opened.keys());
      if (n.hop !== last) return `notified hop ${n.hop}, not the last hop ${last}`;
      if ([...this.rung.values()].some((l) => l.number === n.ext)) return 'notified a fork number';
    }
    return null;
  }
}

t.test('random event sequences never throw and keep the invariants (seeded)', async (t) => {
  const RUNS = 3000;
  let endedRuns = 0;
  let answeredRuns = 0;
  let maxHops = 0;
  for (let seed = 1; seed <= RUNS; seed++) {
    const r = rng(seed);
    const dir = randomDirectory(r);
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
        const res = step(s, ev, dir);
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
    maxHops = Math.max(maxHops, s.hops.length);
  }
  t.equal(endedRuns, RUNS, 'every run ended with every invariant held');
  // The generator must actually reach the interesting states, or the test proves little.
  t.ok(answeredRuns > RUNS / 10, `${answeredRuns} runs had a conversation`);
  t.ok(maxHops >= 5, `some run went through ${maxHops} hops`);
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
