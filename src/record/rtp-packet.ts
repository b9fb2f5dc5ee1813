/**
 * RTP header parsing for captures (RFC 3550 §5.1), with the checks that
 * tell RTP from other UDP traffic: version 2, consistent CSRC count,
 * extension and padding lengths, and not RTCP (RFC 5761 §4: payload types
 * 72-76 with the marker bit are RTCP packet types 200-204).
 */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(b: Buffer): RtpPacket | undefined {
  if (b.length < 12) return undefined;
  const b0 = b[0];
  if (b0 >> 6 !== 2) return undefined;
  const pt = b[1] & 0x7f;
  if (pt >= 72 && pt <= 76) return undefined; // RTCP SR/RR/SDES/BYE/APP
  let off = 12 + (b0 & 0x0f) * 4;
  if (off > b.length) return undefined;
  if (b0 & 0x10) {
    // RFC 3550 §5.3.1: 4-byte extension header, length in 32-bit words
    if (off + 4 > b.length) return undefined;
    off += 4 + b.readUInt16BE(off + 2) * 4;
    if (off > b.length) return undefined;
  }
  let end = b.length;
  if (b0 & 0x20) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included
    const padLen = b[b.length - 1];
    if (padLen === 0 || off + padLen > end) return undefined;
    end -= padLen;
  }
  return {
    payloadType: pt,
    marker: (b[1] & 0x80) !== 0,
    seq: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8),
    payload: b.subarray(off, end),
  };
}

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
