/**
 * Classic pcap (libpcap) writer for RTP packets. Each packet is framed with a
 * synthesized Ethernet II + IPv4 + UDP header around the real RTP bytes, the
 * addresses and ports being the real endpoints, so Wireshark's RTP analysis
 * and player (and `tshark -d udp.port==X,rtp`) work as on a live capture.
 * IPv6 endpoints get an IPv6 header (and the UDP checksum IPv6 requires).
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
  // the checksum field itself (bytes 10-11) counts as zero
  return foldComplement(onesSum(buf, off, 10) + onesSum(buf, off + 12, 8));
}

/** True for an address that needs an IPv6 header (IPv4-mapped IPv6 is written as IPv4). */
export function isIpv6(address: string): boolean {
  return address.includes(':') && !(address.includes('.') && /^::ffff:/i.test(address));
}

const ipv6Cache = new Map<string, Uint8Array>();

/** The 16 bytes of an IPv6 address (RFC 4291 §2.2 text forms, zone index ignored); :: when unparsable. */
export function ipv6Bytes(address: string): Uint8Array {
  const hit = ipv6Cache.get(address);
  if (hit) return hit;
  const out = new Uint8Array(16);
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const n = ipv4ToInt(v4[0]);
    text = `${text.slice(0, v4.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const words = halves.length > 1 ? [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail] : head;
  if (halves.length <= 2 && words.length === 8 && words.every((w) => /^[0-9a-f]{1,4}$/i.test(w))) {
    words.forEach((w, i) => {
      const v = parseInt(w, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
  }
  if (ipv6Cache.size > 1024) ipv6Cache.clear();
  ipv6Cache.set(address, out);
  return out;
}

/** Bytes one record takes in the file for an RTP packet of `rtpLength` bytes. */
export function recordLength(rtpLength: number, ipv6 = false): number {
  return RECORD_HEADER_LEN + FRAME_OVERHEAD + (ipv6 ? 20 : 0) + rtpLength;
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
 * The headers of one flow (sender, receiver, source and destination
 * endpoint), built once: a record then costs its pcap header, a copy of
 * this prefix, the length/id/checksum fields and the RTP bytes. The relay
 * records four flows per call, each for hundreds of packets a second.
 */
export class FlowFrame {
  readonly v6: boolean;
  /** Ethernet + IP + UDP headers; the per-packet fields are left 0. */
  private readonly prefix: Buffer;
  /** IPv4: one's-complement sum of the fixed header words (RFC 1071, incremental form). */
  private readonly ipSum: number;

  constructor(
    readonly from: Role,
    readonly to: Role | undefined,
    readonly src: Readonly<Endpoint>,
    readonly dst: Readonly<Endpoint>,
  ) {
    this.v6 = isIpv6(src.address) || isIpv6(dst.address);
    const b = Buffer.alloc(FRAME_OVERHEAD + (this.v6 ? 20 : 0));
    // Ethernet II: destination, source, EtherType
    b.writeUInt32BE(0x02000000, 0);
    b.writeUInt16BE(to === undefined ? UNKNOWN_MAC_BYTE : ROLE_MAC_BYTE[to], 4);
    b.writeUInt32BE(0x02000000, 6);
    b.writeUInt16BE(ROLE_MAC_BYTE[from], 10);
    b.writeUInt16BE(this.v6 ? 0x86dd : 0x0800, 12);
    const udp = this.v6 ? ipv6Prefix(b, 14, src, dst) : ipv4Prefix(b, 14, src, dst);
    // UDP (RFC 768): checksum 0 = "not computed", allowed over IPv4 only
    b.writeUInt16BE(src.port & 0xffff, udp);
    b.writeUInt16BE(dst.port & 0xffff, udp + 2);
    this.prefix = b;
    this.ipSum = this.v6 ? 0 : onesSum(b, 14, 20);
  }

  /** True when this frame is the one for these values. */
  is(from: Role, to: Role | undefined, src: Readonly<Endpoint>, dst: Readonly<Endpoint>): boolean {
    const s = this.src;
    const d = this.dst;
    return (
      this.from === from && this.to === to && s.port === src.port && d.port === dst.port && s.address === src.address && d.address === dst.address
    );
  }

  /** Bytes one record of an RTP packet of `rtpLength` takes. */
  recordLength(rtpLength: number): number {
    return recordLength(rtpLength, this.v6);
  }

  /** Write one record at `off` (room guaranteed by the caller); returns the offset after it. */
  write(buf: Buffer, off: number, timeMs: number, ipId: number, rtp: Uint8Array): number {
    const n = rtp.length;
    const frameLen = this.prefix.length + n;
    let sec = Math.floor(timeMs / 1000);
    let usec = Math.round((timeMs - sec * 1000) * 1000);
    if (usec >= 1_000_000) {
      sec += 1;
      usec -= 1_000_000;
    }
    buf.writeUInt32LE(sec >>> 0, off);
    buf.writeUInt32LE(usec, off + 4);
    buf.writeUInt32LE(frameLen, off + 8); // incl_len
    buf.writeUInt32LE(frameLen, off + 12); // orig_len
    const p = off + RECORD_HEADER_LEN;
    buf.set(this.prefix, p); // TypedArray set: Buffer#copy costs more than the 42 bytes it moves
    const udp = p + this.prefix.length - 8;
    buf.writeUInt16BE(8 + n, udp + 4);
    buf.set(rtp, udp + 8);
    if (this.v6) {
      buf.writeUInt16BE(8 + n, p + 18); // payload length
      // RFC 8200 §8.1: over IPv6 the UDP checksum is mandatory
      buf.writeUInt16BE(udp6Checksum(buf, p + 14, 8 + n), udp + 6);
    } else {
      const total = 28 + n;
      const id = ipId & 0xffff;
      buf.writeUInt16BE(total, p + 16);
      buf.writeUInt16BE(id, p + 18);
      buf.writeUInt16BE(foldComplement(this.ipSum + total + id), p + 24);
    }
    return udp + 8 + n;
  }
}

/**
 * Write one pcap record (record header + Ethernet + IPv4 or IPv6 + UDP +
 * RTP) into `buf` at `off`; returns the offset after it. The caller
 * guarantees room (see recordLength) and rtp.length <= MAX_UDP_PAYLOAD.
 * For one-off records; a recorder keeps its FlowFrames.
 */
export function writeRecord(buf: Buffer, off: number, f: FrameInfo, rtp: Uint8Array): number {
  return new FlowFrame(f.from, f.to, f.src, f.dst).write(buf, off, f.timeMs, f.ipId, rtp);
}

/** One's-complement sum (RFC 1071) of `len` bytes at `off`, as 16-bit big-endian words, not folded. */
function onesSum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (buf[off + i] << 8) | buf[off + i + 1];
  return sum;
}

function foldComplement(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** IPv4 header (RFC 791 §3.1): IHL 5, no options, DF, TTL 64, UDP; length, id and checksum left 0. Returns the UDP offset. */
function ipv4Prefix(buf: Buffer, ip: number, src: Readonly<Endpoint>, dst: Readonly<Endpoint>): number {
  buf.writeUInt16BE(0x4500, ip);
  buf.writeUInt16BE(0x4000, ip + 6);
  buf.writeUInt16BE(0x4011, ip + 8); // TTL 64, protocol 17
  buf.writeUInt32BE(ipv4ToInt(src.address), ip + 12);
  buf.writeUInt32BE(ipv4ToInt(dst.address), ip + 16);
  return ip + 20;
}

/** An address for an IPv6 header: IPv4 ones as IPv4-mapped (RFC 4291 §2.5.5.2). */
function v6Address(address: string): Uint8Array {
  return isIpv6(address) ? ipv6Bytes(address) : ipv6Bytes(`::ffff:${address.replace(/^::ffff:/i, '')}`);
}

/** IPv6 header (RFC 8200 §3): no extension headers, hop limit 64, UDP; payload length left 0. Returns the UDP offset. */
function ipv6Prefix(buf: Buffer, ip: number, src: Readonly<Endpoint>, dst: Readonly<Endpoint>): number {
  buf.writeUInt32BE(0x60000000, ip);
  buf[ip + 6] = 17;
  buf[ip + 7] = 64;
  buf.set(v6Address(src.address), ip + 8);
  buf.set(v6Address(dst.address), ip + 24);
  return ip + 40;
}

/** RFC 8200 §8.1 pseudo-header + UDP datagram, one's complement (0 is sent as 0xffff). */
function udp6Checksum(buf: Buffer, ip: number, udpLength: number): number {
  let sum = udpLength + 17;
  for (let i = ip + 8; i < ip + 40; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  const u = ip + 40;
  for (let i = 0; i + 1 < udpLength; i += 2) sum += (buf[u + i] << 8) | buf[u + i + 1];
  if (udpLength & 1) sum += buf[u + udpLength - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  return c === 0 ? 0xffff : c;
}
