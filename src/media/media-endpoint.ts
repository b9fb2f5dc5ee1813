/**
 * One leg's media as the hotline sees it: an RTP session plus DTMF
 * detection, merged into one `digit` event whatever the source:
 *  - RFC 4733 telephone-events on the session,
 *  - in-band tones in the received audio (Goertzel; on by default, turned
 *    off by itself once the leg has sent telephone-events, so a phone that
 *    sends both is not counted twice),
 *  - SIP INFO bodies handed in with `onInfo()`.
 * `close()` is idempotent and closes the session (the port goes back).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../util/log.js';
import { GoertzelDetector } from './dtmf/goertzel.js';
import { parseDtmfInfo } from './dtmf/info.js';
import { Rfc4733Receiver } from './dtmf/rfc4733.js';
import type { NegotiatedMedia } from './offer-answer.js';
import type { PortPool } from './port-pool.js';
import type { RtpIn, RtpSession, RtpSessionOptions } from './rtp-session.js';
import { RtpSession as Session } from './rtp-session.js';

export type DigitSource = 'rfc4733' | 'info' | 'inband';

export interface MediaEndpointEvents {
  digit: [digit: string, source: DigitSource];
}

export interface MediaEndpointOptions extends RtpSessionOptions {
  /** Detect in-band DTMF in the received audio (default true). */
  inband?: boolean;
}

export class MediaEndpoint extends EventEmitter<MediaEndpointEvents> {
  private readonly rfc4733 = new Rfc4733Receiver();
  private readonly goertzel: GoertzelDetector;
  private inband: boolean;
  private sawEvents = false;
  private readonly unobserve: () => void;

  constructor(
    readonly session: RtpSession,
    private readonly log: Logger,
    opts: { inband?: boolean } = {},
  ) {
    super();
    this.inband = opts.inband ?? true;
    this.goertzel = new GoertzelDetector((d) => this.emitDigit(d, 'inband'));
    this.unobserve = session.observe((p) => this.onRtp(p));
  }

  /** Allocate a port and open a session for `media` (the negotiated SDP of this leg). */
  static async open(pool: PortPool, media: NegotiatedMedia, opts: MediaEndpointOptions): Promise<MediaEndpoint> {
    const sock = await pool.allocate();
    return new MediaEndpoint(new Session(sock, media, opts), opts.log, { inband: opts.inband });
  }

  setInband(on: boolean): void {
    this.inband = on;
  }

  /** A SIP INFO request's body; returns the digit if it carried one. */
  onInfo(contentType: string | undefined, body: string | Buffer): string | undefined {
    const d = parseDtmfInfo(contentType, body);
    if (d !== undefined) this.emitDigit(d, 'info');
    return d;
  }

  close(): void {
    this.unobserve();
    this.session.close();
  }

  private onRtp(p: Readonly<RtpIn>): void {
    if (p.kind === 'event') {
      if (!this.sawEvents) {
        this.sawEvents = true;
        this.inband = false;
      }
      const d = this.rfc4733.onPacket(p.buf, p.start, p.end, p.timestamp, p.ssrc);
      if (d !== undefined) this.emitDigit(d, 'rfc4733');
    } else if (this.inband) {
      this.goertzel.pushG711(p.kind, p.buf, p.start, p.end);
    }
  }

  private emitDigit(d: string, source: DigitSource): void {
    this.log.info(`DTMF ${d} (${source})`);
    this.emit('digit', d, source);
  }
}
