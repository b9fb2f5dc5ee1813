/**
 * One technician leg: our INVITE to an extension (desk) or a mobile number
 * (fork) through the PBX, with an RTP socket of its own. Media is anchored
 * in the appliance: the leg's session is relayed to the caller's once
 * bridged, or for early media (183 with SDP) while it rings.
 *
 * Accept key (issue 10): `confirm()` plays the accept prompt on this leg's
 * session only (the caller's is not involved: the caller keeps hearing
 * ringback) and listens for the key as RFC 4733, SIP INFO or in-band
 * through a MediaEndpoint of its own. The wait is cancelled when the leg
 * ends, whoever ends it.
 */
import { EventEmitter } from 'node:events';
import type { CardConfig } from '../config/card.js';
import { MediaEndpoint } from '../media/media-endpoint.js';
import { LocalSdp, buildOffer, parseAnswer } from '../media/offer-answer.js';
import type { RtpSocket } from '../media/port-pool.js';
import { PromptPlayer, type PlayEnd, type Prompt } from '../media/prompt-player.js';
import { RtpSession, type RtpTap } from '../media/rtp-session.js';
import type { Dialog } from '../sip/dialog.js';
import type { SipResponse } from '../sip/message.js';
import type { OutgoingInvite } from '../sip/ua-outgoing.js';
import { errText, type Logger } from '../util/log.js';
import type { FailCause } from './hunt.js';
import { failCauseOf } from './hunt-causes.js';
import type { HotlineServices } from './services.js';
import { awaitAcceptKey, type AcceptResult } from './accept-prompt.js';

export interface TechnicianLegEvents {
  ringing: [];
  /** 183 with SDP: the leg's session exists and carries the phone's early media. */
  early: [session: RtpSession];
  answered: [];
  failed: [cause: FailCause, why: string];
  /** BYE from the technician after the answer. */
  hungUp: [];
}

/** RFC 3326: why the other forks are cancelled once one answered. */
export const REASON_ANSWERED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

export class TechnicianLeg extends EventEmitter<TechnicianLegEvents> {
  private sock: RtpSocket | undefined;
  private session: RtpSession | undefined;
  private invite: OutgoingInvite | undefined;
  private dialog: Dialog | undefined;
  private readonly localSdp: LocalSdp;
  private closed = false;
  private cancelled = false;
  private byeSent = false;
  private failed = false;
  /** DTMF on this leg: made when a confirmation starts. */
  private endpoint: MediaEndpoint | undefined;
  private player: PromptPlayer | undefined;
  private accepting: { cancel(): void } | undefined;

  constructor(
    readonly id: string,
    /** The technician's extension (what tickets and messages name). */
    readonly ext: string,
    /** Who is rung: the extension itself, or the fork number. */
    readonly target: string,
    private readonly config: CardConfig,
    private readonly svc: HotlineServices,
    private readonly callerNumber: string,
    private readonly tap: RtpTap,
    private readonly log: Logger,
  ) {
    super();
    this.localSdp = new LocalSdp(svc.mediaAddress);
  }

  get media(): RtpSession | undefined {
    return this.session;
  }

  /** Send the INVITE. Failures (no port, transport) come back as 'failed', never as a throw. */
  async start(): Promise<void> {
    try {
      // keyed: may take the ports reserved for the hunt (port-pool.ts)
      this.sock = await this.svc.pool.allocate('keyed');
    } catch (e) {
      // no INVITE was sent: the phone was not rung
      this.fail('unreachable', `not rung, no RTP port: ${errText(e)}`);
      return;
    }
    // cancelled or closed while the port was being bound: give it back, send nothing
    if (this.closed || this.cancelled) {
      this.sock.close();
      return;
    }
    const pbx = this.config.pbx;
    const sdp = buildOffer({ address: this.svc.mediaAddress, port: this.sock.port }, pbx.codecs, this.localSdp);
    const uri = (user: string) => ({ scheme: 'sip' as const, user, host: pbx.domain, params: new Map(), headers: new Map() });
    const inv = this.svc.sip.invite({
      target: uri(this.target),
      via: { address: pbx.pbx.host, port: pbx.pbx.port },
      // the technician's phone shows the caller's number; the From user stays ours so a PBX that checks it accepts the call
      from: { display: this.callerNumber, uri: uri(this.config.xmlNumber), params: new Map() },
      to: { uri: uri(this.target), params: new Map() },
      sdp,
    });
    this.invite = inv;
    inv.on('provisional', (res) => this.onProvisional(res));
    inv.on('answered', (dialog) => this.onAnswered(dialog));
    inv.on('failed', (res, reason) => {
      if (!this.cancelled) this.fail(res ? failCauseOf(res.status) : 'unreachable', res ? `${res.status} ${res.reason}` : reason);
    });
  }

  /**
   * Play `prompt` to this leg (repeated) until it presses `key` or `seconds`
   * pass. Resolves 'timeout' at once if the leg has no media, and
   * 'cancelled' when the leg ends meanwhile (the hunt learns of that from
   * 'hungUp' or from its own hangup).
   */
  confirm(prompt: Prompt, key: string, seconds: number): Promise<AcceptResult> {
    const s = this.session;
    if (!s || this.closed) return Promise.resolve('timeout');
    this.endpoint ??= new MediaEndpoint(s, this.log);
    const wait = awaitAcceptKey({
      endpoint: this.endpoint,
      play: (p: Prompt, loop: boolean) => this.play(p, loop),
      stopPlaying: () => this.stopPlaying(),
      prompt,
      key,
      seconds,
      log: this.log,
    });
    this.accepting = wait;
    // the bridged conversation needs no in-band key detection
    return wait.result.finally(() => this.endpoint?.setInband(false));
  }

  private play(prompt: Prompt, loop: boolean): Promise<PlayEnd> {
    this.stopPlaying();
    const s = this.session;
    if (!s || s.isClosed) return Promise.resolve('closed');
    const p = new PromptPlayer(s, prompt, { loop });
    this.player = p;
    const done = new Promise<PlayEnd>((resolve) => p.once('done', resolve));
    p.start();
    return done;
  }

  private stopPlaying(): void {
    const p = this.player;
    this.player = undefined;
    p?.stop();
  }

  /** CANCEL while it rings (optionally with an RFC 3326 Reason); a 200 crossing it is hung up by the UA. */
  cancel(reason?: string): void {
    if (this.cancelled || this.failed || this.dialog) return;
    this.cancelled = true;
    this.invite?.cancel(reason);
    this.closeMedia();
  }

  /** BYE an answered leg (once). */
  async hangup(): Promise<void> {
    const d = this.dialog;
    this.closeMedia();
    if (d && !d.closed && !this.byeSent) {
      this.byeSent = true;
      try {
        await d.bye();
      } catch (e) {
        this.log.warn(`BYE to ${this.target} failed: ${errText(e)}`);
      }
    }
  }

  /** Idempotent: CANCEL if ringing, BYE if answered, give the port back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.dialog) void this.hangup();
    else this.cancel();
    this.closeMedia();
  }

  private onProvisional(res: SipResponse): void {
    if (res.status === 100 || this.closed) return;
    this.emit('ringing');
    if (res.body.length > 0 && !this.session) {
      const s = this.openSession(res.body.toString());
      if (s) this.emit('early', s);
    }
  }

  private onAnswered(dialog: Dialog): void {
    if (this.closed || this.cancelled) {
      void dialog.bye().catch(() => undefined);
      return;
    }
    this.dialog = dialog;
    dialog.on('bye', () => {
      this.stopConfirming();
      this.emit('hungUp');
    });
    // the accept key may come as SIP INFO (RFC 6086 dtmf-relay), as from the caller
    dialog.on('info', (body, type) => this.endpoint?.onInfo(type, body));
    if (this.session) {
      try {
        this.session.setMedia(parseAnswer(dialog.remoteSdp, this.config.pbx.codecs));
      } catch (e) {
        this.log.warn(`${this.target}: answer SDP unusable (${errText(e)}); keeping the early media's`);
      }
    } else if (!this.openSession(dialog.remoteSdp)) {
      // An answer we cannot use (RFC 3261 §13.2.2.4: ACK, which the dialog
      // sent, then BYE at once). The caller would hear no one: for the hunt
      // this phone did not answer, and the next one rings.
      void this.hangup();
      this.fail('rejected', 'answered without usable SDP: released');
      return;
    }
    this.emit('answered');
  }

  private openSession(sdp: string): RtpSession | undefined {
    if (!this.sock || this.sock.closed) return undefined;
    try {
      const media = parseAnswer(sdp, this.config.pbx.codecs);
      this.session = new RtpSession(this.sock, media, { log: this.log, tap: this.tap });
      return this.session;
    } catch (e) {
      this.log.warn(`${this.target}: SDP unusable: ${errText(e)}`);
      return undefined;
    }
  }

  private fail(cause: FailCause, why: string): void {
    this.failed = true;
    this.closeMedia();
    this.emit('failed', cause, why);
  }

  private stopConfirming(): void {
    this.accepting?.cancel();
    this.accepting = undefined;
    this.stopPlaying();
  }

  private closeMedia(): void {
    this.stopConfirming();
    if (this.endpoint) this.endpoint.close();
    else if (this.session) this.session.close();
    else this.sock?.close();
  }
}
