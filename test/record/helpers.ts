/**
 * Helpers for the recording tests: real tools only (sox makes the audio and
 * measures it, tshark/capinfos read the pcaps), RTP packets built by hand.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'ticketline-rec-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `seconds` of a sine tone as raw G.711 bytes, made by sox. */
export function toneG711(law: 'PCMA' | 'PCMU', freq: number, seconds: number): Buffer {
  const enc = law === 'PCMA' ? 'a-law' : 'u-law';
  return execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', enc, '-t', 'raw', '-', 'synth', String(seconds), 'sine', String(freq), 'vol', '0.5'], {
    maxBuffer: 64 << 20,
  });
}

export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.set(payload, 12);
  return b;
}

/** The frequency with the most power in one channel (1-based) of a WAV, by sox's spectrum. */
export function dominantFreq(wav: string, channel?: number): number {
  const args = [wav, '-n', ...(channel ? ['remix', String(channel)] : []), 'stat', '-freq'];
  const r = spawnSync('sox', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  let best = 0;
  let freq = NaN;
  for (const line of r.stderr.split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.e+-]+)\s*$/.exec(line);
    if (m && Number(m[2]) > best) [best, freq] = [Number(m[2]), Number(m[1])];
  }
  return freq;
}

/** RMS amplitude (0..1) of one channel over [from, from+len) seconds, by sox. */
export function rms(wav: string, channel: number, from: number, len: number): number {
  const r = spawnSync('sox', [wav, '-n', 'remix', String(channel), 'trim', String(from), String(len), 'stat'], { encoding: 'utf8' });
  const m = /RMS\s+amplitude:\s+([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`sox stat gave no RMS: ${r.stderr}`);
  return Number(m[1]);
}

export interface WavInfo {
  channels: number;
  rate: number;
  seconds: number;
}

export function soxInfo(wav: string): WavInfo {
  const out = (flag: string): string => execFileSync('sox', ['--i', flag, wav], { encoding: 'utf8' }).trim();
  return { channels: Number(out('-c')), rate: Number(out('-r')), seconds: Number(out('-D')) };
}

export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Bundle the CLI the way build.mjs does, into `dir` (tests never depend on a prior build). */
export async function buildCli(dir: string): Promise<string> {
  const outfile = join(dir, 'pcap2wave.cjs');
  await build({ entryPoints: ['scripts/pcap2wave.ts'], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' });
  return outfile;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(cli: string, args: string[]): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
