/**
 * RTP fixed header (RFC 3550 §5.1), read and written in place.
 *
 *  0                   1                   2                   3
 *  V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  timestamp | SSRC | CSRC list (CC x 4) | [extension §5.3.1] | payload | [padding]
 *
 * `rtpBounds()` validates without allocating (the relay's hot path);
 * `parseRtp()` returns an object for everything else. Neither throws.
 */

export const RTP_HEADER_LEN = 12;
/** Larger datagrams are not telephone RTP: dropped unread. */
export const MAX_RTP_BYTES = 1500;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** A view into the datagram (no copy). */
  payload: Buffer;
}

/**
 * Offset of the payload and its end, or -1 when `buf[0..len)` is not a
 * valid RTP packet. Packed as `start * 65536 + end` to avoid an allocation.
 */
export function rtpBounds(buf: Uint8Array, len: number = buf.length): number {
  if (len < RTP_HEADER_LEN || len > MAX_RTP_BYTES) return -1;
  const b0 = buf[0];
  if (b0 >> 6 !== 2) return -1; // RFC 3550 §5.1: version 2
  const pt = buf[1] & 0x7f;
  if (pt >= 72 && pt <= 76) return -1; // RTCP SR/RR/... share the port in RFC 5761; not RTP
  let start = RTP_HEADER_LEN + (b0 & 0x0f) * 4;
  if (start > len) return -1;
  if (b0 & 0x10) {
    // §5.3.1 header extension: 16-bit profile, 16-bit length in words
    if (start + 4 > len) return -1;
    start += 4 + ((buf[start + 2] << 8) | buf[start + 3]) * 4;
    if (start > len) return -1;
  }
  let end = len;
  if (b0 & 0x20) {
    // §5.1 padding: last octet counts the padding octets, itself included
    const pad = buf[len - 1];
    if (pad === 0 || end - pad < start) return -1;
    end -= pad;
  }
  return start * 65536 + end;
}

export function payloadStart(bounds: number): number {
  return Math.floor(bounds / 65536);
}

export function payloadEnd(bounds: number): number {
  return bounds % 65536;
}

/** Parse a datagram; undefined for anything that is not valid RTP. */
export function parseRtp(buf: Buffer): RtpPacket | undefined {
  const bounds = rtpBounds(buf);
  if (bounds < 0) return undefined;
  const cc = buf[0] & 0x0f;
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) csrcs.push(buf.readUInt32BE(RTP_HEADER_LEN + i * 4));
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    seq: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: buf.subarray(payloadStart(bounds), payloadEnd(bounds)),
  };
}

/** Write a 12-byte header without CSRC/extension/padding at `buf[at]`. */
export function writeRtpHeader(buf: Buffer, payloadType: number, marker: boolean, seq: number, timestamp: number, ssrc: number, at = 0): void {
  buf[at] = 0x80;
  buf[at + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf.writeUInt16BE(seq & 0xffff, at + 2);
  buf.writeUInt32BE(timestamp >>> 0, at + 4);
  buf.writeUInt32BE(ssrc >>> 0, at + 8);
}

/** A new packet (header + copy of the payload). */
export function buildRtp(p: { payloadType: number; marker?: boolean; seq: number; timestamp: number; ssrc: number; payload: Uint8Array }): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_LEN + p.payload.length);
  writeRtpHeader(buf, p.payloadType, p.marker ?? false, p.seq, p.timestamp, p.ssrc);
  buf.set(p.payload, RTP_HEADER_LEN);
  return buf;
}
