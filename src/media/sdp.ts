/**
 * SDP parse and build (RFC 4566). Only what a G.711 telephone needs is
 * modelled (v/o/s/c/t/m and the a= lines rtpmap, fmtp, ptime and the
 * direction attributes); every other line is kept as raw text and never
 * rejected. CRLF and bare LF are both accepted.
 */
import { isIP } from 'node:net';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface RtpMap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  media: string;
  port: number;
  proto: string;
  /** Format list of the m= line, as written (payload type numbers for RTP/AVP). */
  formats: string[];
  /** Media-level c= address, if any. */
  connection?: string;
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, string>;
  ptime?: number;
  direction?: Direction;
  /** Other a= lines, without the `a=` prefix. */
  attributes: string[];
}

export interface SessionDescription {
  origin: SdpOrigin;
  sessionName: string;
  /** Session-level c= address, if any. */
  connection?: string;
  direction?: Direction;
  media: SdpMedia[];
  attributes: string[];
}

/** Upper bound on an SDP body: a telephone offer is well below 4 KiB. */
export const MAX_SDP_BYTES = 16384;

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** A failure to parse or negotiate; `status` is the SIP response it maps to. */
export class SdpError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 488 = 488,
  ) {
    super(message);
    this.name = 'SdpError';
  }
}

function parseConnection(value: string): string | undefined {
  // c=<nettype> <addrtype> <connection-address>  (RFC 4566 §5.7); drop any /ttl
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3 || parts[0] !== 'IN') return undefined;
  return parts[2].split('/')[0];
}

function parseOrigin(value: string): SdpOrigin | undefined {
  const p = value.trim().split(/\s+/);
  if (p.length < 6) return undefined;
  return { username: p[0], sessionId: p[1], sessionVersion: p[2], netType: p[3], addrType: p[4], address: p[5] };
}

function parseMediaLine(value: string): SdpMedia | undefined {
  // m=<media> <port>[/<number of ports>] <proto> <fmt> ...  (RFC 4566 §5.14)
  const p = value.trim().split(/\s+/);
  if (p.length < 3) return undefined;
  const port = Number(p[1].split('/')[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { media: p[0], port, proto: p[2], formats: p.slice(3), rtpmap: new Map(), fmtp: new Map(), attributes: [] };
}

function applyMediaAttribute(m: SdpMedia, attr: string): void {
  const colon = attr.indexOf(':');
  const name = colon < 0 ? attr : attr.slice(0, colon);
  const value = colon < 0 ? '' : attr.slice(colon + 1).trim();
  if (DIRECTIONS.has(name)) {
    m.direction = name as Direction;
  } else if (name === 'rtpmap') {
    // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    const mm = /^(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(value);
    if (mm) {
      const rm: RtpMap = { encoding: mm[2], clockRate: Number(mm[3]) };
      if (mm[4]) rm.channels = Number(mm[4]);
      m.rtpmap.set(Number(mm[1]), rm);
    } else m.attributes.push(attr);
  } else if (name === 'fmtp') {
    const mm = /^(\d{1,3})\s+(.*)$/.exec(value);
    if (mm) m.fmtp.set(Number(mm[1]), mm[2].trim());
    else m.attributes.push(attr);
  } else if (name === 'ptime') {
    const n = Number(value);
    if (Number.isFinite(n) && n > 0 && n <= 1000) m.ptime = n;
  } else {
    m.attributes.push(attr);
  }
}

/** Parse an SDP body; throws SdpError (status 400) when it is not SDP at all. */
export function parseSdp(input: string | Buffer): SessionDescription {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.length > MAX_SDP_BYTES) throw new SdpError(`SDP body too large (${text.length} bytes)`, 400);
  const lines = text.split(/\r?\n/);
  let origin: SdpOrigin | undefined;
  let sawVersion = false;
  const sd: Omit<SessionDescription, 'origin'> = { sessionName: '', media: [], attributes: [] };
  let cur: SdpMedia | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.length < 2 || line[1] !== '=') continue; // tolerate garbage lines
    const type = line[0];
    const value = line.slice(2);
    if (type === 'v') sawVersion = value.trim() === '0';
    else if (type === 'o' && !cur) origin = parseOrigin(value);
    else if (type === 's' && !cur) sd.sessionName = value;
    else if (type === 'c') {
      const addr = parseConnection(value);
      if (cur) cur.connection = addr;
      else sd.connection = addr;
    } else if (type === 'm') {
      const m = parseMediaLine(value);
      if (!m) throw new SdpError(`malformed m= line "${line.slice(0, 80)}"`, 400);
      sd.media.push(m);
      cur = m;
    } else if (type === 'a') {
      if (cur) applyMediaAttribute(cur, value);
      else if (DIRECTIONS.has(value.trim())) sd.direction = value.trim() as Direction;
      else sd.attributes.push(value);
    }
  }
  if (!sawVersion) throw new SdpError('SDP without v=0', 400);
  if (!origin) throw new SdpError('SDP without a valid o= line', 400);
  return { origin, ...sd };
}

/** The effective direction of a media stream (media level overrides session level, default sendrecv). */
export function mediaDirection(sd: SessionDescription, m: SdpMedia): Direction {
  return m.direction ?? sd.direction ?? 'sendrecv';
}

/**
 * The effective connection address of a media stream, when it is an IP
 * literal. RFC 4566 allows a host name in c=, but the appliance resolves
 * nothing: a name would be looked up for every RTP packet sent (dgram.send
 * resolves, on the thread pool that file I/O shares), so such a stream is
 * treated as having no usable address (refused with 488 by the caller).
 */
export function mediaAddress(sd: SessionDescription, m: SdpMedia): string | undefined {
  const a = m.connection ?? sd.connection;
  return a !== undefined && isIP(a) !== 0 ? a : undefined;
}

/** Serialize with CRLF line ends (RFC 4566 §5). */
export function serializeSdp(sd: SessionDescription): string {
  const o = sd.origin;
  const out: string[] = [
    'v=0',
    `o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`,
    `s=${sd.sessionName || '-'}`,
  ];
  if (sd.connection) out.push(`c=IN ${addrType(sd.connection)} ${sd.connection}`);
  out.push('t=0 0');
  for (const a of sd.attributes) out.push(`a=${a}`);
  if (sd.direction) out.push(`a=${sd.direction}`);
  for (const m of sd.media) {
    out.push(`m=${m.media} ${m.port} ${m.proto} ${m.formats.join(' ')}`);
    if (m.connection) out.push(`c=IN ${addrType(m.connection)} ${m.connection}`);
    for (const f of m.formats) {
      const pt = Number(f);
      const rm = m.rtpmap.get(pt);
      if (rm) out.push(`a=rtpmap:${pt} ${rm.encoding}/${rm.clockRate}${rm.channels ? `/${rm.channels}` : ''}`);
      const fmtp = m.fmtp.get(pt);
      if (fmtp) out.push(`a=fmtp:${pt} ${fmtp}`);
    }
    if (m.ptime) out.push(`a=ptime:${m.ptime}`);
    for (const a of m.attributes) out.push(`a=${a}`);
    if (m.direction) out.push(`a=${m.direction}`);
  }
  return out.join('\r\n') + '\r\n';
}

function addrType(address: string): string {
  return address.includes(':') ? 'IP6' : 'IP4';
}
