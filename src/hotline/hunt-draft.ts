/**
 * The working copy of one hunt step and the leg helpers on it (hunt.ts):
 * `step` copies the state into a Draft, the transitions change the Draft
 * and push commands, and a new state is made from it at the end.
 */
import type { CancelReason, Directory, Hop, HuntCommand, HuntOptions, Leg, LegStatus, Outcome, Phase } from './hunt-types.js';

/** The mutable working copy of one step; the input state is never touched. */
export interface Draft {
  phase: Phase;
  hops: Hop[];
  legs: Leg[];
  bridged?: string;
  round: number;
  roundExts: string[];
  roundAllFailed: boolean;
  busyRounds: number;
  first?: string;
  resume?: string;
  outcome?: Outcome;
  readonly dir: Directory;
  readonly opts: HuntOptions;
  readonly at: Date;
  readonly out: HuntCommand[];
}

// ---- legs ------------------------------------------------------------------------

export function current(d: Draft): Hop {
  return d.hops[d.hops.length - 1];
}

export function findLeg(d: Draft, id: string): Leg | undefined {
  return d.legs.find((l) => l.id === id);
}

export function isActive(leg: Leg): boolean {
  return leg.status === 'calling' || leg.status === 'ringing';
}

export function setLeg(d: Draft, id: string, status: LegStatus): void {
  d.legs = d.legs.map((l) => (l.id === id ? { ...l, status } : l));
}

export function cancelActive(d: Draft, reason: CancelReason): void {
  for (const leg of d.legs) {
    if (!isActive(leg)) continue;
    setLeg(d, leg.id, 'cancelled');
    d.out.push({ type: 'cancel', leg: leg.id, reason });
  }
}

/** BYE every leg still hearing the accept prompt, except `keep`. */
export function hangUpConfirming(d: Draft, keep: string | undefined): void {
  for (const leg of d.legs) {
    if (leg.status !== 'confirming' || leg.id === keep) continue;
    setLeg(d, leg.id, 'hungUp');
    d.out.push({ type: 'hangup', leg: leg.id });
  }
}
