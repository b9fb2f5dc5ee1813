/**
 * From a captured frame to its UDP datagram: link layer (Ethernet, Linux
 * cooked SLL/SLL2, raw IP, BSD loopback/null), then IPv4 or IPv6, then UDP.
 * Anything else (TCP, ARP, fragments after the first) yields undefined.
 */

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface UdpDatagram {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Buffer;
  /** Ethernet source/destination MAC as 12 hex digits, when the link layer has them. */
  srcMac: string | undefined;
  dstMac: string | undefined;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = [0x8100, 0x88a8, 0x9100];

interface NetLayer {
  etherType: number;
  off: number;
  srcMac?: string;
  dstMac?: string;
}

function linkLayer(linkType: number, d: Buffer): NetLayer | undefined {
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (d.length < 14) return undefined;
      let off = 12;
      let type = d.readUInt16BE(off);
      while (ETH_VLAN.includes(type) && off + 6 <= d.length) {
        off += 4;
        type = d.readUInt16BE(off);
      }
      return { etherType: type, off: off + 2, dstMac: d.toString('hex', 0, 6), srcMac: d.toString('hex', 6, 12) };
    }
    case LINKTYPE.LINUX_SLL:
      return d.length < 16 ? undefined : { etherType: d.readUInt16BE(14), off: 16 };
    case LINKTYPE.LINUX_SLL2:
      return d.length < 20 ? undefined : { etherType: d.readUInt16BE(0), off: 20 };
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (d.length < 4) return undefined;
      // NULL: address family in the capturing host's byte order; LOOP: network order
      const fam = linkType === LINKTYPE.LOOP ? d.readUInt32BE(0) : Math.min(d.readUInt32LE(0), d.readUInt32BE(0));
      if (fam === 2) return { etherType: ETH_IPV4, off: 4 };
      if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return { etherType: ETH_IPV6, off: 4 };
      return undefined;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case 12: // LINKTYPE_RAW as some BSDs number it
    case 14: {
      if (d.length < 1) return undefined;
      const v = d[0] >> 4;
      return v === 4 ? { etherType: ETH_IPV4, off: 0 } : v === 6 ? { etherType: ETH_IPV6, off: 0 } : undefined;
    }
    default:
      return undefined;
  }
}

function ipv4String(d: Buffer, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

function ipv6String(d: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(d.readUInt16BE(o + i).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Where the UDP header starts and the addresses, or undefined for non-UDP / non-first fragments. */
function ipLayer(d: Buffer, net: NetLayer): { udp: number; end: number; src: string; dst: string } | undefined {
  const o = net.off;
  if (net.etherType === ETH_IPV4) {
    if (d.length < o + 20 || d[o] >> 4 !== 4) return undefined;
    const ihl = (d[o] & 0x0f) * 4;
    const total = d.readUInt16BE(o + 2);
    if (d[o + 9] !== 17 || ihl < 20) return undefined;
    if ((d.readUInt16BE(o + 6) & 0x1fff) !== 0) return undefined; // RFC 791: a later fragment has no UDP header
    // total 0 happens with TSO captures: take the captured length
    const end = total >= ihl ? Math.min(d.length, o + total) : d.length;
    return { udp: o + ihl, end, src: ipv4String(d, o + 12), dst: ipv4String(d, o + 16) };
  }
  if (net.etherType === ETH_IPV6) {
    if (d.length < o + 40 || d[o] >> 4 !== 6 || d[o + 6] !== 17) return undefined; // no extension headers
    const end = Math.min(d.length, o + 40 + d.readUInt16BE(o + 4));
    return { udp: o + 40, end, src: ipv6String(d, o + 8), dst: ipv6String(d, o + 24) };
  }
  return undefined;
}

export function decodeUdp(linkType: number, d: Buffer): UdpDatagram | undefined {
  const net = linkLayer(linkType, d);
  if (!net) return undefined;
  const ip = ipLayer(d, net);
  if (!ip || ip.udp + 8 > ip.end) return undefined;
  const u = ip.udp;
  const udpLen = d.readUInt16BE(u + 4);
  const end = udpLen >= 8 ? Math.min(ip.end, u + udpLen) : ip.end;
  return {
    srcAddr: ip.src,
    srcPort: d.readUInt16BE(u),
    dstAddr: ip.dst,
    dstPort: d.readUInt16BE(u + 2),
    payload: d.subarray(u + 8, end),
    srcMac: net.srcMac,
    dstMac: net.dstMac,
  };
}
