/**
 * The journal of an open hop: written in `Ticket/` when the hop's number is
 * taken (before the counter moves on, under its lock), renamed to the hop's
 * final seed-format name when it closes, and closed by the next start if the
 * box died meanwhile (recovery.ts). One file per number all along: never two.
 *
 * Name: `Open_Ticket_<N>.jnl` — not `.txt` and not starting with a date, so
 * nothing that reads the ticket log (parseTicketFileName, check, the owner's
 * listing of `*.txt`) takes it for a closed ticket; legal on FAT.
 *
 * Content: `key=value` lines (text, so an owner can read it on the card):
 *
 *   ticketline open hop 1
 *   ticket=1235          the hop's number
 *   call=9f3c0a1e        the call (random id): its hops are grouped by it
 *   hop=2                the hop's place in the call
 *   start=<ISO time>     when the hop began to ring
 *   caller=03472619287   sanitized
 *   called=731           the technician's extension ('' if not known yet)
 *   first=1234           the call's first ticket (its recording's name), 0 if unknown
 *   tickets=1234,1235    the call's numbers known so far (this one last:
 *                        a hop opened is the last hop known so far)
 */
import { sanitizeNumber } from './ticket-name.js';

export const JOURNAL_HEADER = 'ticketline open hop 1';

export interface OpenHop {
  readonly ticket: number;
  readonly call: string;
  readonly hop: number;
  readonly start: Date;
  readonly caller: string;
  /** '' while the hop's extension is not known yet. */
  readonly called: string;
  readonly first: number;
  readonly tickets: readonly number[];
}

const NAME_RE = /^Open_Ticket_(\d{1,16})\.jnl$/;

export function journalName(ticket: number): string {
  if (!Number.isSafeInteger(ticket) || ticket < 1) throw new RangeError(`journal ticket ${ticket} is not a positive integer`);
  return `Open_Ticket_${ticket}.jnl`;
}

/** The ticket number of a journal file name, or null if it is not one. */
export function parseJournalName(name: string): number | null {
  const m = NAME_RE.exec(name);
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

export function journalText(j: OpenHop): string {
  return (
    [
      JOURNAL_HEADER,
      `ticket=${j.ticket}`,
      `call=${j.call.replace(/[^0-9a-z]/gi, '')}`,
      `hop=${j.hop}`,
      `start=${j.start.toISOString()}`,
      `caller=${sanitizeNumber(j.caller)}`,
      `called=${j.called === '' ? '' : sanitizeNumber(j.called)}`,
      `first=${j.first}`,
      `tickets=${j.tickets.join(',')}`,
    ].join('\n') + '\n'
  );
}

/** Parse a journal's content; the reason why not if it is not one (a clear one-liner). */
export function parseJournal(text: string): OpenHop | string {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== JOURNAL_HEADER) return text.trim() === '' ? 'it is empty' : `its first line is not "${JOURNAL_HEADER}"`;
  const v = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf('=');
    if (i > 0) v.set(l.slice(0, i), l.slice(i + 1));
  }
  const int = (k: string): number => (/^\d{1,16}$/.test(v.get(k) ?? '') ? Number(v.get(k)) : NaN);
  const ticket = int('ticket');
  const hop = int('hop');
  const start = new Date(v.get('start') ?? '');
  if (!(ticket >= 1) || !(hop >= 1) || Number.isNaN(start.getTime())) return 'ticket, hop or start is missing or not valid';
  const tickets = (v.get('tickets') ?? '').split(',').filter((s) => /^\d{1,16}$/.test(s)).map(Number);
  return {
    ticket,
    call: v.get('call') ?? '',
    hop,
    start,
    caller: v.get('caller') ?? '',
    called: v.get('called') ?? '',
    first: Number.isSafeInteger(int('first')) ? int('first') : 0,
    tickets,
  };
}
