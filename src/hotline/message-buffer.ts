/**
 * The caller's message as 8 kHz PCM, placed by RTP timestamp (RFC 3550
 * §5.1: the timestamp is the sampling instant of the first octet): a lost
 * packet leaves silence of its length, a late or repeated one lands where
 * it belongs, so the WAV keeps the caller's own timing (as pcap2wave does
 * for the call recording). One packet's samples are G.711 octets, one per
 * sample at 8 kHz.
 *
 * A new SSRC (the PBX switched streams) or a jump larger than `maxGap`
 * samples (a timestamp discontinuity, not a loss: the message ends after a
 * few seconds without packets) continues right after what was heard.
 */
import { ALAW_TO_PCM, ULAW_TO_PCM, type G711Law } from '../media/g711.js';

/** A packet whose RMS is above this counts as speech: about -40 dBFS, well above line noise and G.711 idle patterns. */
export const SPEECH_RMS = 330;

export class MessageBuffer {
  private pcm: Int16Array;
  /** Samples up to the end of the latest audio placed. */
  length = 0;
  /** End (in samples) of the latest packet that held speech; 0 = nothing said yet. */
  speechEnd = 0;
  private ssrc: number | undefined;
  private refTs = 0;
  private refIndex = 0;

  constructor(
    /** The cap: the message is at most this many samples. */
    readonly maxSamples: number,
    private readonly maxGap = 8000 * 10,
  ) {
    this.pcm = new Int16Array(Math.min(maxSamples, 8000 * 10));
  }

  get spoke(): boolean {
    return this.speechEnd > 0;
  }

  /**
   * Place one packet's G.711 payload `bytes[start, end)`. Returns whether it
   * held speech; `full` is set once the cap is reached (the rest is dropped).
   */
  place(law: G711Law, bytes: Uint8Array, start: number, end: number, timestamp: number, ssrc: number): { speech: boolean; full: boolean } {
    const at = this.indexOf(timestamp, ssrc);
    const n = Math.min(end - start, this.maxSamples - at);
    if (at < 0 || n <= 0) return { speech: false, full: at >= this.maxSamples };
    this.grow(at + n);
    const table = law === 'PCMA' ? ALAW_TO_PCM : ULAW_TO_PCM;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const s = table[bytes[start + i]];
      this.pcm[at + i] = s;
      energy += s * s;
    }
    this.length = Math.max(this.length, at + n);
    const speech = Math.sqrt(energy / n) > SPEECH_RMS;
    if (speech) this.speechEnd = Math.max(this.speechEnd, at + n);
    return { speech, full: at + n >= this.maxSamples };
  }

  /** The samples heard, up to `end` (default: everything). */
  samples(end = this.length): Int16Array {
    return this.pcm.subarray(0, Math.min(end, this.length));
  }

  private indexOf(timestamp: number, ssrc: number): number {
    if (this.ssrc === undefined || ssrc !== this.ssrc) return this.rebase(timestamp, ssrc);
    const delta = (timestamp - this.refTs) | 0; // signed: wraps at 2^32 (RFC 3550 §5.1)
    const at = this.refIndex + delta;
    if (delta > this.maxGap || at < this.length - this.maxGap) return this.rebase(timestamp, ssrc);
    if (delta > 0) {
      this.refTs = timestamp;
      this.refIndex = at;
    }
    return at;
  }

  private rebase(timestamp: number, ssrc: number): number {
    this.ssrc = ssrc;
    this.refTs = timestamp;
    this.refIndex = this.length;
    return this.length;
  }

  private grow(need: number): void {
    if (need <= this.pcm.length) return;
    let size = this.pcm.length;
    while (size < need) size *= 2;
    const bigger = new Int16Array(Math.min(size, this.maxSamples));
    bigger.set(this.pcm);
    this.pcm = bigger;
  }
}
