import { randomBytes } from 'node:crypto';
import { errText, type Logger } from '../util/log.js';
import type { NumberJournal } from './counter.js';
import type { OpenHop } from './journal.js';
import { ticketText } from './ticket-name.js';
import type { TicketLogEntry } from './ticket-log.js';

/** What CallTickets needs from the counter (TicketCounter) and the log (TicketLog). */
export interface NumberSource {
  take(journal?: NumberJournal): Promise<number>;
}
export interface EntryWriter {
  write(entry: TicketLogEntry): Promise<string>;
  /** Journal an open hop durably (journal.ts); a writer without it gets no journal. */
  openHop?(hop: OpenHop): Promise<void>;
  /** Remove the journal of a number that was not given after all. */
  dropHop?(ticket: number): Promise<void>;
  /** Turn an open hop's journal into its final file. */
  closeHop?(entry: TicketLogEntry): Promise<string>;
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

/** What is known of an open hop; the journal is rewritten when it learns more. */
interface HopState {
  ext: string;
  start: Date;
  /** The journal as on the card, once written. */
  written: OpenHop | null;
  closing: boolean;
  /** A journal rewrite in progress: the close waits for it before the rename. */
  update: Promise<void>;
}

/**
 * The tickets of one emergency call, driven by the hunt's commands:
 * `openTicket { hop, ext, at }` -> open(hop, ext, at) takes the number at
 * once (the phones ring meanwhile) and journals the hop under the counter's
 * lock, so that every number given has a file in Ticket/ (journal.ts);
 * `closeTicket {...}` -> close(...) waits for that number and renames the
 * journal to the final log file name; `notify { hop }` -> closed(hop) gives
 * the text to send. Nothing here rejects: each failure is one error line,
 * and the call goes on. A journal that could not be closed stays on the card
 * and the next start closes it (recovery.ts).
 */
export class CallTickets {
  private readonly numbers = new Map<number, Promise<number>>();
  private readonly done = new Map<number, Promise<ClosedTicket>>();
  private readonly hops = new Map<number, HopState>();
  /** The numbers of this call given so far, in order. */
  private readonly given: number[] = [];
  private readonly call = randomBytes(4).toString('hex');
  /** Closes run in the order they were asked for: a later hop is never closed before an earlier one. */
  private closing: Promise<unknown> = Promise.resolve();

  /** `caller` is the number as received; it is sanitized in the text. */
  constructor(
    private readonly counter: NumberSource,
    private readonly log: EntryWriter,
    private readonly logger: Logger,
    private readonly caller: string,
  ) {}

  /**
   * Take the hop's ticket number now. A second open of the same hop takes no
   * number; it completes what the journal knows (the extension and start of
   * the hunt's openTicket, when the driver opened hop 1 before the hunt began).
   */
  open(hop: number, ext?: string, at?: Date): void {
    const known = this.hops.get(hop);
    if (known) return this.learn(hop, known, ext, at);
    const st: HopState = { ext: ext ?? '', start: at ?? new Date(), written: null, closing: false, update: Promise.resolve() };
    this.hops.set(hop, st);
    const writer = this.log;
    const journal: NumberJournal | undefined = writer.openHop
      ? { write: (n) => this.journal(hop, st, n), drop: (n) => writer.dropHop?.(n) ?? Promise.resolve() }
      : undefined;
    const n = this.counter.take(journal).then(
      (t) => {
        this.given.push(t);
        return t;
      },
      (e: unknown) => {
        this.logger.error(`hop ${hop}: no ticket number: ${errText(e)}`);
        return NO_TICKET;
      },
    );
    this.numbers.set(hop, n);
  }

  /** The hop's number once taken (NO_TICKET when it could not be stored); opens the hop if needed. */
  number(hop: number): Promise<number> {
    this.open(hop);
    return this.numbers.get(hop) ?? Promise.resolve(NO_TICKET);
  }

  /** Close the hop's ticket once its number is known; resolves with the ticket (never rejects). */
  close(c: HopClose): Promise<ClosedTicket> {
    const already = this.done.get(c.hop);
    if (already) return already;
    if (!this.numbers.has(c.hop)) this.open(c.hop, c.ext, c.start);
    const st = this.hops.get(c.hop);
    if (st) st.closing = true;
    const p = this.finish(c, this.closing);
    this.closing = p;
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
    await Promise.all([...this.hops.values()].map((h) => h.update));
    return Promise.all(this.done.values());
  }

  private openHop(hop: number, st: HopState, ticket: number): OpenHop {
    const first = hop === 1 ? ticket : (this.given[0] ?? 0);
    const tickets = this.given.includes(ticket) ? [...this.given] : [...this.given, ticket];
    return { ticket, call: this.call, hop, start: st.start, caller: this.caller, called: st.ext, first, tickets };
  }

  /** Under the counter's lock: the journal of number n, before n is given. */
  private async journal(hop: number, st: HopState, n: number): Promise<void> {
    const j = this.openHop(hop, st, n);
    await this.log.openHop?.(j);
    st.written = j;
  }

  private learn(hop: number, st: HopState, ext: string | undefined, at: Date | undefined): void {
    if (ext === undefined || st.closing) return;
    st.ext = ext;
    if (at) st.start = at;
    const number = this.numbers.get(hop) ?? Promise.resolve(NO_TICKET);
    // after the number: the journal is written by then (or the number was not given)
    st.update = st.update
      .then(() => number)
      .then(async (n) => {
        const was = st.written;
        if (n === NO_TICKET || !was || st.closing || (was.called === st.ext && was.start.getTime() === st.start.getTime())) return;
        const j = { ...this.openHop(hop, st, n), tickets: was.tickets, first: was.first };
        await this.log.openHop?.(j);
        st.written = j;
      })
      .catch((e: unknown) => this.logger.error(`hop ${hop}: journal not updated: ${errText(e)}`));
  }

  private async finish(c: HopClose, before: Promise<unknown>): Promise<ClosedTicket> {
    const ticket = (await this.numbers.get(c.hop)) ?? NO_TICKET;
    const st = this.hops.get(c.hop);
    await st?.update;
    await before;
    const info = { start: c.start, end: c.end, ticket, caller: this.caller, called: c.ext };
    const text = ticketText(info);
    const entry = { ...info, final: c.final };
    let path: string | null = null;
    try {
      path = ticket !== NO_TICKET && st?.written && this.log.closeHop ? await this.log.closeHop(entry) : await this.log.write(entry);
    } catch (e) {
      const left = st?.written ? ' (its journal stays: the next start closes it)' : '';
      this.logger.error(`hop ${c.hop} ticket ${ticket}: log file not written${left}: ${errText(e)}`);
    }
    return { hop: c.hop, ticket, text, path };
  }
}
