/**
 * The time of one call: monotonic inside the call, plausible on the wall.
 *
 * A board without RTC boots at 1970 and NTP steps its clock by decades, maybe
 * while a call rings; a hop's length or a recording's timeline taken from
 * the wall clock would then jump by 56 years (tickets like
 * `01.01.1970_00.00_07.12.2026_18.25`, a pcap with a 56-year gap). So:
 * - now() is the wall time of the call's start + the monotonic time since:
 *   the stamps the hunt compares and the recording's packet times never jump
 *   and never run backwards, whatever the wall clock does;
 * - the wall clock is watched: a disagreement of more than STEP_MS is a step
 *   (NTP, `date -s`), which moves the call's start as the wall sees it now;
 * - restamp() puts a stamp of this clock on that moved start: what goes on
 *   the card and to the technicians (a ticket's start and end, the recording's
 *   name) is in the new, real time, and the hop keeps its monotonic length.
 */
import { performance } from 'node:perf_hooks';

export interface ClockSource {
  /** The wall clock, ms since the epoch (Date.now). */
  wallMs(): number;
  /** A monotonic clock, ms (performance.now): only differences count. */
  monoMs(): number;
}

export const systemClock: ClockSource = { wallMs: () => Date.now(), monoMs: () => performance.now() };

/**
 * Wall and monotonic time parting by more than this is a step (NTP, an
 * installer's `date -s`). ntpd and chrony slew smaller offsets, by at most
 * 0.5 ms/s: a call would have to last over half an hour to drift this far,
 * and then the re-anchor corrects the drift.
 */
export const STEP_MS = 1000;

export class CallClock {
  private readonly mono0: number;
  /** Wall time of the call's start when it started: the anchor of now() (never moves). */
  readonly startMs: number;
  /** Wall time of the call's start as the wall clock sees it now (moves on a step). */
  private startWall: number;
  private stepCount = 0;

  constructor(
    private readonly src: ClockSource = systemClock,
    /** Told once per step, with the size of the step (ms, negative = backwards). */
    private readonly onStep?: (stepMs: number) => void,
  ) {
    this.mono0 = src.monoMs();
    this.startWall = src.wallMs();
    this.startMs = this.startWall;
  }

  /** Wall-clock steps seen during the call. */
  get steps(): number {
    return this.stepCount;
  }

  /** Monotonic ms since the call's start. */
  elapsedMs(): number {
    return this.src.monoMs() - this.mono0;
  }

  /** The call's start + monotonic elapsed time: for lengths, order and the recording's timeline. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** now() as ms since the epoch (one per recorded packet: no Date made). */
  nowMs(): number {
    const el = this.elapsedMs();
    this.follow(el);
    return this.startMs + el;
  }

  /** A stamp of this clock on the wall clock as it is now: the same moment of the call, in real time after a step. */
  restamp(d: Date): Date {
    this.follow(this.elapsedMs());
    const shift = this.startWall - this.startMs;
    return shift === 0 ? d : new Date(d.getTime() + shift);
  }

  /** Re-anchor when the wall clock stepped. */
  private follow(el: number): void {
    const drift = this.src.wallMs() - (this.startWall + el);
    if (Math.abs(drift) <= STEP_MS) return;
    this.startWall += drift;
    this.stepCount++;
    this.onStep?.(drift);
  }
}
