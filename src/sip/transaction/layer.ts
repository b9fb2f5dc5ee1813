/**
 * The transaction layer: creates transactions, matches incoming messages
 * to them (RFC 3261 §17.1.3, §17.2.3) and forgets them when they end.
 */
import type { Endpoint, SipMessage, SipRequest, SipResponse } from '../message.js';
import type { TimerValues } from '../timers.js';
import type { Logger } from '../../util/log.js';
import type { ClientTransactionUser, TransactionContext } from './common.js';
import { clientKey, cseqOf, serverKey, topVia } from './common.js';
import { InviteClientTransaction } from './client-invite.js';
import { NonInviteClientTransaction } from './client-non-invite.js';
import { InviteServerTransaction } from './server-invite.js';
import { NonInviteServerTransaction } from './server-non-invite.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export interface TransactionLayerOptions {
  send(msg: SipMessage, dest: Endpoint, onError?: (err: Error) => void): void;
  sendResponse(res: SipResponse, onError?: (err: Error) => void): void;
  timers: TimerValues;
  logger: Logger;
}

export class TransactionLayer {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly ctx: TransactionContext;
  /** Retransmissions sent by all transactions so far (timers A, E, G and answers to retransmitted requests). */
  retransmissions = 0;

  constructor(opts: TransactionLayerOptions) {
    this.ctx = {
      send: opts.send,
      sendResponse: opts.sendResponse,
      timers: opts.timers,
      logger: opts.logger,
      retransmitted: () => {
        this.retransmissions++;
      },
      terminated: (key) => {
        this.clients.delete(key);
        this.servers.delete(key);
      },
    };
  }

  get timers(): TimerValues {
    return this.ctx.timers;
  }

  /** Start a client transaction for `req` (INVITE or not) sent to `dest`. */
  sendRequest(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): ClientTransaction {
    const via = topVia(req);
    if (!via?.branch) throw new Error(`${req.method} without a Via branch`);
    const key = clientKey(via.branch, req.method);
    const tx =
      req.method === 'INVITE'
        ? new InviteClientTransaction(key, req, dest, this.ctx, tu)
        : new NonInviteClientTransaction(key, req, dest, this.ctx, tu);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /** §17.1.3: pass a response to its client transaction; false if none matches. */
  receiveResponse(res: SipResponse): boolean {
    const via = topVia(res);
    const cseq = cseqOf(res);
    if (!via || !cseq) return false;
    const tx = this.clients.get(clientKey(via.branch, cseq.method));
    if (!tx) return false;
    tx.receive(res);
    return true;
  }

  /** §17.2.3: the server transaction a request belongs to, if any. */
  matchRequest(req: SipRequest): ServerTransaction | undefined {
    const key = serverKey(req);
    return key === undefined ? undefined : this.servers.get(key);
  }

  /** §9.2: the INVITE server transaction a CANCEL refers to (same branch and sent-by). */
  matchCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey({ ...cancel, method: 'INVITE' });
    const tx = key === undefined ? undefined : this.servers.get(key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** Create the server transaction for a new request (not ACK). */
  createServer(req: SipRequest): ServerTransaction {
    const key = serverKey(req);
    if (key === undefined) throw new Error(`${req.method} without Via or CSeq`);
    const tx = req.method === 'INVITE' ? new InviteServerTransaction(key, req, this.ctx) : new NonInviteServerTransaction(key, req, this.ctx);
    this.servers.set(key, tx);
    tx.start();
    return tx;
  }

  get size(): { clients: number; servers: number } {
    return { clients: this.clients.size, servers: this.servers.size };
  }

  /** End every transaction and clear every timer (UA stop). */
  stop(): void {
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.destroy();
    this.clients.clear();
    this.servers.clear();
  }
}
