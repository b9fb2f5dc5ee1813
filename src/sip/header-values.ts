/**
 * Structured SIP header values (RFC 3261 §20, grammar in §25.1): name-addr
 * (From, To, Contact, Route, Record-Route), Via, CSeq, generic parameters and
 * comma-separated lists.
 *
 * Every function is a linear scan (no backtracking regular expressions), so a
 * hostile value cannot make parsing slow. Errors are `SipParseError`.
 *
 * Parameter values are kept as written: a quoted-string value keeps its
 * quotes (`;+sip.instance="<urn:...>"`), so formatting gives back the same text.
 */
import type { CSeq, NameAddr, Via } from './message.js';
import { SipParseError, formatHost, formatUri, parseHostPort, parseUri } from './uri.js';

export { SipParseError };

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) TOKEN[c] = 1;
}
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !TOKEN[c]) return false;
  }
  return true;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Index just past the quoted-string that starts at `start` (which holds '"'),
 * honouring quoted-pair escapes (RFC 3261 §25.1); -1 when unterminated.
 */
export function skipQuoted(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return -1;
}

/** Contents of a quoted-string with quoted-pairs undone; the input must be the whole `"..."`. */
export function unquote(text: string): string {
  if (text.length < 2 || text[0] !== '"' || skipQuoted(text, 0) !== text.length) {
    throw new SipParseError('bad quoted string');
  }
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    if (text.charCodeAt(i) === 0x5c) i++;
    out += text[i];
  }
  return out;
}

/** Make a quoted-string, escaping '"' and '\' (RFC 3261 §25.1 quoted-pair). */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch === '"' || ch === '\\') out += '\\';
    // CR and LF cannot appear in a quoted-string; drop them rather than break the header
    if (ch !== '\r' && ch !== '\n') out += ch;
  }
  return out + '"';
}

/**
 * Split on `sep` outside quoted strings and `<...>` (RFC 3261 §7.3.1).
 * Returns raw pieces, untrimmed; throws on an unterminated quote.
 */
function splitOutside(value: string, sep: number, dropBlank = false): string[] {
  const out: string[] = [];
  let inAngle = false;
  let from = 0;
  let blank = true; // the current piece is only blanks so far
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      const end = skipQuoted(value, i);
      if (end < 0) throw new SipParseError('unterminated quoted string');
      i = end - 1;
    } else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === sep && !inAngle) {
      if (!(dropBlank && blank)) out.push(value.slice(from, i));
      from = i + 1;
      blank = true;
      continue;
    }
    if (!isWs(c)) blank = false;
  }
  if (!(dropBlank && blank)) out.push(value.slice(from));
  return out;
}

/** Split a header value on commas outside quotes and `<>`; empty elements are dropped. */
export function splitHeaderList(value: string): string[] {
  return splitOutside(value, 0x2c, true).map((part) => part.trim());
}

function parseParamValue(raw: string): string {
  const v = raw.trim();
  if (v === '') throw new SipParseError('empty parameter value');
  if (v[0] === '"') {
    if (skipQuoted(v, 0) !== v.length) throw new SipParseError('bad quoted parameter value');
    return v;
  }
  // token, host or IPv6 reference (received=, maddr=): no blanks, quotes or separators
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (isWs(c) || c === 0x22 || c === 0x2c || c === 0x3c || c === 0x3e || c < 0x20) {
      throw new SipParseError('bad parameter value');
    }
  }
  return v;
}

/** Parse generic parameters `;a=b;c` (RFC 3261 §25.1 generic-param); names lower case, null for a flag. */
export function parseParams(text: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  const t = text.trim();
  if (t === '') return params;
  if (t[0] !== ';') throw new SipParseError('parameters must start with ";"');
  const parts = splitOutside(t, 0x3b);
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!isToken(name)) throw new SipParseError('bad parameter name');
    params.set(name, eq < 0 ? null : parseParamValue(part.slice(eq + 1)));
  }
  return params;
}

export function formatParams(p: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of p) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

/** Unquoted display-name: *(token LWS), blanks collapsed (RFC 3261 §25.1). */
function parseDisplayTokens(text: string): string | undefined {
  const words = text.split(/[ \t\r\n]+/).filter((w) => w !== '');
  for (const w of words) if (!isToken(w)) throw new SipParseError('bad display name');
  return words.length === 0 ? undefined : words.join(' ');
}

/**
 * Parse a name-addr or addr-spec with header params (RFC 3261 §20.10, §25.1).
 * In the addr-spec form everything after the first ';' is a header param.
 */
export function parseNameAddr(text: string): NameAddr {
  const t = text.trim();
  let display: string | undefined;
  let rest = t;
  if (t[0] === '"') {
    const end = skipQuoted(t, 0);
    if (end < 0) throw new SipParseError('unterminated display name');
    display = unquote(t.slice(0, end));
    rest = t.slice(end).trimStart();
    if (rest[0] !== '<') throw new SipParseError('missing <URI> after display name');
  }
  // A '<' after the scheme's ':' is inside an addr-spec's params (a quoted value), not a name-addr.
  const lt = rest.indexOf('<');
  const colon = rest.indexOf(':');
  if (lt >= 0 && (display !== undefined || colon < 0 || lt < colon)) {
    if (display === undefined) display = parseDisplayTokens(rest.slice(0, lt));
    const gt = rest.indexOf('>', lt);
    if (gt < 0) throw new SipParseError('unterminated <URI>');
    const na: NameAddr = { uri: parseUri(rest.slice(lt + 1, gt)), params: parseParams(rest.slice(gt + 1)) };
    if (display !== undefined) na.display = display;
    return na;
  }
  const semi = rest.indexOf(';');
  const spec = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  if (spec === '') throw new SipParseError('empty address');
  for (let i = 0; i < spec.length; i++) {
    if (isWs(spec.charCodeAt(i))) throw new SipParseError('blank inside address');
  }
  return { uri: parseUri(spec), params: parseParams(semi < 0 ? '' : rest.slice(semi)) };
}

/** Always the `<URI>` form, which is safe whatever the URI holds (RFC 3261 §20.10). */
export function formatNameAddr(na: NameAddr): string {
  const display = na.display !== undefined ? quote(na.display) + ' ' : '';
  return `${display}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}

/** Remove blanks from sent-by, allowing them only around ':' (RFC 3261 §25.1 COLON = SWS ":" SWS). */
function compactSentBy(text: string): string {
  let out = '';
  let pendingBlank = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isWs(c)) {
      pendingBlank = out !== '';
      continue;
    }
    if (pendingBlank && c !== 0x3a && !out.endsWith(':')) throw new SipParseError('blank inside Via sent-by');
    pendingBlank = false;
    out += text[i];
  }
  return out;
}

/** Parse one Via value: `SIP / 2.0 / UDP host:port;params` (RFC 3261 §20.42, §25.1). */
export function parseVia(text: string): Via {
  const parts = splitOutside(text, 0x2f);
  if (parts.length < 3) throw new SipParseError('bad Via sent-protocol');
  if (parts[0].trim().toUpperCase() !== 'SIP' || parts[1].trim() !== '2.0') {
    throw new SipParseError('Via protocol is not SIP/2.0');
  }
  // The transport ends at the first blank after it; sent-by and params follow.
  const tail = parts.slice(2).join('/').trimStart();
  let i = 0;
  while (i < tail.length && !isWs(tail.charCodeAt(i))) i++;
  const transport = tail.slice(0, i).toUpperCase();
  if (!isToken(transport)) throw new SipParseError('bad Via transport');
  const after = tail.slice(i);
  const semi = after.indexOf(';');
  const sentBy = compactSentBy(semi < 0 ? after : after.slice(0, semi));
  if (sentBy === '') throw new SipParseError('missing Via sent-by');
  const hp = parseHostPort(sentBy);
  const via: Via = { transport, host: hp.host, params: parseParams(semi < 0 ? '' : after.slice(semi)) };
  if (hp.port !== undefined) via.port = hp.port;
  return via;
}

export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${formatHost(v.host, v.port)}${formatParams(v.params)}`;
}

/** `CSeq: 4711 INVITE` (RFC 3261 §20.16); the number must be below 2**31 (§8.1.1.5). */
export function parseCSeq(text: string): CSeq {
  const t = text.trim();
  let i = 0;
  while (i < t.length && t.charCodeAt(i) >= 0x30 && t.charCodeAt(i) <= 0x39) i++;
  if (i === 0 || i > 10) throw new SipParseError('bad CSeq number');
  const seq = Number(t.slice(0, i));
  if (seq >= 2 ** 31) throw new SipParseError('CSeq number too large');
  if (i === t.length || !isWs(t.charCodeAt(i))) throw new SipParseError('CSeq without method');
  const method = t.slice(i).trim();
  if (!isToken(method)) throw new SipParseError('bad CSeq method');
  return { seq, method };
}
