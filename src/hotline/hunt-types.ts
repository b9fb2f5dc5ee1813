/**
 * Inputs, outputs and state of the hunt state machine (see hunt.ts).
 * Everything is plain data: the driver (the B2BUA) turns commands into SIP
 * transactions, timers and card writes, and feeds what happens back as events.
 */

/** One technician as the card describes it (a snapshot, read at each hop). */
export interface Technician {
  /** Next.txt: the extension rung when this one does not answer. */
  readonly next?: string;
  /** Fork.txt: the mobile rung in parallel through the PBX. */
  readonly fork?: string;
  /** Own Timeout.txt, else the default Timeout.txt, in seconds. */
  readonly timeoutSec: number;
}

/** Extension -> technician. */
export type Directory = ReadonlyMap<string, Technician>;

export type LegKind = 'desk' | 'fork';

/**
 * Why a leg failed, as the driver maps final responses: 486/600 busy,
 * 603 (and other 4xx refusals) rejected, 404/408/480/5xx/transport error
 * unreachable. All three move on at once; the cause is kept for the log.
 */
export type FailCause = 'busy' | 'rejected' | 'unreachable';

/** Time comes from the driver: the machine reads no clock. */
interface At {
  readonly at: Date;
}

export type HuntEvent =
  /** The key was pressed: hunt from `first` (the CFU target if set, else First.txt). */
  | ({ readonly type: 'start'; readonly first: string } & At)
  /** 180/183 on a leg. */
  | ({ readonly type: 'ringing'; readonly leg: string } & At)
  /** 200 OK to the INVITE of a leg. */
  | ({ readonly type: 'answered'; readonly leg: string } & At)
  /** A final failure response (or no response at all) on a leg. */
  | ({ readonly type: 'failed'; readonly leg: string; readonly cause: FailCause } & At)
  /** The timer started by `startTimer { hop }` fired. */
  | ({ readonly type: 'hopTimeout'; readonly hop: number } & At)
  /** BYE or CANCEL from the caller. */
  | ({ readonly type: 'callerHungUp' } & At)
  /** BYE from a technician's leg. */
  | ({ readonly type: 'technicianHungUp'; readonly leg: string } & At);

/** Why a ringing leg is cancelled; `answered-elsewhere` carries RFC 3326 `Reason: SIP;cause=200;text="Call completed elsewhere"`. */
export type CancelReason = 'answered-elsewhere' | 'timeout' | 'caller-gone';

/**
 * Why the caller is released by us: the answering technician hung up (seed:
 * the caller may be in panic and stay on the line), the hunt reached a
 * technician with no (known) next, or every technician of a full round was
 * busy/unreachable, or there was no technician to ring at all.
 */
export type ReleaseReason = 'technician-hung-up' | 'no-next' | 'all-unavailable' | 'no-technician';

export type RingCommand =
  | { readonly type: 'ring'; readonly leg: string; readonly hop: number; readonly ext: string; readonly kind: 'desk' }
  | { readonly type: 'ring'; readonly leg: string; readonly hop: number; readonly ext: string; readonly kind: 'fork'; readonly number: string };

/** A hop's ticket as it is closed: exactly what the log file name needs besides number and caller. */
export interface HopTicket {
  readonly hop: number;
  /** The technician's extension, never the fork number. */
  readonly ext: string;
  readonly start: Date;
  readonly end: Date;
}

export type HuntCommand =
  /** A new hop begins: take the next ticket number for it. */
  | { readonly type: 'openTicket'; readonly hop: number; readonly ext: string; readonly at: Date }
  | RingCommand
  | { readonly type: 'startTimer'; readonly hop: number; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly hop: number }
  /** CANCEL a leg that has not answered. */
  | { readonly type: 'cancel'; readonly leg: string; readonly reason: CancelReason }
  /** Connect the caller's media to this leg's and ACK its 200. */
  | { readonly type: 'bridge'; readonly leg: string }
  /** End an answered leg: ACK+BYE for a late 200, BYE for the bridged one. */
  | { readonly type: 'hangup'; readonly leg: string }
  /** Write the hop's log file; `final` adds `_END` (exactly one per call). */
  | ({ readonly type: 'closeTicket'; readonly final: boolean } & HopTicket)
  /** IM + SMS to this technician with this hop's ticket (the final one). */
  | ({ readonly type: 'notify' } & HopTicket)
  /** BYE to the caller. */
  | { readonly type: 'release'; readonly reason: ReleaseReason };

/** `calling` and `ringing` are active: they may still answer, fail or be cancelled. */
export type LegStatus = 'calling' | 'ringing' | 'answered' | 'failed' | 'cancelled' | 'hungUp' | 'ended';

export interface Leg {
  /** `<hop>.desk` or `<hop>.fork`: unique within the call. */
  readonly id: string;
  readonly hop: number;
  readonly ext: string;
  readonly kind: LegKind;
  /** The fork number (fork legs only). */
  readonly number?: string;
  readonly status: LegStatus;
}

export interface Hop {
  /** 1, 2, 3, ... in the order rung. */
  readonly hop: number;
  readonly ext: string;
  readonly start: Date;
  /** Set when the hop's ticket is closed. */
  readonly end?: Date;
  readonly final: boolean;
}

/** `idle` before start, `hunting` while legs ring, `connected` after an answer, `ended` for good. */
export type Phase = 'idle' | 'hunting' | 'connected' | 'ended';

/** How the call ended: a conversation took place, the caller hung up while ringing, or the hunt gave up. */
export type Outcome = 'answered' | 'caller-gave-up' | 'no-next' | 'all-unavailable' | 'no-technician';

export interface HuntState {
  readonly phase: Phase;
  readonly hops: readonly Hop[];
  readonly legs: readonly Leg[];
  /** The answered leg, once connected. */
  readonly bridged?: string;
  /**
   * Extensions whose hops failed at once (every leg busy/rejected/unreachable)
   * since the last hop that rang until its timeout: the loop guard (hunt.ts).
   */
  readonly failedInRow: readonly string[];
  readonly outcome?: Outcome;
}

export interface StepResult {
  readonly state: HuntState;
  readonly commands: readonly HuntCommand[];
}
