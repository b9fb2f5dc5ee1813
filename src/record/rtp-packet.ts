/**
 * RTP in captures: the parser is the media engine's (RFC 3550 §5.1 checks
 * that tell RTP from other UDP traffic, RTCP excluded per RFC 5761 §4);
 * here only what pcap2wave adds: which payload types it decodes and names.
 */

import type { RtpPacket } from '../media/rtp-packet.js';

export { parseRtp, type RtpPacket } from '../media/rtp-packet.js';

/** Static payload types this tool decodes (RFC 3551 §6). */
export const G711_PT: Readonly<Record<number, 'PCMU' | 'PCMA'>> = { 0: 'PCMU', 8: 'PCMA' };

/** Names for the static types seen in the wild, for the "unknown codec" message. */
const STATIC_NAMES: Readonly<Record<number, string>> = {
  3: 'GSM',
  4: 'G723',
  9: 'G722',
  13: 'CN',
  18: 'G729',
};

export function payloadTypeName(pt: number): string {
  return G711_PT[pt] ?? STATIC_NAMES[pt] ?? (pt >= 96 ? `dynamic ${pt}` : `PT ${pt}`);
}

/**
 * RFC 4733 telephone-events are 4 bytes per event in a dynamic payload
 * type: not audio, skipped. Comfort noise (PT 13) is skipped too.
 */
export function isEventOrNoise(p: RtpPacket): boolean {
  return p.payloadType === 13 || (p.payloadType >= 96 && p.payload.length % 4 === 0 && p.payload.length <= 16);
}
