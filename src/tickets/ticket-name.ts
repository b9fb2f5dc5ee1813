/**
 * Ticket text and ticket log file names, as in the seed (howto-ticketing):
 *
 *   12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732
 *
 * start and end of the hop (local time, minute precision), ticket number,
 * caller number as received (trunk prefix included), called extension (never
 * the fork number). The log file adds `_END` on the last hop and a serial:
 * `<text>[_END]_<serial>.txt`.
 */
import { pad } from '../util/time-format.js';

export interface TicketInfo {
  /** When the hop started (the technician's phones began to ring). */
  start: Date;
  /** When the hop ended (timeout, failure, or release of the call). */
  end: Date;
  ticket: number;
  /** Caller number, untrusted: it is sanitized here. */
  caller: string;
  /** Internal extension of the technician. */
  called: string;
}

/** Longest number kept; longer input is cut (no real number is longer). */
export const MAX_NUMBER_LENGTH = 32;
/** What an empty or entirely invalid number becomes. */
export const ANONYMOUS = 'anonymous';

/**
 * The caller number comes from the SIP From / P-Asserted-Identity user part:
 * keep only ASCII digits, `+`, `*`, `#` (what a dial pad and E.164 can carry),
 * at most MAX_NUMBER_LENGTH of them. Nothing else can reach a file name or a
 * message: no `/`, `..`, spaces, quotes, control or non-ASCII characters.
 */
export function sanitizeNumber(raw: string | undefined | null): string {
  if (typeof raw !== 'string') return ANONYMOUS;
  let out = '';
  for (const ch of raw) {
    if ((ch >= '0' && ch <= '9') || ch === '+' || ch === '*' || ch === '#') {
      out += ch;
      if (out.length >= MAX_NUMBER_LENGTH) break;
    }
  }
  return out === '' ? ANONYMOUS : out;
}

/** `DD.MM.YYYY_HH.MM` in the process's local time zone (the card's clock). */
export function formatStamp(d: Date): string {
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()}_${pad(d.getHours())}.${pad(d.getMinutes())}`;
}

/** The text of the IM, the SMS and (without suffixes) the log file name. */
export function ticketText(info: TicketInfo): string {
  if (!Number.isSafeInteger(info.ticket) || info.ticket < 0) throw new RangeError(`ticket number ${info.ticket} is not a non-negative integer`);
  return `${formatStamp(info.start)}_${formatStamp(info.end)}_Ticket_${info.ticket}_Caller_${sanitizeNumber(info.caller)}_Called_${sanitizeNumber(info.called)}`;
}

/**
 * `*` is forbidden in FAT file names (the card's file system refuses it with
 * EINVAL), so in a file name it is written as `x`. Sanitized numbers never
 * contain `x`, so the parser maps it back without ambiguity.
 */
const STAR_IN_FILE = 'x';

export interface FileNameOptions {
  /** The last hop of the call (answered, or ringing when the call ended). */
  final: boolean;
  /** 1, 2, ...: keeps two equal texts (same minute) apart. */
  serial: number;
}

/** `<text>[_END]_<serial>.txt` */
export function ticketFileName(text: string, opts: FileNameOptions): string {
  if (!Number.isSafeInteger(opts.serial) || opts.serial < 1) throw new RangeError(`serial ${opts.serial} is not a positive integer`);
  return `${text.split('*').join(STAR_IN_FILE)}${opts.final ? '_END' : ''}_${opts.serial}.txt`;
}

export interface ParsedTicketFile extends TicketInfo {
  /** The ticket text (as in the IM/SMS), `*` restored. */
  text: string;
  final: boolean;
  serial: number;
}

const STAMP = '(\\d{2})\\.(\\d{2})\\.(\\d{4})_(\\d{2})\\.(\\d{2})';
const NUMBER = `([0-9+#${STAR_IN_FILE}]{1,${MAX_NUMBER_LENGTH}}|${ANONYMOUS})`;
const FILE_RE = new RegExp(`^${STAMP}_${STAMP}_Ticket_(\\d{1,16})_Caller_${NUMBER}_Called_${NUMBER}(_END)?_(\\d{1,9})\\.txt$`);

function localDate(m: RegExpExecArray, i: number): Date | null {
  const [dd, mo, yyyy, hh, mi] = m.slice(i, i + 5).map(Number);
  const d = new Date(yyyy, mo - 1, dd, hh, mi);
  // Reject 31.02. and 25.61: Date would silently roll them over.
  if (d.getDate() !== dd || d.getMonth() !== mo - 1 || d.getHours() !== hh || d.getMinutes() !== mi) return null;
  return d;
}

/** Parse a log file name (for the owner's tools and the tests); null if it is not one. */
export function parseTicketFileName(name: string): ParsedTicketFile | null {
  const m = FILE_RE.exec(name);
  if (!m) return null;
  const start = localDate(m, 1);
  const end = localDate(m, 6);
  const ticket = Number(m[11]);
  const serial = Number(m[15]);
  if (!start || !end || !Number.isSafeInteger(ticket) || serial < 1) return null;
  const unstar = (s: string): string => s.split(STAR_IN_FILE).join('*');
  const caller = m[12] === ANONYMOUS ? ANONYMOUS : unstar(m[12]);
  const called = m[13] === ANONYMOUS ? ANONYMOUS : unstar(m[13]);
  const info = { start, end, ticket, caller, called };
  return { ...info, text: ticketText(info), final: m[14] === '_END', serial };
}
