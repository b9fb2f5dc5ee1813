/**
 * The health model's driver: observations in from the layers (registration
 * events, card probes, the outbox, the clock), alerts out as short,
 * actionable texts to whoever `alert` reaches (Admin/ by IM and SMS, and
 * the log). It wakes only when an alert is due (one timer, armed at
 * `Health.nextDue()`), never on a fixed tick: the idle box stays idle.
 */
import type { Logger } from '../util/log.js';
import { pad } from '../util/time-format.js';
import { Health, type CheckState, type HealthEvent } from './health.js';

export interface CheckText {
  readonly name: string;
  readonly graceMs: number;
  /** What is wrong, e.g. "NOT REGISTERED at the PBX since 02:14 — emergency calls cannot reach the box". */
  failing(reason: string, since: string): string;
  /** What is fine again, e.g. "registered again at 02:31". */
  recovered(at: string): string;
}

/** The checks of the issue; the grace of each says how long a failure may last unsaid. */
export const CHECKS: readonly CheckText[] = [
  {
    name: 'registration',
    graceMs: 60_000,
    failing: (r, s) => `NOT REGISTERED at the PBX since ${s} (${r}) — emergency calls cannot reach the box`,
    recovered: (a) => `registered again at ${a}`,
  },
  { name: 'sip-port', graceMs: 0, failing: (r, s) => `SIP port not usable since ${s} (${r}) — emergency calls cannot reach the box`, recovered: (a) => `SIP port usable again at ${a}` },
  { name: 'card', graceMs: 0, failing: (r, s) => `card NOT WRITABLE since ${s} (${r}) — tickets, recordings and SMS are kept in memory only`, recovered: (a) => `card writable again at ${a}` },
  { name: 'card-space', graceMs: 0, failing: (r, s) => `card almost full since ${s} (${r})`, recovered: (a) => `card has room again at ${a}` },
  { name: 'outbox', graceMs: 0, failing: (r, s) => `SMS not delivered since ${s} (${r})`, recovered: (a) => `SMS delivered again at ${a}` },
  { name: 'prompts', graceMs: 0, failing: (r, s) => `a prompt cannot be played since ${s} (${r}) — callers hear a tone instead`, recovered: (a) => `prompts playable again at ${a}` },
  { name: 'rtp-ports', graceMs: 0, failing: (r, s) => `no RTP port free since ${s} (${r}) — calls cannot be answered`, recovered: (a) => `RTP ports free again at ${a}` },
  { name: 'clock', graceMs: 0, failing: (r, s) => `the clock is NOT SET since ${s} (${r}) — ticket times are wrong until it is`, recovered: (a) => `the clock is set at ${a}` },
  { name: 'self-test', graceMs: 0, failing: (r, s) => `daily self-test FAILED at ${s}: ${r}`, recovered: (a) => `self-test passed at ${a}` },
];

export interface MonitorDeps {
  /** Who is speaking, e.g. "ticketline 799". */
  name(): string;
  /** Deliver one alert text (durably: IM and SMS to Admin/ through the outbox). */
  alert(text: string): void;
  now(): Date;
  log: Logger;
}

export class HealthMonitor {
  readonly health: Health;
  private readonly texts: Map<string, CheckText>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: MonitorDeps,
    checks: readonly CheckText[] = CHECKS,
  ) {
    this.health = new Health(checks);
    this.texts = new Map(checks.map((c) => [c.name, c]));
  }

  /** A check's state now; says what is due at once and re-arms the wake-up. */
  observe(check: string, ok: boolean, reason: string): void {
    const prev = this.health.get(check);
    if (prev && prev.ok === ok && prev.reason === reason) return;
    if (!ok && prev?.ok !== false) this.deps.log.warn(`health: ${check} failing: ${reason}`);
    if (ok && prev?.ok === false) this.deps.log.info(`health: ${check} ok again: ${reason}`);
    this.say(this.health.report(check, ok, reason, this.deps.now().getTime()));
    this.arm();
  }

  /** Who is speaking, e.g. "ticketline 799". */
  name(): string {
    return this.deps.name();
  }

  /** A one-off event (not a check), e.g. a restart after a crash: logged and sent like an alert. */
  tell(text: string): void {
    this.deps.log.error(`alert: ${text}`);
    this.deps.alert(text);
  }

  snapshot(): CheckState[] {
    return this.health.snapshot();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.health.nextDue();
    if (next === undefined || this.stopped) return;
    const delay = Math.max(0, next - this.deps.now().getTime());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.say(this.health.due(this.deps.now().getTime()));
      this.arm();
    }, delay);
  }

  private say(events: HealthEvent[]): void {
    for (const e of events) {
      const t = this.texts.get(e.check);
      if (!t) continue;
      const body = e.kind === 'alert' ? t.failing(e.reason, hhmm(new Date(e.since))) : t.recovered(hhmm(new Date(e.at)));
      const text = `${this.deps.name()}: ${body}`;
      this.deps.log[e.kind === 'alert' ? 'error' : 'info'](`alert: ${text}`);
      this.deps.alert(text);
    }
  }
}

/** Local time of day, as the card's ticket names use it. */
function hhmm(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
