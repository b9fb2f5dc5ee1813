/**
 * INVITE server transaction for unreliable transport (RFC 3261 §17.2.1,
 * figure 7), with the Accepted state of RFC 6026 §8.5: after a 2xx it
 * absorbs INVITE retransmissions for 64*T1 (Timer L) instead of letting
 * them look like new calls. Retransmitting the 2xx until the ACK is the
 * UA core's job (§13.3.1.4).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { ServerTransaction } from './base.js';
import type { TransactionContext } from './common.js';
import { responseTo } from './common.js';

export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

export type InviteServerInput =
  | { kind: 'request' | 'ack' }
  | { kind: 'tu-1xx' | 'tu-2xx' | 'tu-3xx-6xx'; res: SipResponse }
  | { kind: 'timer-trying' | 'timer-G' | 'timer-H' | 'timer-I' | 'timer-L' }
  | { kind: 'transport-error'; detail: string };

export interface InviteServerUser {
  /** Timer H fired (no ACK for a final response) or the transport failed. */
  failed?(reason: 'no-ack' | 'transport-error', detail: string): void;
}

export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  state: InviteServerState = 'proceeding';
  private intervalG: number;
  user: InviteServerUser = {};

  constructor(
    key: string,
    readonly request: SipRequest,
    ctx: TransactionContext,
  ) {
    super(key, ctx);
    this.intervalG = ctx.timers.T1;
  }

  start(): void {
    this.enter('proceeding');
  }

  /** The TU answers (any status). */
  respond(res: SipResponse): void {
    const kind = res.status < 200 ? 'tu-1xx' : res.status < 300 ? 'tu-2xx' : 'tu-3xx-6xx';
    this.input({ kind, res });
  }

  /** A retransmitted INVITE or an ACK matched this transaction. */
  receive(req: SipRequest): void {
    this.input({ kind: req.method === 'ACK' ? 'ack' : 'request' });
  }

  /** True while the TU may still send a final response. */
  get answerable(): boolean {
    return this.state === 'proceeding';
  }

  input(i: InviteServerInput): void {
    switch (this.state) {
      case 'proceeding':
        return this.inProceeding(i);
      case 'accepted':
        return this.inAccepted(i);
      case 'completed':
        return this.inCompleted(i);
      case 'confirmed':
        return this.inConfirmed(i);
      case 'terminated':
        return;
    }
  }

  private inProceeding(i: InviteServerInput): void {
    switch (i.kind) {
      case 'timer-trying':
        // §17.2.1: 100 Trying if the TU has not answered within 200 ms.
        if (!this.lastResponse) this.transmit(responseTo(this.request, 100, 'Trying'));
        return;
      case 'request':
        // §17.2.1: a retransmitted INVITE gets the most recent provisional response again.
        if (this.lastResponse) this.retransmit(this.lastResponse);
        return;
      case 'tu-1xx':
        this.lastResponse = i.res;
        this.transmit(i.res);
        return;
      case 'tu-2xx':
        this.lastResponse = i.res;
        this.transmit(i.res);
        this.enter('accepted');
        return;
      case 'tu-3xx-6xx':
        this.lastResponse = i.res;
        this.transmit(i.res);
        this.enter('completed');
        return;
      case 'transport-error':
        this.enter('terminated');
        this.user.failed?.('transport-error', i.detail);
        return;
      default:
        return;
    }
  }

  /** RFC 6026 §8.5: INVITE retransmissions are absorbed; Timer L ends the transaction. */
  private inAccepted(i: InviteServerInput): void {
    if (i.kind === 'timer-L') this.enter('terminated');
  }

  private inCompleted(i: InviteServerInput): void {
    switch (i.kind) {
      case 'timer-G':
        // §17.2.1: retransmit the final response, doubling up to T2.
        if (this.lastResponse) this.retransmit(this.lastResponse);
        this.intervalG = Math.min(2 * this.intervalG, this.ctx.timers.T2);
        this.timers.start('G', this.intervalG, () => this.input({ kind: 'timer-G' }));
        return;
      case 'request':
        if (this.lastResponse) this.retransmit(this.lastResponse);
        return;
      case 'ack':
        this.enter('confirmed');
        return;
      case 'timer-H':
        this.enter('terminated');
        this.user.failed?.('no-ack', 'Timer H: no ACK for the final response');
        return;
      case 'transport-error':
        this.enter('terminated');
        this.user.failed?.('transport-error', i.detail);
        return;
      default:
        return;
    }
  }

  private inConfirmed(i: InviteServerInput): void {
    // §17.2.1: further ACKs are absorbed; Timer I ends the transaction.
    if (i.kind === 'timer-I') this.enter('terminated');
  }

  private enter(next: InviteServerState): void {
    this.timers.clearAll();
    this.state = next;
    const { T1, T4, trying } = this.ctx.timers;
    if (next === 'proceeding') {
      this.timers.start('trying', trying, () => this.input({ kind: 'timer-trying' }));
    } else if (next === 'accepted') {
      this.timers.start('L', 64 * T1, () => this.input({ kind: 'timer-L' }));
    } else if (next === 'completed') {
      this.timers.start('G', this.intervalG, () => this.input({ kind: 'timer-G' }));
      this.timers.start('H', 64 * T1, () => this.input({ kind: 'timer-H' }));
    } else if (next === 'confirmed') {
      this.timers.start('I', T4, () => this.input({ kind: 'timer-I' }));
    } else {
      this.ctx.terminated(this.key);
    }
  }

  protected transportError(detail: string): void {
    this.input({ kind: 'transport-error', detail });
  }
}
