/**
 * The watch (issue 13): the health monitor plus what the appliance keeps
 * of it on the card: status.txt, rewritten (atomically, at most once a
 * second) when a check or the outbox changes, never on a tick. A status
 * write that fails is itself an observation: the card is not writable;
 * then the card is probed every 5 s until it is again (util/card-probe).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { whenWritable } from '../util/card-probe.js';
import { errText, type Logger } from '../util/log.js';
import { HealthMonitor } from './monitor.js';
import { STATUS_FILE } from './run-marker.js';
import { formatStatus } from './status-file.js';

export interface WatchDeps {
  cardDir: string;
  /** "ticketline 799". */
  name(): string;
  /** Deliver an alert (Admin/ by IM and SMS); the monitor logs it too. */
  alert(text: string): void;
  /** Messages waiting in the outboxes now. */
  waiting(): { sms: number; im: number };
  /** The card can be written again (the outboxes try at once). */
  onWritable(): void;
  log: Logger;
}

export class Watch {
  readonly monitor: HealthMonitor;
  readonly started = new Date();
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private stopProbe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: WatchDeps) {
    this.monitor = new HealthMonitor({ name: deps.name, alert: deps.alert, now: () => new Date(), log: deps.log });
  }

  /** A check's state now; status.txt follows when it changed. */
  observe(check: string, ok: boolean, reason: string): void {
    const prev = this.monitor.health.get(check);
    if (prev && prev.ok === ok && prev.reason === reason) return;
    this.monitor.observe(check, ok, reason);
    this.changed();
  }

  /** The card cannot be written (e.g. a write failed): alert, and probe until it can. */
  cardFailing(why: string): void {
    this.observe('card', false, why);
    if (this.stopProbe || this.stopped) return;
    this.stopProbe = whenWritable(this.deps.cardDir, 5000, () => {
      this.stopProbe = undefined;
      this.observe('card', true, 'writable');
      this.deps.onWritable();
    });
  }

  /** Something status.txt shows changed: write it within a second (one timer, only when armed). */
  changed(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, 1000);
  }

  async write(): Promise<void> {
    if (this.writing) return this.changed();
    this.writing = true;
    const w = this.deps.waiting();
    const text = formatStatus({
      name: this.deps.name(), now: new Date(), started: this.started, pid: process.pid,
      checks: this.monitor.snapshot(), smsWaiting: w.sms, imWaiting: w.im,
    });
    try {
      await writeFileAtomic(join(this.deps.cardDir, STATUS_FILE), text);
    } catch (e) {
      this.deps.log.warn(`${STATUS_FILE} not written: ${errText(e)}`);
      const code = (e as NodeJS.ErrnoException).code;
      // a stable reason (no temp file name), so a failing write is observed once, not once a second
      this.cardFailing(`${code === 'EROFS' ? 'read-only' : code === 'ENOSPC' ? 'full' : 'not writable'} (${code ?? 'error'})`);
    } finally {
      this.writing = false;
    }
  }

  /** A clean stop: the last state on the card, no timer left. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopProbe?.();
    await this.write();
    this.stopped = true;
    this.monitor.stop();
  }
}
