/**
 * Every form a password can take in a request we build (plain, URL-encoded,
 * JSON-escaped), so that redact() removes it from reasons and log lines.
 */
import { redact } from '../../util/log.js';
import type { Sms } from './provider.js';

export function secretForms(sms: Sms): string[] {
  const p = sms.password;
  if (!p) return [];
  return [...new Set([p, encodeURIComponent(p), JSON.stringify(p).slice(1, -1), new URLSearchParams({ p }).toString().slice(2)])];
}

/** `text` with every form of the SMS's password replaced by `***`. */
export function redactSms(text: string, sms: Sms): string {
  // Longest first: the encoded form may contain the plain one.
  return redact(text, secretForms(sms).sort((a, b) => b.length - a.length));
}
