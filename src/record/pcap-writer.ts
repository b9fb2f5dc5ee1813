/**
 * Classic pcap (libpcap) writer for RTP packets. Each packet is framed with a
 * synthesized Ethernet II + IPv4 + UDP header around the real RTP bytes, the
 * addresses and ports being the real endpoints, so Wireshark's RTP analysis
 * and player (and `tshark -d udp.port==X,rtp`) work as on a live capture.
 *
 * Role MACs: the Ethernet addresses carry who sent and who received the
 * packet, without affecting any dissector (they are locally administered
 * unicast addresses, 02:...):
 *   02:00:00:00:00:00  the appliance (prompts, ringback, relayed audio)
 *   02:00:00:00:00:01  the caller
 *   02:00:00:00:00:02  a technician
 *   02:00:00:00:00:ff  unknown (a receiver the recorder could not place)
 * Source MAC = sender, destination MAC = receiver. pcap2wave uses them to
 * build the caller (left) and what-the-caller-heard (right) channels.
 */
import type { Endpoint } from '../sip/message.js';

export type Role = 'caller' | 'technician' | 'appliance';

/** Last byte of the role MAC 02:00:00:00:00:xx. */
export const ROLE_MAC_BYTE: Record<Role, number> = { appliance: 0x00, caller: 0x01, technician: 0x02 };
export const UNKNOWN_MAC_BYTE = 0xff;

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const SNAPLEN = 65535;
export const GLOBAL_HEADER_LEN = 24;
export const RECORD_HEADER_LEN = 16;
/** Ethernet II (14) + IPv4 without options (20) + UDP (8). */
export const FRAME_OVERHEAD = 14 + 20 + 8;
/** Largest UDP payload an IPv4 datagram can carry. */
export const MAX_UDP_PAYLOAD = 65535 - 20 - 8;

/** The 24-byte pcap global header (host byte order is not used: we always write little-endian). */
export function pcapGlobalHeader(linkType = LINKTYPE_ETHERNET, snaplen = SNAPLEN): Buffer {
  const b = Buffer.alloc(GLOBAL_HEADER_LEN);
  b.writeUInt32LE(PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4); // version 2.4
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
}

const ipv4Cache = new Map<string, number>();

/**
 * An IPv4 address as a 32-bit number; IPv4-mapped IPv6 (::ffff:a.b.c.d) is
 * accepted. Anything else maps to 0.0.0.0 (the packet is still recorded).
 * Cached: the relay sees the same few addresses all the time.
 */
export function ipv4ToInt(address: string): number {
  const hit = ipv4Cache.get(address);
  if (hit !== undefined) return hit;
  const m = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(address);
  let v = 0;
  if (m) {
    const parts = [m[1], m[2], m[3], m[4]].map(Number);
    if (parts.every((p) => p <= 255)) v = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  }
  if (ipv4Cache.size > 1024) ipv4Cache.clear(); // bound the cache against address churn
  ipv4Cache.set(address, v);
  return v;
}

/** RFC 791 §3.1 / RFC 1071: one's-complement sum of the header's 16-bit words. */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) {
    if (i === 10) continue; // the checksum field itself counts as zero
    sum += (buf[off + i] << 8) | buf[off + i + 1];
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Bytes one record takes in the file for an RTP packet of `rtpLength` bytes. */
export function recordLength(rtpLength: number): number {
  return RECORD_HEADER_LEN + FRAME_OVERHEAD + rtpLength;
}

export interface FrameInfo {
  from: Role;
  /** Receiver role, or undefined when unknown. */
  to: Role | undefined;
  src: Endpoint;
  dst: Endpoint;
  timeMs: number;
  ipId: number;
}

/**
 * Write one pcap record (record header + Ethernet + IPv4 + UDP + RTP) into
 * `buf` at `off`; returns the offset after it. The caller guarantees room
 * (see recordLength) and rtp.length <= MAX_UDP_PAYLOAD. This is the only
 * copy of the RTP bytes on the recording path.
 */
export function writeRecord(buf: Buffer, off: number, f: FrameInfo, rtp: Uint8Array): number {
  const frameLen = FRAME_OVERHEAD + rtp.length;
  let sec = Math.floor(f.timeMs / 1000);
  let usec = Math.round((f.timeMs - sec * 1000) * 1000);
  if (usec >= 1_000_000) {
    sec += 1;
    usec -= 1_000_000;
  }
  buf.writeUInt32LE(sec >>> 0, off);
  buf.writeUInt32LE(usec, off + 4);
  buf.writeUInt32LE(frameLen, off + 8); // incl_len
  buf.writeUInt32LE(frameLen, off + 12); // orig_len
  let p = off + RECORD_HEADER_LEN;
  // Ethernet II: destination, source, EtherType IPv4
  buf.writeUInt32BE(0x02000000, p);
  buf.writeUInt16BE(f.to === undefined ? UNKNOWN_MAC_BYTE : ROLE_MAC_BYTE[f.to], p + 4);
  buf.writeUInt32BE(0x02000000, p + 6);
  buf.writeUInt16BE(ROLE_MAC_BYTE[f.from], p + 10);
  buf.writeUInt16BE(0x0800, p + 12);
  p += 14;
  // IPv4 (RFC 791 §3.1): version 4, IHL 5, no options, DF, TTL 64, UDP
  const ip = p;
  buf.writeUInt16BE(0x4500, ip);
  buf.writeUInt16BE(20 + 8 + rtp.length, ip + 2);
  buf.writeUInt16BE(f.ipId & 0xffff, ip + 4);
  buf.writeUInt16BE(0x4000, ip + 6);
  buf.writeUInt16BE(0x4011, ip + 8); // TTL 64, protocol 17
  buf.writeUInt16BE(0, ip + 10);
  buf.writeUInt32BE(ipv4ToInt(f.src.address), ip + 12);
  buf.writeUInt32BE(ipv4ToInt(f.dst.address), ip + 16);
  buf.writeUInt16BE(ipv4HeaderChecksum(buf, ip), ip + 10);
  p += 20;
  // UDP (RFC 768): checksum 0 = "not computed", allowed over IPv4
  buf.writeUInt16BE(f.src.port & 0xffff, p);
  buf.writeUInt16BE(f.dst.port & 0xffff, p + 2);
  buf.writeUInt16BE(8 + rtp.length, p + 4);
  buf.writeUInt16BE(0, p + 6);
  p += 8;
  buf.set(rtp, p);
  return p + rtp.length;
}
