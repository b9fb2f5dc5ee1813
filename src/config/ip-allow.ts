/**
 * Source address filtering for incoming INVITEs (toll fraud): an allow list
 * of IPv4/IPv6 addresses and CIDR blocks.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
type Bytes = number[];

function v4Bytes(a: string): Bytes {
  return a.split('.').map(Number);
}

function v6Bytes(a: string): Bytes | undefined {
  let s = a.replace(/%.*$/, ''); // zone id (fe80::1%eth0) does not change the address
  let tail: Bytes = [];
  const lastColon = s.lastIndexOf(':');
  const dotted = s.slice(lastColon + 1);
  if (dotted.includes('.')) {
    if (!isIPv4(dotted)) return undefined;
    tail = v4Bytes(dotted);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const words = [...head, ...Array<string>(fill).fill('0'), ...rest].map((w) => parseInt(w, 16));
  const out: Bytes = [];
  for (const w of words) out.push(w >> 8, w & 0xff);
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** IPv4, IPv6 or IPv4-mapped IPv6 (as dual-stack sockets report) -> bytes; IPv4-mapped becomes IPv4. */
export function addressBytes(addr: string): Bytes | undefined {
  const a = addr.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(a)) return v4Bytes(a);
  if (!isIPv6(a)) return undefined;
  const b = v6Bytes(a);
  if (b && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.slice(12);
  return b;
}

export interface Cidr {
  bytes: Bytes;
  prefix: number;
}

/** `10.0.0.0/8`, `192.168.1.10` (= /32), `fd00::/8`, `::1`; undefined when malformed. */
export function parseCidr(entry: string): Cidr | undefined {
  const m = /^([^/]+?)(?:\/([0-9]{1,3}))?$/.exec(entry.trim());
  if (!m) return undefined;
  const bytes = addressBytes(m[1]);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  return { bytes, prefix };
}

function matches(addr: Bytes, c: Cidr): boolean {
  if (addr.length !== c.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (c.bytes[i] & mask)) return false;
  }
  return true;
}

/**
 * Whether `addr` (a packet's source address) is in the allow list. Entries
 * that are not valid addresses or CIDR blocks match nothing; an empty list
 * allows no one.
 */
export function isAllowed(addr: string, allowList: readonly string[]): boolean {
  const a = addressBytes(addr);
  if (!a) return false;
  return allowList.some((entry) => {
    const c = parseCidr(entry);
    return c !== undefined && matches(a, c);
  });
}
