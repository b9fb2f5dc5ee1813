import { errText, type Logger } from '../util/log.js';
import { ticketText } from './ticket-name.js';
import type { TicketLogEntry } from './ticket-log.js';

/** What CallTickets needs from the counter (TicketCounter) and the log (TicketLog). */
export interface NumberSource {
  take(): Promise<number>;
}
export interface EntryWriter {
  write(entry: TicketLogEntry): Promise<string>;
}

/** A hop's ticket as the hunt closes it (structurally the hunt's closeTicket command). */
export interface HopClose {
  readonly hop: number;
  readonly ext: string;
  readonly start: Date;
  readonly end: Date;
  readonly final: boolean;
}

export interface ClosedTicket {
  readonly hop: number;
  /** 0 when no number could be stored on the card (see NO_TICKET). */
  readonly ticket: number;
  /** The IM/SMS text: the log file name without `_END` and serial. */
  readonly text: string;
  /** The log file, or null if it could not be written. */
  readonly path: string | null;
}

/**
 * Ticket 0 marks a hop whose number could not be made durable (card full or
 * read-only): the counter never gives 0 (TicketNR.txt blank means 1), so a
 * technician seeing "Ticket_0" knows the card needs attention, and the call
 * itself is never held up by its paperwork.
 */
export const NO_TICKET = 0;

/**
 * The tickets of one emergency call, driven by the hunt's commands:
 * `openTicket { hop }` -> open(hop) takes the number at once (the phones ring
 * meanwhile); `closeTicket {...}` -> close(...) waits for that number and
 * writes the log file; `notify { hop }` -> closed(hop) gives the text to send.
 * Nothing here rejects: each failure is one error line, and the call goes on.
 */
export class CallTickets {
  private readonly numbers = new Map<number, Promise<number>>();
  private readonly done = new Map<number, Promise<ClosedTicket>>();

  /** `caller` is the number as received; it is sanitized in the text. */
  constructor(
    private readonly counter: NumberSource,
    private readonly log: EntryWriter,
    private readonly logger: Logger,
    private readonly caller: string,
  ) {}

  /** Take the hop's ticket number now; a second open of the same hop is ignored. */
  open(hop: number): void {
    if (this.numbers.has(hop)) return;
    const n = this.counter.take().catch((e: unknown) => {
      this.logger.error(`hop ${hop}: no ticket number: ${errText(e)}`);
      return NO_TICKET;
    });
    this.numbers.set(hop, n);
  }

  /** The hop's number once taken (NO_TICKET when it could not be stored); opens the hop if needed. */
  number(hop: number): Promise<number> {
    this.open(hop);
    return this.numbers.get(hop) ?? Promise.resolve(NO_TICKET);
  }

  /** Write the hop's log file once its number is known; resolves with the ticket (never rejects). */
  close(c: HopClose): Promise<ClosedTicket> {
    const already = this.done.get(c.hop);
    if (already) return already;
    if (!this.numbers.has(c.hop)) this.open(c.hop);
    const p = this.finish(c);
    this.done.set(c.hop, p);
    return p;
  }

  /** The closed ticket of a hop (for notify), or undefined if it was never closed. */
  closed(hop: number): Promise<ClosedTicket> | undefined {
    return this.done.get(hop);
  }

  /** Every number and log write of the call settled: for shutdown and tests. */
  async settled(): Promise<ClosedTicket[]> {
    await Promise.all(this.numbers.values());
    return Promise.all(this.done.values());
  }

  private async finish(c: HopClose): Promise<ClosedTicket> {
    const ticket = (await this.numbers.get(c.hop)) ?? NO_TICKET;
    const info = { start: c.start, end: c.end, ticket, caller: this.caller, called: c.ext };
    const text = ticketText(info);
    let path: string | null = null;
    try {
      path = await this.log.write({ ...info, final: c.final });
    } catch (e) {
      this.logger.error(`hop ${c.hop} ticket ${ticket}: log file not written: ${errText(e)}`);
    }
    return { hop: c.hop, ticket, text, path };
  }
}
