/**
 * ITU-T G.711 A-law and µ-law. Decoding and A-law <-> µ-law transcoding
 * (the relay's hot path) are 256-entry tables built at load; encoding from
 * linear PCM is computed per sample: it only runs when a prompt or tone is
 * encoded, once per law, and a 64 K-entry table would cost start-up time
 * and memory on a small board for nothing.
 */

function alawDecodeOne(a: number): number {
  a ^= 0x55; // even bits are inverted on the wire (G.711 §A)
  const sign = a & 0x80;
  const exp = (a >> 4) & 0x07;
  const mant = a & 0x0f;
  let v = exp === 0 ? (mant << 4) + 8 : ((mant << 4) + 0x108) << (exp - 1);
  return sign ? v : -v;
}

function ulawDecodeOne(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exp = (u >> 4) & 0x07;
  const mant = u & 0x0f;
  const v = (((mant << 3) + 0x84) << exp) - 0x84;
  return sign ? -v : v;
}

function alawEncodeOne(pcm: number): number {
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  if (pcm > 32767) pcm = 32767;
  let exp = 7;
  for (let m = 0x4000; exp > 0 && (pcm & m) === 0; m >>= 1) exp--;
  const mant = exp === 0 ? (pcm >> 4) & 0x0f : (pcm >> (exp + 3)) & 0x0f;
  return ((exp << 4) | mant) ^ mask;
}

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;
function ulawEncodeOne(pcm: number): number {
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS;
  let exp = 7;
  for (let m = 0x4000; exp > 0 && (pcm & m) === 0; m >>= 1) exp--;
  const mant = (pcm >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

export const ALAW_TO_PCM = new Int16Array(256);
export const ULAW_TO_PCM = new Int16Array(256);
/** Direct A-law <-> µ-law maps (via linear), for the relay's transcoding. */
export const ALAW_TO_ULAW = new Uint8Array(256);
export const ULAW_TO_ALAW = new Uint8Array(256);

for (let i = 0; i < 256; i++) {
  ALAW_TO_PCM[i] = alawDecodeOne(i);
  ULAW_TO_PCM[i] = ulawDecodeOne(i);
}
for (let i = 0; i < 256; i++) {
  ALAW_TO_ULAW[i] = ulawEncodeOne(ALAW_TO_PCM[i]);
  ULAW_TO_ALAW[i] = alawEncodeOne(ULAW_TO_PCM[i]);
}

export type G711Law = 'PCMA' | 'PCMU';

export function encodeSample(law: G711Law, pcm: number): number {
  return law === 'PCMA' ? alawEncodeOne(pcm) : ulawEncodeOne(pcm);
}

export function encode(law: G711Law, pcm: Int16Array): Buffer {
  const one = law === 'PCMA' ? alawEncodeOne : ulawEncodeOne;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = one(pcm[i]);
  return out;
}

export function decode(law: G711Law, bytes: Uint8Array): Int16Array {
  const table = law === 'PCMA' ? ALAW_TO_PCM : ULAW_TO_PCM;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
  return out;
}

/** Convert G.711 payload in place from one law to the other. */
export function transcodeInPlace(from: G711Law, bytes: Uint8Array): void {
  if (from === 'PCMA') for (let i = 0; i < bytes.length; i++) bytes[i] = ALAW_TO_ULAW[bytes[i]];
  else for (let i = 0; i < bytes.length; i++) bytes[i] = ULAW_TO_ALAW[bytes[i]];
}

/** Convert `bytes[start..end)` in place from one law to the other (no view allocated: relay hot path). */
export function transcodeRange(from: G711Law, bytes: Uint8Array, start: number, end: number): void {
  const table = from === 'PCMA' ? ALAW_TO_ULAW : ULAW_TO_ALAW;
  for (let i = start; i < end; i++) bytes[i] = table[bytes[i]];
}

/** The byte each law uses for silence. */
export const SILENCE: Record<G711Law, number> = { PCMA: 0xd5, PCMU: 0xff };
