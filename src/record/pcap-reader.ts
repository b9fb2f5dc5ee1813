/**
 * Reads captures: classic pcap (both byte orders, µs and ns timestamps) and
 * pcapng (what Wireshark and `tshark -w` save by default). A file cut in the
 * middle of a record yields every whole record before the cut plus a
 * `truncated` note, never an error: a recording interrupted by a power cut
 * or a full card must still be heard.
 */

export interface CapturedPacket {
  /** Capture time in microseconds since the epoch (may carry fractions). */
  timeUs: number;
  linkType: number;
  data: Buffer;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  packets: CapturedPacket[];
  /** Set when the file ends inside a record or block. */
  truncated: string | undefined;
}

export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;

export function readCapture(buf: Buffer): Capture {
  if (buf.length < 4) throw new CaptureFormatError(`not a capture file (${buf.length} bytes)`);
  if (buf.readUInt32LE(0) === PCAPNG_SHB) return readPcapng(buf);
  return readPcap(buf);
}

function readPcap(buf: Buffer): Capture {
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  let little: boolean;
  let nano: boolean;
  if (le === MAGIC_US || le === MAGIC_NS) [little, nano] = [true, le === MAGIC_NS];
  else if (be === MAGIC_US || be === MAGIC_NS) [little, nano] = [false, be === MAGIC_NS];
  else throw new CaptureFormatError(`not a pcap file (magic 0x${be.toString(16).padStart(8, '0')})`);
  if (buf.length < 24) throw new CaptureFormatError(`pcap global header cut short (${buf.length} of 24 bytes)`);
  const u32 = (o: number): number => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff; // upper bits: FCS flags (pcap-linktype)
  const packets: CapturedPacket[] = [];
  let off = 24;
  let truncated: string | undefined;
  while (off < buf.length) {
    if (off + 16 > buf.length) {
      truncated = `file ends inside a record header at byte ${off}`;
      break;
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (incl > 0x40000) {
      truncated = `record at byte ${off} claims ${incl} bytes: file is damaged from there`;
      break;
    }
    if (off + 16 + incl > buf.length) {
      truncated = `file ends inside a record at byte ${off} (${buf.length - off - 16} of ${incl} bytes)`;
      break;
    }
    const timeUs = sec * 1e6 + (nano ? frac / 1000 : frac);
    packets.push({ timeUs, linkType, data: buf.subarray(off + 16, off + 16 + incl) });
    off += 16 + incl;
  }
  return { format: 'pcap', packets, truncated };
}

interface NgInterface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
}

/** pcapng (draft-ietf-opsawg-pcapng): SHB, IDB, EPB, SPB, and the obsolete PB. */
function readPcapng(buf: Buffer): Capture {
  const packets: CapturedPacket[] = [];
  let ifaces: NgInterface[] = [];
  let little = true;
  let off = 0;
  let truncated: string | undefined;
  while (off < buf.length) {
    if (off + 12 > buf.length) {
      truncated = `file ends inside a block header at byte ${off}`;
      break;
    }
    const type = buf.readUInt32LE(off); // the SHB type reads the same in both orders
    if (type === PCAPNG_SHB) {
      const bom = buf.readUInt32LE(off + 8);
      if (bom === 0x1a2b3c4d) little = true;
      else if (bom === 0x4d3c2b1a) little = false;
      else throw new CaptureFormatError(`pcapng section header at byte ${off} has a bad byte-order mark`);
      ifaces = [];
    }
    const u32 = (o: number): number => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0) {
      if (off === 0) throw new CaptureFormatError('not a pcapng file (bad first block length)');
      truncated = `block at byte ${off} has a bad length ${len}: file is damaged from there`;
      break;
    }
    if (off + len > buf.length) {
      truncated = `file ends inside a block at byte ${off} (${buf.length - off} of ${len} bytes)`;
      break;
    }
    const body = buf.subarray(off + 8, off + len - 4);
    const btype = u32(off);
    if (btype === 1) ifaces.push(readIdb(body, little));
    else if (btype === 6 || btype === 2) pushEpb(body, little, ifaces, packets, btype === 2);
    else if (btype === 3 && ifaces[0]) {
      // Simple Packet Block: no timestamp; place it right after the previous packet
      const origLen = little ? body.readUInt32LE(0) : body.readUInt32BE(0);
      const prev = packets[packets.length - 1];
      packets.push({ timeUs: prev ? prev.timeUs : 0, linkType: ifaces[0].linkType, data: body.subarray(4, 4 + Math.min(origLen, body.length - 4)) });
    }
    off += len;
  }
  return { format: 'pcapng', packets, truncated };
}

function readIdb(body: Buffer, little: boolean): NgInterface {
  const linkType = little ? body.readUInt16LE(0) : body.readUInt16BE(0);
  let unitsPerSec = 1e6;
  // options after linktype(2) reserved(2) snaplen(4): code(2) length(2) value padded to 4
  for (let o = 8; o + 4 <= body.length; ) {
    const code = little ? body.readUInt16LE(o) : body.readUInt16BE(o);
    const olen = little ? body.readUInt16LE(o + 2) : body.readUInt16BE(o + 2);
    if (code === 0) break;
    if (code === 9 && olen >= 1 && o + 4 < body.length) {
      // if_tsresol: MSB clear = power of 10, set = power of 2
      const r = body[o + 4];
      unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
    }
    o += 4 + Math.ceil(olen / 4) * 4;
  }
  return { linkType, unitsPerSec };
}

function pushEpb(body: Buffer, little: boolean, ifaces: NgInterface[], out: CapturedPacket[], obsolete: boolean): void {
  if (body.length < 20) return;
  const u32 = (o: number): number => (little ? body.readUInt32LE(o) : body.readUInt32BE(o));
  const ifId = obsolete ? (little ? body.readUInt16LE(0) : body.readUInt16BE(0)) : u32(0);
  const iface = ifaces[ifId];
  if (!iface) return;
  const ts = u32(4) * 2 ** 32 + u32(8);
  const capLen = Math.min(u32(12), body.length - 20);
  out.push({ timeUs: (ts / iface.unitsPerSec) * 1e6, linkType: iface.linkType, data: body.subarray(20, 20 + capLen) });
}
