/**
 * In-band DTMF detection (ITU-T Q.23 frequencies, Q.24-style checks) with
 * the Goertzel algorithm, for trunks that send key presses as audio.
 *
 * Windows of N = 205 samples (25.6 ms, ~39 Hz resolution at 8 kHz, the
 * classic choice), advancing by half a window. Per window, a digit is
 * seen when:
 *  - the signal is loud enough (RMS over MIN_RMS),
 *  - the strongest row and column tones carry most of the window's energy
 *    (speech, noise and other tones spread theirs),
 *  - each beats the other tones of its group by RELATIVE_PEAK,
 *  - the twist (row/column power ratio) stays within ±MAX_TWIST_DB.
 * A digit is reported when seen in two consecutive windows (a tone of
 * ~40 ms or more), once per burst: the burst ends after two windows
 * without it (a pause of ~50 ms or more).
 */
import { ALAW_TO_PCM, ULAW_TO_PCM, type G711Law } from '../g711.js';
import { DTMF_COLS, DTMF_KEYS, DTMF_ROWS } from '../tone.js';

const N = 205;
const HOP = 102;
const MIN_RMS = 100; // ≈ -50 dBFS
const MIN_TONE_SHARE = 0.6;
const RELATIVE_PEAK = 6; // ≈ 8 dB above the next tone of the same group
const MAX_TWIST_DB = 8;

const FREQS = [...DTMF_ROWS, ...DTMF_COLS];
const COEFF = FREQS.map((f) => 2 * Math.cos((2 * Math.PI * f) / 8000));
const MAX_TWIST = 10 ** (MAX_TWIST_DB / 10);

export class GoertzelDetector {
  private readonly win = new Float64Array(N);
  private fill = 0;
  private readonly power = new Float64Array(8);
  private prev: string | undefined;
  private on: string | undefined;
  private missed = 0;

  constructor(private readonly onDigit: (digit: string) => void) {}

  pushPcm(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length; i++) this.push(pcm[i]);
  }

  /** Feed G.711 bytes `buf[start..end)` decoded with `law` (no allocation). */
  pushG711(law: G711Law, buf: Uint8Array, start: number, end: number): void {
    const table = law === 'PCMA' ? ALAW_TO_PCM : ULAW_TO_PCM;
    for (let i = start; i < end; i++) this.push(table[buf[i]]);
  }

  private push(s: number): void {
    this.win[this.fill++] = s;
    if (this.fill < N) return;
    this.decide(this.analyse());
    this.win.copyWithin(0, HOP);
    this.fill = N - HOP;
  }

  /** The digit this window holds, if any. */
  private analyse(): string | undefined {
    const x = this.win;
    let energy = 0;
    for (let i = 0; i < N; i++) energy += x[i] * x[i];
    if (energy < MIN_RMS * MIN_RMS * N) return undefined;
    for (let f = 0; f < 8; f++) {
      const c = COEFF[f];
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < N; i++) {
        const s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      // |X(f)|² normalised so that one pure sine at f gives 1 (its share of the window energy)
      this.power[f] = (2 * (s1 * s1 + s2 * s2 - c * s1 * s2)) / (N * energy);
    }
    const r = best(this.power, 0);
    const c = best(this.power, 4);
    const pr = this.power[r];
    const pc = this.power[c];
    if (pr + pc < MIN_TONE_SHARE) return undefined;
    if (pr > pc * MAX_TWIST || pc > pr * MAX_TWIST) return undefined;
    for (let i = 0; i < 4; i++) {
      if (i !== r && this.power[i] * RELATIVE_PEAK > pr) return undefined;
      if (i + 4 !== c && this.power[i + 4] * RELATIVE_PEAK > pc) return undefined;
    }
    return DTMF_KEYS[r][c - 4];
  }

  private decide(d: string | undefined): void {
    if (d !== undefined && d === this.prev && d !== this.on) {
      this.on = d;
      this.missed = 0;
      this.onDigit(d);
    } else if (this.on !== undefined && d !== this.on) {
      if (++this.missed >= 2) this.on = undefined;
    } else if (d === this.on) {
      this.missed = 0;
    }
    this.prev = d;
  }
}

function best(p: Float64Array, from: number): number {
  let b = from;
  for (let i = from + 1; i < from + 4; i++) if (p[i] > p[b]) b = i;
  return b;
}
