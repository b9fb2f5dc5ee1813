/**
 * What the outbox carries and how one try is made: the same durable queue
 * (src/notify/outbox.ts) holds SMS for the SMS provider and IMs for the PBX;
 * a channel is the only part that differs. The SMS channel wraps the
 * provider named on the card; the IM channel wraps a sender injected by
 * main.ts (the SIP user agent), so notify/ never imports sip/.
 */
import { errText } from '../util/log.js';
import type { Sms, SmsProvider, SmsResult } from './sms/provider.js';
import { redactSms } from './sms/secrets.js';

/** accepted -> done; rejected -> failed/ at once; retry -> again after a backoff. */
export type SendResult = SmsResult;

export interface OutboxChannel<P> {
  /** Word for logs ("SMS", "IM") and the payload's key in the file ("sms", "im"). */
  readonly kind: 'sms' | 'im';
  /** One try; never throws (a throw counts as retry). Undefined sender = nobody usable now: retry. */
  sender(): { name: string; send(p: P): Promise<SendResult> } | undefined;
  /** Short description for log lines, never a secret: "SMS to 39333...", "IM to 732". */
  describe(p: P): string;
  /** Why `p` cannot be queued at all, or undefined. */
  check(p: P): string | undefined;
  /** The payload as stored in the file (a plain object). */
  toJson(p: P): Record<string, string>;
  /** The payload from a file; throws a short reason (never the content). */
  fromJson(o: Record<string, unknown> | undefined): P;
  /** A provider's reason with every secret of `p` removed. */
  redact(reason: string, p: P): string;
}

export function smsChannel(provider: () => SmsProvider | undefined): OutboxChannel<Sms> {
  return {
    kind: 'sms',
    sender: provider,
    describe: (s) => `SMS to ${s.to}`,
    check: (s) => (/^\d{3,20}$/.test(s.to) ? undefined : `SMS number "${s.to}" is not 3-20 digits`),
    toJson(s) {
      const o: Record<string, string> = { to: s.to, text: s.text };
      if (s.user !== undefined) o.user = s.user;
      if (s.password !== undefined) o.password = s.password;
      return o;
    },
    fromJson(s) {
      const opt = (v: unknown): boolean => v === undefined || typeof v === 'string';
      if (!s || typeof s.to !== 'string' || typeof s.text !== 'string' || !opt(s.user) || !opt(s.password)) {
        throw new Error('no valid sms {to, text, user?, password?}');
      }
      const sms: Sms = { to: s.to, text: s.text };
      if (typeof s.user === 'string') sms.user = s.user;
      if (typeof s.password === 'string') sms.password = s.password;
      return sms;
    },
    redact: (reason, s) => redactSms(reason, s),
  };
}

/** One instant message: to the technician's extension, From the caller's number (seed: lifting the receiver calls back). */
export interface Im {
  ext: string;
  from: string;
  text: string;
}

/** Sends a SIP MESSAGE; resolves with the final status (a local 408/503 when nobody answers). */
export type ImSender = (ext: string, from: string, text: string) => Promise<number>;

/**
 * What a final status means for a retry. RFC 3261 §21.4.9 408 and §21.4.18
 * 480 say "try later", §21.5 5xx are the server's trouble, 486 (§21.4.24) a
 * phone busy now; anything else (404 no such user, 403, 415, 6xx) will not
 * change by trying again.
 */
export function imResult(status: number): SendResult {
  if (status >= 200 && status < 300) return { kind: 'accepted' };
  if (status === 408 || status === 480 || status === 486 || (status >= 500 && status < 600)) {
    return { kind: 'retry', reason: `answered ${status}` };
  }
  return { kind: 'rejected', reason: `answered ${status}` };
}

export function imChannel(send: ImSender): OutboxChannel<Im> {
  const sender = {
    name: 'PBX',
    async send(im: Im): Promise<SendResult> {
      try {
        return imResult(await send(im.ext, im.from, im.text));
      } catch (e) {
        return { kind: 'retry', reason: errText(e) };
      }
    },
  };
  return {
    kind: 'im',
    sender: () => sender,
    describe: (im) => `IM to ${im.ext}`,
    check: (im) => (/^\d{1,20}$/.test(im.ext) ? undefined : `IM extension "${im.ext}" is not 1-20 digits`),
    toJson: (im) => ({ ext: im.ext, from: im.from, text: im.text }),
    fromJson(o) {
      if (!o || typeof o.ext !== 'string' || typeof o.from !== 'string' || typeof o.text !== 'string') {
        throw new Error('no valid im {ext, from, text}');
      }
      return { ext: o.ext, from: o.from, text: o.text };
    },
    redact: (reason) => reason,
  };
}
