/**
 * Notification at release (seed: "An IM or SMS will be done just to the user
 * which answered a call or to the last called user"): one SIP MESSAGE to the
 * technician's extension, sent from the caller's number so the phone can call
 * back, and one SMS to the technician's mobile through the durable outbox.
 * Both carry the ticket text, e.g.
 * `12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732`.
 */
import { errText, type Logger } from '../util/log.js';
import type { Sms } from './sms/provider.js';

export interface NotifyTechnician {
  ext: string;
  sms?: { number: string; user?: string; password?: string };
}

export interface NotifierDeps {
  /** Send a SIP MESSAGE (text/plain) to `ext`, From `fromNumber`; resolves with the final status. */
  sendIm(ext: string, fromNumber: string, text: string): Promise<number>;
  /** Put an SMS on the card's outbox; resolves once it is durable. */
  enqueueSms(sms: Sms): Promise<string>;
  /** SMSprefix.txt, read at send time (the card may change). */
  smsPrefix(): string;
  logger: Logger;
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  /** IM and SMS in parallel; never rejects (each failure is one log line). */
  async notify(tech: NotifyTechnician, callerNumber: string, text: string): Promise<void> {
    await Promise.all([this.im(tech, callerNumber, text), this.sms(tech, text)]);
  }

  private async im(tech: NotifyTechnician, callerNumber: string, text: string): Promise<void> {
    const log = this.deps.logger;
    try {
      const status = await this.deps.sendIm(tech.ext, callerNumber, text);
      if (status >= 200 && status < 300) log.info(`IM to ${tech.ext} delivered (${status}): ${text}`);
      else log.warn(`IM to ${tech.ext} not delivered: ${status} (the SMS, if configured, still goes)`);
    } catch (e) {
      log.warn(`IM to ${tech.ext} not delivered: ${errText(e)}`);
    }
  }

  private async sms(tech: NotifyTechnician, text: string): Promise<void> {
    const log = this.deps.logger;
    if (!tech.sms) {
      log.info(`no SMSNumber.txt for ${tech.ext}: IM only`);
      return;
    }
    // Number = SMSprefix.txt + SMSNumber.txt (seed: prefix without 0, + or 00).
    const to = `${this.deps.smsPrefix()}${tech.sms.number}`;
    try {
      const id = await this.deps.enqueueSms({ to, text, user: tech.sms.user, password: tech.sms.password });
      log.info(`SMS to ${tech.ext} (${to}) queued as ${id}`);
    } catch (e) {
      log.error(`SMS to ${tech.ext} (${to}) could not be put on the card: ${errText(e)}`);
    }
  }
}
