/**
 * The hunt: a pure state machine `step(state, event, directory, options) -> {state, commands}`.
 * No sockets, no timers, no clock: times arrive in events, timers are
 * commands out (`startTimer`/`stopTimer`, `hold`, `confirm`, `takeMessage`)
 * and events in (`hopTimeout`, `pauseOver`, `accepted`/`notAccepted`, `messageDone`).
 *
 * Ticket numbers are the driver's, not the machine's. `openTicket { hop }`
 * asks the driver to take the next number from the counter and keep it
 * under the hop number; `closeTicket { hop, start, end, final }` asks it to
 * write that hop's log file; `notify { hop, to, ... }` names the ticket to send.
 * So `step` never waits on the card, the phones ring while the number is
 * being written, and a card that fails is the driver's to log, not a state.
 *
 * Rules (seed: howto-ticketing; DESIGN.md "Hunting" and "Release"; issue 10):
 * - Each hop opens a ticket and rings the technician's extension, plus the
 *   fork (mobile) in parallel if Fork.txt is set; one timer per hop.
 * - An answer from a technician without an accept key wins at once (seed):
 *   bridge it, CANCEL the hop's other legs with "answered elsewhere" (RFC 3326
 *   Reason cause=200) and hang up any leg still confirming.
 * - Accept key (issue 10: a mobile's voicemail must not win): an answer from a
 *   technician with a key is `confirm`ed (the driver plays the accept prompt
 *   to that leg only) while the hop's timer runs on and its other legs ring.
 *   `accepted` -> it wins as above. `notAccepted`, or its BYE, -> it counts as
 *   not answered: `hangup` it, the other legs ring on until the hop's timeout.
 *   If that leaves no leg of the hop, the hop is over at once and the hunt
 *   goes on (a phone answered, so this is not a failed-at-once hop).
 *   The hop's timeout while a leg confirms cancels the ringing legs but lets
 *   the confirmation finish (a technician pressing the key in the last
 *   second must not be cut off); the hop ends with it.
 * - A 200 from a leg that was already cancelled or failed gets `hangup`
 *   (ACK+BYE, RFC 3261 §15), also after the call ended.
 * - Timeout: cancel the hop's legs, close its ticket, ring the technician's
 *   `next`. Busy/rejected/unreachable: only when EVERY leg of the hop failed,
 *   move on at once (a busy desk with the mobile still ringing keeps ringing).
 * - Rounds: a round starts with the call's first technician and ends when the
 *   ring is about to ring an extension it already rang in this round (the
 *   seed's CFNR loop coming back to the first; a chain looping back to a
 *   later technician closes its round there), or when the chain ends (no
 *   `next`, or a `next` not on the card: seed "not jump to the first back
 *   again"). At a round's end:
 *   - three rounds in a row in which every hop failed at once -> message
 *     phase (a PBX that refuses everything must not spin out tickets);
 *   - a chain end after a round in which some phone rang -> message phase;
 *   - `rounds` reached -> message phase (Rounds.txt; undefined = no cap);
 *   - a round in which every hop failed at once -> `hold` (the caller hears
 *     "all technicians are busy") for RetryPause, then the next round; a
 *     chain without a loop starts again at its first technician;
 *   - else the next round starts at once.
 *   The last hop's ticket stays open through the hold and the message phase.
 * - Message phase (never release an unanswered caller): `takeMessage`; when
 *   it is done (or the caller hangs up during it) the last hop is closed with
 *   END and EVERY technician on the card is notified with its ticket.
 * - The seed's own cases stay as they were: answered -> only the answering
 *   technician is notified; the caller gives up while ringing (or holding)
 *   -> only the last rung. Notifications go by extension, never the fork number.
 * - The answering technician hangs up: release the caller at once (seed: a
 *   caller in panic may never hang up). The caller hangs up: cancel what
 *   rings, hang up what is answered or confirming.
 * - First.txt not on the card (config rejects it; only a card edited under a
 *   running call): no hop, the caller is released ('no-technician'); the
 *   driver logs it as an error.
 * - Anything that does not fit the state (stale timer, unknown leg, events
 *   after the end) is ignored: no command, no throw.
 */
import type { Directory, HuntEvent, HuntOptions, HuntState, Outcome, StepResult } from './hunt-types.js';
import { cancelActive, current, findLeg, hangUpConfirming, isActive, setLeg, type Draft } from './hunt-draft.js';

export type * from './hunt-types.js';
export { failCauseOf } from './hunt-causes.js';

/** Used when a technician's timeout is not a finite number (config validates it first). */
export const DEFAULT_TIMEOUT_SEC = 20;
/** A timer shorter than a second would make a ring loop spin and tick tickets. */
export const MIN_TIMEOUT_SEC = 1;
/** Issue 10: three rounds in a row in which everything failed at once lead to the message phase. */
export const MAX_BUSY_ROUNDS = 3;
/** The card's defaults (AcceptSeconds 15, no Rounds cap, RetryPause 10, MessageSeconds 120). */
export const DEFAULT_HUNT_OPTIONS: HuntOptions = { acceptSec: 15, retryPauseSec: 10, messageSec: 120 };

export function initialHunt(): HuntState {
  return { phase: 'idle', hops: [], legs: [], round: 0, roundExts: [], roundAllFailed: true, busyRounds: 0 };
}

export function step(state: HuntState, event: HuntEvent, dir: Directory, opts: HuntOptions = DEFAULT_HUNT_OPTIONS): StepResult {
  const d: Draft = {
    ...state,
    hops: [...state.hops],
    legs: [...state.legs],
    roundExts: [...state.roundExts],
    dir,
    opts,
    at: event.at,
    out: [],
  };
  if (state.phase === 'idle') onIdle(d, event);
  else if (state.phase === 'hunting') onHunting(d, event);
  else if (state.phase === 'holding') onHolding(d, event);
  else if (state.phase === 'message') onMessage(d, event);
  else if (state.phase === 'connected') onConnected(d, event);
  else onEnded(d, event);
  return { state: snapshot(d), commands: d.out };
}

function snapshot(d: Draft): HuntState {
  const s: HuntState = {
    phase: d.phase,
    hops: d.hops,
    legs: d.legs,
    round: d.round,
    roundExts: d.roundExts,
    roundAllFailed: d.roundAllFailed,
    busyRounds: d.busyRounds,
  };
  const optional = { bridged: d.bridged, first: d.first, resume: d.resume, outcome: d.outcome };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(s, { [k]: v });
  return s;
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
  d.first = ev.first;
  d.round = 1;
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
    case 'accepted':
      if (findLeg(d, ev.leg)?.status === 'confirming') win(d, ev.leg);
      return;
    case 'notAccepted':
      return notConfirmed(d, ev.leg, 'hungUp');
    case 'technicianHungUp':
      return notConfirmed(d, ev.leg, 'ended');
    case 'failed':
      if (findLeg(d, ev.leg)?.status === 'confirming') return notConfirmed(d, ev.leg, 'ended');
      return legFailed(d, ev.leg);
    case 'hopTimeout':
      if (ev.hop === current(d).hop && !current(d).timedOut) hopTimedOut(d);
      return;
    case 'callerHungUp':
      cancelActive(d, 'caller-gone');
      hangUpConfirming(d, undefined);
      if (!current(d).timedOut) d.out.push({ type: 'stopTimer', hop: current(d).hop });
      closeHop(d, true, false);
      finish(d, 'caller-gave-up');
      return;
    default:
      // start: already started; pauseOver, messageDone: not ours now.
      return;
  }
}

function onHolding(d: Draft, ev: HuntEvent): void {
  if (ev.type === 'pauseOver') {
    const resume = d.resume;
    d.resume = undefined;
    if (resume !== undefined && d.dir.has(resume)) nextRound(d, resume);
    else startMessage(d); // the card lost the technician during the pause
  } else if (ev.type === 'callerHungUp') {
    d.resume = undefined;
    closeHop(d, true, false);
    finish(d, 'caller-gave-up');
  } else if (ev.type === 'answered') {
    lateAnswer(d, ev.leg);
  }
}

function onMessage(d: Draft, ev: HuntEvent): void {
  if (ev.type === 'messageDone') {
    d.out.push({ type: 'release', reason: 'message' });
    closeHop(d, true, true);
    finish(d, 'message');
  } else if (ev.type === 'callerHungUp') {
    // hanging up is how a caller ends a message: what was said is kept
    closeHop(d, true, true);
    finish(d, 'message');
  } else if (ev.type === 'answered') {
    lateAnswer(d, ev.leg);
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
    closeHop(d, true, false);
    finish(d, 'answered');
  } else if (ev.type === 'callerHungUp') {
    setLeg(d, bridged, 'ended');
    d.out.push({ type: 'hangup', leg: bridged });
    closeHop(d, true, false);
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
  d.roundExts.push(ext);
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
  d.out.push({ type: 'startTimer', hop, seconds: secondsOf(tech.timeoutSec, DEFAULT_TIMEOUT_SEC) });
}

/** Whole seconds, at least one: a zero timer would make a ring loop spin. */
function secondsOf(sec: number | undefined, fallback: number): number {
  if (sec === undefined || !Number.isFinite(sec)) return fallback;
  return Math.max(MIN_TIMEOUT_SEC, Math.round(sec));
}

function answered(d: Draft, legId: string): void {
  const leg = findLeg(d, legId);
  if (!leg) return;
  if (!isActive(leg)) return lateAnswer(d, legId);
  const key = d.dir.get(leg.ext)?.acceptKey?.trim();
  if (!key) return win(d, leg.id);
  setLeg(d, leg.id, 'confirming');
  d.out.push({ type: 'confirm', leg: leg.id, key, seconds: secondsOf(d.opts.acceptSec, DEFAULT_HUNT_OPTIONS.acceptSec) });
}

/** This leg is the conversation: bridge it, end every other leg of the hop. */
function win(d: Draft, legId: string): void {
  const leg = findLeg(d, legId);
  if (!leg) return;
  setLeg(d, leg.id, 'answered');
  d.bridged = leg.id;
  d.phase = 'connected';
  d.out.push({ type: 'bridge', leg: leg.id });
  cancelActive(d, 'answered-elsewhere');
  hangUpConfirming(d, leg.id);
  if (!current(d).timedOut) d.out.push({ type: 'stopTimer', hop: leg.hop });
}

/** A confirming leg let the time pass (`hungUp`: we BYE it) or hung up itself (`ended`): not an answer. */
function notConfirmed(d: Draft, legId: string, status: 'hungUp' | 'ended'): void {
  const leg = findLeg(d, legId);
  if (leg?.status !== 'confirming') return;
  setLeg(d, leg.id, status);
  if (status === 'hungUp') d.out.push({ type: 'hangup', leg: leg.id });
  hopMaybeOver(d, true);
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
  const hopLegs = d.legs.filter((l) => l.hop === leg.hop);
  hopMaybeOver(d, !hopLegs.every((l) => l.status === 'failed'));
}

/** When no leg of the current hop may still answer, the hop is over; `rang`: not a failed-at-once hop. */
function hopMaybeOver(d: Draft, rang: boolean): void {
  const hop = current(d);
  if (d.legs.some((l) => l.hop === hop.hop && (isActive(l) || l.status === 'confirming'))) return;
  if (!hop.timedOut) d.out.push({ type: 'stopTimer', hop: hop.hop });
  advance(d, rang || hop.timedOut === true);
}

function hopTimedOut(d: Draft): void {
  cancelActive(d, 'timeout');
  const hop = current(d);
  if (d.legs.some((l) => l.hop === hop.hop && l.status === 'confirming')) {
    // let the confirmation finish: the hop ends with it (notConfirmed / win)
    d.hops[d.hops.length - 1] = { ...hop, timedOut: true };
    return;
  }
  advance(d, true);
}

/** The current hop is over: ring the next technician of this round, or end the round. */
function advance(d: Draft, rang: boolean): void {
  if (rang) d.roundAllFailed = false;
  const next = d.dir.get(current(d).ext)?.next;
  const loops = next !== undefined && d.dir.has(next);
  if (loops && !d.roundExts.includes(next)) {
    closeHop(d, false, false);
    beginHop(d, next);
    return;
  }
  endOfRound(d, loops ? next : d.first, loops);
}

function endOfRound(d: Draft, restart: string | undefined, loops: boolean): void {
  const busy = d.roundAllFailed;
  d.busyRounds = busy ? d.busyRounds + 1 : 0;
  const capped = d.opts.rounds !== undefined && d.round >= d.opts.rounds;
  if (restart === undefined || !d.dir.has(restart) || d.busyRounds >= MAX_BUSY_ROUNDS || capped || (!loops && !busy)) {
    startMessage(d);
  } else if (busy) {
    d.phase = 'holding';
    d.resume = restart;
    d.out.push({ type: 'hold', seconds: secondsOf(d.opts.retryPauseSec, DEFAULT_HUNT_OPTIONS.retryPauseSec) });
  } else {
    nextRound(d, restart);
  }
}

function nextRound(d: Draft, ext: string): void {
  d.phase = 'hunting';
  d.round++;
  d.roundExts = [];
  d.roundAllFailed = true;
  closeHop(d, false, false);
  beginHop(d, ext);
}

function startMessage(d: Draft): void {
  d.phase = 'message';
  d.out.push({ type: 'takeMessage', seconds: secondsOf(d.opts.messageSec, DEFAULT_HUNT_OPTIONS.messageSec) });
}

/** Close the current hop's ticket; the final one is notified: to its technician, or to everyone after a message phase. */
function closeHop(d: Draft, final: boolean, everyone: boolean): void {
  const i = d.hops.length - 1;
  const hop = d.hops[i];
  // A clock stepped back (NTP after boot) must not give a hop a negative length.
  const end = d.at.getTime() < hop.start.getTime() ? hop.start : d.at;
  d.hops[i] = { ...hop, end, final };
  const ticket = { hop: hop.hop, ext: hop.ext, start: hop.start, end };
  d.out.push({ type: 'closeTicket', ...ticket, final });
  if (!final) return;
  const to = everyone ? [...d.dir.keys()] : [hop.ext];
  for (const ext of to) d.out.push({ type: 'notify', ...ticket, to: ext, message: everyone });
}

function finish(d: Draft, outcome: Outcome): void {
  d.phase = 'ended';
  d.outcome = outcome;
}
