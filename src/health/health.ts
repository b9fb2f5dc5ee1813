/**
 * The health model (issue "watchful"): one small state machine per check,
 * fed with observations, that decides when someone must be told.
 *
 * - A check is ok, or failing since T with a one-line reason.
 * - A failure that lasts longer than the check's grace time raises ONE alert
 *   (grace 0: at once). Recovery after an alert sends ONE "recovered"
 *   message; a failure healed within its grace time is never mentioned.
 * - Flapping is rate-limited: at most one alert per check per `minGapMs`
 *   (an hour); the first always goes out. A failure that starts inside the
 *   gap is alerted when the gap ends, if it still lasts then.
 *
 * Pure and clock-free: times come in as arguments, `nextDue()` tells the
 * driver when to call `due()` again (no timer that wakes every second: the
 * idle appliance stays idle). The driver turns alerts into IM/SMS.
 */

export interface CheckSpec {
  readonly name: string;
  /** How long a failure may last before it is alerted (ms). */
  readonly graceMs: number;
}

export interface CheckState {
  readonly name: string;
  readonly ok: boolean;
  /** ms since the epoch: when it became ok or failing. */
  readonly since: number;
  /** Why it fails (or what is fine). */
  readonly reason: string;
  /** An alert went out for the current failure. */
  readonly alerted: boolean;
  readonly lastAlertAt?: number;
}

export type HealthEvent =
  | { readonly kind: 'alert'; readonly check: string; readonly reason: string; readonly since: number }
  | { readonly kind: 'recovered'; readonly check: string; readonly at: number; readonly downSince: number };

/** One alert per check per hour at most (the first always goes out). */
export const MIN_ALERT_GAP_MS = 3_600_000;

export class Health {
  private readonly states = new Map<string, CheckState>();
  private readonly specs = new Map<string, CheckSpec>();

  constructor(
    specs: readonly CheckSpec[],
    private readonly minGapMs = MIN_ALERT_GAP_MS,
  ) {
    for (const s of specs) this.specs.set(s.name, s);
  }

  /** An observation: the check is ok or failing now. Returns what must be said at once. */
  report(name: string, ok: boolean, reason: string, now: number): HealthEvent[] {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`health: unknown check ${name}`);
    const prev = this.states.get(name);
    if (ok) {
      this.states.set(name, { name, ok, since: prev?.ok === false || !prev ? now : prev.since, reason, alerted: false, lastAlertAt: prev?.lastAlertAt });
      if (prev && !prev.ok && prev.alerted) return [{ kind: 'recovered', check: name, at: now, downSince: prev.since }];
      return [];
    }
    if (prev && !prev.ok) {
      // still failing: keep when it started, take the newest reason
      this.states.set(name, { ...prev, reason });
    } else {
      this.states.set(name, { name, ok: false, since: now, reason, alerted: false, lastAlertAt: prev?.lastAlertAt });
    }
    return this.due(now).filter((e) => e.check === name);
  }

  /** Alerts whose grace time (or rate-limit gap) has passed by `now`. */
  due(now: number): HealthEvent[] {
    const out: HealthEvent[] = [];
    for (const s of this.states.values()) {
      const at = this.alertAt(s);
      if (at === undefined || at > now) continue;
      this.states.set(s.name, { ...s, alerted: true, lastAlertAt: now });
      out.push({ kind: 'alert', check: s.name, reason: s.reason, since: s.since });
    }
    return out;
  }

  /** When `due()` has something to say next (ms since the epoch), if anything is pending. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const s of this.states.values()) {
      const at = this.alertAt(s);
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  get(name: string): CheckState | undefined {
    return this.states.get(name);
  }

  /** Every check observed so far, in the order they were declared. */
  snapshot(): CheckState[] {
    return [...this.specs.keys()].flatMap((n) => this.states.get(n) ?? []);
  }

  /** All observed checks are ok. */
  get healthy(): boolean {
    return [...this.states.values()].every((s) => s.ok);
  }

  private alertAt(s: CheckState): number | undefined {
    if (s.ok || s.alerted) return undefined;
    const grace = s.since + (this.specs.get(s.name)?.graceMs ?? 0);
    return s.lastAlertAt === undefined ? grace : Math.max(grace, s.lastAlertAt + this.minGapMs);
  }
}
