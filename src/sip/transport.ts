/**
 * UDP transport (RFC 3261 §18): one socket, bounded datagrams, Via
 * handling for requests received (§18.2.1, RFC 3581 rport) and responses
 * sent (§18.2.2). Nothing thrown from here may take the process down.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Endpoint, SipMessage, SipRequest, SipResponse } from './message.js';
import { Headers } from './message.js';
import { parseMessage } from './parser.js';
import { serialize } from './serializer.js';
import { parseVia, formatVia } from './header-values.js';
import { errText, type Logger } from '../util/log.js';
import { RateLimitedLog } from './rate-log.js';

/** A UDP datagram cannot carry more than 64 KiB; anything larger is dropped before parsing. */
export const MAX_DATAGRAM = 65535;

export interface TransportOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Drop datagrams above this size before parsing (default 64 KiB). */
  maxDatagram?: number;
}

export interface TransportCounters {
  received: number;
  sent: number;
  oversize: number;
  malformed: number;
  badRequestSent: number;
  sendErrors: number;
  handlerErrors: number;
}

export type SendErrorHandler = (err: Error) => void;

export class SipTransport {
  readonly counters: TransportCounters = { received: 0, sent: 0, oversize: 0, malformed: 0, badRequestSent: 0, sendErrors: 0, handlerErrors: 0 };
  /** The UA core sets this; it gets every well-formed message. */
  onMessage?: (msg: SipMessage, source: Endpoint) => void;
  private socket?: Socket;
  private bound?: Endpoint;
  private readonly log: Logger;
  private readonly maxDatagram: number;
  private readonly dropped: RateLimitedLog;
  private readonly failures: RateLimitedLog;

  constructor(private readonly opts: TransportOptions) {
    this.log = opts.logger;
    this.maxDatagram = opts.maxDatagram ?? MAX_DATAGRAM;
    this.dropped = new RateLimitedLog(opts.logger);
    this.failures = new RateLimitedLog(opts.logger);
  }

  /** Bind; a bind error rejects with one message naming the address (never throws out of the socket). */
  start(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      let s: Socket;
      try {
        s = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      } catch (e) {
        reject(new Error(`SIP UDP: cannot create socket for ${host}:${port}: ${errText(e)}`));
        return;
      }
      const onBindError = (e: Error): void => {
        s.close();
        reject(new Error(`SIP UDP: cannot bind ${host}:${port}: ${errText(e)}`));
      };
      s.once('error', onBindError);
      s.on('message', (buf, rinfo) => this.receive(buf, { address: rinfo.address, port: rinfo.port }));
      try {
        s.bind(port, host, () => {
          s.off('error', onBindError);
          s.on('error', (e) => this.log.error(`SIP UDP socket error: ${errText(e)}`));
          const a = s.address();
          this.bound = { address: a.address, port: a.port };
          this.socket = s;
          this.log.info(`SIP UDP listening on ${a.address}:${a.port}`);
          resolve();
        });
      } catch (e) {
        onBindError(e as Error);
      }
    });
  }

  /** Close the socket; idempotent. */
  stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  /** The bound address (after start). */
  get local(): Endpoint {
    if (!this.bound) throw new Error('SIP transport not started');
    return this.bound;
  }

  get running(): boolean {
    return this.socket !== undefined;
  }

  send(msg: SipMessage, dest: Endpoint, onError?: SendErrorHandler): void {
    const s = this.socket;
    if (!s) {
      onError?.(new Error('transport stopped'));
      return;
    }
    let buf: Buffer;
    try {
      buf = serialize(msg);
    } catch (e) {
      this.log.error(`SIP: cannot serialize ${describe(msg)}: ${errText(e)}`);
      onError?.(e as Error);
      return;
    }
    this.counters.sent++;
    s.send(buf, dest.port, dest.address, (err) => {
      if (!err) return;
      this.counters.sendErrors++;
      this.log.warn(`SIP UDP send to ${dest.address}:${dest.port} failed: ${errText(err)}`);
      onError?.(err);
    });
  }

  /** RFC 3261 §18.2.2 / RFC 3581 §4: a response goes to received (or sent-by host) and rport (or sent-by port). */
  sendResponse(res: SipResponse, onError?: SendErrorHandler): void {
    const dest = responseDestination(res);
    if (!dest) {
      this.log.warn(`SIP: response ${res.status} has no usable Via, not sent`);
      return;
    }
    this.send(res, dest, onError);
  }

  private receive(buf: Buffer, source: Endpoint): void {
    try {
      this.counters.received++;
      if (buf.length > this.maxDatagram) {
        this.counters.oversize++;
        this.dropLog(`datagram of ${buf.length} bytes from ${source.address}:${source.port} over ${this.maxDatagram}`);
        return;
      }
      // RFC 5626 §3.5.1 keep-alives (CRLF) are not messages.
      if (isBlank(buf)) return;
      const r = parseMessage(buf);
      if (!r.ok) {
        this.counters.malformed++;
        if (r.request) this.badRequest(r.request, r.error, source, r.status ?? 400);
        else this.dropLog(`unparsable datagram from ${source.address}:${source.port}: ${r.error}`);
        return;
      }
      const msg = r.message;
      if (msg.type === 'request') stampVia(msg, source);
      this.onMessage?.(msg, source);
    } catch (e) {
      this.counters.handlerErrors++;
      this.failures.error(`SIP: error handling datagram from ${source.address}:${source.port}: ${errText(e)}`);
    }
  }

  /** RFC 3261 §8.2.2 / §21.4.1: 400 with the parse error in the reason phrase (505/416 when the parser says so). */
  private badRequest(req: SipRequest, error: string, source: Endpoint, status: number): void {
    this.dropLog(`malformed ${req.method || 'request'} from ${source.address}:${source.port}: ${error}`);
    if (req.method === 'ACK') return; // never answer an ACK
    let dest: Endpoint | undefined;
    try {
      // RFC 3581 §4: the answer carries received/rport like any other
      stampVia(req, source);
      dest = responseDestination(req);
    } catch {
      dest = undefined;
    }
    const h = new Headers();
    for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) for (const v of req.headers.getAll(name)) h.append(name, v);
    const reason = status === 400 ? `Bad Request (${sanitizeReason(error)})` : sanitizeReason(error);
    const res: SipResponse = { type: 'response', status, reason, headers: h, body: Buffer.alloc(0) };
    this.counters.badRequestSent++;
    this.send(res, dest ?? source);
  }

  /** At most one line per second for dropped input; the rest is counted. */
  private dropLog(line: string): void {
    this.dropped.warn(`SIP: dropped ${line}`);
  }
}

function isBlank(buf: Buffer): boolean {
  for (const b of buf) if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  return true;
}

function sanitizeReason(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 120);
}

function describe(msg: SipMessage): string {
  return msg.type === 'request' ? msg.method : `${msg.status} response`;
}

/**
 * RFC 3261 §18.2.1: add `received` when the sent-by host differs from the
 * source address; RFC 3581 §4: fill in an empty `rport` with the source port.
 */
export function stampVia(req: SipRequest, source: Endpoint): void {
  const top = req.headers.get('via');
  if (top === undefined) return;
  const via = parseVia(top);
  let changed = false;
  if (via.host !== source.address || via.params.has('rport')) {
    via.params.set('received', source.address);
    changed = true;
  }
  if (via.params.has('rport') && via.params.get('rport') == null) {
    via.params.set('rport', String(source.port));
    changed = true;
  }
  if (changed) replaceTopVia(req.headers, formatVia(via));
}

function replaceTopVia(headers: Headers, value: string): void {
  const all = headers.getAll('via');
  headers.remove('via');
  headers.append('via', value);
  for (const v of all.slice(1)) headers.append('via', v);
}

/** Where a response goes: RFC 3261 §18.2.2 (received / sent-by) and RFC 3581 (rport). */
export function responseDestination(res: { headers: Headers }): Endpoint | undefined {
  const top = res.headers.get('via');
  if (top === undefined) return undefined;
  const via = parseVia(top);
  const address = via.params.get('received') ?? via.host;
  const rport = via.params.get('rport');
  const port = rport ? Number(rport) : (via.port ?? 5060);
  if (!address || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { address, port };
}
