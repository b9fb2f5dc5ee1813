/**
 * HTTP: a generic web SMS gateway, configured in the card folder `HTTP/`:
 *
 *   URL.txt          request URL template (required), e.g.
 *                    https://gw.example/send?u={user}&p={password}&to={number}&msg={text}
 *   Body.txt         optional POST body template; without it the request is a GET
 *   ContentType.txt  optional body type, default application/x-www-form-urlencoded
 *   Success.txt      optional regular expression the response body must match
 *
 * Placeholders {number} {text} {user} {password} are URL-encoded in the URL
 * and in a form body, JSON-escaped in a body whose type mentions "json".
 * Decision: 2xx (and body pattern) = accepted; 408, 429, 5xx, network error,
 * timeout = try later; any other status = rejected with an excerpt.
 */
import { errText, type Logger } from '../../util/log.js';
import { checkHttpUrl, readCardValue } from './card-value.js';
import { DEFAULT_TIMEOUT_MS, excerpt, httpExchange, type HttpReply } from './http-client.js';
import type { ConfigProblem, ProviderConfig, Sms, SmsProvider, SmsResult } from './provider.js';
import { redactSms } from './secrets.js';

export interface HttpGatewayConfig {
  urlTemplate: string;
  bodyTemplate?: string;
  contentType: string;
  success?: RegExp;
  timeoutMs: number;
}

const PLACEHOLDER = /\{(number|text|user|password)\}/g;

/** Fill the placeholders of `template`, each value passed through `encode`. */
export function fillTemplate(template: string, sms: Sms, encode: (v: string) => string): string {
  return template.replace(PLACEHOLDER, (_m, key: string) => {
    const v = key === 'number' ? sms.to : key === 'text' ? sms.text : key === 'user' ? (sms.user ?? '') : (sms.password ?? '');
    return encode(v);
  });
}

function bodyEncoder(contentType: string): (v: string) => string {
  if (/json/i.test(contentType)) return (v) => JSON.stringify(v).slice(1, -1);
  return encodeURIComponent;
}

/** Read and check HTTP/*.txt; problems name the file and what it should hold. */
export function readHttpConfig(appDir: string): { config?: HttpGatewayConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const url = readCardValue(appDir, 'HTTP/URL.txt', 'the gateway URL with {number} {text} {user} {password}', true);
  const body = readCardValue(appDir, 'HTTP/Body.txt', 'the POST body template', false);
  const type = readCardValue(appDir, 'HTTP/ContentType.txt', 'the POST body content type', false);
  const success = readCardValue(appDir, 'HTTP/Success.txt', 'a regular expression the answer must match', false);
  for (const v of [url, body, type, success]) if (v.problem) problems.push(v.problem);
  let pattern: RegExp | undefined;
  if (success.value !== undefined) {
    try {
      pattern = new RegExp(success.value);
    } catch (e) {
      problems.push({ file: 'HTTP/Success.txt', message: `not a valid regular expression (${errText(e)})` });
    }
  }
  if (url.value !== undefined) {
    const probe = fillTemplate(url.value, { to: '0', text: 't', user: 'u', password: 'p' }, encodeURIComponent);
    const bad = checkHttpUrl('HTTP/URL.txt', probe);
    if (bad) problems.push(bad);
  }
  if (problems.length > 0 || url.value === undefined) return { problems };
  const config: HttpGatewayConfig = {
    urlTemplate: url.value,
    bodyTemplate: body.value,
    contentType: type.value ?? 'application/x-www-form-urlencoded',
    success: pattern,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  };
  return { config, problems };
}

/** What one gateway answer means (see the header comment). */
export function judgeHttpReply(reply: HttpReply, success: RegExp | undefined): SmsResult {
  const s = reply.status;
  const what = `HTTP ${s}: ${excerpt(reply.body)}`;
  if (s >= 200 && s < 300) {
    if (success && !success.test(reply.body)) return { kind: 'rejected', reason: `${what} (does not match HTTP/Success.txt)` };
    return { kind: 'accepted' };
  }
  if (s === 408 || s === 429 || s >= 500) return { kind: 'retry', reason: what };
  return { kind: 'rejected', reason: what };
}

export function httpGatewayProvider(config: HttpGatewayConfig, log: Logger): SmsProvider {
  return {
    name: 'HTTP',
    async send(sms: Sms): Promise<SmsResult> {
      const url = fillTemplate(config.urlTemplate, sms, encodeURIComponent);
      const body = config.bodyTemplate === undefined ? undefined : fillTemplate(config.bodyTemplate, sms, bodyEncoder(config.contentType));
      let result: SmsResult;
      try {
        const reply = await httpExchange(new URL(url), {
          method: body === undefined ? 'GET' : 'POST',
          body,
          contentType: config.contentType,
          timeoutMs: config.timeoutMs,
        });
        result = judgeHttpReply(reply, config.success);
      } catch (e) {
        result = { kind: 'retry', reason: `gateway not reachable: ${errText(e)}` };
      }
      if (result.kind === 'accepted') log.info(`HTTP: SMS to ${sms.to} accepted`);
      else result = { ...result, reason: redactSms(result.reason, sms) };
      return result;
    },
  };
}

export function createHttpProvider(appDir: string, log: Logger): ProviderConfig {
  const { config, problems } = readHttpConfig(appDir);
  if (!config) return { problems };
  return { provider: httpGatewayProvider(config, log), problems };
}
