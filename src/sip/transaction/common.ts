/**
 * What every transaction (RFC 3261 §17) needs from its surroundings, and
 * the keys used to match messages to transactions (§17.1.3, §17.2.3).
 */
import type { Endpoint, SipMessage, SipRequest, SipResponse } from '../message.js';
import { Headers } from '../message.js';
import { parseCSeq, parseVia } from '../header-values.js';
import type { TimerValues } from '../timers.js';
import type { Logger } from '../../util/log.js';
import { MAGIC_COOKIE } from '../ids.js';

export interface TransactionContext {
  send(msg: SipMessage, dest: Endpoint, onError?: (err: Error) => void): void;
  /** Send a response where its top Via says (§18.2.2). */
  sendResponse(res: SipResponse, onError?: (err: Error) => void): void;
  readonly timers: TimerValues;
  readonly logger: Logger;
  /** Counts a retransmission (timer A/E/G, or an answer to a retransmitted request). */
  retransmitted(): void;
  /** Called once when a transaction reaches Terminated (the layer forgets it). */
  terminated(key: string): void;
}

/** Why a client transaction ended without a final response. */
export type ClientFailure = 'timeout' | 'transport-error';

/** The transaction user of a client transaction (RFC 3261 §17.1). */
export interface ClientTransactionUser {
  /** Every response passed up: provisional and final (2xx and non-2xx). */
  response(res: SipResponse): void;
  /** Timer B/F fired, or the transport failed (§17.1.1.2, §17.1.4). */
  failed(reason: ClientFailure, detail: string): void;
}

export function topVia(msg: SipMessage): { branch: string; sentBy: string } | undefined {
  const v = msg.headers.get('via');
  if (v === undefined) return undefined;
  const via = parseVia(v);
  const branch = via.params.get('branch') ?? '';
  return { branch, sentBy: `${via.host.toLowerCase()}:${via.port ?? 5060}` };
}

export function cseqOf(msg: SipMessage): { seq: number; method: string } | undefined {
  const c = msg.headers.get('cseq');
  if (c === undefined) return undefined;
  return parseCSeq(c);
}

/** §17.1.3: a response matches the client transaction with the same top branch and CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/**
 * §17.2.3: a request matches by branch, sent-by and method (ACK matches
 * INVITE). Requests without the magic cookie (RFC 2543 peers) match on
 * Call-ID, CSeq number, From tag and the whole top Via instead.
 */
export function serverKey(req: SipRequest): string | undefined {
  const v = topVia(req);
  const cseq = cseqOf(req);
  if (!v || !cseq) return undefined;
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (v.branch.startsWith(MAGIC_COOKIE)) return `${v.branch}|${v.sentBy}|${method}`;
  const from = req.headers.get('from') ?? '';
  const ftag = /;\s*tag=([^;\s]+)/i.exec(from)?.[1] ?? '';
  return `2543|${req.headers.get('call-id') ?? ''}|${cseq.seq}|${ftag}|${req.headers.get('via') ?? ''}|${method}`;
}

export function isProvisional(status: number): boolean {
  return status >= 100 && status < 200;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A response to `req` with the headers §8.2.6.2 says to copy; To tag added when given. */
export function responseTo(req: SipRequest, status: number, reason: string, toTag?: string): SipResponse {
  const h = new Headers();
  for (const v of req.headers.getAll('via')) h.append('via', v);
  h.append('from', req.headers.get('from') ?? '');
  let to = req.headers.get('to') ?? '';
  if (toTag && !/;\s*tag=/i.test(to)) to = `${to};tag=${toTag}`;
  h.append('to', to);
  h.append('call-id', req.headers.get('call-id') ?? '');
  h.append('cseq', req.headers.get('cseq') ?? '');
  const ts = req.headers.get('timestamp');
  if (ts !== undefined && status === 100) h.append('timestamp', ts); // §8.2.6.1
  return { type: 'response', status, reason, headers: h, body: Buffer.alloc(0) };
}
