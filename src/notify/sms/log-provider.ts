/**
 * LOG: appends each SMS as one line to SMS.log in the app folder, so the
 * appliance works with no SMS account (the default card uses it).
 * Line: `<ISO time> <number> <text>` — never the user or password.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { errText, type Logger } from '../../util/log.js';
import { isoTime } from '../../util/time-format.js';
import type { Sms, SmsProvider, SmsResult } from './provider.js';

export const SMS_LOG_FILE = 'SMS.log';

export function createLogProvider(appDir: string, log: Logger, now: () => Date = () => new Date()): SmsProvider {
  const path = join(appDir, SMS_LOG_FILE);
  return {
    name: 'LOG',
    async send(sms: Sms): Promise<SmsResult> {
      // One SMS, one line: a newline in the text would fake a second entry.
      const line = `${isoTime(now())} ${sms.to} ${sms.text.replace(/[\r\n]+/g, ' ')}\n`;
      try {
        const fh = await open(path, 'a');
        try {
          await fh.appendFile(line);
          await fh.sync();
        } finally {
          await fh.close();
        }
        log.info(`LOG: SMS to ${sms.to} written to ${SMS_LOG_FILE}`);
        return { kind: 'accepted' };
      } catch (e) {
        return { kind: 'retry', reason: `cannot append to ${path}: ${errText(e)}` };
      }
    },
  };
}
