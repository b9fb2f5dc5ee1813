/**
 * RFC 3261 §13.3.1.4: the UAS core retransmits a 2xx to INVITE, starting
 * at T1 and doubling up to T2, until the ACK arrives; after 64*T1 without
 * ACK the session is to be ended (the owner sends BYE).
 */
import type { TimerValues } from './timers.js';
import { StateTimers } from './timers.js';

export class SuccessRetransmitter {
  private readonly timers = new StateTimers();
  private interval: number;
  private active = false;
  retransmissions = 0;

  constructor(
    private readonly send: () => void,
    private readonly values: TimerValues,
    private readonly onNoAck: () => void,
  ) {
    this.interval = values.T1;
  }

  /** The 2xx was sent once already (by the server transaction); schedule the retransmissions. */
  start(): void {
    this.active = true;
    this.timers.start('retransmit', this.interval, () => this.tick());
    this.timers.start('give-up', 64 * this.values.T1, () => {
      this.stop();
      this.onNoAck();
    });
  }

  private tick(): void {
    if (!this.active) return;
    this.retransmissions++;
    this.send();
    this.interval = Math.min(2 * this.interval, this.values.T2);
    this.timers.start('retransmit', this.interval, () => this.tick());
  }

  /** ACK received (or owner closed): idempotent. */
  stop(): void {
    this.active = false;
    this.timers.clearAll();
  }

  get running(): boolean {
    return this.active;
  }
}
