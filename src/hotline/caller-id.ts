/**
 * The caller's number as the PBX gives it (seed: with the trunk prefix,
 * e.g. 03472619287): P-Asserted-Identity (RFC 3325) when present, else the
 * From user part. Untrusted: sanitizeNumber() runs on it before any use.
 */
import type { CardConfig } from '../config/card.js';
import { parseNameAddr } from '../sip/header-values.js';
import type { SipRequest } from '../sip/message.js';
import { ANONYMOUS, sanitizeNumber } from '../tickets/ticket-name.js';

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

/**
 * The caller's number as it can be dialled back (seed: the caller number
 * "contains prefix of the local trunk line ... lifting the receiver will call
 * back"): TrunkPrefix.txt goes before a number the PBX gave without it (e.g.
 * stripped the 0). Kept as it is: no prefix on the card, a withheld number,
 * an E.164 `+` number, one that already starts with the prefix, one with `*`
 * or `#`, and an extension on the card (an internal test call).
 * Sanitized (ticket-name.ts sanitizeNumber) before and after.
 */
export function dialableCaller(raw: string | undefined, config: Pick<CardConfig, 'trunkPrefix' | 'technicians' | 'xmlNumber'>): string {
  const number = sanitizeNumber(raw);
  const prefix = config.trunkPrefix;
  if (!prefix || number === ANONYMOUS || !/^[0-9]+$/.test(number) || number.startsWith(prefix)) return number;
  if (config.technicians.has(number) || number === config.xmlNumber) return number;
  return sanitizeNumber(prefix + number);
}
