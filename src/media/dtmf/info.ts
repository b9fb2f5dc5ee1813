/**
 * DTMF in SIP INFO bodies (no RFC; de-facto formats used by PBXs and phones):
 *
 *  application/dtmf-relay   "Signal=1\r\nDuration=160\r\n"  (Cisco style)
 *  application/dtmf         "1"                              (bare digit)
 *
 * Returns the digit, or undefined for any other type or a body without a
 * valid digit. Bounded: bodies over 1 KiB are not DTMF.
 */

const MAX_BODY = 1024;
const DIGITS = '0123456789*#ABCD';

function normDigit(s: string, allowCode: boolean): string | undefined {
  const v = s.trim().toUpperCase();
  if (v.length === 1 && DIGITS.includes(v)) return v;
  // dtmf-relay senders may write the event code (10 = *, 11 = #, RFC 4733 numbering)
  if (allowCode && /^1[0-5]$/.test(v)) return DIGITS[Number(v)];
  return undefined;
}

export function parseDtmfInfo(contentType: string | undefined, body: string | Buffer): string | undefined {
  if (!contentType) return undefined;
  const type = contentType.split(';')[0].trim().toLowerCase();
  const text = typeof body === 'string' ? body : body.toString('utf8', 0, Math.min(body.length, MAX_BODY + 1));
  if (text.length > MAX_BODY) return undefined;
  if (type === 'application/dtmf') return normDigit(text, false);
  if (type !== 'application/dtmf-relay') return undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*signal\s*=\s*(\S+)\s*$/i.exec(line);
    if (m) return normDigit(m[1], true);
  }
  return undefined;
}
