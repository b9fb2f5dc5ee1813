/** Builders that keep the hunt tables readable: one line per event and command. */
import { initialHunt, step } from '../../src/hotline/hunt.js';
import type { CancelReason, Directory, FailCause, HuntCommand, HuntEvent, HuntOptions, HuntState, Phase, ReleaseReason, Technician } from '../../src/hotline/hunt.js';

/** Seconds after 12.10.2012 14:00 local time. */
export const T = (sec: number): Date => new Date(2012, 9, 12, 14, 0, sec);

export const ev = {
  start: (first: string, at: number): HuntEvent => ({ type: 'start', first, at: T(at) }),
  ringing: (leg: string, at: number): HuntEvent => ({ type: 'ringing', leg, at: T(at) }),
  answered: (leg: string, at: number): HuntEvent => ({ type: 'answered', leg, at: T(at) }),
  failed: (leg: string, cause: FailCause, at: number): HuntEvent => ({ type: 'failed', leg, cause, at: T(at) }),
  timeout: (hop: number, at: number): HuntEvent => ({ type: 'hopTimeout', hop, at: T(at) }),
  callerHungUp: (at: number): HuntEvent => ({ type: 'callerHungUp', at: T(at) }),
  techHungUp: (leg: string, at: number): HuntEvent => ({ type: 'technicianHungUp', leg, at: T(at) }),
  accepted: (leg: string, at: number): HuntEvent => ({ type: 'accepted', leg, at: T(at) }),
  notAccepted: (leg: string, at: number): HuntEvent => ({ type: 'notAccepted', leg, at: T(at) }),
  pauseOver: (at: number): HuntEvent => ({ type: 'pauseOver', at: T(at) }),
  messageDone: (left: boolean, at: number): HuntEvent => ({ type: 'messageDone', left, at: T(at) }),
};

export const cmd = {
  open: (hop: number, ext: string, at: number): HuntCommand => ({ type: 'openTicket', hop, ext, at: T(at) }),
  desk: (hop: number, ext: string): HuntCommand => ({ type: 'ring', leg: `${hop}.desk`, hop, ext, kind: 'desk' }),
  fork: (hop: number, ext: string, number: string): HuntCommand => ({ type: 'ring', leg: `${hop}.fork`, hop, ext, kind: 'fork', number }),
  timer: (hop: number, seconds: number): HuntCommand => ({ type: 'startTimer', hop, seconds }),
  stop: (hop: number): HuntCommand => ({ type: 'stopTimer', hop }),
  cancel: (leg: string, reason: CancelReason): HuntCommand => ({ type: 'cancel', leg, reason }),
  bridge: (leg: string): HuntCommand => ({ type: 'bridge', leg }),
  hangup: (leg: string): HuntCommand => ({ type: 'hangup', leg }),
  close: (hop: number, ext: string, start: number, end: number, final: boolean): HuntCommand => ({ type: 'closeTicket', hop, ext, start: T(start), end: T(end), final }),
  /** The seed's notification: to the hop's own technician, no message phase. */
  notify: (hop: number, ext: string, start: number, end: number): HuntCommand => ({ type: 'notify', hop, ext, start: T(start), end: T(end), to: ext, message: false }),
  /** After the message phase: one per technician on the card, in card order. */
  notifyAll: (hop: number, ext: string, start: number, end: number, to: string[]): HuntCommand[] =>
    to.map((x) => ({ type: 'notify', hop, ext, start: T(start), end: T(end), to: x, message: true })),
  release: (reason: ReleaseReason): HuntCommand => ({ type: 'release', reason }),
  confirm: (leg: string, key: string, seconds: number): HuntCommand => ({ type: 'confirm', leg, key, seconds }),
  hold: (seconds: number): HuntCommand => ({ type: 'hold', seconds }),
  message: (seconds: number): HuntCommand => ({ type: 'takeMessage', seconds }),
};

export function directory(entries: Record<string, Technician>): Directory {
  return new Map(Object.entries(entries));
}

/** Freeze deeply, so that a step that mutated its input state would throw. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !(o instanceof Date) && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export interface Row {
  event: HuntEvent;
  commands: HuntCommand[];
  phase?: Phase;
}

interface Checker {
  same: (found: unknown, wanted: unknown, msg: string) => boolean;
  equal: (found: unknown, wanted: unknown, msg: string) => boolean;
}

/** Play rows from `from` (default: idle); each row's commands and phase must match exactly. */
export function play(t: Checker, dir: Directory, rows: Row[], from: HuntState = initialHunt(), opts?: HuntOptions): HuntState {
  let s = deepFreeze(from);
  rows.forEach((row, i) => {
    const r = step(s, row.event, dir, opts);
    const what = `#${i + 1} ${row.event.type}${'leg' in row.event ? ` ${row.event.leg}` : ''}${'hop' in row.event ? ` ${row.event.hop}` : ''}`;
    t.same(r.commands, row.commands, `${what}: commands`);
    if (row.phase) t.equal(r.state.phase, row.phase, `${what}: phase`);
    s = deepFreeze(r.state);
  });
  return s;
}
