/**
 * Digest authentication, client side (RFC 3261 §22.4; RFC 2617 §3.2;
 * RFC 7616 §3.4 for SHA-256 and the -sess variants; RFC 8760 for SIP).
 * Only qop=auth (or no qop, RFC 2069 style) is computed: auth-int would need
 * the body hashed and no peer of ours asks for it alone.
 */
import { createHash } from 'node:crypto';
import { SipParseError, isToken, quote, skipQuoted, unquote } from './header-values.js';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** As sent (default `MD5`): `MD5`, `MD5-sess`, `SHA-256`, `SHA-256-sess`, `SHA-512-256`...; matched case-insensitively. */
  algorithm: string;
  qop?: string[];
  stale?: boolean;
}

/** Digest algorithm name -> node hash name (RFC 7616, RFC 8760). */
const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

function baseAlgorithm(algorithm: string): { hash: string; sess: boolean } | undefined {
  const a = algorithm.toUpperCase();
  const sess = a.endsWith('-SESS');
  const hash = HASHES[sess ? a.slice(0, -5) : a];
  return hash === undefined ? undefined : { hash, sess };
}

/** Whether `digestAuthorization` can answer this challenge. */
export function supportsChallenge(c: DigestChallenge): boolean {
  return baseAlgorithm(c.algorithm) !== undefined && (c.qop === undefined || c.qop.includes('auth'));
}

/** Split `a=b, c="d,e"` auth-params (RFC 7235 §2.1) into a lower-case-keyed map of unquoted values. */
function parseAuthParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new SipParseError('auth-param without "="');
    const name = text.slice(i, eq).trim().toLowerCase();
    if (!isToken(name)) throw new SipParseError('bad auth-param name');
    let j = eq + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
    let value: string;
    if (text[j] === '"') {
      const end = skipQuoted(text, j);
      if (end < 0) throw new SipParseError('unterminated quoted auth-param');
      value = unquote(text.slice(j, end));
      j = end;
    } else {
      const comma = text.indexOf(',', j);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(j, end).trim();
      j = end;
    }
    out.set(name, value);
    i = j;
  }
  return out;
}

/** Parse a WWW-Authenticate / Proxy-Authenticate value (RFC 2617 §3.2.1, RFC 7616 §3.3). */
export function parseChallenge(headerValue: string): DigestChallenge {
  const t = headerValue.trim();
  const sp = t.search(/[ \t]/);
  if (sp < 0 || t.slice(0, sp).toLowerCase() !== 'digest') throw new SipParseError('not a Digest challenge');
  const p = parseAuthParams(t.slice(sp + 1));
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined) throw new SipParseError('Digest challenge without realm');
  if (nonce === undefined) throw new SipParseError('Digest challenge without nonce');
  const c: DigestChallenge = { realm, nonce, algorithm: p.get('algorithm') ?? 'MD5' };
  const opaque = p.get('opaque');
  if (opaque !== undefined) c.opaque = opaque;
  const qop = p.get('qop');
  if (qop !== undefined) c.qop = qop.split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== '');
  const stale = p.get('stale');
  if (stale !== undefined) c.stale = stale.toLowerCase() === 'true';
  return c;
}

/**
 * Of several challenges (RFC 8760: a server may offer SHA-256 and MD5 in
 * separate headers), the first one we support with the strongest hash.
 * Unparseable values are skipped; undefined when none fits.
 */
export function chooseChallenge(headerValues: string[]): DigestChallenge | undefined {
  const rank = (alg: string): number => {
    const a = alg.toUpperCase();
    return a.startsWith('SHA-512-256') ? 3 : a.startsWith('SHA-256') ? 2 : 1;
  };
  let best: DigestChallenge | undefined;
  for (const v of headerValues) {
    let c: DigestChallenge;
    try {
      c = parseChallenge(v);
    } catch {
      continue; // not Digest, or broken: another value may still be usable
    }
    if (supportsChallenge(c) && (best === undefined || rank(c.algorithm) > rank(best.algorithm))) best = c;
  }
  return best;
}

function h(hash: string, text: string): string {
  return createHash(hash).update(text, 'utf8').digest('hex');
}

/** Eight hex digits (RFC 2617 §3.2.2 nonce-count). */
function ncHex(nc: number): string {
  return (nc >>> 0).toString(16).padStart(8, '0');
}

/**
 * The Authorization / Proxy-Authorization value answering `challenge`
 * (RFC 2617 §3.2.2, RFC 7616 §3.4). Throws when the algorithm or qop is one
 * we cannot compute; the password never leaves this function.
 */
export function digestAuthorization(opts: {
  challenge: DigestChallenge;
  method: string;
  uri: string;
  username: string;
  password: string;
  nc: number;
  cnonce: string;
}): string {
  const { challenge: c, method, uri, username, password, cnonce } = opts;
  const alg = baseAlgorithm(c.algorithm);
  if (alg === undefined) throw new SipParseError(`unsupported digest algorithm ${c.algorithm.slice(0, 20)}`);
  const useQop = c.qop !== undefined;
  if (c.qop !== undefined && !c.qop.includes('auth')) throw new SipParseError('digest qop offers no "auth"');
  const nc = ncHex(opts.nc);
  let ha1 = h(alg.hash, `${username}:${c.realm}:${password}`);
  // RFC 7616 §3.4.2: -sess folds nonce and cnonce into A1
  if (alg.sess) ha1 = h(alg.hash, `${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = h(alg.hash, `${method}:${uri}`);
  const response = useQop
    ? h(alg.hash, `${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : h(alg.hash, `${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(uri)}`,
    `response="${response}"`,
    `algorithm=${c.algorithm}`,
  ];
  if (useQop || alg.sess) parts.push(`cnonce=${quote(cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (useQop) parts.push('qop=auth', `nc=${nc}`);
  return 'Digest ' + parts.join(', ');
}
