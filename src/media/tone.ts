/**
 * Call-progress tones, generated as 8 kHz PCM (then encoded per codec by
 * `Prompt`). A tone is a list of segments; each segment is silence or a
 * sum of sines. Played in a loop for ringback.
 */

export interface ToneSegment {
  /** Frequencies in Hz; empty = silence. */
  freqs: number[];
  ms: number;
}

/** Peak level of a tone, as a fraction of full scale (about -10 dBFS). */
export const DEFAULT_LEVEL = 0.3;

/** Render segments to PCM. Each sine restarts at phase 0 per segment (clean on/off). */
export function renderTone(segments: readonly ToneSegment[], level = DEFAULT_LEVEL): Int16Array {
  const total = segments.reduce((n, s) => n + Math.round((s.ms * 8000) / 1000), 0);
  const out = new Int16Array(total);
  let at = 0;
  for (const seg of segments) {
    const n = Math.round((seg.ms * 8000) / 1000);
    if (seg.freqs.length > 0) {
      const amp = (level * 32767) / seg.freqs.length;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (const f of seg.freqs) v += Math.sin((2 * Math.PI * f * i) / 8000);
        out[at + i] = Math.round(v * amp);
      }
    }
    at += n;
  }
  return out;
}

export interface RingbackOptions {
  freq?: number;
  onMs?: number;
  offMs?: number;
}

/** One ringback period; European default: 425 Hz, 1 s on, 4 s off (ETSI TR 101 041). */
export function ringback(o: RingbackOptions = {}): Int16Array {
  return renderTone([
    { freqs: [o.freq ?? 425], ms: o.onMs ?? 1000 },
    { freqs: [], ms: o.offMs ?? 4000 },
  ]);
}

/** Confirmation: two short rising beeps (feature code accepted). */
export function confirmationBeeps(): Int16Array {
  return renderTone([
    { freqs: [880], ms: 150 },
    { freqs: [], ms: 100 },
    { freqs: [1320], ms: 150 },
    { freqs: [], ms: 200 },
  ]);
}

/** Error: the special information tone, 950 / 1400 / 1800 Hz, 330 ms each (ITU-T Q.35 style). */
export function errorTone(): Int16Array {
  return renderTone([
    { freqs: [950], ms: 330 },
    { freqs: [1400], ms: 330 },
    { freqs: [1800], ms: 330 },
    { freqs: [], ms: 1000 },
  ]);
}

/** A DTMF digit as audio (for in-band tests and trunk simulations), Q.23 frequencies. */
export function dtmfTone(digit: string, ms = 100, level = DEFAULT_LEVEL): Int16Array {
  const f = DTMF_FREQS[digit.toUpperCase()];
  if (!f) throw new Error(`not a DTMF digit: "${digit}"`);
  return renderTone([{ freqs: f, ms }], level);
}

const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];
export const DTMF_FREQS: Record<string, [number, number]> = {};
for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) DTMF_FREQS[KEYS[r][c]] = [ROWS[r], COLS[c]];
export const DTMF_ROWS: readonly number[] = ROWS;
export const DTMF_COLS: readonly number[] = COLS;
export const DTMF_KEYS: readonly string[] = KEYS;
