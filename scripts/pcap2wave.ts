/**
 * pcap2wave IN.pcap [OUT.wav] [--mix]
 *
 * Converts a G.711 call capture (a recording of this appliance, or any
 * tshark/Wireshark capture) to an 8 kHz 16-bit WAV: caller left, what the
 * caller heard right; --mix gives one mono channel. Prints one line saying
 * what it wrote. Exit codes: 0 written, 1 bad input or write failure,
 * 2 bad command line. Errors are one line on stderr, never a stack trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pcap2wave, Pcap2WaveError } from '../src/record/pcap2wave.js';
import type { StreamStats } from '../src/record/timeline.js';

const USAGE = 'usage: pcap2wave IN.pcap [OUT.wav] [--mix]';

function describe(streams: StreamStats[]): string {
  const lost = streams.reduce((n, s) => n + s.lost, 0);
  return `${streams.length} stream${streams.length === 1 ? '' : 's'}${lost ? `, ${lost} lost` : ''}`;
}

function main(argv: string[]): number {
  const mix = argv.includes('--mix');
  const files = argv.filter((a) => a !== '--mix');
  if (files.length < 1 || files.length > 2 || files.some((f) => f.startsWith('-'))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const input = files[0];
  const output = files[1] ?? `${input.replace(/\.(pcapng|pcap|cap)$/i, '')}.wav`;
  try {
    const r = pcap2wave(readFileSync(input), { mix });
    for (const w of r.warnings) process.stderr.write(`pcap2wave: warning: ${input}: ${w}\n`);
    writeFileSync(output, r.wav);
    const layout = r.channels === 1 ? 'mono mix' : r.mode === 'roles' ? 'stereo (left caller, right what the caller heard)' : 'stereo (left first RTP source, right its peer)';
    process.stdout.write(
      `pcap2wave: wrote ${output}: ${r.durationSec.toFixed(2)} s, ${layout}, left ${describe(r.left)}, right ${describe(r.right)}, codec ${r.codecs.join('+')}\n`,
    );
    return 0;
  } catch (e) {
    const msg = e instanceof Pcap2WaveError ? e.message : e instanceof Error ? ((e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code}: ${e.message}` : e.message) : String(e);
    process.stderr.write(`pcap2wave: error: ${input}: ${msg}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
