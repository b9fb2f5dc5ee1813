/**
 * SIP timer values (RFC 3261 §17.1.1.1, Table 4) and a small owner of named
 * one-shot timers. Values are injectable so tests can shorten them.
 */

export interface TimerValues {
  /** RTT estimate; A, E, G start here and B, F, H, J are 64*T1. */
  T1: number;
  /** Cap of the non-INVITE and 2xx/final retransmit interval. */
  T2: number;
  /** How long a message may live in the network (K, I). */
  T4: number;
  /** Timer D: wait for final-response retransmissions after a non-2xx (>= 32 s on UDP). */
  D: number;
  /** §17.2.1: send 100 Trying when the TU has not answered an INVITE within this time. */
  trying: number;
}

export const DEFAULT_TIMERS: Readonly<TimerValues> = Object.freeze({ T1: 500, T2: 4000, T4: 5000, D: 32000, trying: 200 });

export function timerValues(overrides?: Partial<TimerValues>): TimerValues {
  return { ...DEFAULT_TIMERS, ...(overrides ?? {}) };
}

/**
 * Named one-shot timers that belong to one owner (usually one state of a
 * transaction): `clearAll()` on leaving the state guarantees no timer
 * outlives it. Starting a name that runs already replaces it.
 */
export class StateTimers {
  private readonly handles = new Map<string, NodeJS.Timeout>();

  start(name: string, ms: number, fire: () => void): void {
    this.clear(name);
    const h = setTimeout(() => {
      this.handles.delete(name);
      fire();
    }, ms);
    this.handles.set(name, h);
  }

  clear(name: string): void {
    const h = this.handles.get(name);
    if (h !== undefined) {
      clearTimeout(h);
      this.handles.delete(name);
    }
  }

  clearAll(): void {
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
  }

  has(name: string): boolean {
    return this.handles.has(name);
  }

  get size(): number {
    return this.handles.size;
  }
}
