/**
 * What the four transaction kinds of RFC 3261 §17 share: the key they are
 * matched by, a state whose timers start on entry and stop on exit, and
 * destroy() (the UA stops: Terminated at once, no callback to the TU). The
 * states and their inputs stay in each class, one function per state.
 */
import type { Endpoint, SipRequest, SipResponse } from '../message.js';
import { StateTimers } from '../timers.js';
import type { TransactionContext } from './common.js';

export abstract class Transaction<S extends string> {
  abstract state: S | 'terminated';
  /** The timers of the current state. */
  protected readonly timers = new StateTimers();

  constructor(
    readonly key: string,
    protected readonly ctx: TransactionContext,
  ) {}

  /** End now (UA stop); no callback to the TU. */
  destroy(): void {
    if (this.state === 'terminated') return;
    this.stopTimers();
    this.state = 'terminated';
    this.ctx.terminated(this.key);
  }

  protected stopTimers(): void {
    this.timers.clearAll();
  }

  /** §17.1.4 / §17.2.4: the transport could not send; each kind decides what that ends. */
  protected abstract transportError(detail: string): void;
}

/** Client transactions send requests to one destination. */
export abstract class ClientTransaction<S extends string> extends Transaction<S> {
  constructor(
    key: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    ctx: TransactionContext,
  ) {
    super(key, ctx);
  }

  protected transmit(msg: SipRequest): void {
    this.ctx.send(msg, this.dest, (e) => this.transportError(e.message));
  }
}

/** Server transactions send responses where the top Via says, and resend the last one. */
export abstract class ServerTransaction<S extends string> extends Transaction<S> {
  lastResponse?: SipResponse;

  protected transmit(res: SipResponse): void {
    this.ctx.sendResponse(res, (e) => this.transportError(e.message));
  }

  protected retransmit(res: SipResponse): void {
    this.ctx.retransmitted();
    this.transmit(res);
  }
}
