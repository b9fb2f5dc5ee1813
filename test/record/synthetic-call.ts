/**
 * A synthetic emergency call as the hotline's RTP taps would see it: the
 * caller sends a 1 kHz tone (PCMA) with a silent gap (no packets, as with
 * silence suppression), two technician hops send 440 Hz (PCMU) with their
 * own SSRC and timestamp base, and the appliance relays each way.
 */
import type { Role } from '../../src/record/recorder.js';
import { rtpPacket, toneG711 } from './helpers.js';

export interface TapPacket {
  role: Role;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  rtp: Buffer;
  timeMs: number;
}

export const CALLER = { address: '127.0.0.1', port: 40000 };
export const APP_CALLER_LEG = { address: '127.0.0.1', port: 30000 };
export const TECHS = [
  { ep: { address: '127.0.0.1', port: 41000 }, leg: { address: '127.0.0.1', port: 30002 }, from: 0, to: 2500, ssrc: 0x33330001, relaySsrc: 0x22220001, tsBase: 12345 },
  { ep: { address: '127.0.0.1', port: 42000 }, leg: { address: '127.0.0.1', port: 30004 }, from: 2500, to: 6000, ssrc: 0x33330002, relaySsrc: 0x22220002, tsBase: 987654321 },
];
export const CALL_MS = 6000;
/** The caller sends nothing during this interval. */
export const CALLER_GAP = [2000, 2500] as const;

export function syntheticCall(startMs: number): TapPacket[] {
  const seconds = CALL_MS / 1000 + 1;
  const caller = toneG711('PCMA', 1000, seconds);
  const tech = toneG711('PCMU', 440, seconds);
  const callerAsPcma = caller; // the relay forwards the caller's PCMA as is
  const out: TapPacket[] = [];
  const techSeq = [100, 60000]; // the second hop wraps its sequence number
  let callerSeq = 500;
  for (let t = 0; t < CALL_MS; t += 20) {
    const at = startMs + t + (t % 60) / 10; // a little arrival jitter
    const slice = (b: Buffer): Buffer => b.subarray(t * 8, t * 8 + 160);
    const silent = t >= CALLER_GAP[0] && t < CALLER_GAP[1];
    if (!silent) out.push({ role: 'caller', src: CALLER, dst: APP_CALLER_LEG, rtp: rtpPacket(8, callerSeq++, 7000 + t * 8, 0x11111111, slice(caller)), timeMs: at });
    TECHS.forEach((h, i) => {
      if (t < h.from || t >= h.to) return;
      const ts = h.tsBase + (t - h.from) * 8;
      const seq = techSeq[i]++;
      out.push({ role: 'technician', src: h.ep, dst: h.leg, rtp: rtpPacket(0, seq, ts, h.ssrc, slice(tech)), timeMs: at + 0.3 });
      out.push({ role: 'appliance', src: APP_CALLER_LEG, dst: CALLER, rtp: rtpPacket(0, seq, ts, h.relaySsrc, slice(tech)), timeMs: at + 0.4 });
      if (!silent) out.push({ role: 'appliance', src: h.leg, dst: h.ep, rtp: rtpPacket(8, seq, ts, h.relaySsrc + 0x100, slice(callerAsPcma)), timeMs: at + 0.5 });
    });
  }
  return out;
}
