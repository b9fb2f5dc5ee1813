/**
 * pcap2wave: a G.711 call capture to a WAV file (8 kHz, 16-bit).
 *
 * Channels (stereo by default, `mix` = mono sum, clipped):
 * - Recordings of this appliance carry role MACs (see pcap-writer.ts).
 *   Left = what the caller sent. Right = what the caller HEARD, i.e. every
 *   packet sent to the caller (prompts, ringback, each technician's audio as
 *   relayed). The technician-leg packets are in the file too but are not
 *   added to the right channel again: that would double the technician.
 *   Only when nothing was sent to the caller does the right channel fall
 *   back to what the technicians sent.
 * - Ordinary captures: left = the source endpoint of the first RTP audio
 *   stream, right = everything sent to that endpoint.
 *
 * The WAV covers the capture from its first to its last RTP packet, so the
 * ringing period is there and an answer time can be checked by ear.
 *
 * Absurd times are not audio: a gap of more than MAX_GAP_SEC between two
 * packets (a wall-clock step in a recording made before issue 15, a merged
 * capture of two days) is cut to CUT_GAP_SEC of silence with a warning naming
 * the packet and the gap, and at most MAX_WAV_SEC are converted (the first
 * ones, with a warning): the file is read as far as it makes sense, never a
 * crash on a 56-year gap. A capture without packets (a call cut within its
 * first second) gives an empty WAV and a warning.
 */
import { ALAW_TO_PCM, ULAW_TO_PCM } from '../media/g711.js';
import { decodeUdp, type UdpDatagram } from './frame-decode.js';
import { readCapture, CaptureFormatError } from './pcap-reader.js';
import { ROLE_MAC_BYTE } from './pcap-writer.js';
import { G711_PT, isEventOrNoise, parseRtp, payloadTypeName, type RtpPacket } from './rtp-packet.js';
import { placeChannel, RATE, type AudioPacket, type PlacedAudio, type StreamStats } from './timeline.js';
import { encodeWav } from '../media/wav.js';

export class Pcap2WaveError extends Error {
  override name = 'Pcap2WaveError';
}

export interface Pcap2WaveOptions {
  /** Mono: caller and what the caller heard, summed. */
  mix?: boolean;
  /** Convert at most this many seconds (default MAX_WAV_SEC). */
  maxSeconds?: number;
}

export interface Pcap2WaveResult {
  wav: Buffer;
  channels: 1 | 2;
  durationSec: number;
  /** How channels were assigned: our role MACs, or endpoints of an ordinary capture. */
  mode: 'roles' | 'endpoints';
  left: StreamStats[];
  right: StreamStats[];
  /** Codecs decoded, e.g. ['PCMA', 'PCMU']. */
  codecs: string[];
  /** Not fatal: a truncated file, payload types skipped. */
  warnings: string[];
}

/** A longer gap between two packets of one call is a clock step, not silence. */
export const MAX_GAP_SEC = 3600;
/** What such a gap is cut to: over timeline.ts's RESYNC, so each side is placed by its own arrival. */
export const CUT_GAP_SEC = 2;
/** Longest WAV written: 4 h of stereo 16-bit 8 kHz is 460 MB in memory (on a small board, already a lot). */
export const MAX_WAV_SEC = 4 * 3600;
/** Warnings about gaps, at most (then a count). */
const MAX_GAP_WARNINGS = 5;

interface Candidate {
  /** Frame number in the capture, 1-based (as Wireshark shows it). */
  frame: number;
  timeUs: number;
  udp: UdpDatagram;
  rtp: RtpPacket;
}

const roleMac = (b: number): string => `0200000000${b.toString(16).padStart(2, '0')}`;
const MAC_CALLER = roleMac(ROLE_MAC_BYTE.caller);
const MAC_TECH = roleMac(ROLE_MAC_BYTE.technician);
const OUR_MACS = new Set([roleMac(ROLE_MAC_BYTE.appliance), MAC_CALLER, MAC_TECH]);

export function pcap2wave(input: Buffer, opts: Pcap2WaveOptions = {}): Pcap2WaveResult {
  let cap;
  try {
    cap = readCapture(input);
  } catch (e) {
    if (e instanceof CaptureFormatError) throw new Pcap2WaveError(e.message);
    throw e;
  }
  const warnings: string[] = [];
  if (cap.truncated) warnings.push(`truncated capture: ${cap.truncated}; converted the ${cap.packets.length} whole packets before it`);
  if (cap.packets.length === 0) {
    warnings.push('no packets: the recording ended before any audio (a call cut within its first moments); the WAV is empty');
    return { wav: encodeWav(RATE, [new Int16Array(0), new Int16Array(0)]), channels: 2, durationSec: 0, mode: 'roles', left: [], right: [], codecs: [], warnings };
  }
  const { rtp: all, udpCount } = rtpCandidates(cap.packets);
  const rtp = boundTime(all, opts.maxSeconds ?? MAX_WAV_SEC, warnings);
  if (rtp.length === 0) throw new Pcap2WaveError(`no RTP found (${cap.packets.length} packets, ${udpCount} UDP)`);
  const audio = rtp.filter((c) => !isEventOrNoise(c.rtp));
  const g711 = audio.filter((c) => G711_PT[c.rtp.payloadType] !== undefined);
  const skipped = countBy(audio.filter((c) => G711_PT[c.rtp.payloadType] === undefined), (c) => payloadTypeName(c.rtp.payloadType));
  if (g711.length === 0) {
    const found = skipped.size ? [...skipped].map(([n, k]) => `${n} x${k}`).join(', ') : 'only telephone-events / comfort noise';
    throw new Pcap2WaveError(`no G.711 (PCMA/PCMU) audio among ${rtp.length} RTP packets (found: ${found})`);
  }
  for (const [name, k] of skipped) warnings.push(`skipped ${k} RTP packets of unsupported codec ${name}`);

  const mode = g711.every((c) => c.udp.srcMac !== undefined && OUR_MACS.has(c.udp.srcMac)) ? 'roles' : 'endpoints';
  const [leftPk, rightPk] = mode === 'roles' ? splitByRoles(g711) : splitByEndpoints(g711);
  const t0 = rtp[0].timeUs;
  const span = Math.round(((rtp[rtp.length - 1].timeUs - t0) * RATE) / 1e6);
  const left = placeChannel(leftPk.map(toAudio), t0);
  const right = placeChannel(rightPk.map(toAudio), t0);
  const pcm = render([left.placed, right.placed], span, !!opts.mix);
  const codecs = [...new Set(g711.map((c) => G711_PT[c.rtp.payloadType]))].sort();
  return {
    wav: encodeWav(RATE, pcm),
    channels: pcm.length as 1 | 2,
    durationSec: pcm[0].length / RATE,
    mode,
    left: left.stats,
    right: right.stats,
    codecs,
    warnings,
  };
}

/** UDP packets that parse as RTP, in capture order, from flows of 2+ packets (one stray UDP packet is not a stream). */
function rtpCandidates(packets: { timeUs: number; linkType: number; data: Buffer }[]): { rtp: Candidate[]; udpCount: number } {
  const all: Candidate[] = [];
  let udpCount = 0;
  packets.forEach((p, i) => {
    const udp = decodeUdp(p.linkType, p.data);
    if (!udp) return;
    udpCount++;
    const rtp = parseRtp(udp.payload);
    if (rtp) all.push({ frame: i + 1, timeUs: p.timeUs, udp, rtp });
  });
  const flows = countBy(all, flowKey);
  const rtp = all.filter((c) => (flows.get(flowKey(c)) ?? 0) >= 2 || (c.udp.srcMac !== undefined && OUR_MACS.has(c.udp.srcMac)));
  // Captures are nearly always in time order; a merged file may not be.
  rtp.sort((a, b) => a.timeUs - b.timeUs);
  return { rtp, udpCount };
}

/**
 * Cut gaps longer than MAX_GAP_SEC down to CUT_GAP_SEC (moving the later
 * packets' times), then keep the first MAX_WAV_SEC; `rtp` is in time order.
 */
function boundTime(rtp: Candidate[], maxSec: number, warnings: string[]): Candidate[] {
  let shift = 0;
  let cuts = 0;
  for (let i = 1; i < rtp.length; i++) {
    const c = rtp[i];
    const gap = c.timeUs + shift - rtp[i - 1].timeUs;
    if (gap > MAX_GAP_SEC * 1e6) {
      if (++cuts <= MAX_GAP_WARNINGS) {
        warnings.push(`packet ${c.frame} comes ${duration(gap / 1e6)} after packet ${rtp[i - 1].frame} (a clock step while recording?): the gap is cut to ${CUT_GAP_SEC} s of silence`);
      }
      shift -= gap - CUT_GAP_SEC * 1e6;
    }
    c.timeUs += shift;
  }
  if (cuts > MAX_GAP_WARNINGS) warnings.push(`${cuts - MAX_GAP_WARNINGS} more gaps over ${MAX_GAP_SEC} s cut the same way`);
  if (rtp.length === 0) return rtp;
  const end = rtp[0].timeUs + maxSec * 1e6;
  const kept = rtp.filter((c) => c.timeUs <= end);
  if (kept.length < rtp.length) {
    const span = (rtp[rtp.length - 1].timeUs - rtp[0].timeUs) / 1e6;
    warnings.push(`the capture spans ${duration(span)}: converted its first ${duration(maxSec)} (packets up to ${kept[kept.length - 1].frame}); split it (editcap -A/-B) for the rest`);
  }
  return kept;
}

function duration(sec: number): string {
  if (sec >= 86400 * 365) return `${(sec / (86400 * 365.25)).toFixed(1)} years`;
  if (sec >= 86400) return `${(sec / 86400).toFixed(1)} days`;
  if (sec >= 3600) return `${(sec / 3600).toFixed(1)} h`;
  return `${sec.toFixed(1)} s`;
}

const src = (c: Candidate): string => `${c.udp.srcAddr}:${c.udp.srcPort}`;
const dst = (c: Candidate): string => `${c.udp.dstAddr}:${c.udp.dstPort}`;
const flowKey = (c: Candidate): string => `${src(c)}>${dst(c)}/${c.rtp.ssrc}`;

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

function splitByRoles(g: Candidate[]): [Candidate[], Candidate[]] {
  const left = g.filter((c) => c.udp.srcMac === MAC_CALLER);
  let right = g.filter((c) => c.udp.dstMac === MAC_CALLER);
  if (right.length === 0) right = g.filter((c) => c.udp.srcMac === MAC_TECH);
  return [left, right];
}

function splitByEndpoints(g: Candidate[]): [Candidate[], Candidate[]] {
  const a = src(g[0]);
  return [g.filter((c) => src(c) === a), g.filter((c) => dst(c) === a && src(c) !== a)];
}

function toAudio(c: Candidate): AudioPacket {
  const r = c.rtp;
  return { timeUs: c.timeUs, stream: `${r.ssrc}@${src(c)}`, seq: r.seq, timestamp: r.timestamp, marker: r.marker, law: G711_PT[r.payloadType], payload: r.payload };
}

/** Decode placed packets into channels of equal length; overlapping audio adds up (saturating). */
function render(channels: PlacedAudio[][], span: number, mix: boolean): Int16Array[] {
  let min = 0;
  let end = span;
  for (const ch of channels) {
    for (const a of ch) {
      min = Math.min(min, a.pos);
      end = Math.max(end, a.pos + a.payload.length);
    }
  }
  const frames = end - min;
  const out = mix ? [new Int16Array(frames)] : channels.map(() => new Int16Array(frames));
  channels.forEach((ch, i) => {
    const buf = mix ? out[0] : out[i];
    for (const a of ch) {
      const table = a.law === 'PCMA' ? ALAW_TO_PCM : ULAW_TO_PCM;
      const base = a.pos - min;
      for (let k = 0; k < a.payload.length; k++) {
        const v = buf[base + k] + table[a.payload[k]];
        buf[base + k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
  });
  return out;
}
