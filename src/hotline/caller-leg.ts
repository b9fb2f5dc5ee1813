/**
 * The caller's leg: the INVITE we answer, its RTP endpoint (DTMF whatever
 * the form: RFC 4733 with the caller's payload type, SIP INFO, in-band) and
 * what it hears (prompts, ringback, the technician once bridged).
 */
import type { CardConfig } from '../config/card.js';
import { MediaEndpoint } from '../media/media-endpoint.js';
import { LocalSdp, answerOffer } from '../media/offer-answer.js';
import type { RtpSocket } from '../media/port-pool.js';
import { Prompt, PromptPlayer, type PlayEnd } from '../media/prompt-player.js';
import { RtpSession, type RtpTap } from '../media/rtp-session.js';
import type { Dialog } from '../sip/dialog.js';
import type { IncomingInvite } from '../sip/ua-incoming.js';
import { sanitizeNumber } from '../tickets/ticket-name.js';
import { errText, type Logger } from '../util/log.js';
import type { HotlineServices } from './services.js';
import { callerNumber, dialableCaller } from './caller-id.js';

export class CallerLeg {
  private player: PromptPlayer | undefined;
  private closed = false;
  private readonly hangupListeners: Array<() => void> = [];
  private gone = false;

  private constructor(
    readonly dialog: Dialog,
    readonly media: MediaEndpoint,
    /** The caller's number as it goes into tickets and messages (sanitized). */
    readonly number: string,
    private readonly log: Logger,
  ) {
    dialog.on('bye', () => this.hungUp());
    dialog.on('closed', () => this.hungUp());
    dialog.on('info', (body, type) => {
      media.onInfo(type, body);
    });
  }

  /**
   * Answer the INVITE with our SDP (RFC 3264): 488 when no codec is common,
   * 503 when no RTP port is free. Resolves once the ACK came; undefined when
   * the call could not be answered (already responded and logged).
   * `noPortLog`: where "no port" goes; a flood repeats it at will, so the
   * hotline passes a rate-limited log (sip/rate-log.ts).
   */
  static async answer(
    inv: IncomingInvite,
    config: CardConfig,
    svc: HotlineServices,
    log: Logger,
    noPortLog: Pick<Logger, 'error'> = log,
  ): Promise<CallerLeg | undefined> {
    let sock: RtpSocket;
    try {
      // not keyed yet: the reserve is for the technician legs of callers who pressed the key
      sock = await svc.pool.allocate('waiting');
    } catch (e) {
      noPortLog.error(`no RTP port for the caller ${sanitizeNumber(callerNumber(inv.request))}: ${errText(e)}; answering 503`);
      inv.respond(503, 'No Media Port Free');
      return undefined;
    }
    let answer;
    try {
      answer = answerOffer(inv.sdp, config.pbx.codecs, { address: svc.mediaAddress, port: sock.port }, new LocalSdp(svc.mediaAddress));
    } catch (e) {
      sock.close();
      const status = (e as { status?: number }).status ?? 488;
      log.warn(`caller's SDP refused (${status}): ${errText(e)}`);
      inv.respond(status === 400 ? 400 : 488, status === 400 ? 'Bad SDP' : 'Not Acceptable Here');
      return undefined;
    }
    const media = new MediaEndpoint(new RtpSession(sock, answer.media, { log }), log);
    // Digits may arrive before the ACK: listeners attach to `media` right after this returns,
    // and nothing is lost meanwhile because the first RTP packet can only follow our 200.
    let dialog: Dialog;
    try {
      dialog = await inv.accept(answer.sdp);
    } catch (e) {
      media.close();
      log.warn(`caller's call not established: ${errText(e)}`);
      return undefined;
    }
    return new CallerLeg(dialog, media, dialableCaller(callerNumber(inv.request), config), log);
  }

  get session(): RtpSession {
    return this.media.session;
  }

  get hasHungUp(): boolean {
    return this.gone;
  }

  onHangup(fn: () => void): void {
    if (this.gone) fn();
    else this.hangupListeners.push(fn);
  }

  setTap(tap: RtpTap | undefined): void {
    this.session.setTap(tap);
  }

  /** Play a prompt (stopping what played before); resolves when it ends or is stopped. */
  play(prompt: Prompt, loop = false): Promise<PlayEnd> {
    this.stopPlaying();
    if (this.closed) return Promise.resolve('closed');
    const p = new PromptPlayer(this.session, prompt, { loop });
    this.player = p;
    const done = new Promise<PlayEnd>((resolve) => p.once('done', resolve));
    p.start();
    return done;
  }

  stopPlaying(): void {
    const p = this.player;
    this.player = undefined;
    p?.stop();
  }

  /** We hang up: BYE (if the caller is still there), then close the media. */
  async release(): Promise<void> {
    this.stopPlaying();
    if (!this.gone && !this.dialog.closed) {
      this.gone = true;
      try {
        await this.dialog.bye();
      } catch (e) {
        this.log.warn(`BYE to the caller failed: ${errText(e)}`);
      }
    }
    this.close();
  }

  /** Idempotent: stop playing, give the RTP port back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPlaying();
    this.media.close();
  }

  private hungUp(): void {
    if (this.gone) return;
    this.gone = true;
    this.stopPlaying();
    for (const fn of this.hangupListeners.splice(0)) fn();
  }
}
