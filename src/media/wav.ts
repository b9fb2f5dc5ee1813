/**
 * WAV prompts (RIFF/WAVE). Accepted: 8000 Hz mono, 16-bit linear PCM
 * (format 1), A-law (format 6) or µ-law (format 7), also inside
 * WAVE_FORMAT_EXTENSIBLE. Anything else is refused with an error that
 * names the file and says what it should be, so the installer can fix the
 * card (e.g. `sox in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav`).
 */
import { readFileSync } from 'node:fs';
import { ALAW_TO_PCM, ULAW_TO_PCM } from './g711.js';

const WANTED = 'an 8000 Hz mono WAV, 16-bit PCM or G.711 A-law/µ-law (sox in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav)';
/** Prompts are short; a bound keeps a wrong file from filling memory. 10 minutes at 8 kHz 16-bit. */
export const MAX_WAV_BYTES = 10 * 60 * 8000 * 2 + 4096;

export class WavError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}; expected ${WANTED}`);
    this.name = 'WavError';
  }
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_ULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

interface Fmt {
  format: number;
  channels: number;
  rate: number;
  bits: number;
}

function readFmt(buf: Buffer, off: number, size: number, name: string): Fmt {
  if (size < 16) throw new WavError(name, 'fmt chunk too short');
  let format = buf.readUInt16LE(off);
  if (format === FORMAT_EXTENSIBLE && size >= 26) format = buf.readUInt16LE(off + 24); // SubFormat GUID starts with the format code
  return { format, channels: buf.readUInt16LE(off + 2), rate: buf.readUInt32LE(off + 4), bits: buf.readUInt16LE(off + 14) };
}

function checkFmt(f: Fmt, name: string): void {
  if (f.channels !== 1) throw new WavError(name, `${f.channels} channels`);
  if (f.rate !== 8000) throw new WavError(name, `sample rate ${f.rate} Hz`);
  if (f.format === FORMAT_PCM && f.bits !== 16) throw new WavError(name, `${f.bits}-bit PCM`);
  if ((f.format === FORMAT_ALAW || f.format === FORMAT_ULAW) && f.bits !== 8) throw new WavError(name, `${f.bits}-bit G.711`);
  if (f.format !== FORMAT_PCM && f.format !== FORMAT_ALAW && f.format !== FORMAT_ULAW) throw new WavError(name, `audio format code ${f.format}`);
}

function toPcm(f: Fmt, data: Buffer): Int16Array {
  if (f.format === FORMAT_PCM) {
    const n = data.length >> 1;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = data.readInt16LE(i * 2);
    return out;
  }
  const table = f.format === FORMAT_ALAW ? ALAW_TO_PCM : ULAW_TO_PCM;
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = table[data[i]];
  return out;
}

/** Decode a WAV held in memory to 8 kHz 16-bit PCM samples; `name` is used in errors. */
export function parseWav(buf: Buffer, name: string): Int16Array {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError(name, 'not a RIFF/WAVE file');
  }
  let fmt: Fmt | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = readFmt(buf, body, Math.min(size, buf.length - body), name);
      checkFmt(fmt, name);
    } else if (id === 'data') {
      if (!fmt) throw new WavError(name, 'data chunk before fmt chunk');
      // a streaming writer may leave size 0 or 0xFFFFFFFF: take what is there
      const end = size === 0 || body + size > buf.length ? buf.length : body + size;
      return toPcm(fmt, buf.subarray(body, end));
    }
    off = body + size + (size & 1); // chunks are word aligned (RIFF)
  }
  throw new WavError(name, fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Read and decode a WAV file (throws WavError or the file system error). */
export function readWav(file: string): Int16Array {
  const buf = readFileSync(file);
  if (buf.length > MAX_WAV_BYTES) throw new WavError(file, `too large (${buf.length} bytes, prompts are at most 10 minutes)`);
  return parseWav(buf, file);
}

/** The 44-byte RIFF/WAVE header of 16-bit little-endian PCM (the format every player opens). */
export function wavHeader(sampleRate: number, channels: number, frames: number): Buffer {
  const dataBytes = frames * channels * 2;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28); // byte rate
  h.writeUInt16LE(channels * 2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** A WAV file from one or more equally long channels (interleaved in order). */
export function encodeWav(sampleRate: number, channels: readonly Int16Array[]): Buffer {
  const n = channels.length;
  const frames = n ? channels[0].length : 0;
  const out = Buffer.allocUnsafe(44 + frames * n * 2);
  wavHeader(sampleRate, n, frames).copy(out, 0);
  let o = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      out.writeInt16LE(channels[c][i], o);
      o += 2;
    }
  }
  return out;
}

/** A 16-bit PCM mono 8 kHz WAV file image (prompts, tests, tools). */
export function buildWav(pcm: Int16Array): Buffer {
  return encodeWav(8000, [pcm]);
}
