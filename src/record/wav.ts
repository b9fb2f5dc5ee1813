/**
 * Standard RIFF/WAVE file, PCM 16-bit little-endian (the format every player
 * opens): 44-byte header then interleaved samples.
 */

export function wavHeader(sampleRate: number, channels: number, frames: number): Buffer {
  const dataBytes = frames * channels * 2;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
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
export function encodeWav(sampleRate: number, channels: Int16Array[]): Buffer {
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
