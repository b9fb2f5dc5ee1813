/**
 * Datagram -> SipMessage (RFC 3261 §7, §18.3, grammar §25; RFC 4475 torture
 * cases). `parseMessage` never throws: bad input is expected from the network.
 *
 * Cost is linear in the datagram size: one byte scan finds the end of the
 * header section, one pass splits lines, and header values are checked by
 * the linear scanners of `header-values.ts`. No regular expression with
 * nested quantifiers touches untrusted text.
 */
import { Headers, type SipMessage, type SipRequest, type SipResponse, type SipUri } from './message.js';
import { isToken, parseCSeq, parseNameAddr, parseVia, splitHeaderList } from './header-values.js';
import { SipParseError, parseUri } from './uri.js';

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      error: string;
      /** When enough was parsed to answer 400 (Via, From, To, Call-ID, CSeq readable: see checkAnswerable). */
      request?: SipRequest;
      /** Status the answer should carry when not 400: 505 (version), 416 (URI scheme). */
      status?: number;
    };

/** RFC 3261 §7.3.3 compact forms, plus common extension ones (RFC 3515, 3841, 3891, 4028, 6665). */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
};

/**
 * Headers whose comma-separated values are split into separate entries
 * (RFC 3261 §7.3.1). Authorization, WWW-Authenticate, Date and the like
 * hold commas inside one value and are kept whole.
 */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding',
  'content-language', 'in-reply-to', 'alert-info', 'call-info', 'error-info', 'path', 'service-route',
  'p-asserted-identity', 'p-preferred-identity', 'accept-contact', 'reject-contact', 'request-disposition',
  'reason', 'security-client', 'security-server', 'security-verify',
]);

/** Headers that a request must carry exactly once (RFC 3261 §8.1.1; RFC 4475 'multi01'). */
const SINGLE_HEADERS = ['to', 'from', 'call-id', 'cseq'];

export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return COMPACT[n] ?? n;
}

/** The error may become a Reason-Phrase and a log line: printable ASCII only, bounded. */
function fail(error: string, extra: { request?: SipRequest; status?: number } = {}): ParseResult {
  return { ok: false, error: error.replace(/[^\x20-\x7e]/g, '?').slice(0, 120), ...extra };
}

/**
 * Offset of the header section's end and of the body: the first empty line,
 * accepting CRLF or bare LF line ends. Without an empty line the whole
 * datagram is headers.
 */
function findBody(buf: Buffer, start: number): { headEnd: number; bodyStart: number } {
  for (let i = start; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { headEnd: i, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i, bodyStart: i + 3 };
  }
  return { headEnd: buf.length, bodyStart: buf.length };
}

/** Header lines with folded continuations (RFC 3261 §7.3.1 LWS) joined by one space. */
function headerLines(lines: string[]): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      if (out.length === 0) return 'continuation line before first header';
      const last = out[out.length - 1];
      const more = line.trim();
      if (more !== '') last[1] = last[1] === '' ? more : `${last[1]} ${more}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) return 'header line without colon';
    const name = line.slice(0, colon).trimEnd();
    if (!isToken(name)) return 'bad header name';
    out.push([canonicalName(name), line.slice(colon + 1).trim()]);
  }
  return out;
}

function buildHeaders(raw: Array<[string, string]>): Headers | string {
  const headers = new Headers();
  for (const [name, value] of raw) {
    if (!LIST_HEADERS.has(name) || (name === 'contact' && value === '*')) {
      headers.append(name, value);
      continue;
    }
    try {
      for (const v of splitHeaderList(value)) headers.append(name, v);
    } catch (e) {
      return `bad ${name} header: ${(e as Error).message}`;
    }
  }
  return headers;
}

type StartLine =
  | { type: 'request'; method: string; uriText: string }
  | { type: 'response'; status: number; reason: string };

/** Request-Line / Status-Line with single SP separators (RFC 3261 §7.1, §7.2, §25.1). */
function parseStartLine(line: string): StartLine | { error: string; status?: number } {
  if (line.startsWith('SIP/')) {
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) return { error: 'bad status line' };
    if (line.slice(0, sp1) !== 'SIP/2.0') return { error: 'unsupported SIP version' };
    const code = line.slice(sp1 + 1, sp1 + 4);
    const status = Number(code);
    if (!/^[1-6][0-9][0-9]$/.test(code) || (line.length > sp1 + 4 && line[sp1 + 4] !== ' ')) {
      return { error: 'bad status code' };
    }
    return { type: 'response', status, reason: line.slice(sp1 + 5) };
  }
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 === sp1) return { error: 'bad request line' };
  const method = line.slice(0, sp1);
  const uriText = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return { error: 'bad method' };
  if (uriText === '' || uriText.includes(' ') || uriText.includes('\t')) {
    return { error: 'bad request line spacing' };
  }
  if (version.toUpperCase() !== 'SIP/2.0') {
    return /^SIP\/[0-9]/i.test(version) ? { error: 'unsupported SIP version', status: 505 } : { error: 'bad request line' };
  }
  return { type: 'request', method, uriText };
}

/** Content-Length (RFC 3261 §20.14, §18.3): null when absent, an error string when unusable. */
function contentLength(headers: Headers): number | null | string {
  const values = headers.getAll('content-length');
  if (values.length === 0) return null;
  for (const v of values) if (v !== values[0]) return 'conflicting Content-Length headers';
  const v = values[0];
  if (!/^[0-9]{1,9}$/.test(v)) return 'bad Content-Length';
  return Number(v);
}

/** RFC 3261 §18.3: shorter than Content-Length is an error, longer is truncated; absent means rest of datagram on UDP. */
function sliceBody(buf: Buffer, bodyStart: number, headers: Headers): Buffer | string {
  const cl = contentLength(headers);
  if (typeof cl === 'string') return cl;
  const available = buf.length - bodyStart;
  if (cl === null) return buf.subarray(bodyStart);
  if (available < cl) return `body shorter than Content-Length (${available} < ${cl})`;
  return buf.subarray(bodyStart, bodyStart + cl);
}

/**
 * What makes a request answerable (RFC 3261 §8.2.6.2: a response copies
 * Via, From, To, Call-ID and CSeq): every Via parses (the top one routes
 * the answer, §18.2.2), one non-empty Call-ID, one CSeq that parses, and
 * one From and one To whatever their content: they are copied back as
 * received, so a broken one (e.g. a control character in the user part)
 * can still be named in a 400 reason phrase (§21.4.1). Returns the error
 * that makes the request unanswerable, or null.
 */
function checkAnswerable(headers: Headers): string | null {
  for (const name of SINGLE_HEADERS) {
    const n = headers.getAll(name).length;
    if (n === 0) return `missing ${name} header`;
    if (n > 1) return `more than one ${name} header`;
  }
  const vias = headers.getAll('via');
  if (vias.length === 0) return 'missing via header';
  const checks: Array<[string, () => unknown]> = [
    ['Via', () => vias.forEach((v) => parseVia(v))],
    ['CSeq', () => parseCSeq(headers.get('cseq') ?? '')],
  ];
  const failed = firstFailure(checks);
  if (failed !== null) return failed;
  if ((headers.get('call-id') ?? '') === '') return 'empty call-id header';
  if ((headers.get('from') ?? '') === '') return 'empty from header';
  if ((headers.get('to') ?? '') === '') return 'empty to header';
  return null;
}

/** Check the headers every message needs (RFC 3261 §8.1.1): the answerable ones, and From/To that parse. */
function checkMandatory(headers: Headers): string | null {
  const essential = checkAnswerable(headers);
  if (essential !== null) return essential;
  return firstFailure([
    ['From', () => parseNameAddr(headers.get('from') ?? '')],
    ['To', () => parseNameAddr(headers.get('to') ?? '')],
  ]);
}

function firstFailure(checks: Array<[string, () => unknown]>): string | null {
  for (const [name, check] of checks) {
    try {
      check();
    } catch (e) {
      return `bad ${name} header: ${(e as Error).message}`;
    }
  }
  return null;
}

/** Checks that need the whole header set, run once the message has a start line. */
function checkRequest(req: SipRequest): string | null {
  const cseq = parseCSeq(req.headers.get('cseq') ?? '');
  // RFC 3261 §8.1.1.5: the CSeq method MUST match the request method.
  if (cseq.method !== req.method) return 'CSeq method does not match request method';
  const mf = req.headers.get('max-forwards');
  // RFC 3261 §20.22: 0-255 in practice (RFC 4475 'scalar02' sends 300 and expects 400)
  if (mf !== undefined && (!/^[0-9]{1,10}$/.test(mf) || Number(mf) > 255)) return 'bad Max-Forwards';
  return null;
}

/** A placeholder Request-URI for a 400 answer when the real one could not be parsed. */
function unparsedUri(): SipUri {
  return { scheme: 'sip', host: 'invalid', params: new Map(), headers: new Map() };
}

function finishRequest(start: { method: string; uriText: string }, headers: Headers, buf: Buffer, bodyStart: number): ParseResult {
  // Unanswerable: dropped (the transport logs it at a bounded rate).
  const essential = checkAnswerable(headers);
  if (essential !== null) return fail(essential);
  let uri: SipUri;
  let uriError: SipParseError | undefined;
  try {
    uri = parseUri(start.uriText);
  } catch (e) {
    uriError = e as SipParseError;
    uri = unparsedUri();
  }
  const req: SipRequest = { type: 'request', method: start.method, uri, headers, body: Buffer.alloc(0) };
  // Answerable but broken: 400 naming the header (RFC 3261 §8.2.1, §21.4.1).
  const mandatory = checkMandatory(headers);
  if (mandatory !== null) return fail(mandatory, { request: req });
  if (uriError) {
    const scheme = uriError.message.startsWith('unsupported URI scheme');
    return fail(`bad Request-URI: ${uriError.message}`, { request: req, ...(scheme ? { status: 416 } : {}) });
  }
  const reqError = checkRequest(req);
  if (reqError !== null) return fail(reqError, { request: req });
  const body = sliceBody(buf, bodyStart, headers);
  if (typeof body === 'string') return fail(body, { request: req });
  req.body = body;
  return { ok: true, message: req };
}

function finishResponse(start: { status: number; reason: string }, headers: Headers, buf: Buffer, bodyStart: number): ParseResult {
  const mandatory = checkMandatory(headers);
  if (mandatory !== null) return fail(mandatory);
  const body = sliceBody(buf, bodyStart, headers);
  if (typeof body === 'string') return fail(body);
  const res: SipResponse = { type: 'response', status: start.status, reason: start.reason, headers, body };
  return { ok: true, message: res };
}

/** Parse one UDP datagram into a SIP message. Never throws. */
export function parseMessage(datagram: Buffer): ParseResult {
  try {
    return parse(datagram);
  } catch (e) {
    // Only a bug can get here; keep the process up and say what happened.
    return fail(`parser error: ${(e as Error).message}`);
  }
}

function parse(buf: Buffer): ParseResult {
  let start = 0;
  // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives)
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) return fail('empty message');
  const { headEnd, bodyStart } = findBody(buf, start);
  const lines = buf.toString('utf8', start, headEnd).split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
    // RFC 3261 §25.1: CR only ever comes as part of CRLF in the header section
    if (lines[i].includes('\r')) return fail('bare CR in header section');
  }
  if (lines[0].trim() === '') return fail('message of only whitespace');
  const startLine = parseStartLine(lines[0]);
  if ('error' in startLine) return fail(startLine.error, startLine.status ? { status: startLine.status } : {});
  const raw = headerLines(lines);
  if (typeof raw === 'string') return failWithPartial(raw, startLine, lines);
  const headers = buildHeaders(raw);
  if (typeof headers === 'string') return failWithPartial(headers, startLine, lines);
  if (startLine.type === 'request') return finishRequest(startLine, headers, buf, bodyStart);
  return finishResponse(startLine, headers, buf, bodyStart);
}

/**
 * A header line is broken: keep the well-formed ones and, if the request's
 * essential headers are among them, hand back a request for a 400 answer.
 */
function failWithPartial(error: string, startLine: StartLine, lines: string[]): ParseResult {
  if (startLine.type !== 'request') return fail(error);
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') continue;
    const name = line.slice(0, colon).trim();
    if (!isToken(name)) continue;
    const canon = canonicalName(name);
    if (!['via', 'from', 'to', 'call-id', 'cseq'].includes(canon)) continue;
    const value = line.slice(colon + 1).trim();
    try {
      if (canon === 'via') for (const v of splitHeaderList(value)) headers.append('via', v);
      else headers.append(canon, value);
    } catch {
      continue; // this Via cannot be split either: leave it out and let checkMandatory decide
    }
  }
  if (checkAnswerable(headers) !== null) return fail(error);
  let uri: SipUri;
  try {
    uri = parseUri(startLine.uriText);
  } catch {
    uri = unparsedUri();
  }
  return fail(error, { request: { type: 'request', method: startLine.method, uri, headers, body: Buffer.alloc(0) } });
}
