/**
 * The hunt: a pure state machine `step(state, event, directory) -> {state, commands}`.
 * No sockets, no timers, no clock: times arrive in events, timers are
 * commands out (`startTimer`/`stopTimer`) and events in (`hopTimeout`).
 *
 * Ticket numbers are the driver's, not the machine's. `openTicket { hop }`
 * asks the driver to take the next number from the counter and keep it
 * under the hop number; `closeTicket { hop, start, end, final }` asks it to
 * write that hop's log file; `notify { hop, ... }` names the ticket to send.
 * So `step` never waits on the card, the phones ring while the number is
 * being written, and a card that fails is the driver's to log, not a state.
 *
 * Rules (seed: howto-ticketing; DESIGN.md "Hunting" and "Release"):
 * - Each hop opens a ticket and rings the technician's extension, plus the
 *   fork (mobile) in parallel if Fork.txt is set; one timer per hop.
 * - The first 200 OK wins: bridge it, CANCEL the hop's other legs with
 *   "answered elsewhere" (RFC 3326 Reason cause=200). A 200 from a leg that
 *   was already cancelled or failed gets `hangup` (ACK+BYE, RFC 3261 §15),
 *   also after the call ended: otherwise that phone would stay off-hook.
 * - Timeout: cancel the hop's legs, close its ticket, ring the technician's
 *   `next` (the ring may loop back to the first).
 * - Busy/rejected/unreachable: only when EVERY leg of the hop failed, move on
 *   at once (a busy desk with the mobile still ringing keeps ringing).
 * - Loop guard: a round in which every hop failed at once would spin at zero
 *   time and open a ticket per spin. So the hunt ends ('all-unavailable')
 *   when it is about to ring an extension whose hop already failed at once
 *   since the last hop that rang until its timeout. Hops that ring out take
 *   their timeout each, so a ring with at least one phone ringing is never
 *   cut short: it goes on until someone answers or the caller gives up.
 * - A technician with no `next`, or a `next` missing from the directory,
 *   ends the hunt: the caller is released, the last hop's ticket is closed
 *   with END and its technician, the last one rung, is notified (seed: the
 *   message goes "to the last called user").
 * - Exactly one hop is final (END) per call, and only its technician is
 *   notified, by extension (never the fork number, even if the fork answered).
 * - The answering technician hangs up: release the caller at once (seed: a
 *   caller in panic may never hang up). The caller hangs up: cancel what
 *   rings, or hang up the technician.
 * - Anything that does not fit the state (stale timer, unknown leg, events
 *   after the end) is ignored: no command, no throw.
 */
import type { Directory, Hop, HuntCommand, HuntEvent, HuntState, Leg, LegStatus, Outcome, Phase, ReleaseReason, StepResult, CancelReason } from './hunt-types.js';

export type * from './hunt-types.js';
export { failCauseOf } from './hunt-causes.js';

/** Used when a technician's timeout is not a finite number (config validates it first). */
export const DEFAULT_TIMEOUT_SEC = 20;
/** A timer shorter than a second would make a ring loop spin and tick tickets. */
export const MIN_TIMEOUT_SEC = 1;

export function initialHunt(): HuntState {
  return { phase: 'idle', hops: [], legs: [], failedInRow: [] };
}

/** The mutable working copy of one step; the input state is never touched. */
interface Draft {
  phase: Phase;
  hops: Hop[];
  legs: Leg[];
  bridged?: string;
  failedInRow: string[];
  outcome?: Outcome;
  readonly dir: Directory;
  readonly at: Date;
  readonly out: HuntCommand[];
}

export function step(state: HuntState, event: HuntEvent, dir: Directory): StepResult {
  const d: Draft = {
    phase: state.phase,
    hops: [...state.hops],
    legs: [...state.legs],
    bridged: state.bridged,
    failedInRow: [...state.failedInRow],
    outcome: state.outcome,
    dir,
    at: event.at,
    out: [],
  };
  if (state.phase === 'idle') onIdle(d, event);
  else if (state.phase === 'hunting') onHunting(d, event);
  else if (state.phase === 'connected') onConnected(d, event);
  else onEnded(d, event);
  return { state: snapshot(d), commands: d.out };
}

function snapshot(d: Draft): HuntState {
  return {
    phase: d.phase,
    hops: d.hops,
    legs: d.legs,
    ...(d.bridged !== undefined ? { bridged: d.bridged } : {}),
    failedInRow: d.failedInRow,
    ...(d.outcome !== undefined ? { outcome: d.outcome } : {}),
  };
}

// ---- one function per state ------------------------------------------------

function onIdle(d: Draft, ev: HuntEvent): void {
  if (ev.type === 'callerHungUp') {
    d.phase = 'ended';
    d.outcome = 'caller-gave-up';
    return;
  }
  if (ev.type !== 'start') return;
  if (!d.dir.has(ev.first)) {
    // No hop, so no ticket and nobody to notify: only the caller to release.
    finish(d, 'no-technician');
    d.out.push({ type: 'release', reason: 'no-technician' });
    return;
  }
  d.phase = 'hunting';
  beginHop(d, ev.first);
}

function onHunting(d: Draft, ev: HuntEvent): void {
  switch (ev.type) {
    case 'ringing': {
      const leg = findLeg(d, ev.leg);
      if (leg?.status === 'calling') setLeg(d, leg.id, 'ringing');
      return;
    }
    case 'answered':
      return answered(d, ev.leg);
    case 'failed':
      return legFailed(d, ev.leg);
    case 'hopTimeout':
      if (ev.hop === current(d).hop) noAnswer(d);
      return;
    case 'callerHungUp':
      cancelActive(d, 'caller-gone');
      d.out.push({ type: 'stopTimer', hop: current(d).hop });
      closeHop(d, true);
      finish(d, 'caller-gave-up');
      return;
    default:
      // technicianHungUp: no leg is in a conversation yet; start: already started.
      return;
  }
}

function onConnected(d: Draft, ev: HuntEvent): void {
  const bridged = d.bridged;
  if (bridged === undefined) return;
  const byBridged = (ev.type === 'technicianHungUp' || ev.type === 'failed') && ev.leg === bridged;
  if (byBridged) {
    // A failure report on the answered leg means it is gone: same as its BYE.
    setLeg(d, bridged, 'ended');
    d.out.push({ type: 'release', reason: 'technician-hung-up' });
    closeHop(d, true);
    finish(d, 'answered');
  } else if (ev.type === 'callerHungUp') {
    setLeg(d, bridged, 'ended');
    d.out.push({ type: 'hangup', leg: bridged });
    closeHop(d, true);
    finish(d, 'answered');
  } else if (ev.type === 'answered' && ev.leg !== bridged) {
    lateAnswer(d, ev.leg);
  }
}

function onEnded(d: Draft, ev: HuntEvent): void {
  // The one thing still owed after the end: a phone that answered too late.
  if (ev.type === 'answered') lateAnswer(d, ev.leg);
}

// ---- transitions --------------------------------------------------------------

function beginHop(d: Draft, ext: string): void {
  const tech = d.dir.get(ext);
  if (!tech) return;
  const hop = d.hops.length + 1;
  d.hops.push({ hop, ext, start: d.at, final: false });
  d.out.push({ type: 'openTicket', hop, ext, at: d.at });
  const desk = `${hop}.desk`;
  d.legs.push({ id: desk, hop, ext, kind: 'desk', status: 'calling' });
  d.out.push({ type: 'ring', leg: desk, hop, ext, kind: 'desk' });
  const fork = tech.fork?.trim();
  if (fork) {
    const id = `${hop}.fork`;
    d.legs.push({ id, hop, ext, kind: 'fork', number: fork, status: 'calling' });
    d.out.push({ type: 'ring', leg: id, hop, ext, kind: 'fork', number: fork });
  }
  d.out.push({ type: 'startTimer', hop, seconds: timeoutOf(tech.timeoutSec) });
}

function timeoutOf(sec: number): number {
  if (!Number.isFinite(sec)) return DEFAULT_TIMEOUT_SEC;
  return Math.max(MIN_TIMEOUT_SEC, Math.round(sec));
}

function answered(d: Draft, legId: string): void {
  const leg = findLeg(d, legId);
  if (!leg) return;
  if (!isActive(leg)) return lateAnswer(d, legId);
  setLeg(d, leg.id, 'answered');
  d.bridged = leg.id;
  d.phase = 'connected';
  d.out.push({ type: 'bridge', leg: leg.id });
  cancelActive(d, 'answered-elsewhere');
  d.out.push({ type: 'stopTimer', hop: leg.hop });
}

/** A 200 from a leg we already gave up on: ACK+BYE it, once. */
function lateAnswer(d: Draft, legId: string): void {
  const leg = findLeg(d, legId);
  if (leg?.status !== 'cancelled' && leg?.status !== 'failed') return;
  setLeg(d, leg.id, 'hungUp');
  d.out.push({ type: 'hangup', leg: leg.id });
}

function legFailed(d: Draft, legId: string): void {
  const leg = findLeg(d, legId);
  if (!leg || !isActive(leg)) return;
  setLeg(d, leg.id, 'failed');
  const hop = current(d);
  if (d.legs.some((l) => l.hop === hop.hop && isActive(l))) return;
  d.out.push({ type: 'stopTimer', hop: hop.hop });
  d.failedInRow.push(hop.ext);
  advance(d);
}

function noAnswer(d: Draft): void {
  cancelActive(d, 'timeout');
  // This hop rang for its whole timeout: time passes, the loop guard resets.
  d.failedInRow = [];
  advance(d);
}

/** Close the current hop and ring the next technician, or end the hunt. */
function advance(d: Draft): void {
  const next = d.dir.get(current(d).ext)?.next;
  const known = next !== undefined && d.dir.has(next);
  if (known && !d.failedInRow.includes(next)) {
    closeHop(d, false);
    beginHop(d, next);
    return;
  }
  const reason: ReleaseReason = known ? 'all-unavailable' : 'no-next';
  d.out.push({ type: 'release', reason });
  closeHop(d, true);
  finish(d, reason);
}

/** Close the current hop's ticket; the final one is also the one notified. */
function closeHop(d: Draft, final: boolean): void {
  const i = d.hops.length - 1;
  const hop = d.hops[i];
  // A clock stepped back (NTP after boot) must not give a hop a negative length.
  const end = d.at.getTime() < hop.start.getTime() ? hop.start : d.at;
  d.hops[i] = { ...hop, end, final };
  const ticket = { hop: hop.hop, ext: hop.ext, start: hop.start, end };
  d.out.push({ type: 'closeTicket', ...ticket, final });
  if (final) d.out.push({ type: 'notify', ...ticket });
}

function finish(d: Draft, outcome: Outcome): void {
  d.phase = 'ended';
  d.outcome = outcome;
}

// ---- legs ------------------------------------------------------------------------

function current(d: Draft): Hop {
  return d.hops[d.hops.length - 1];
}

function findLeg(d: Draft, id: string): Leg | undefined {
  return d.legs.find((l) => l.id === id);
}

function isActive(leg: Leg): boolean {
  return leg.status === 'calling' || leg.status === 'ringing';
}

function setLeg(d: Draft, id: string, status: LegStatus): void {
  d.legs = d.legs.map((l) => (l.id === id ? { ...l, status } : l));
}

function cancelActive(d: Draft, reason: CancelReason): void {
  for (const leg of d.legs) {
    if (!isActive(leg)) continue;
    setLeg(d, leg.id, 'cancelled');
    d.out.push({ type: 'cancel', leg: leg.id, reason });
  }
}
