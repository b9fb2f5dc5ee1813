/**
 * KANNEL: the open-source gateway's sendsms HTTP interface (smsbox).
 *   KANNEL/URL.txt   base URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms
 * username / password = the technician's SMSUser.txt / SMSPassword.txt.
 * smsbox answers 202 "0: Accepted for delivery" or 202 "3: Queued for later
 * delivery" (both mean Kannel now owns the message), 403 "Authorization
 * failed for sendsms", 400 for a bad request, 503 "Temporal failure".
 */
import { errText, type Logger } from '../../util/log.js';
import { checkHttpUrl, readCardValue } from './card-value.js';
import { DEFAULT_TIMEOUT_MS, excerpt, httpExchange, type HttpReply } from './http-client.js';
import type { ProviderConfig, Sms, SmsProvider, SmsResult } from './provider.js';
import { redactSms } from './secrets.js';

/** The sendsms request for one SMS: the base URL's own query is kept. */
export function sendsmsUrl(base: string, sms: Sms): URL {
  const url = new URL(base);
  if (sms.user !== undefined) url.searchParams.set('username', sms.user);
  if (sms.password !== undefined) url.searchParams.set('password', sms.password);
  url.searchParams.set('to', sms.to);
  url.searchParams.set('text', sms.text);
  return url;
}

export function judgeKannelReply(reply: HttpReply): SmsResult {
  const s = reply.status;
  const what = `Kannel HTTP ${s}: ${excerpt(reply.body)}`;
  if (s >= 200 && s < 300) return { kind: 'accepted' };
  if (s === 403) return { kind: 'rejected', reason: `${what} (check the technician's SMSUser.txt / SMSPassword.txt)` };
  if (s === 408 || s === 429 || s >= 500) return { kind: 'retry', reason: what };
  return { kind: 'rejected', reason: what };
}

export function kannelProvider(base: string, log: Logger, timeoutMs = DEFAULT_TIMEOUT_MS): SmsProvider {
  return {
    name: 'KANNEL',
    async send(sms: Sms): Promise<SmsResult> {
      let result: SmsResult;
      try {
        const reply = await httpExchange(sendsmsUrl(base, sms), { method: 'GET', timeoutMs });
        result = judgeKannelReply(reply);
        if (result.kind === 'accepted') log.info(`KANNEL: SMS to ${sms.to} accepted (${excerpt(reply.body, 60)})`);
      } catch (e) {
        result = { kind: 'retry', reason: `Kannel not reachable: ${errText(e)}` };
      }
      return result.kind === 'accepted' ? result : { ...result, reason: redactSms(result.reason, sms) };
    },
  };
}

export function createKannelProvider(appDir: string, log: Logger): ProviderConfig {
  const file = 'KANNEL/URL.txt';
  const url = readCardValue(appDir, file, "Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms", true);
  if (url.problem || url.value === undefined) return { problems: url.problem ? [url.problem] : [] };
  const bad = checkHttpUrl(file, url.value);
  if (bad) return { problems: [bad] };
  return { provider: kannelProvider(url.value, log), problems: [] };
}
