/**
 * The UAS side of a call before it is a dialog: an INVITE the TU answers
 * with 1xx, a final error, or 200 + SDP (RFC 3261 §13.3); CANCEL (§9.2).
 */
import type { Endpoint, SipRequest } from './message.js';
import { TypedEmitter } from './emitter.js';
import { Dialog, type DialogHost } from './dialog.js';
import type { InviteServerTransaction } from './transaction/server-invite.js';
import { cseqOf } from './transaction/common.js';
import { newTag } from './ids.js';
import { buildResponse, contactUri, reasonFor, tagOf } from './request-builder.js';

export interface IncomingInviteEvents {
  /** CANCEL received: 200 to the CANCEL and 487 to the INVITE are already sent. */
  cancel: () => void;
}

export interface RespondOptions {
  sdp?: string;
  headers?: Array<[string, string]>;
}

export interface IncomingInvite extends TypedEmitter<IncomingInviteEvents> {
  readonly request: SipRequest;
  readonly source: Endpoint;
  readonly sdp: string;
  respond(status: number, reason?: string, opts?: RespondOptions): void;
  accept(sdp: string): Promise<Dialog>;
}

export interface IncomingHost extends DialogHost {
  /** The Server header for answers to this source (none for a source not served: no version to a stranger). */
  serverHeaderFor(address: string): string | undefined;
  addDialog(d: Dialog): void;
  incomingDone(inv: IncomingInviteImpl): void;
}

export class IncomingInviteImpl extends TypedEmitter<IncomingInviteEvents> implements IncomingInvite {
  readonly sdp: string;
  readonly localTag = newTag();
  cancelled = false;
  private readonly serverHeader: string | undefined;

  constructor(
    private readonly host: IncomingHost,
    readonly request: SipRequest,
    readonly source: Endpoint,
    readonly tx: InviteServerTransaction,
  ) {
    super();
    this.sdp = request.body.toString();
    this.serverHeader = host.serverHeaderFor(source.address);
  }

  get localUser(): string | undefined {
    return this.request.uri.user;
  }

  /** 1xx (with To tag and Contact) or a final 3xx-6xx; 2xx goes through accept(). */
  respond(status: number, reason?: string, opts: RespondOptions = {}): void {
    if (!this.tx.answerable) {
      this.host.logger.debug(`INVITE already answered; ${status} not sent`);
      return;
    }
    if (status >= 200 && status < 300) throw new Error('use accept(sdp) to answer 2xx');
    const res = buildResponse(this.request, status, reason ?? reasonFor(status), {
      toTag: status > 100 ? this.localTag : undefined,
      contact: status > 100 && status < 200 ? this.host.contact(this.localUser) : undefined,
      body: opts.sdp !== undefined ? Buffer.from(opts.sdp) : undefined,
      contentType: opts.sdp !== undefined ? 'application/sdp' : undefined,
      headers: opts.headers,
      copyRecordRoute: status > 100 && status < 200,
      userAgent: this.serverHeader,
    });
    this.tx.respond(res);
    if (status >= 300) this.host.incomingDone(this);
  }

  /**
   * 200 OK with SDP; the dialog is created now (§12.1.1) and the 2xx
   * retransmitted until the ACK (§13.3.1.4). Resolves on ACK; rejects when
   * no ACK came within 64*T1 (a BYE is sent then).
   */
  async accept(sdp: string): Promise<Dialog> {
    if (!this.tx.answerable) throw new Error(this.cancelled ? 'INVITE was cancelled' : 'INVITE already answered');
    const req = this.request;
    const remoteTag = tagOf(req.headers.get('from')) ?? '';
    const seq = cseqOf(req)?.seq ?? 1;
    const res = buildResponse(req, 200, 'OK', {
      toTag: this.localTag,
      contact: this.host.contact(this.localUser),
      body: Buffer.from(sdp),
      contentType: 'application/sdp',
      copyRecordRoute: true,
      userAgent: this.serverHeader,
    });
    const dialog = new Dialog(this.host, {
      role: 'uas',
      callId: req.headers.get('call-id') ?? '',
      localTag: this.localTag,
      remoteTag,
      localParty: res.headers.get('to') ?? '',
      remoteParty: req.headers.get('from') ?? '',
      localSeq: 0,
      remoteSeq: seq,
      // §12.1.1: the UAS route set is the Record-Route list in order.
      routeSet: req.headers.getAll('record-route'),
      remoteTarget: contactUri(req) ?? req.uri,
      localSdp: sdp,
      remoteSdp: this.sdp,
      localUser: this.localUser,
    });
    this.host.addDialog(dialog);
    this.tx.respond(res);
    this.host.incomingDone(this);
    const acked = await dialog.expectAck(seq, res);
    if (!acked) throw new Error(dialog.closed && !this.cancelled ? 'no ACK for 200 OK (BYE sent) or dialog closed' : 'no ACK for 200 OK');
    return dialog;
  }

  /** §9.2: CANCEL matched this INVITE. */
  cancel(): void {
    if (!this.tx.answerable) return;
    this.cancelled = true;
    this.tx.respond(buildResponse(this.request, 487, 'Request Terminated', { toTag: this.localTag, userAgent: this.serverHeader }));
    this.host.incomingDone(this);
    this.emit('cancel');
  }
}
