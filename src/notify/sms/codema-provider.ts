/**
 * CODEMA: the SMS provider the original (innovaphone) solution used by
 * default. Its API is not public and cannot be reached from here, so it is
 * accepted as a name but every SMS is rejected with a pointer to HTTP. No
 * API is guessed: a wrong guess would look like it works and lose messages.
 */
import type { Logger } from '../../util/log.js';
import type { Sms, SmsProvider, SmsResult } from './provider.js';

export const CODEMA_REASON =
  'SMS provider CODEMA is not supported (its API is not public); configure your gateway with SMSProvider.txt = HTTP (see HTTP/URL.txt)';

export function createCodemaProvider(log: Logger): SmsProvider {
  // Said once, at config time; each rejected SMS is logged by the outbox.
  log.warn(CODEMA_REASON);
  return {
    name: 'CODEMA',
    send(_sms: Sms): Promise<SmsResult> {
      return Promise.resolve({ kind: 'rejected', reason: CODEMA_REASON });
    },
  };
}
