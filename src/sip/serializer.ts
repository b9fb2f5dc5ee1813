/**
 * SipMessage -> datagram (RFC 3261 §7). Each stored header entry becomes one
 * header line, in order, with its conventional capitalisation; Content-Length
 * is always written last from the actual body (§18.3, §20.14).
 */
import type { SipMessage } from './message.js';
import { formatUri } from './uri.js';

/** Names whose usual spelling is not plain Capitalised-Words (RFC 3261 §20 and extensions). */
const SPECIAL_NAMES: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'p-asserted-identity': 'P-Asserted-Identity',
};

/** `record-route` -> `Record-Route`, `call-id` -> `Call-ID`. Header names are case-insensitive (§7.3.1). */
export function displayName(name: string): string {
  const special = SPECIAL_NAMES[name];
  if (special) return special;
  return name
    .split('-')
    .map((w) => (w === '' ? w : w[0].toUpperCase() + w.slice(1)))
    .join('-');
}

/** A value must not be able to start a new header line (header injection). */
function safeValue(v: string): string {
  return v.includes('\r') || v.includes('\n') ? v.replace(/[\r\n]+/g, ' ') : v;
}

/** Serialize a message; any Content-Length in `headers` is replaced by the body's length. */
export function serialize(msg: SipMessage): Buffer {
  let head =
    msg.type === 'request'
      ? `${msg.method} ${formatUri(msg.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${safeValue(msg.reason)}\r\n`;
  for (const [name, value] of msg.headers.entries()) {
    if (name === 'content-length') continue;
    head += `${displayName(name)}: ${safeValue(value)}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headBuf = Buffer.from(head, 'utf8');
  return msg.body.length === 0 ? headBuf : Buffer.concat([headBuf, msg.body]);
}
