/**
 * Prompt playback on an RTP session.
 *
 * `Prompt` holds 8 kHz PCM (from a WAV or a tone) and encodes it once per
 * law on first use. `PromptPlayer` sends it paced by absolute target
 * times: packet k leaves at t0 + k·ptime, each timer is set to the next
 * target (never setInterval, whose errors accumulate), so the mean rate
 * stays exact whatever the timer jitter. After a long stall (event loop
 * blocked) it resumes where it was instead of bursting the backlog: the
 * schedule moves by the stall, no audio is lost, seq and timestamps stay
 * consecutive (the receiver sees one late stretch, as with network jitter).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { SILENCE, encode, type G711Law } from './g711.js';
import type { RtpSession } from './rtp-session.js';
import { newSourceKey } from './rtp-stream.js';
import { readWav } from './wav.js';

export class Prompt {
  private readonly cache = new Map<G711Law, Buffer>();

  constructor(
    readonly name: string,
    readonly pcm: Int16Array,
  ) {}

  static fromWav(file: string): Prompt {
    return new Prompt(file, readWav(file));
  }

  /**
   * One prompt made of `parts` in order, with `gapMs` of silence between
   * two parts (not before the first or after the last): a sentence joined
   * from pieces, e.g. "Press" + "five". Samples are copied once.
   */
  static concat(name: string, parts: readonly Prompt[], gapMs = 0): Prompt {
    const gap = Math.max(0, Math.round(gapMs * 8));
    const total = parts.reduce((n, p) => n + p.pcm.length, 0) + gap * Math.max(0, parts.length - 1);
    const pcm = new Int16Array(total); // zero-filled: the gaps are silence
    let at = 0;
    parts.forEach((p, i) => {
      if (i > 0) at += gap;
      pcm.set(p.pcm, at);
      at += p.pcm.length;
    });
    return new Prompt(name, pcm);
  }

  /** Duration in ms. */
  get ms(): number {
    return this.pcm.length / 8;
  }

  /** The prompt encoded in `law`, computed once. */
  encoded(law: G711Law): Buffer {
    let b = this.cache.get(law);
    if (!b) {
      b = encode(law, this.pcm);
      this.cache.set(law, b);
    }
    return b;
  }
}

export type PlayEnd = 'end' | 'stopped' | 'closed';

export interface PromptPlayerOptions {
  /** Repeat until stopped (tones, ringback). */
  loop?: boolean;
  /** Monotonic clock in ms. */
  now?: () => number;
}

/** More packets late than this (200 ms at 20 ms ptime) and the schedule moves instead of bursting. */
const MAX_BURST = 10;

export class PromptPlayer extends EventEmitter<{ done: [reason: PlayEnd] }> {
  private readonly key = newSourceKey();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private k = 0;
  private running = false;
  private finished = false;
  /** Packets handed to the session. */
  sent = 0;
  /** Stalls after which the schedule was moved. */
  stalls = 0;

  constructor(
    private readonly session: RtpSession,
    private readonly prompt: Prompt,
    private readonly opts: PromptPlayerOptions = {},
  ) {
    super();
    this.now = opts.now ?? (() => performance.now());
  }

  get playing(): boolean {
    return this.running;
  }

  start(): this {
    if (this.running || this.finished) return this;
    this.running = true;
    this.t0 = this.now();
    this.k = 0;
    this.tick();
    return this;
  }

  /** Stop now; 'done' is emitted once ('stopped'). Harmless when already ended. */
  stop(): void {
    this.finish('stopped');
  }

  private finish(reason: PlayEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.emit('done', reason);
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running) return;
    if (this.session.isClosed) return this.finish('closed');
    const ptime = this.session.negotiated.ptime;
    const now = this.now();
    let due = Math.floor((now - this.t0) / ptime) + 1 - this.k;
    if (due > MAX_BURST) {
      this.stalls++;
      this.t0 += (due - 1) * ptime;
      due = 1;
    }
    for (let i = 0; i < due; i++) {
      if (!this.sendPacket(ptime)) return this.finish('end');
    }
    const next = this.t0 + this.k * ptime;
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - this.now()));
  }

  /** Send packet k; false when a non-looping prompt is over. */
  private sendPacket(ptime: number): boolean {
    const samples = ptime * 8;
    const law = this.session.negotiated.codec;
    const audio = this.prompt.encoded(law);
    let pos = this.k * samples;
    if (this.opts.loop) pos = audio.length > 0 ? pos % audio.length : 0;
    else if (pos >= audio.length) return false;
    const payload = Buffer.allocUnsafe(samples);
    const n = Math.min(samples, audio.length - pos);
    if (n > 0) audio.copy(payload, 0, pos, pos + n);
    if (n < samples) {
      if (this.opts.loop && audio.length > 0) {
        for (let i = n; i < samples; i++) payload[i] = audio[(pos + i) % audio.length];
      } else payload.fill(SILENCE[law], Math.max(0, n));
    }
    this.session.sendPayload(payload, this.session.payloadTypeOf(law), this.k === 0, this.key, this.k & 0xffff, (this.k * samples) >>> 0);
    this.sent++;
    this.k++;
    return true;
  }
}
