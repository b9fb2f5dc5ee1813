/**
 * Building requests and responses the UA core sends (RFC 3261 §8.1.1,
 * §8.2.6, §12.2.1.1) and finding the next hop for a request.
 */
import type { Endpoint, NameAddr, SipRequest, SipResponse, SipUri } from './message.js';
import { Headers } from './message.js';
import { formatUri } from './uri.js';
import { formatNameAddr, formatVia, parseNameAddr } from './header-values.js';
import { responseTo } from './transaction/common.js';

export interface RequestSpec {
  method: string;
  uri: SipUri;
  /** Full From / To header values (tags included where due). */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** Our sent-by and the branch of this request (§8.1.1.7). */
  via: { host: string; port: number; branch: string };
  contact?: string;
  routes?: string[];
  body?: Buffer;
  contentType?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  userAgent?: string;
}

export function buildRequest(s: RequestSpec): SipRequest {
  const h = new Headers();
  // RFC 3581 §3: ask for rport so responses come back through NATs.
  h.append('via', formatVia({ transport: 'UDP', host: s.via.host, port: s.via.port, params: new Map([['branch', s.via.branch], ['rport', null]]) }));
  for (const r of s.routes ?? []) h.append('route', r);
  h.append('max-forwards', '70');
  h.append('from', s.from);
  h.append('to', s.to);
  h.append('call-id', s.callId);
  h.append('cseq', `${s.cseq} ${s.method}`);
  if (s.contact) h.append('contact', s.contact);
  if (s.userAgent) h.append('user-agent', s.userAgent);
  for (const [k, v] of s.headers ?? []) h.append(k, v);
  const body = s.body ?? Buffer.alloc(0);
  if (body.length > 0 && s.contentType) h.set('content-type', s.contentType);
  return { type: 'request', method: s.method, uri: s.uri, headers: h, body };
}

export interface ResponseSpec {
  toTag?: string;
  contact?: string;
  body?: Buffer;
  contentType?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  /** §12.1.1: a dialog-creating response copies the Record-Route values. */
  copyRecordRoute?: boolean;
  userAgent?: string;
}

export function buildResponse(req: SipRequest, status: number, reason: string, s: ResponseSpec = {}): SipResponse {
  const res = responseTo(req, status, reason, status === 100 ? undefined : s.toTag);
  if (s.copyRecordRoute) for (const rr of req.headers.getAll('record-route')) res.headers.append('record-route', rr);
  if (s.contact) res.headers.append('contact', s.contact);
  if (s.userAgent) res.headers.append('server', s.userAgent);
  for (const [k, v] of s.headers ?? []) res.headers.append(k, v);
  if (s.body && s.body.length > 0) {
    res.body = s.body;
    if (s.contentType) res.headers.set('content-type', s.contentType);
  }
  return res;
}

export const REASON: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 202: 'Accepted',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 415: 'Unsupported Media Type', 420: 'Bad Extension',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 491: 'Request Pending', 500: 'Server Internal Error', 501: 'Not Implemented',
  503: 'Service Unavailable', 603: 'Decline',
};

export function reasonFor(status: number): string {
  return REASON[status] ?? (status < 200 ? 'Session Progress' : status < 300 ? 'OK' : 'Error');
}

/** Where a request for `uri` goes when no route applies (RFC 3263 reduced to a literal host:port). */
export function uriEndpoint(uri: SipUri): Endpoint {
  const maddr = uri.params.get('maddr');
  return { address: maddr ?? uri.host, port: uri.port ?? 5060 };
}

/**
 * RFC 3261 §12.2.1.1 / §16.12: with a route set whose first entry is a
 * loose router (lr), the request goes to that entry and the Request-URI
 * stays the remote target. Only loose routing is supported.
 */
export function nextHop(routes: string[], target: SipUri): Endpoint {
  if (routes.length === 0) return uriEndpoint(target);
  return uriEndpoint(parseNameAddr(routes[0]).uri);
}

/** The tag parameter of a From / To value. */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = parseNameAddr(value).params.get('tag');
  return t ?? undefined;
}

export function withTag(na: NameAddr, tag: string): string {
  const params = new Map(na.params);
  params.set('tag', tag);
  return formatNameAddr({ ...na, params });
}

export function contactValue(user: string | undefined, host: string, port: number): string {
  const uri: SipUri = { scheme: 'sip', user, host, port, params: new Map(), headers: new Map() };
  return `<${formatUri(uri)}>`;
}

export function contactUri(msg: { headers: Headers }): SipUri | undefined {
  const c = msg.headers.get('contact');
  if (c === undefined || c.trim() === '*') return undefined;
  return parseNameAddr(c).uri;
}

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE';
