/**
 * Relay between two legs (caller <-> technician), media anchored here.
 *
 * Per packet: transcode A-law <-> µ-law in place when the legs' codecs
 * differ, map the telephone-event payload type (dropped when the other leg
 * did not negotiate telephone-event), and send through the destination
 * leg's own outgoing stream, which rewrites SSRC/seq/timestamp so that a
 * switch of technician (or from ringback to the bridge) is one continuous
 * stream for the far end (rtp-stream.ts, RFC 3550 §8.2 spirit).
 * No allocation per packet: the received datagram is rewritten and sent.
 *
 * `stop()` is idempotent and leaves both sessions open (they belong to
 * their legs); another relay or a prompt player may take over a session.
 * A session forwards to one relay at a time: starting a relay on a session
 * takes it over, and stopping the older relay later leaves the newer one.
 */
import { transcodeRange } from './g711.js';
import type { RtpIn, RtpObserver, RtpSession } from './rtp-session.js';
import { newSourceKey } from './rtp-stream.js';

export interface RelayStats {
  aToB: number;
  bToA: number;
  /** Packets not forwarded: destination on hold, or events it cannot take. */
  dropped: number;
}

export class Relay {
  readonly stats: RelayStats = { aToB: 0, bToA: 0, dropped: 0 };
  private readonly fwdA: RtpObserver;
  private readonly fwdB: RtpObserver;
  private running = false;

  constructor(
    readonly a: RtpSession,
    readonly b: RtpSession,
  ) {
    // one key base per direction: the same SSRC through another relay is another source
    const keyA = newSourceKey();
    const keyB = newSourceKey();
    this.fwdA = (p) => {
      if (this.forward(p, this.b, keyA)) this.stats.aToB++;
    };
    this.fwdB = (p) => {
      if (this.forward(p, this.a, keyB)) this.stats.bToA++;
    };
  }

  get active(): boolean {
    return this.running;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.a.setForwarder(this.fwdA);
    this.b.setForwarder(this.fwdB);
    return this;
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.a.clearForwarder(this.fwdA);
    this.b.clearForwarder(this.fwdB);
  }

  private forward(p: Readonly<RtpIn>, dst: RtpSession, keyBase: number): boolean {
    if (!dst.canSend) {
      this.stats.dropped++;
      return false;
    }
    let pt: number;
    if (p.kind === 'event') {
      const te = dst.negotiated.telephoneEventPt;
      if (te === undefined) {
        this.stats.dropped++;
        return false;
      }
      pt = te;
    } else {
      const law = dst.negotiated.codec;
      if (p.kind !== law) transcodeRange(p.kind, p.buf, p.start, p.end);
      pt = dst.negotiated.payloadType;
    }
    dst.sendInPlace(p.buf, p.start, p.end, pt, p.marker, keyBase + p.ssrc, p.seq, p.timestamp);
    return true;
  }
}
