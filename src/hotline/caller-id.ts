/**
 * The caller's number as the PBX gives it (seed: with the trunk prefix,
 * e.g. 03472619287): P-Asserted-Identity (RFC 3325) when present, else the
 * From user part. Untrusted: sanitizeNumber() runs on it before any use.
 */
import { parseNameAddr } from '../sip/header-values.js';
import type { SipRequest } from '../sip/message.js';

export function callerNumber(req: SipRequest): string | undefined {
  for (const h of [req.headers.get('p-asserted-identity'), req.headers.get('from')]) {
    if (!h) continue;
    try {
      const na = parseNameAddr(h);
      if (na.uri.user) return na.uri.user;
    } catch {
      // a header we cannot read is as good as absent: try the next one
    }
  }
  return undefined;
}

/** The From user of a request (who dials a feature code); undefined if unreadable. */
export function fromUser(req: SipRequest): string | undefined {
  const h = req.headers.get('from');
  if (!h) return undefined;
  try {
    return parseNameAddr(h).uri.user;
  } catch {
    return undefined;
  }
}
