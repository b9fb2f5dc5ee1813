/**
 * Admission control for calls that have not pressed the proceed key
 * (issue 16): a flood of callers who never press a key must not hold every
 * RTP port, nor the memory of the board, while a real caller needs them.
 *
 * Two caps, counted from the INVITE we accept until the call leaves the
 * waiting queue (key pressed, hung up, goodbye) or, for a CFU feature code,
 * until it is done:
 * - `MaxWaiting.txt` calls in all (card.ts);
 * - MAX_WAITING_PER_CALLER per caller. Every caller comes through the PBX,
 *   so the source address alone would count the whole company as one
 *   caller: the key is the source address plus the caller's number
 *   (P-Asserted-Identity, else the From user: caller-id.ts). A withheld
 *   number is no one in particular: it is held by the total cap only, so a
 *   second anonymous customer is never refused because of the first.
 *
 * A call over a cap is refused at once with 486 Busy Here (hotline.ts).
 */
import type { CardConfig } from '../config/card.js';

/**
 * A caller dialling again while the first call still hangs in the queue
 * (a dropped mobile, an impatient redial) gets through; a third call from
 * the same number at the same time is a machine, not a person.
 */
export const MAX_WAITING_PER_CALLER = 2;

/**
 * Keyed calls whose technician legs the RTP port reserve covers at once: a
 * small company rarely has two emergencies at the same moment; four is a
 * real incident (several customers hit by the same outage).
 */
export const KEYED_CALLS_RESERVED = 4;

/** A place in the waiting queue: `leave()` gives it back (idempotent). */
export interface WaitingSlot {
  readonly ok: true;
  leave(): void;
}

export interface Refusal {
  readonly ok: false;
  /** Which cap was hit. */
  readonly cap: 'total' | 'per-caller';
  readonly limit: number;
}

export class Admission {
  private waiting = 0;
  /** Callers with at least one call waiting; entries go when their count is back to 0. */
  private readonly byCaller = new Map<string, number>();

  /** Calls that hold a place now. */
  get count(): number {
    return this.waiting;
  }

  /** Callers (source + number) holding a place now. */
  get callers(): number {
    return this.byCaller.size;
  }

  /**
   * Take a place for a call from `source` (address) with caller number
   * `number` (undefined: withheld), or say which cap refuses it.
   */
  enter(source: string, number: string | undefined, maxWaiting: number): WaitingSlot | Refusal {
    if (this.waiting >= maxWaiting) return { ok: false, cap: 'total', limit: maxWaiting };
    const key = number === undefined ? undefined : `${source} ${number}`;
    const mine = key === undefined ? 0 : (this.byCaller.get(key) ?? 0);
    if (key !== undefined && mine >= MAX_WAITING_PER_CALLER) return { ok: false, cap: 'per-caller', limit: MAX_WAITING_PER_CALLER };
    this.waiting++;
    if (key !== undefined) this.byCaller.set(key, mine + 1);
    let left = false;
    return {
      ok: true,
      leave: () => {
        if (left) return;
        left = true;
        this.waiting--;
        if (key === undefined) return;
        const n = (this.byCaller.get(key) ?? 1) - 1;
        if (n > 0) this.byCaller.set(key, n);
        else this.byCaller.delete(key);
      },
    };
  }
}

/**
 * RTP ports kept for the technician legs of keyed calls: legs per hop (the
 * desk phone, plus the mobile when any technician has a Fork.txt) times
 * KEYED_CALLS_RESERVED calls.
 */
export function reservedPorts(config: CardConfig): { ports: number; legsPerHop: number; calls: number } {
  const legsPerHop = [...config.technicians.values()].some((t) => t.fork?.trim()) ? 2 : 1;
  return { ports: legsPerHop * KEYED_CALLS_RESERVED, legsPerHop, calls: KEYED_CALLS_RESERVED };
}
