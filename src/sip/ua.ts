/**
 * The UA core (RFC 3261 §8, §12-§15): dispatches what the transport
 * receives to transactions, dialogs and the TU; sends requests with digest
 * retry. Shaped for a B2BUA: one UserAgent, many calls.
 */
import type { Endpoint, NameAddr, SipMessage, SipRequest, SipResponse, SipUri } from './message.js';
import type { SipTransport } from './transport.js';
import { timerValues, type TimerValues } from './timers.js';
import { TransactionLayer, type ServerTransaction } from './transaction/layer.js';
import type { ClientTransactionUser } from './transaction/common.js';
import { cseqOf, responseTo } from './transaction/common.js';
import type { InviteClientTransaction } from './transaction/client-invite.js';
import { InviteServerTransaction } from './transaction/server-invite.js';
import { Dialog } from './dialog.js';
import { AuthAttempt, AuthSession, type CredentialLookup } from './auth-session.js';
import { IncomingInviteImpl, type IncomingInvite } from './ua-incoming.js';
import { OutgoingInviteImpl, type InviteOptions, type OutgoingInvite } from './ua-outgoing.js';
import { newBranch, newCallId, newTag } from './ids.js';
import { formatNameAddr } from './header-values.js';
import { ALLOW, buildRequest, buildResponse, contactValue, reasonFor, tagOf, uriEndpoint, withTag } from './request-builder.js';
import { errText, type Logger } from '../util/log.js';
import { createHash } from 'node:crypto';
import { RateLimitedLog } from './rate-log.js';

export type { IncomingInvite } from './ua-incoming.js';
export type { OutgoingInvite, InviteOptions } from './ua-outgoing.js';
export { Dialog } from './dialog.js';

export interface UaOptions {
  transport: SipTransport;
  /** Our address as others should reach it: Via sent-by and Contact. */
  contactHost: string;
  contactPort: number;
  userAgent?: string;
  /**
   * Whether a source address is one we serve (pbx.ini `allow`, injected by
   * main.ts). Answers to out-of-dialog requests from other sources carry
   * no Server header: a scanner (svmap) learns no product or version.
   * They are still answered (a silent port would only make the scanner
   * retransmit). Default: every source is trusted.
   */
  trusted?: (address: string) => boolean;
  logger: Logger;
  timers?: Partial<TimerValues>;
  credentials?: CredentialLookup;
  /** Live server transactions above which new non-call requests get 503 (default 10000, about 40 MB). */
  maxServerTransactions?: number;
}

export interface IncomingRequest {
  request: SipRequest;
  source: Endpoint;
  respond(status: number, reason?: string, opts?: { body?: Buffer; contentType?: string; headers?: Array<[string, string]> }): void;
}

export interface RequestOptions {
  method: string;
  target: SipUri;
  via?: Endpoint;
  from: NameAddr;
  to: NameAddr;
  body?: Buffer;
  contentType?: string;
  headers?: Array<[string, string]>;
  /** For REGISTER refreshes (§10.2.4): keep Call-ID and From tag, continue CSeq. */
  callId?: string;
  fromTag?: string;
  cseq?: number;
}

/** Methods we know (§8.2.1: known but unsupported -> 405, unknown -> 501). */
const KNOWN = new Set(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'MESSAGE', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'PUBLISH']);

export class UserAgent {
  onInvite?: (inv: IncomingInvite) => void;
  onRequest?: (req: IncomingRequest) => void;
  readonly timers: TimerValues;
  readonly logger: Logger;
  readonly userAgent?: string;
  readonly auth: AuthSession;
  readonly transport: SipTransport;
  private readonly layer: TransactionLayer;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly outgoing = new Map<string, OutgoingInviteImpl>();
  private readonly incoming = new Map<string, IncomingInviteImpl>();
  private stopped = false;
  private readonly waiting = new Set<() => void>();
  private readonly maxServerTransactions: number;
  private readonly failures: RateLimitedLog;

  constructor(private readonly opts: UaOptions) {
    this.timers = timerValues(opts.timers);
    this.logger = opts.logger;
    this.userAgent = opts.userAgent;
    this.transport = opts.transport;
    this.auth = new AuthSession(opts.credentials, opts.logger);
    this.maxServerTransactions = opts.maxServerTransactions ?? 10000;
    this.failures = new RateLimitedLog(opts.logger);
    this.layer = new TransactionLayer({
      send: (m, d, e) => this.transport.send(m, d, e),
      sendResponse: (r, e) => this.transport.sendResponse(r, e),
      timers: this.timers,
      logger: opts.logger,
    });
  }

  get sentBy(): { host: string; port: number } {
    return { host: this.opts.contactHost, port: this.opts.contactPort };
  }

  contact(user?: string): string {
    return contactValue(user, this.opts.contactHost, this.opts.contactPort);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.transport.onMessage = (m, s) => this.receive(m, s);
    if (!this.transport.running) await this.transport.start();
  }

  /** End every transaction, dialog and timer; close the socket. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of [...this.waiting]) abort();
    for (const o of this.outgoing.values()) o.destroy();
    this.outgoing.clear();
    this.incoming.clear();
    for (const d of [...this.dialogs.values()]) d.close('UA stopped');
    this.dialogs.clear();
    this.layer.stop();
    this.transport.onMessage = undefined;
    await this.transport.stop();
  }

  /** Live objects, and retransmissions by transactions and by the core (2xx and ACK for 2xx, §13.3.1.4 / §13.2.2.4). */
  get stats(): { dialogs: number; clients: number; servers: number; outgoing: number; incoming: number; retransmissions: number; coreRetransmissions: number } {
    return { dialogs: this.dialogs.size, outgoing: this.outgoing.size, incoming: this.incoming.size, ...this.layer.size, retransmissions: this.layer.retransmissions, coreRetransmissions: this.coreRetransmissions };
  }

  /** 2xx retransmissions and re-sent ACKs (counted by dialogs). */
  coreRetransmissions = 0;

  invite(opts: InviteOptions): OutgoingInvite {
    const o = new OutgoingInviteImpl(this, opts);
    this.outgoing.set(o.callId, o);
    return o.start();
  }

  /** A non-INVITE request outside a dialog; one digest retry per challenge (§22.2). Never rejects: timeout -> local 408, transport error -> local 503 (§8.1.3.1). */
  async request(opts: RequestOptions): Promise<SipResponse> {
    const callId = opts.callId ?? newCallId(this.opts.contactHost);
    const from = withTag(opts.from, opts.fromTag ?? newTag());
    const dest = opts.via ?? uriEndpoint(opts.target);
    const attempt = new AuthAttempt();
    let cseq = opts.cseq ?? 1;
    let auth: Array<[string, string]> = [];
    for (;;) {
      const req = buildRequest({
        method: opts.method,
        uri: opts.target,
        from,
        to: formatNameAddr(opts.to),
        callId,
        cseq,
        via: { ...this.sentBy, branch: newBranch() },
        body: opts.body,
        contentType: opts.contentType,
        headers: [...(opts.headers ?? []), ...auth],
        userAgent: this.userAgent,
      });
      const res = await this.sendNonInvite(req, dest);
      if (res.status !== 401 && res.status !== 407) return res;
      const more = this.auth.authorize(req, res, attempt);
      if (!more) return res;
      const names = new Set(more.map(([k]) => k));
      auth = [...auth.filter(([k]) => !names.has(k)), ...more];
      cseq++;
    }
  }

  // ---- DialogHost / OutgoingHost / IncomingHost ----

  sendNonInvite(req: SipRequest, dest: Endpoint): Promise<SipResponse> {
    return new Promise((resolveOnce) => {
      // stop() settles what is still waiting, so no caller hangs on a destroyed transaction.
      const abort = (): void => resolve(localResponse(req, 503, 'UA stopped'));
      const resolve = (res: SipResponse): void => {
        this.waiting.delete(abort);
        resolveOnce(res);
      };
      if (this.stopped) return abort();
      this.waiting.add(abort);
      try {
        this.layer.sendRequest(req, dest, {
          response: (res) => {
            if (res.status >= 200) resolve(res);
          },
          failed: (reason, detail) => resolve(localResponse(req, reason === 'timeout' ? 408 : 503, detail)),
        });
      } catch (e) {
        resolve(localResponse(req, 503, errText(e)));
      }
    });
  }

  sendInvite(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): void {
    this.sendInviteTx(req, dest, tu);
  }

  sendInviteTx(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): InviteClientTransaction {
    return this.layer.sendRequest(req, dest, tu) as InviteClientTransaction;
  }

  sendRaw(msg: SipRequest, dest: Endpoint): void {
    this.transport.send(msg, dest);
  }

  sendResponse(res: SipResponse): void {
    this.transport.sendResponse(res);
  }

  addDialog(d: Dialog): void {
    this.dialogs.set(dialogKey(d.callId, d.localTag, d.remoteTag), d);
  }

  forget(d: Dialog): void {
    this.dialogs.delete(dialogKey(d.callId, d.localTag, d.remoteTag));
  }

  outgoingDone(o: OutgoingInviteImpl): void {
    this.outgoing.delete(o.callId);
  }

  incomingDone(inv: IncomingInviteImpl): void {
    this.incoming.delete(inv.tx.key);
  }

  // ---- receiving ----

  private receive(msg: SipMessage, source: Endpoint): void {
    if (this.stopped) return;
    try {
      if (msg.type === 'response') this.receiveResponse(msg);
      else this.receiveRequest(msg, source);
    } catch (e) {
      this.handlerErrors++;
      this.failures.error(`SIP: error handling ${msg.type === 'request' ? msg.method : msg.status} from ${source.address}:${source.port}: ${errText(e)}`);
    }
  }

  private receiveResponse(res: SipResponse): void {
    if (res.headers.getAll('via').length !== 1) {
      // §8.1.3.3: a response with more than one Via was misrouted; discard it.
      this.failures.warn(`SIP: discarded ${res.status} response with ${res.headers.getAll('via').length} Via values`);
      return;
    }
    if (this.layer.receiveResponse(res)) return;
    const cseq = cseqOf(res);
    if (!cseq || cseq.method !== 'INVITE' || res.status < 200 || res.status >= 300) return;
    // §13.2.2.4: a 2xx retransmission (its transaction is gone): the dialog re-sends the ACK.
    const callId = res.headers.get('call-id') ?? '';
    const d = this.dialogs.get(dialogKey(callId, tagOf(res.headers.get('from')) ?? '', tagOf(res.headers.get('to')) ?? ''));
    if (d) d.handleSuccessRetransmission(res);
    else this.outgoing.get(callId)?.lateSuccess(res);
  }

  private receiveRequest(req: SipRequest, source: Endpoint): void {
    const tx = this.layer.matchRequest(req);
    if (tx) {
      // An ACK for a 2xx that reuses the INVITE branch belongs to the dialog (RFC 6026 §8.5).
      if (req.method === 'ACK' && tx.state === 'accepted') return this.dialogFor(req)?.handleAck(req);
      return tx.receive(req); // retransmission, or ACK for a non-2xx final
    }
    if (req.method === 'ACK') return this.dialogFor(req)?.handleAck(req);
    const inDialog = tagOf(req.headers.get('to')) !== undefined;
    const sh = this.serverHeaderFor(source.address);
    if (req.method === 'OPTIONS' && !inDialog) return this.answerOptions(req, sh);
    if (this.overloaded(req, sh)) return;
    if (req.method === 'CANCEL') return this.receiveCancel(req, sh);
    const server = this.layer.createServer(req);
    if (inDialog) {
      const d = this.dialogFor(req);
      if (d) return d.handleRequest(req, server);
      return server.respond(this.reply(req, 481, [], sh)); // §12.2.2
    }
    const require = req.headers.getAll('require');
    if (require.length > 0 && req.method !== 'ACK') {
      // §8.2.2.3: we support no extension.
      return server.respond(this.reply(req, 420, [['unsupported', require.join(', ')]], sh));
    }
    this.receiveNewRequest(req, source, server, sh);
  }

  private receiveNewRequest(req: SipRequest, source: Endpoint, server: ServerTransaction, sh: string | undefined): void {
    if (req.method === 'INVITE' && server instanceof InviteServerTransaction) {
      const inv = new IncomingInviteImpl(this, req, source, server);
      this.incoming.set(server.key, inv);
      if (!this.onInvite) return inv.respond(480);
      return this.callTu(() => this.onInvite?.(inv), server, req, sh);
    }
    if (!this.onRequest) {
      return server.respond(this.reply(req, KNOWN.has(req.method) ? 405 : 501, [['allow', ALLOW]], sh));
    }
    const incoming: IncomingRequest = {
      request: req,
      source,
      respond: (status, reason, o = {}) => {
        if (!server.answerable) return;
        server.respond(buildResponse(req, status, reason ?? reasonFor(status), { toTag: newTag(), body: o.body, contentType: o.contentType, headers: o.headers, userAgent: sh }));
      },
    };
    this.callTu(() => this.onRequest?.(incoming), server, req, sh);
  }

  /**
   * RFC 3261 §8.2.7 / §11.2: out-of-dialog OPTIONS answered statelessly
   * (the To tag derived from the request, so a retransmission gets the same
   * answer): a scanner's flood costs no transaction state.
   */
  private answerOptions(req: SipRequest, sh: string | undefined): void {
    const seed = `${req.headers.get('call-id') ?? ''}|${req.headers.get('cseq') ?? ''}|${req.headers.get('via') ?? ''}`;
    const toTag = createHash('sha1').update(seed).digest('hex').slice(0, 16);
    const res = buildResponse(req, 200, 'OK', { toTag, headers: [['allow', ALLOW], ['accept', 'application/sdp']], userAgent: sh });
    this.transport.sendResponse(res);
  }

  /**
   * Bound the state kept for non-call requests: beyond `maxServerTransactions`
   * a new MESSAGE/REGISTER/... gets a stateless 503 with Retry-After
   * (RFC 3261 §21.5.4); INVITE, BYE and CANCEL are always served.
   */
  private overloaded(req: SipRequest, sh: string | undefined): boolean {
    if (req.method === 'INVITE' || req.method === 'BYE' || req.method === 'CANCEL') return false;
    if (this.layer.size.servers < this.maxServerTransactions) return false;
    this.overloadRejected++;
    this.transport.sendResponse(buildResponse(req, 503, 'Service Unavailable', { toTag: newTag(), headers: [['retry-after', '5']], userAgent: sh }));
    return true;
  }

  /** Messages whose handling threw (bad header values the parser let through...); logged at a bounded rate. */
  handlerErrors = 0;

  /** Requests answered 503 because of `maxServerTransactions`. */
  overloadRejected = 0;

  /** The TU must not take the UA down: a throw is logged and answered 500. */
  private callTu(fn: () => void, server: ServerTransaction, req: SipRequest, sh: string | undefined): void {
    try {
      fn();
    } catch (e) {
      this.logger.error(`SIP: handler for ${req.method} failed: ${errText(e)}`);
      if (server.answerable) server.respond(this.reply(req, 500, [], sh));
      this.incoming.delete(server.key);
    }
  }

  /** §9.2: 200 to the CANCEL, 487 to the INVITE it matches; 481 when none. */
  private receiveCancel(req: SipRequest, sh: string | undefined): void {
    const invTx = this.layer.matchCancel(req);
    const server = this.layer.createServer(req);
    if (!invTx) return server.respond(this.reply(req, 481, [], sh));
    server.respond(this.reply(req, 200, [], sh));
    const inv = this.incoming.get(invTx.key);
    if (inv) inv.cancel();
    else if (invTx.answerable) invTx.respond(this.reply(invTx.request, 487, [], sh));
  }

  private dialogFor(req: SipRequest): Dialog | undefined {
    const callId = req.headers.get('call-id') ?? '';
    return this.dialogs.get(dialogKey(callId, tagOf(req.headers.get('to')) ?? '', tagOf(req.headers.get('from')) ?? ''));
  }

  private reply(req: SipRequest, status: number, headers: Array<[string, string]>, serverHeader: string | undefined): SipResponse {
    return buildResponse(req, status, reasonFor(status), { toTag: status > 100 ? newTag() : undefined, headers, userAgent: serverHeader });
  }

  /** The Server header for an answer to `address`: none for a source we do not serve (see UaOptions.trusted). */
  serverHeaderFor(address: string): string | undefined {
    const trusted = this.opts.trusted;
    return !trusted || trusted(address) ? this.userAgent : undefined;
  }
}

function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

/** §8.1.3.1: a transaction timeout counts as 408, a transport error as 503. */
function localResponse(req: SipRequest, status: number, detail: string): SipResponse {
  return responseTo(req, status, `${reasonFor(status)} (local: ${detail.replace(/[\r\n]/g, ' ')})`);
}
