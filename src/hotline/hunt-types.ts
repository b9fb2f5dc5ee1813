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
  /**
   * The effective accept key for this technician (own AcceptKey.txt, else the
   * card's): an answer is bridged only after this key. Undefined or blank = no
   * key, any answer connects (seed).
   */
  readonly acceptKey?: string;
}

/** Extension -> technician. */
export type Directory = ReadonlyMap<string, Technician>;

/** The card's call-wide hunt settings (plain data, read once per call). */
export interface HuntOptions {
  /** AcceptSeconds.txt: how long an answered leg has to press its accept key. */
  readonly acceptSec: number;
  /** Rounds.txt: at most this many rounds of a looping chain; undefined = no cap (seed). */
  readonly rounds?: number;
  /** RetryPause.txt: the caller's hold after a round in which every leg failed at once. */
  readonly retryPauseSec: number;
  /** MessageSeconds.txt: the longest message the caller may leave. */
  readonly messageSec: number;
}

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
  | ({ readonly type: 'technicianHungUp'; readonly leg: string } & At)
  /** The leg being confirmed (`confirm`) pressed its accept key. */
  | ({ readonly type: 'accepted'; readonly leg: string } & At)
  /** The leg being confirmed let `seconds` pass (or pressed another key until then). */
  | ({ readonly type: 'notAccepted'; readonly leg: string } & At)
  /** The hold started by `hold` is over. */
  | ({ readonly type: 'pauseOver' } & At)
  /** The message started by `takeMessage` is over (silence, limit); `left` = something was recorded. */
  | ({ readonly type: 'messageDone'; readonly left: boolean } & At);

/** Why a ringing leg is cancelled; `answered-elsewhere` carries RFC 3326 `Reason: SIP;cause=200;text="Call completed elsewhere"`. */
export type CancelReason = 'answered-elsewhere' | 'timeout' | 'caller-gone';

/**
 * Why the caller is released by us: the answering technician hung up (seed:
 * the caller may be in panic and stay on the line), the caller's message was
 * taken (the only way an unanswered caller is released), or there was no
 * technician to ring at all (First.txt not on the card: config rejects it,
 * so only a card changed under a running call gets here).
 */
export type ReleaseReason = 'technician-hung-up' | 'message' | 'no-technician';

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
  /** The leg answered but has an accept key: play it the accept prompt and wait `seconds` for `key` (-> accepted / notAccepted). */
  | { readonly type: 'confirm'; readonly leg: string; readonly key: string; readonly seconds: number }
  /** Every leg of a round failed at once: the caller hears the hold prompt for `seconds` (-> pauseOver). */
  | { readonly type: 'hold'; readonly seconds: number }
  /** Nobody answered: the caller may leave a message of at most `seconds` (-> messageDone). */
  | { readonly type: 'takeMessage'; readonly seconds: number }
  /** Connect the caller's media to this leg's and ACK its 200. */
  | { readonly type: 'bridge'; readonly leg: string }
  /** End an answered leg: ACK+BYE for a late 200, BYE for the bridged one. */
  | { readonly type: 'hangup'; readonly leg: string }
  /** Write the hop's log file; `final` adds `_END` (exactly one per call). */
  | ({ readonly type: 'closeTicket'; readonly final: boolean } & HopTicket)
  /**
   * IM + SMS to technician `to` with this hop's ticket (the final one). `to`
   * is the hop's own technician, except after the message phase, when every
   * technician on the card gets one (`message`: a message may be waiting).
   */
  | ({ readonly type: 'notify'; readonly to: string; readonly message: boolean } & HopTicket)
  /** BYE to the caller. */
  | { readonly type: 'release'; readonly reason: ReleaseReason };

/**
 * `calling` and `ringing` are active: they may still answer, fail or be cancelled.
 * `confirming`: answered, hearing the accept prompt, not bridged yet.
 */
export type LegStatus = 'calling' | 'ringing' | 'confirming' | 'answered' | 'failed' | 'cancelled' | 'hungUp' | 'ended';

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
  /** Its timer fired while a leg was still confirming: the hop ends when that confirmation does. */
  readonly timedOut?: true;
}

/**
 * `idle` before start, `hunting` while legs ring (or confirm), `holding` in
 * the pause after a busy round, `message` while the caller leaves a message,
 * `connected` after an accepted answer, `ended` for good.
 */
export type Phase = 'idle' | 'hunting' | 'holding' | 'message' | 'connected' | 'ended';

/**
 * How the call ended: a conversation took place, the caller hung up while
 * ringing (or holding), the message phase ran (whether or not a message was
 * left), or there was no technician to ring.
 */
export type Outcome = 'answered' | 'caller-gave-up' | 'message' | 'no-technician';

export interface HuntState {
  readonly phase: Phase;
  readonly hops: readonly Hop[];
  readonly legs: readonly Leg[];
  /** The answered leg, once connected. */
  readonly bridged?: string;
  /** The round being rung, from 1 (hunt.ts: what a round is). */
  readonly round: number;
  /** Extensions rung in this round: ringing one of them again starts the next round. */
  readonly roundExts: readonly string[];
  /** Every hop of this round so far failed at once (busy/rejected/unreachable). */
  readonly roundAllFailed: boolean;
  /** Rounds in a row in which every hop failed at once. */
  readonly busyRounds: number;
  /** The call's first technician (a chain without a loop starts again here after a busy round). */
  readonly first?: string;
  /** While holding: who rings when the pause is over. */
  readonly resume?: string;
  readonly outcome?: Outcome;
}

export interface StepResult {
  readonly state: HuntState;
  readonly commands: readonly HuntCommand[];
}
