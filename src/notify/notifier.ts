/**
 * Notification at release (seed: "An IM or SMS will be done just to the user
 * which answered a call or to the last called user"): one SIP MESSAGE to the
 * technician's extension, sent from the caller's number so the phone can call
 * back, and one SMS to the technician's mobile, both through a durable
 * outbox (the IM is sent at once and journaled in parallel, then retried
 * like the SMS until the PBX answers 2xx, also after a restart).
 * Both carry the ticket text, e.g.
 * `12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732`.
 */
import { errText, type Logger } from '../util/log.js';
import type { Im } from './outbox-channel.js';
import type { Sms } from './sms/provider.js';

export interface NotifyTechnician {
  ext: string;
  sms?: { number: string; user?: string; password?: string };
}

export interface NotifierDeps {
  /** Send the IM at once and journal it (the IM outbox); resolves with its id after the first try. */
  enqueueIm(im: Im): Promise<string>;
  /** Put an SMS on the card's outbox; resolves once it is durable (or kept in memory while the card cannot take it). */
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
    // the outbox logs each try (accepted, retry, failed/); here only what it could not take at all
    try {
      await this.deps.enqueueIm({ ext: tech.ext, from: callerNumber, text });
    } catch (e) {
      log.error(`IM to ${tech.ext} could not be queued: ${errText(e)}`);
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
