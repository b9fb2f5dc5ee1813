/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966 for tel).
 *
 * Parsing is a single left-to-right scan without regular expressions, so
 * hostile input costs linear time. Errors are `SipParseError` with a short
 * message that can go into a 400 reason phrase.
 */
import type { SipUri } from './message.js';

/** A syntax error in a SIP message or header value; the message is short and says what is wrong. */
export class SipParseError extends Error {
  override name = 'SipParseError';
}

const HEX = '0123456789ABCDEF';

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

// RFC 3261 §25.1: unreserved = alphanum / mark
const MARK = "-_.!~*'()";
// user-unreserved, param-unreserved, hnv-unreserved
const USER_EXTRA = '&=+$,;?/';
const PASSWORD_EXTRA = '&=+$,';
const PARAM_EXTRA = '[]/:&+$';
const HEADER_EXTRA = '[]/?:+$';

function charsetOf(extra: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (isAlnum(c)) set[c] = 1;
  for (const ch of MARK + extra) set[ch.charCodeAt(0)] = 1;
  return set;
}

const USER_SET = charsetOf(USER_EXTRA);
const PASSWORD_SET = charsetOf(PASSWORD_EXTRA);
const PARAM_SET = charsetOf(PARAM_EXTRA);
const HEADER_SET = charsetOf(HEADER_EXTRA);
// tel: global/local numbers, visual separators and params (RFC 3966 §3), loosely
const TEL_SET = charsetOf('+#*;=%[]/:&$');

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Undo %HH escapes (RFC 3261 §19.1.2) after checking every other character
 * against `allowed`. Escaped octets are decoded as UTF-8.
 */
function unescape(text: string, allowed: Uint8Array, what: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (hexVal(text.charCodeAt(i + 1)) < 0 || hexVal(text.charCodeAt(i + 2)) < 0) {
        throw new SipParseError(`bad escape in URI ${what}`);
      }
      plain = false;
      i += 2;
    } else if (c < 128 ? !allowed[c] : false) {
      throw new SipParseError(`bad character in URI ${what}`);
    }
  }
  if (plain) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(hexVal(text.charCodeAt(i + 1)) * 16 + hexVal(text.charCodeAt(i + 2)));
      i += 2;
    } else {
      for (const b of Buffer.from(text[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** %-escape every octet not in `allowed` (RFC 3261 §19.1.2). */
function escape(text: string, allowed: Uint8Array): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    if (b < 128 && allowed[b] && b !== 0x25) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

function parsePort(text: string): number {
  if (text.length === 0 || text.length > 5) throw new SipParseError('bad port in URI');
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw new SipParseError('bad port in URI');
    n = n * 10 + (c - 0x30);
  }
  if (n > 65535) throw new SipParseError('port out of range');
  return n;
}

/**
 * hostname / IPv4address (RFC 3261 §25.1): letters, digits, '-' and '.';
 * '_' is tolerated because some PBXs put it in their host names.
 */
function checkHostname(host: string): void {
  if (host.length === 0) throw new SipParseError('missing host in URI');
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (!(isAlnum(c) || c === 0x2d || c === 0x2e || c === 0x5f)) throw new SipParseError('bad character in host');
  }
}

/** IPv6 reference contents: hex digits, ':' and '.' (embedded IPv4), at least one ':'. */
function checkIpv6(host: string): void {
  let colons = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (!(hexVal(c) >= 0 || c === 0x2e)) throw new SipParseError('bad IPv6 reference');
  }
  if (colons < 2 || host.length > 45) throw new SipParseError('bad IPv6 reference');
}

/** Split `host[:port]` or `[v6][:port]`; shared with Via sent-by (RFC 3261 §20.42). */
export function parseHostPort(text: string): { host: string; port?: number } {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new SipParseError('unterminated IPv6 reference');
    const host = text.slice(1, end);
    checkIpv6(host);
    const rest = text.slice(end + 1);
    if (rest === '') return { host };
    if (rest[0] !== ':') throw new SipParseError('junk after IPv6 reference');
    return { host, port: parsePort(rest.slice(1)) };
  }
  const colon = text.indexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  checkHostname(host);
  if (colon < 0) return { host };
  return { host, port: parsePort(text.slice(colon + 1)) };
}

/** Format a host for a URI or Via: IPv6 goes in brackets (RFC 3261 §25.1 IPv6reference). */
export function formatHost(host: string, port?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

function parseUriParams(text: string, params: Map<string, string | null>): void {
  if (text === '') return;
  for (const part of text.split(';')) {
    if (part === '') throw new SipParseError('empty URI parameter');
    const eq = part.indexOf('=');
    const name = unescape(eq < 0 ? part : part.slice(0, eq), PARAM_SET, 'parameter').toLowerCase();
    if (name === '') throw new SipParseError('empty URI parameter name');
    params.set(name, eq < 0 ? null : unescape(part.slice(eq + 1), PARAM_SET, 'parameter'));
  }
}

function parseUriHeaders(text: string, headers: Map<string, string>): void {
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SipParseError('bad URI header');
    headers.set(unescape(part.slice(0, eq), HEADER_SET, 'header'), unescape(part.slice(eq + 1), HEADER_SET, 'header'));
  }
}

function parseTelUri(rest: string): SipUri {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (number === '') throw new SipParseError('empty tel number');
  const params = new Map<string, string | null>();
  parseUriParams(semi < 0 ? '' : rest.slice(semi + 1), params);
  return { scheme: 'tel', user: unescape(number, TEL_SET, 'tel number'), host: '', params, headers: new Map() };
}

/** Parse a SIP/SIPS/tel URI (RFC 3261 §19.1.1). Throws SipParseError. */
export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SipParseError('URI without scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  if (scheme === 'tel') return parseTelUri(rest);
  if (scheme !== 'sip' && scheme !== 'sips') throw new SipParseError(`unsupported URI scheme ${scheme.slice(0, 16)}`);
  // userinfo cannot hold an unescaped '@', nor can host, params or headers.
  const at = rest.indexOf('@');
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    if (user === '') throw new SipParseError('empty user in URI');
    uri.user = unescape(user, USER_SET, 'user');
    if (pc >= 0) uri.password = unescape(userinfo.slice(pc + 1), PASSWORD_SET, 'password');
  }
  const q = hostPart.indexOf('?');
  const beforeHeaders = q < 0 ? hostPart : hostPart.slice(0, q);
  if (q >= 0) parseUriHeaders(hostPart.slice(q + 1), uri.headers);
  // ';' cannot occur inside an IPv6 reference, so the first one starts the params.
  const semi = beforeHeaders.indexOf(';');
  const hp = parseHostPort(semi < 0 ? beforeHeaders : beforeHeaders.slice(0, semi));
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  if (semi >= 0) parseUriParams(beforeHeaders.slice(semi + 1), uri.params);
  return uri;
}

function formatUriParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += ';' + escape(k, PARAM_SET) + (v === null ? '' : '=' + escape(v, PARAM_SET));
  return out;
}

/** Format a URI: user %-escaped where needed, IPv6 in brackets (RFC 3261 §19.1.1). */
export function formatUri(uri: SipUri): string {
  if (uri.scheme === 'tel') return `tel:${escape(uri.user ?? '', TEL_SET)}${formatUriParams(uri.params)}`;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += escape(uri.user, USER_SET);
    if (uri.password !== undefined) out += ':' + escape(uri.password, PASSWORD_SET);
    out += '@';
  }
  out += formatHost(uri.host, uri.port) + formatUriParams(uri.params);
  let sep = '?';
  for (const [k, v] of uri.headers) {
    out += sep + escape(k, HEADER_SET) + '=' + escape(v, HEADER_SET);
    sep = '&';
  }
  return out;
}

function lower(v: string | null | undefined): string | null | undefined {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

/** RFC 3261 §19.1.4: these parameters must match whenever either URI has them. */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

function paramsEqual(a: Map<string, string | null>, b: Map<string, string | null>): boolean {
  for (const p of STRICT_PARAMS) {
    if (a.has(p) !== b.has(p)) return false;
    if (lower(a.get(p)) !== lower(b.get(p))) return false;
  }
  // Any other parameter appearing in both must match; one-sided ones are ignored.
  for (const [k, v] of a) if (b.has(k) && lower(b.get(k)) !== lower(v)) return false;
  return true;
}

function headersEqual(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  const lb = new Map<string, string>();
  for (const [k, v] of b) lb.set(k.toLowerCase(), v);
  for (const [k, v] of a) if (lb.get(k.toLowerCase()) !== v) return false;
  return true;
}

/**
 * URI equality per RFC 3261 §19.1.4: user and password case-sensitive, host
 * case-insensitive, an omitted port differs from an explicit default port,
 * user/ttl/method/maddr/transport must agree, headers must all agree.
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.user !== b.user || a.password !== b.password) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  if (a.port !== b.port) return false;
  return paramsEqual(a.params, b.params) && headersEqual(a.headers, b.headers);
}
