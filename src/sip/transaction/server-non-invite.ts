/**
 * Non-INVITE server transaction for unreliable transport (RFC 3261
 * §17.2.2, figure 8).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { ServerTransaction } from './base.js';
import type { TransactionContext } from './common.js';
import { responseTo } from './common.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NonInviteServerInput =
  | { kind: 'request' }
  | { kind: 'tu-1xx' | 'tu-final'; res: SipResponse }
  | { kind: 'timer-J' | 'timer-guard' }
  | { kind: 'transport-error'; detail: string };

export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  state: NonInviteServerState = 'trying';

  /** Kept only until the final response: Timer J holds completed transactions for 32 s, so they stay small. */
  private request?: SipRequest;
  readonly method: string;

  constructor(key: string, request: SipRequest, ctx: TransactionContext) {
    super(key, ctx);
    this.request = request;
    this.method = request.method;
  }

  start(): void {
    this.enter('trying');
  }

  respond(res: SipResponse): void {
    this.input({ kind: res.status < 200 ? 'tu-1xx' : 'tu-final', res });
  }

  receive(_req: SipRequest): void {
    this.input({ kind: 'request' });
  }

  get answerable(): boolean {
    return this.state === 'trying' || this.state === 'proceeding';
  }

  input(i: NonInviteServerInput): void {
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

  private inTrying(i: NonInviteServerInput): void {
    // §17.2.2: retransmissions in Trying are discarded.
    if (i.kind === 'request') return;
    this.inProceeding(i);
  }

  private inProceeding(i: NonInviteServerInput): void {
    switch (i.kind) {
      case 'request':
        if (this.lastResponse) this.retransmit(this.lastResponse);
        return;
      case 'tu-1xx':
        this.lastResponse = i.res;
        this.transmit(i.res);
        if (this.state === 'trying') this.enter('proceeding');
        return;
      case 'tu-final':
        this.lastResponse = i.res;
        this.transmit(i.res);
        this.enter('completed');
        return;
      case 'timer-guard':
        // Not in the RFC: a TU that never answers must not leak the transaction.
        if (this.request) this.input({ kind: 'tu-final', res: responseTo(this.request, 500, 'Server Internal Error (no answer)', 'noanswer') });
        return;
      case 'transport-error':
        this.enter('terminated');
        return;
      default:
        return;
    }
  }

  private inCompleted(i: NonInviteServerInput): void {
    // §17.2.2: retransmitted requests get the final response again; J ends the transaction.
    if (i.kind === 'request' && this.lastResponse) this.retransmit(this.lastResponse);
    else if (i.kind === 'timer-J' || i.kind === 'transport-error') this.enter('terminated');
  }

  private enter(next: NonInviteServerState): void {
    this.timers.clearAll();
    this.state = next;
    const { T1 } = this.ctx.timers;
    if (next === 'trying' || next === 'proceeding') {
      this.timers.start('guard', 64 * T1, () => this.input({ kind: 'timer-guard' }));
    } else if (next === 'completed') {
      this.request = undefined;
      this.timers.start('J', 64 * T1, () => this.input({ kind: 'timer-J' }));
    } else {
      this.ctx.terminated(this.key);
    }
  }

  protected transportError(detail: string): void {
    this.input({ kind: 'transport-error', detail });
  }
}
