/**
 * A dialog (RFC 3261 §12): route set, remote target, local and remote
 * CSeq, and the in-dialog requests of a call: BYE, re-INVITE, INFO,
 * OPTIONS both ways, plus the 2xx/ACK exchange of §13.3.1.4 / §13.2.2.4.
 */
import type { Endpoint, SipRequest, SipResponse, SipUri } from './message.js';
import { TypedEmitter } from './emitter.js';
import type { TimerValues } from './timers.js';
import type { Logger } from '../util/log.js';
import type { ClientTransactionUser, ClientFailure } from './transaction/common.js';
import { cseqOf } from './transaction/common.js';
import type { ServerTransaction } from './transaction/layer.js';
import { newBranch } from './ids.js';
import { ALLOW, buildRequest, buildResponse, contactUri, nextHop, reasonFor } from './request-builder.js';
import { SuccessRetransmitter } from './success-retransmitter.js';
import { AuthAttempt, type AuthSession } from './auth-session.js';

/** What a dialog needs from the UA core. */
export interface DialogHost {
  readonly timers: TimerValues;
  readonly auth: AuthSession;
  readonly logger: Logger;
  readonly userAgent?: string;
  readonly sentBy: { host: string; port: number };
  contact(user?: string): string;
  /** A non-INVITE client transaction; resolves with the final response (408/503 synthesized on timeout/transport error). */
  sendNonInvite(req: SipRequest, dest: Endpoint): Promise<SipResponse>;
  sendInvite(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): void;
  /** Outside any transaction: ACK for 2xx, 2xx retransmissions. */
  sendRaw(msg: SipRequest, dest: Endpoint): void;
  sendResponse(res: SipResponse): void;
  coreRetransmissions: number;
  forget(dialog: Dialog): void;
}

export interface DialogInit {
  role: 'uac' | 'uas';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From (uac) / To (uas) value with our tag; To (uac) / From (uas) value with theirs. */
  localParty: string;
  remoteParty: string;
  localSeq: number;
  remoteSeq?: number;
  routeSet: string[];
  remoteTarget: SipUri;
  localSdp: string;
  remoteSdp: string;
  localUser?: string;
}

export interface DialogEvents {
  /** The remote party hung up; 200 already sent; bye() is a no-op from now on ('closed' follows). */
  bye: () => void;
  /** A re-INVITE offer; return the answer SDP, or undefined for the current local SDP. */
  reinvite: (sdp: string) => string | undefined;
  info: (body: Buffer, contentType: string) => void;
  closed: () => void;
}

export interface ReinviteResult {
  status: number;
  response?: SipResponse;
  sdp?: string;
}

export class Dialog extends TypedEmitter<DialogEvents> {
  readonly id: string;
  readonly role: 'uac' | 'uas';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  localSdp: string;
  remoteSdp: string;
  remoteTarget: SipUri;
  readonly routeSet: string[];
  localSeq: number;
  remoteSeq?: number;
  closed = false;
  /** A BYE from the other side arrived (the dialog is closing). */
  private remoteHungUp = false;
  private readonly localParty: string;
  private readonly remoteParty: string;
  private readonly localUser?: string;
  private readonly log: Logger;
  /** UAS: 2xx being retransmitted until its ACK, keyed by CSeq number. */
  private readonly pending2xx = new Map<number, { retx: SuccessRetransmitter; acked: (ok: boolean) => void }>();
  /** UAC: the ACK sent for each 2xx, to answer retransmitted 2xx (§13.2.2.4). */
  private readonly acks = new Map<number, SipRequest>();
  private reinviteOut = false;

  constructor(
    private readonly host: DialogHost,
    init: DialogInit,
  ) {
    super();
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.id = `${init.callId};local=${init.localTag};remote=${init.remoteTag}`;
    this.localParty = init.localParty;
    this.remoteParty = init.remoteParty;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.routeSet = init.routeSet;
    this.remoteTarget = init.remoteTarget;
    this.localSdp = init.localSdp;
    this.remoteSdp = init.remoteSdp;
    this.localUser = init.localUser;
    this.log = host.logger.child(`dialog ${init.callId.slice(0, 12)}`);
  }

  /** §12.2.1.1: a request within the dialog; CSeq is the next local number unless given (ACK). */
  createRequest(method: string, opts: { cseq?: number; body?: Buffer; contentType?: string; headers?: Array<[string, string]> } = {}): SipRequest {
    const cseq = opts.cseq ?? ++this.localSeq;
    return buildRequest({
      method,
      uri: this.remoteTarget,
      from: this.localParty,
      to: this.remoteParty,
      callId: this.callId,
      cseq,
      via: { ...this.host.sentBy, branch: newBranch() },
      contact: method === 'INVITE' ? this.host.contact(this.localUser) : undefined,
      routes: this.routeSet,
      body: opts.body,
      contentType: opts.contentType,
      headers: opts.headers,
      userAgent: this.host.userAgent,
    });
  }

  get nextHop(): Endpoint {
    return nextHop(this.routeSet, this.remoteTarget);
  }

  /** §15.1.1: send BYE; the dialog ends whatever the answer. */
  async bye(): Promise<void> {
    if (this.closed || this.remoteHungUp) return;
    const hop = this.nextHop;
    this.close('local BYE');
    const res = await this.send('BYE', {}, hop);
    if (res.status >= 300) this.log.info(`BYE answered ${res.status} ${res.reason}`);
  }

  /** A non-INVITE request inside the dialog (INFO, OPTIONS, MESSAGE...). */
  request(method: string, body?: Buffer, contentType?: string): Promise<SipResponse> {
    return this.send(method, { body, contentType }, this.nextHop);
  }

  /** §22.2: an in-dialog request a proxy challenges is sent again with credentials and the next CSeq. */
  private async send(method: string, opts: { body?: Buffer; contentType?: string }, hop: Endpoint): Promise<SipResponse> {
    const attempt = new AuthAttempt();
    let auth: Array<[string, string]> = [];
    for (;;) {
      const req = this.createRequest(method, { ...opts, headers: auth });
      const res = await this.host.sendNonInvite(req, hop);
      if (res.status !== 401 && res.status !== 407) return res;
      const more = this.host.auth.authorize(req, res, attempt);
      if (!more) return res;
      auth = more;
    }
  }

  /** §14.1: a re-INVITE with a new offer; on 2xx the answer becomes the remote SDP. */
  reinvite(sdp: string): Promise<ReinviteResult> {
    if (this.closed) return Promise.resolve({ status: 481 });
    if (this.reinviteOut) return Promise.resolve({ status: 491 });
    this.reinviteOut = true;
    const req = this.createRequest('INVITE', { body: Buffer.from(sdp), contentType: 'application/sdp' });
    const seq = this.localSeq;
    return new Promise((resolve) => {
      const done = (r: ReinviteResult): void => {
        this.reinviteOut = false;
        resolve(r);
      };
      this.host.sendInvite(req, this.nextHop, {
        response: (res) => {
          if (res.status < 200) return;
          if (res.status >= 300) return done({ status: res.status, response: res });
          this.refreshTarget(res);
          this.localSdp = sdp;
          if (res.body.length > 0) this.remoteSdp = res.body.toString();
          this.sendAck(seq);
          done({ status: res.status, response: res, sdp: this.remoteSdp });
        },
        failed: (reason: ClientFailure, detail: string) => done({ status: reason === 'timeout' ? 408 : 503, sdp: detail }),
      });
    });
  }

  /** §13.2.2.4: ACK for a 2xx, a new transaction-less request with the INVITE's CSeq number. */
  sendAck(seq: number): void {
    const ack = this.createRequest('ACK', { cseq: seq });
    this.acks.set(seq, ack);
    this.host.sendRaw(ack, this.nextHop);
  }

  /** UAC: a 2xx arrived outside its (terminated) transaction: re-send the ACK. */
  handleSuccessRetransmission(res: SipResponse): void {
    const seq = cseqOf(res)?.seq;
    const ack = seq === undefined ? undefined : this.acks.get(seq);
    if (!ack) return;
    this.host.coreRetransmissions++;
    this.host.sendRaw(ack, this.nextHop);
  }

  /** UAS: retransmit `res` (already sent once) until the ACK; resolves true on ACK, false on 64*T1. */
  expectAck(seq: number, res: SipResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const retx = new SuccessRetransmitter(
        () => {
          this.host.coreRetransmissions++;
          this.host.sendResponse(res);
        },
        this.host.timers,
        () => {
          this.pending2xx.delete(seq);
          this.log.warn(`no ACK for 2xx (CSeq ${seq}) within 64*T1: ending the session`);
          resolve(false);
          void this.bye();
        },
      );
      this.pending2xx.set(seq, { retx, acked: resolve });
      retx.start();
    });
  }

  handleAck(req: SipRequest): void {
    const seq = cseqOf(req)?.seq;
    if (seq === undefined) return;
    const p = this.pending2xx.get(seq);
    if (!p) return;
    p.retx.stop();
    this.pending2xx.delete(seq);
    if (req.body.length > 0) this.remoteSdp = req.body.toString();
    p.acked(true);
  }

  /** An in-dialog request other than ACK, with its server transaction (§12.2.2). */
  handleRequest(req: SipRequest, tx: ServerTransaction): void {
    const seq = cseqOf(req)?.seq ?? 0;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) {
      // §12.2.2: lower CSeq than remembered: out of order.
      tx.respond(buildResponse(req, 500, 'Server Internal Error (CSeq out of order)'));
      return;
    }
    this.remoteSeq = seq;
    switch (req.method) {
      case 'BYE':
        return this.onBye(req, tx);
      case 'INVITE':
        return this.onReinvite(req, tx, seq);
      case 'INFO':
        tx.respond(this.answer(req, 200));
        this.emit('info', req.body, req.headers.get('content-type') ?? '');
        return;
      case 'OPTIONS':
        tx.respond(this.answer(req, 200, [['allow', ALLOW]]));
        return;
      default:
        tx.respond(this.answer(req, 501, [['allow', ALLOW]]));
    }
  }

  private onBye(req: SipRequest, tx: ServerTransaction): void {
    tx.respond(this.answer(req, 200));
    if (this.closed) return;
    // §15.1.2: the BYE ends the dialog. A TU that tears its call down in the 'bye' listener
    // must find it ended, so that no BYE of ours goes back into it.
    this.remoteHungUp = true;
    this.emit('bye');
    this.close('remote BYE');
  }

  /** §14.2: answer a re-INVITE with the TU's SDP, or the current local SDP. */
  private onReinvite(req: SipRequest, tx: ServerTransaction, seq: number): void {
    if (this.pending2xx.size > 0) {
      tx.respond(this.answer(req, 500, [['retry-after', '1']]));
      return;
    }
    if (this.reinviteOut) {
      tx.respond(this.answer(req, 491));
      return;
    }
    const offer = req.body.toString();
    let answer: string | undefined;
    try {
      answer = offer.length > 0 ? this.emit('reinvite', offer).find((a) => a !== undefined) : undefined;
    } catch (e) {
      this.log.error(`re-INVITE listener failed: ${(e as Error).message}`);
      tx.respond(this.answer(req, 500));
      return;
    }
    this.refreshTarget(req);
    if (offer.length > 0) this.remoteSdp = offer;
    if (answer !== undefined) this.localSdp = answer;
    const res = buildResponse(req, 200, 'OK', {
      contact: this.host.contact(this.localUser),
      body: Buffer.from(this.localSdp),
      contentType: 'application/sdp',
      userAgent: this.host.userAgent,
    });
    tx.respond(res);
    void this.expectAck(seq, res);
  }

  /** §12.2: target refresh from the Contact of a re-INVITE or its 2xx. */
  private refreshTarget(msg: SipRequest | SipResponse): void {
    const c = contactUri(msg);
    if (c) this.remoteTarget = c;
  }

  private answer(req: SipRequest, status: number, headers: Array<[string, string]> = []): SipResponse {
    return buildResponse(req, status, reasonFor(status), { headers, userAgent: this.host.userAgent });
  }

  /** Idempotent: stop every retransmission, leave the UA's table, tell the TU. */
  close(why = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending2xx.values()) {
      p.retx.stop();
      p.acked(false);
    }
    this.pending2xx.clear();
    this.log.debug(`dialog ended: ${why}`);
    this.host.forget(this);
    this.emit('closed');
  }
}
