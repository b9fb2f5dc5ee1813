/**
 * Minimal pcap reader for tests: classic libpcap files (µs or ns, either
 * byte order), Ethernet or Linux cooked (SLL) or raw IPv4 link types;
 * returns the UDP datagrams with their capture time in ms.
 */
import { readFileSync } from 'node:fs';

export interface UdpRecord {
  timeMs: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export function readPcapUdp(file: string): UdpRecord[] {
  const buf = readFileSync(file);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20);
  const out: UdpRecord[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let ip = link === 1 ? 14 : link === 113 ? 16 : link === 101 ? 0 : -1;
    if (ip < 0) throw new Error(`${file}: link type ${link} not supported`);
    if (link === 1 && frame.readUInt16BE(12) === 0x8100) ip += 4; // VLAN tag
    if (frame.length < ip + 28 || frame[ip] >> 4 !== 4 || frame[ip + 9] !== 17) continue;
    const udp = ip + (frame[ip] & 0x0f) * 4;
    const len = frame.readUInt16BE(udp + 4);
    out.push({
      timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, udp + len)),
    });
  }
  return out;
}
