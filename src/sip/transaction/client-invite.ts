/**
 * INVITE client transaction for unreliable transport (RFC 3261 §17.1.1,
 * figure 5). Explicit inputs; one function per state; each state starts
 * its timers on entry and clears them on exit.
 */
import type { Endpoint, SipRequest, SipResponse } from '../message.js';
import { Headers } from '../message.js';
import { ClientTransaction } from './base.js';
import type { ClientTransactionUser, TransactionContext } from './common.js';
import { cseqOf } from './common.js';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'terminated';

export type InviteClientInput =
  | { kind: '1xx' | '2xx' | '3xx-6xx'; res: SipResponse }
  | { kind: 'timer-A' | 'timer-B' | 'timer-D' }
  | { kind: 'transport-error'; detail: string }
  | { kind: 'abandon' };

export function classify(res: SipResponse): InviteClientInput {
  const kind = res.status < 200 ? '1xx' : res.status < 300 ? '2xx' : '3xx-6xx';
  return { kind, res };
}

export class InviteClientTransaction extends ClientTransaction<InviteClientState> {
  state: InviteClientState = 'calling';
  private intervalA: number;
  private ack?: SipRequest;

  constructor(
    key: string,
    request: SipRequest,
    dest: Endpoint,
    ctx: TransactionContext,
    private readonly tu: ClientTransactionUser,
  ) {
    super(key, request, dest, ctx);
    this.intervalA = ctx.timers.T1;
  }

  /** Send the INVITE and enter Calling. */
  start(): void {
    this.transmit(this.request);
    this.enter('calling');
  }

  receive(res: SipResponse): void {
    this.input(classify(res));
  }

  /** The TU gives up (e.g. §9.1: no final response 64*T1 after CANCEL). */
  abandon(): void {
    this.input({ kind: 'abandon' });
  }

  input(i: InviteClientInput): void {
    switch (this.state) {
      case 'calling':
        return this.inCalling(i);
      case 'proceeding':
        return this.inProceeding(i);
      case 'completed':
        return this.inCompleted(i);
      case 'terminated':
        return;
    }
  }

  private inCalling(i: InviteClientInput): void {
    if (i.kind === 'timer-A') {
      // §17.1.1.2: retransmit, double the interval (no cap for Timer A).
      this.ctx.retransmitted();
      this.transmit(this.request);
      this.intervalA *= 2;
      this.timers.start('A', this.intervalA, () => this.input({ kind: 'timer-A' }));
      return;
    }
    if (i.kind === 'timer-B') {
      this.enter('terminated');
      this.tu.failed('timeout', 'Timer B: no response to INVITE');
      return;
    }
    this.inProceeding(i);
  }

  private inProceeding(i: InviteClientInput): void {
    switch (i.kind) {
      case '1xx':
        if (this.state === 'calling') this.enter('proceeding');
        this.tu.response(i.res);
        return;
      case '2xx':
        // §17.1.1.2: a 2xx ends the transaction; ACK is the TU's job (§13.2.2.4).
        this.enter('terminated');
        this.tu.response(i.res);
        return;
      case '3xx-6xx':
        this.ack = buildNonSuccessAck(this.request, i.res);
        this.transmit(this.ack);
        this.enter('completed');
        this.tu.response(i.res);
        return;
      case 'transport-error':
        this.enter('terminated');
        this.tu.failed('transport-error', i.detail);
        return;
      case 'abandon':
        this.enter('terminated');
        this.tu.failed('timeout', 'abandoned by the TU');
        return;
      default:
        return;
    }
  }

  private inCompleted(i: InviteClientInput): void {
    // §17.1.1.2: final-response retransmissions are answered with the same ACK, not passed up.
    if (i.kind === '3xx-6xx' && this.ack) {
      this.ctx.retransmitted();
      this.transmit(this.ack);
    }
    else if (i.kind === 'timer-D' || i.kind === 'transport-error' || i.kind === 'abandon') this.enter('terminated');
  }

  private enter(next: InviteClientState): void {
    this.timers.clearAll();
    this.state = next;
    const { T1, D } = this.ctx.timers;
    if (next === 'calling') {
      this.timers.start('A', this.intervalA, () => this.input({ kind: 'timer-A' }));
      this.timers.start('B', 64 * T1, () => this.input({ kind: 'timer-B' }));
    } else if (next === 'completed') {
      this.timers.start('D', D, () => this.input({ kind: 'timer-D' }));
    } else if (next === 'terminated') {
      this.ctx.terminated(this.key);
    }
  }

  protected transportError(detail: string): void {
    this.input({ kind: 'transport-error', detail });
  }
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response, inside the transaction. */
export function buildNonSuccessAck(invite: SipRequest, res: SipResponse): SipRequest {
  const h = new Headers();
  const via = invite.headers.get('via');
  if (via !== undefined) h.append('via', via);
  for (const r of invite.headers.getAll('route')) h.append('route', r);
  h.append('max-forwards', '70');
  h.append('from', invite.headers.get('from') ?? '');
  h.append('to', res.headers.get('to') ?? invite.headers.get('to') ?? '');
  h.append('call-id', invite.headers.get('call-id') ?? '');
  h.append('cseq', `${cseqOf(invite)?.seq ?? 1} ACK`);
  return { type: 'request', method: 'ACK', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}
