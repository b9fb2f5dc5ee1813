/**
 * The UAC side of a call: INVITE with digest retry (§22.2), provisional
 * responses, 2xx -> dialog + ACK (§13.2.2.4), CANCEL (§9.1) and the 200
 * that crosses a CANCEL (ACK + BYE).
 */
import type { Endpoint, NameAddr, SipRequest, SipResponse, SipUri } from './message.js';
import { TypedEmitter } from './emitter.js';
import { Dialog, type DialogHost } from './dialog.js';
import type { InviteClientTransaction } from './transaction/client-invite.js';
import type { ClientFailure, ClientTransactionUser } from './transaction/common.js';
import { AuthAttempt } from './auth-session.js';
import { StateTimers } from './timers.js';
import { newBranch, newCallId, newTag } from './ids.js';
import { formatNameAddr } from './header-values.js';
import { buildRequest, contactUri, tagOf, uriEndpoint, withTag } from './request-builder.js';

export interface InviteOptions {
  target: SipUri;
  /** Next hop (e.g. the PBX); default from the target URI. */
  via?: Endpoint;
  from: NameAddr;
  to: NameAddr;
  sdp: string;
  headers?: Array<[string, string]>;
}

export interface OutgoingInviteEvents {
  provisional: (res: SipResponse) => void;
  /** 2xx: the ACK is already sent. */
  answered: (dialog: Dialog, res: SipResponse) => void;
  /** Final >= 300 (487 after cancel too), timeout (no response), transport error. */
  failed: (res: SipResponse | undefined, reason: string) => void;
}

export interface OutgoingInvite extends TypedEmitter<OutgoingInviteEvents> {
  readonly callId: string;
  /** When true, a 200 that crosses our CANCEL is passed up as 'answered' instead of ACK + BYE. */
  acceptAnswerAfterCancel: boolean;
  cancel(reason?: string): void;
}

export interface OutgoingHost extends DialogHost {
  sendInviteTx(req: SipRequest, dest: Endpoint, tu: ClientTransactionUser): InviteClientTransaction;
  addDialog(d: Dialog): void;
  outgoingDone(o: OutgoingInviteImpl): void;
}

type Phase = 'calling' | 'answered' | 'failed';

export class OutgoingInviteImpl extends TypedEmitter<OutgoingInviteEvents> implements OutgoingInvite {
  readonly callId: string;
  private readonly fromValue: string;
  private readonly toValue: string;
  private readonly dest: Endpoint;
  private readonly attempt = new AuthAttempt();
  private readonly timers = new StateTimers();
  private cseq = 1;
  private request!: SipRequest;
  private tx?: InviteClientTransaction;
  private phase: Phase = 'calling';
  private provisionalSeen = false;
  private cancelReason?: string;
  private cancelSent = false;
  private dialog?: Dialog;
  acceptAnswerAfterCancel = false;

  constructor(
    private readonly host: OutgoingHost,
    private readonly opts: InviteOptions,
  ) {
    super();
    this.callId = newCallId(host.sentBy.host);
    this.fromValue = withTag(opts.from, newTag());
    this.toValue = formatNameAddr(opts.to);
    this.dest = opts.via ?? uriEndpoint(opts.target);
  }

  start(): this {
    this.send([]);
    return this;
  }

  private send(auth: Array<[string, string]>): void {
    this.request = buildRequest({
      method: 'INVITE',
      uri: this.opts.target,
      from: this.fromValue,
      to: this.toValue,
      callId: this.callId,
      cseq: this.cseq,
      via: { ...this.host.sentBy, branch: newBranch() },
      contact: this.host.contact(this.opts.from.uri.user),
      body: Buffer.from(this.opts.sdp),
      contentType: 'application/sdp',
      headers: [...(this.opts.headers ?? []), ...auth],
      userAgent: this.host.userAgent,
    });
    this.provisionalSeen = false;
    this.cancelSent = false;
    this.tx = this.host.sendInviteTx(this.request, this.dest, {
      response: (res) => this.onResponse(res),
      failed: (reason, detail) => this.onFailed(reason, detail),
    });
  }

  private onResponse(res: SipResponse): void {
    if (this.phase !== 'calling') return;
    if (res.status < 200) return this.onProvisional(res);
    if (res.status < 300) return this.onSuccess(res);
    if ((res.status === 401 || res.status === 407) && this.cancelReason === undefined) {
      // §22.2: same Call-ID and From tag, CSeq + 1, new branch, credentials added.
      const auth = this.host.auth.authorize(this.request, res, this.attempt);
      if (auth) {
        this.cseq++;
        this.send(auth);
        return;
      }
    }
    this.finish('failed');
    this.emit('failed', res, `${res.status} ${res.reason}`);
  }

  private onProvisional(res: SipResponse): void {
    this.provisionalSeen = true;
    if (this.cancelReason !== undefined && !this.cancelSent) this.sendCancel();
    if (res.status > 100) this.emit('provisional', res);
  }

  /** §13.2.2.4: the UAC core builds the dialog and sends the ACK itself. */
  private onSuccess(res: SipResponse): void {
    const dialog = this.createDialog(res);
    dialog.sendAck(this.cseq);
    if (this.cancelReason !== undefined && !this.acceptAnswerAfterCancel) {
      // The 200 crossed our CANCEL (§9.1 race): the call is not wanted any more.
      this.finish('failed');
      void dialog.bye();
      this.emit('failed', res, 'answered after CANCEL: ACK and BYE sent');
      return;
    }
    this.dialog = dialog;
    this.finish('answered');
    this.emit('answered', dialog, res);
  }

  /** §12.1.2: route set = Record-Route reversed, remote target = Contact. */
  private createDialog(res: SipResponse): Dialog {
    const d = new Dialog(this.host, {
      role: 'uac',
      callId: this.callId,
      localTag: tagOf(this.fromValue) ?? '',
      remoteTag: tagOf(res.headers.get('to')) ?? '',
      localParty: this.fromValue,
      remoteParty: res.headers.get('to') ?? this.toValue,
      localSeq: this.cseq,
      routeSet: res.headers.getAll('record-route').reverse(),
      remoteTarget: contactUri(res) ?? this.opts.target,
      localSdp: this.opts.sdp,
      remoteSdp: res.body.toString(),
      localUser: this.opts.from.uri.user,
    });
    this.host.addDialog(d);
    return d;
  }

  /** A 2xx outside its transaction and dialog: a retransmission for our (closed) dialog gets its ACK again; another fork's is ACKed and hung up. */
  lateSuccess(res: SipResponse): void {
    if (this.dialog && this.dialog.remoteTag === tagOf(res.headers.get('to'))) {
      this.dialog.handleSuccessRetransmission(res);
      return;
    }
    const d = this.createDialog(res);
    d.sendAck(this.cseq);
    this.host.logger.info(`extra 2xx for ${this.callId.slice(0, 12)} (To tag ${tagOf(res.headers.get('to'))}): ACK + BYE`);
    void d.bye();
  }

  private onFailed(reason: ClientFailure, detail: string): void {
    if (this.phase !== 'calling') return;
    this.finish('failed');
    const why =
      this.cancelSent ? 'cancelled: no final response' : reason === 'timeout' ? `408 Request Timeout (${detail})` : `503 transport error (${detail})`;
    this.emit('failed', undefined, why);
  }

  /** §9.1: CANCEL only after a provisional response; otherwise as soon as one arrives. */
  cancel(reason?: string): void {
    if (this.phase !== 'calling' || this.cancelReason !== undefined) return;
    this.cancelReason = reason ?? '';
    if (this.provisionalSeen) this.sendCancel();
  }

  /** §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via (branch) as the INVITE. */
  private sendCancel(): void {
    this.cancelSent = true;
    const inv = this.request;
    const headers: Array<[string, string]> = [];
    if (this.cancelReason) headers.push(['reason', reasonHeader(this.cancelReason)]);
    const cancel = buildRequest({
      method: 'CANCEL',
      uri: inv.uri,
      from: this.fromValue,
      to: this.toValue,
      callId: this.callId,
      cseq: this.cseq,
      via: { ...this.host.sentBy, branch: newBranch() },
      routes: inv.headers.getAll('route'),
      headers,
      userAgent: this.host.userAgent,
    });
    cancel.headers.set('via', inv.headers.get('via') ?? '');
    void this.host.sendNonInvite(cancel, this.dest).then((res) => {
      if (res.status >= 300) this.host.logger.info(`CANCEL answered ${res.status} ${res.reason}`);
    });
    // §9.1: if no final response comes within 64*T1 of the CANCEL, give up on the INVITE.
    this.timers.start('cancel', 64 * this.host.timers.T1, () => this.tx?.abandon());
  }

  private finish(phase: Phase): void {
    this.phase = phase;
    this.timers.clearAll();
    // Keep listening for forked / retransmitted 2xx for 64*T1, then forget.
    this.timers.start('linger', 64 * this.host.timers.T1, () => this.host.outgoingDone(this));
  }

  /** UA stop: no more timers; a call still being set up fails. */
  destroy(): void {
    this.timers.clearAll();
    this.tx?.destroy();
    if (this.phase === 'calling') {
      this.phase = 'failed';
      this.emit('failed', undefined, 'UA stopped');
    }
  }
}

/** RFC 3326: a bare text becomes `SIP;cause=487;text="..."`; a full value passes unchanged. */
function reasonHeader(r: string): string {
  if (/^(SIP|Q\.850)\s*;/i.test(r)) return r;
  return `SIP;cause=487;text="${r.replace(/["\\\r\n]/g, '')}"`;
}
