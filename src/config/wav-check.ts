/**
 * A quick look at a prompt's WAV header, so that `check` tells an installer
 * about a wrong recording before a caller hears nothing. The media layer
 * does the real decoding.
 */
import { open } from 'node:fs/promises';

const HEAD = 4096;

export interface WavFormat {
  format: number; // 1 = PCM, 6 = A-law, 7 = µ-law, 0xFFFE = extensible
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/** The fmt chunk of a RIFF/WAVE buffer (walking chunks: LIST may come first), or a reason it is not one. */
export function wavFormat(buf: Buffer): WavFormat | string {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    return 'is not a WAV file (no RIFF/WAVE header)';
  }
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      if (size < 16 || off + 24 > buf.length) return 'has a truncated fmt chunk';
      return {
        format: buf.readUInt16LE(off + 8),
        channels: buf.readUInt16LE(off + 10),
        sampleRate: buf.readUInt32LE(off + 12),
        bitsPerSample: buf.readUInt16LE(off + 22),
      };
    }
    off += 8 + size + (size % 2); // RIFF chunks are padded to even length
  }
  return 'has no fmt chunk in its first 4 KB';
}

/** What is wrong with the prompt at `path` (undefined when it is 8 kHz mono 16-bit PCM). */
export async function checkPromptFile(path: string): Promise<string | undefined> {
  let buf: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(HEAD), 0, HEAD, 0);
      buf = buffer.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'error'})`;
  }
  const f = wavFormat(buf);
  if (typeof f === 'string') return f;
  if (f.format === 1 && f.channels === 1 && f.sampleRate === 8000 && f.bitsPerSample === 16) return undefined;
  const names: Record<number, string> = { 1: `${f.bitsPerSample}-bit PCM`, 3: 'float', 6: 'A-law', 7: 'u-law', 0xfffe: `${f.bitsPerSample}-bit extensible` };
  const kind = names[f.format] ?? `format ${f.format}`;
  return `is ${f.sampleRate} Hz, ${f.channels} channel(s), ${kind}`;
}
