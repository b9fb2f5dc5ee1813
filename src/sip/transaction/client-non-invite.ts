/**
 * Non-INVITE client transaction for unreliable transport (RFC 3261
 * §17.1.2, figure 6). Timer F bounds the whole Trying+Proceeding phase, so
 * it is owned by the transaction; E and K are owned by their states.
 */
import type { Endpoint, SipRequest, SipResponse } from '../message.js';
import { StateTimers } from '../timers.js';
import { ClientTransaction } from './base.js';
import type { ClientTransactionUser, TransactionContext } from './common.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NonInviteClientInput =
  | { kind: '1xx' | 'final'; res: SipResponse }
  | { kind: 'timer-E' | 'timer-F' | 'timer-K' }
  | { kind: 'transport-error'; detail: string };

export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientState> {
  state: NonInviteClientState = 'trying';
  /** Timer F spans Trying and Proceeding: not one state's timer. */
  private readonly timerF = new StateTimers();
  private intervalE: number;

  constructor(
    key: string,
    request: SipRequest,
    dest: Endpoint,
    ctx: TransactionContext,
    private readonly tu: ClientTransactionUser,
  ) {
    super(key, request, dest, ctx);
    this.intervalE = ctx.timers.T1;
  }

  start(): void {
    this.transmit(this.request);
    this.timerF.start('F', 64 * this.ctx.timers.T1, () => this.input({ kind: 'timer-F' }));
    this.enter('trying');
  }

  receive(res: SipResponse): void {
    this.input({ kind: res.status < 200 ? '1xx' : 'final', res });
  }

  input(i: NonInviteClientInput): void {
    switch (this.state) {
      case 'trying':
        return this.inTrying(i);
      case 'proceeding':
        return this.inProceeding(i);
      case 'completed':
        return this.inCompleted(i);
      case 'terminated':
        return;
    }
  }

  private inTrying(i: NonInviteClientInput): void {
    if (i.kind === 'timer-E') {
      // §17.1.2.2: retransmit, doubling the interval up to T2.
      this.retransmit();
      this.intervalE = Math.min(2 * this.intervalE, this.ctx.timers.T2);
      this.timers.start('E', this.intervalE, () => this.input({ kind: 'timer-E' }));
      return;
    }
    if (i.kind === '1xx') {
      this.enter('proceeding');
      this.tu.response(i.res);
      return;
    }
    this.common(i);
  }

  private inProceeding(i: NonInviteClientInput): void {
    if (i.kind === 'timer-E') {
      // §17.1.2.2: in Proceeding the retransmit interval is T2.
      this.retransmit();
      this.timers.start('E', this.ctx.timers.T2, () => this.input({ kind: 'timer-E' }));
      return;
    }
    if (i.kind === '1xx') {
      this.tu.response(i.res);
      return;
    }
    this.common(i);
  }

  /** Inputs handled alike in Trying and Proceeding. */
  private common(i: NonInviteClientInput): void {
    if (i.kind === 'final') {
      this.enter('completed');
      this.tu.response(i.res);
    } else if (i.kind === 'timer-F') {
      this.enter('terminated');
      this.tu.failed('timeout', `Timer F: no final response to ${this.request.method}`);
    } else if (i.kind === 'transport-error') {
      this.enter('terminated');
      this.tu.failed('transport-error', i.detail);
    }
  }

  private inCompleted(i: NonInviteClientInput): void {
    // §17.1.2.2: retransmitted responses are absorbed; K ends the transaction.
    if (i.kind === 'timer-K') this.enter('terminated');
  }

  private enter(next: NonInviteClientState): void {
    this.timers.clearAll();
    this.state = next;
    if (next === 'trying') {
      this.timers.start('E', this.intervalE, () => this.input({ kind: 'timer-E' }));
    } else if (next === 'proceeding') {
      this.timers.start('E', this.ctx.timers.T2, () => this.input({ kind: 'timer-E' }));
    } else if (next === 'completed') {
      this.timerF.clearAll();
      this.timers.start('K', this.ctx.timers.T4, () => this.input({ kind: 'timer-K' }));
    } else {
      this.timerF.clearAll();
      this.ctx.terminated(this.key);
    }
  }

  protected override stopTimers(): void {
    this.timers.clearAll();
    this.timerF.clearAll();
  }

  protected transportError(detail: string): void {
    this.input({ kind: 'transport-error', detail });
  }

  private retransmit(): void {
    this.ctx.retransmitted();
    this.transmit(this.request);
  }
}
