/**
 * SMS providers: one interface, one small module per gateway. A provider
 * decides only what one try meant (accepted / rejected / try later); the
 * outbox (src/notify/outbox.ts) owns durability and retries.
 */
import type { Logger } from '../../util/log.js';
import { createCodemaProvider } from './codema-provider.js';
import { createHttpProvider } from './http-provider.js';
import { createKannelProvider } from './kannel-provider.js';
import { createLogProvider } from './log-provider.js';

export interface Sms {
  /** Full number: SMSprefix + SMSNumber, digits only. */
  to: string;
  text: string;
  /** The technician's SMSUser.txt / SMSPassword.txt (provider account). */
  user?: string;
  password?: string;
}

export type SmsResult =
  | { kind: 'accepted'; id?: string }
  | { kind: 'rejected'; reason: string }
  | { kind: 'retry'; reason: string };

export interface SmsProvider {
  readonly name: string;
  /** Never throws: network and file errors come back as `retry`. */
  send(sms: Sms): Promise<SmsResult>;
}

export interface ConfigProblem {
  file: string;
  message: string;
}

export interface ProviderConfig {
  provider?: SmsProvider;
  problems: ConfigProblem[];
}

export const PROVIDER_NAMES = ['LOG', 'HTTP', 'KANNEL', 'CODEMA'] as const;

/**
 * Build the provider named in SMSProvider.txt (`name`, already read and
 * trimmed; case-insensitive). Its own settings are read from `appDir` now,
 * synchronously: a config edit means building a new provider.
 */
export function createProvider(name: string, appDir: string, logger: Logger): ProviderConfig {
  const log = logger.child('sms');
  switch (name.trim().toUpperCase()) {
    case 'LOG':
      return { provider: createLogProvider(appDir, log), problems: [] };
    case 'HTTP':
      return createHttpProvider(appDir, log);
    case 'KANNEL':
      return createKannelProvider(appDir, log);
    case 'CODEMA':
      return { provider: createCodemaProvider(log), problems: [] };
    default:
      return {
        problems: [
          {
            file: 'SMSProvider.txt',
            message: `unknown SMS provider "${name.trim()}": should hold one of ${PROVIDER_NAMES.join(', ')}`,
          },
        ],
      };
  }
}
