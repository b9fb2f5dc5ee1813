/**
 * The outgoing RTP stream of one session: one SSRC, monotonic sequence
 * numbers and a timestamp that keeps running with real time, whatever
 * feeds it (prompt player, ringback, relayed technician A, then B).
 *
 * Every packet names its source (`sourceKey`) and carries the source's own
 * seq/timestamp. On a change of source, or a jump in the source's clock,
 * new offsets are computed so that the first packet of the new source
 * follows the last one sent: seq + 1, timestamp + the elapsed time in
 * samples (RFC 3550 §5.1 and the translator/mixer rules of §7 and §8.2:
 * the receiver sees one SSRC that never goes back). Gaps and reordering
 * inside one source are preserved by the constant offsets.
 */

const SAMPLES_PER_MS = 8; // G.711 and telephone-event clock: 8000 Hz
/** A source timestamp jump larger than this (10 s) is treated as a new source. */
const MAX_TS_JUMP = 80000;

let nextBase = 0;
/**
 * A fresh source key base, a multiple of 2^32: a local generator uses it
 * as its key, a relay adds the SSRC it forwards (so the same SSRC coming
 * through two different relays, e.g. two SIPp technicians replaying one
 * pcap, still counts as two sources).
 */
export function newSourceKey(): number {
  nextBase = nextBase >= 2 ** 20 ? 1 : nextBase + 1;
  return nextBase * 2 ** 32;
}

function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

export class RtpStream {
  readonly ssrc: number;
  private seq: number;
  private ts: number;
  private sent = false;
  private lastMs = 0;
  private source = -1;
  private lastSrcTs = 0;
  private seqOffset = 0;
  private tsOffset = 0;
  /** Timestamp increment between the last two packets of one source (one packet's duration). */
  private step = 160;
  /** The output values of the last `next()` call. */
  outSeq = 0;
  outTs = 0;
  /** True when the last `next()` started a new source (set the marker bit, RFC 3551 §4.1). */
  switched = false;

  constructor(
    private readonly now: () => number,
    ssrc = random32(),
  ) {
    this.ssrc = ssrc >>> 0;
    this.seq = random32() & 0xffff;
    this.ts = random32();
  }

  /** Compute seq/timestamp for the next packet of `sourceKey` (results in outSeq/outTs). */
  next(sourceKey: number, srcSeq: number, srcTs: number): void {
    const jump = Math.abs((((srcTs - this.lastSrcTs) | 0) >> 0));
    this.switched = sourceKey !== this.source || jump > MAX_TS_JUMP;
    if (this.switched) {
      let seq = this.seq;
      let ts = this.ts;
      if (this.sent) {
        seq = (this.seq + 1) & 0xffff;
        const elapsed = Math.round((this.now() - this.lastMs) * SAMPLES_PER_MS);
        // never overlap the audio already sent: at least one packet's worth later
        ts = (this.ts + Math.max(this.step, elapsed)) >>> 0;
      }
      this.seqOffset = (seq - srcSeq) & 0xffff;
      this.tsOffset = (ts - srcTs) >>> 0;
      this.source = sourceKey;
    }
    else if (jump > 0 && jump <= 8000) this.step = jump;
    this.lastSrcTs = srcTs;
    this.outSeq = (srcSeq + this.seqOffset) & 0xffff;
    this.outTs = (srcTs + this.tsOffset) >>> 0;
    if (!this.sent || seqNewer(this.outSeq, this.seq)) this.seq = this.outSeq;
    if (!this.sent || tsNewer(this.outTs, this.ts)) this.ts = this.outTs;
    this.sent = true;
    this.lastMs = this.now();
  }
}

function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

function tsNewer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
