/**
 * At start, before the hotline takes calls: every hop that was open when the
 * box died (kill, crash, power cut) has a journal in Ticket/ (journal.ts).
 * Each becomes its final seed-format file, so every number taken has its file:
 *
 * - End time: the last time the box was alive for that call, the newest of
 *   the hop's start, the journal's mtime and the mtime of the call's
 *   recording (the recorder flushes it about every second, so it is at most
 *   a second or two before the death). Card README: "a hop open at a power
 *   cut is closed at the next start with the last time the box was alive".
 * - `_END`: the hop with the highest hop number among its call's open
 *   journals (closes run in hop order, so a later hop of the call cannot have
 *   been closed before it). Its technician is notified as the seed says (IM
 *   and SMS), after the file is on the card, as in a call.
 * - The counter is first moved past every journal's number: a death between
 *   the journal and the counter write must not give that number again.
 * - A journal that cannot be read is still closed under its number (caller
 *   and called unknown, not `_END`, nobody notified), with one error line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errText, type Logger } from '../util/log.js';
import { parseJournal, parseJournalName, type OpenHop } from './journal.js';
import type { TicketLogEntry } from './ticket-log.js';
import { formatStamp, ticketText } from './ticket-name.js';
import { pad } from '../util/time-format.js';

export interface RecoveryDeps {
  /** The card's Ticket/ folder. */
  readonly ticketDir: string;
  readonly log: { closeHop(entry: TicketLogEntry): Promise<string> };
  readonly counter: { atLeast(next: number): Promise<void> };
  /** The last sign of life of the hop's call (e.g. its recording's mtime), or null. */
  lastAlive?(j: OpenHop): Promise<Date | null>;
  /** Notify the final hop's technician (IM and SMS); not awaited. */
  notify(ext: string, caller: string, text: string): void;
  readonly logger: Logger;
}

export interface Recovered {
  readonly ticket: number;
  readonly text: string;
  readonly final: boolean;
  /** The final file, or null if it could not be made (the journal stays for the next start). */
  readonly path: string | null;
}

interface Found {
  readonly hop: OpenHop;
  readonly mtime: Date;
  readonly readable: boolean;
}

export interface Recovery {
  /** Open journals found. */
  readonly open: number;
  /** The journals closed (renamed, notified): runs on after the start, never rejects. */
  readonly closed: Promise<Recovered[]>;
}

/**
 * Find the open journals and move the counter past them: resolves once a new
 * call may take a number (the start waits only for reading the folder and,
 * if there are journals, the counter). Closing them goes on in `closed`.
 * Never rejects (each failure is one error line).
 */
export async function recoverOpenTickets(d: RecoveryDeps): Promise<Recovery> {
  const found = await readJournals(d);
  if (found.length === 0) return { open: 0, closed: Promise.resolve([]) };
  const highest = Math.max(...found.map((f) => f.hop.ticket));
  await d.counter.atLeast(highest + 1).catch((e: unknown) => d.logger.error(`ticket counter not moved past ${highest}: ${errText(e)}`));
  return { open: found.length, closed: closeAll(d, found) };
}

async function closeAll(d: RecoveryDeps, found: Found[]): Promise<Recovered[]> {
  const out: Recovered[] = [];
  for (const f of found.sort((a, b) => a.hop.ticket - b.hop.ticket)) out.push(await closeOne(d, f, isFinal(f, found)));
  return out;
}

async function readJournals(d: RecoveryDeps): Promise<Found[]> {
  let names: string[];
  try {
    names = await readdir(d.ticketDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') d.logger.error(`ticket log ${d.ticketDir}: cannot list it for open tickets: ${errText(e)}`);
    return [];
  }
  const found: Found[] = [];
  for (const name of names) {
    const ticket = parseJournalName(name);
    if (ticket !== null) found.push(await readOne(d, join(d.ticketDir, name), ticket));
  }
  return found;
}

async function readOne(d: RecoveryDeps, path: string, ticket: number): Promise<Found> {
  let mtime = new Date();
  let why: string;
  try {
    mtime = (await stat(path)).mtime;
    const j = parseJournal(await readFile(path, 'utf8'));
    if (typeof j !== 'string' && j.ticket === ticket) return { hop: j, mtime, readable: true };
    why = typeof j === 'string' ? j : `it holds ticket ${j.ticket}`;
  } catch (e) {
    why = errText(e);
  }
  d.logger.error(`ticket ${ticket}: journal ${path} cannot be read (${why}): closed with caller and called unknown`);
  const hop: OpenHop = { ticket, call: `?${ticket}`, hop: 1, start: mtime, caller: '', called: '', first: 0, tickets: [ticket] };
  return { hop, mtime, readable: false };
}

/** The call's last hop known: no open journal of the same call has a higher hop. */
function isFinal(f: Found, all: Found[]): boolean {
  if (!f.readable || f.hop.called === '') return false;
  return !all.some((o) => o !== f && o.readable && o.hop.call === f.hop.call && o.hop.hop > f.hop.hop);
}

async function closeOne(d: RecoveryDeps, f: Found, final: boolean): Promise<Recovered> {
  const j = f.hop;
  const alive = await d.lastAlive?.(j).catch(() => null);
  const times = [j.start, f.mtime, ...(alive ? [alive] : [])].map((t) => t.getTime());
  const end = new Date(Math.max(...times));
  const info = { start: j.start, end, ticket: j.ticket, caller: j.caller, called: j.called };
  const text = ticketText(info);
  let path: string | null = null;
  try {
    path = await d.log.closeHop({ ...info, final });
  } catch (e) {
    d.logger.error(`ticket ${j.ticket}: open at the last stop and still not closed (the next start tries again): ${errText(e)}`);
    return { ticket: j.ticket, text, final, path };
  }
  const source = alive && alive.getTime() === end.getTime() ? 'its recording' : 'its journal';
  d.logger.warn(`ticket ${j.ticket} (hop ${j.hop} to ${j.called || '?'}) was open at the last stop: closed as ${formatStamp(end)} (last sign of life: ${source})${final ? ', the call\'s last hop: notifying' : ''}`);
  if (final) d.notify(j.called, j.caller, text);
  return { ticket: j.ticket, text, final, path };
}

/**
 * Whether `name` is the recording of the call `j` belongs to. Its name is
 * (record/recording-name.ts) `YYYY-MM-DD_HH.MM.SS[_Ticket_<t1>_..._<tn>]_Caller_<number>.pcap`:
 * one of the call's numbers among its tickets, or, killed before hop 1's
 * number reached the name, the call's start (hop 1's start) and caller.
 */
export function isRecordingOf(name: string, j: OpenHop): boolean {
  const m = /^(\d{4}-\d{2}-\d{2}_\d{2}\.\d{2}\.\d{2})(?:_Ticket_([\d_]+))?_Caller_([^.]*)\.pcap$/.exec(name);
  if (!m) return false;
  if (m[2]) return m[2].split('_').some((t) => t !== '' && (j.tickets.includes(Number(t)) || Number(t) === j.first));
  const s = j.start;
  const stamp = `${s.getFullYear()}-${pad(s.getMonth() + 1)}-${pad(s.getDate())}_${pad(s.getHours())}.${pad(s.getMinutes())}.${pad(s.getSeconds())}`;
  return j.hop === 1 && m[1] === stamp && m[3] === j.caller.split('*').join('x');
}

/**
 * lastAlive from the recordings folder: the newest mtime of the call's
 * recording (isRecordingOf). The folder is listed once, and only when a
 * journal asks.
 */
export function recordingMtime(recordingDir: string): (j: OpenHop) => Promise<Date | null> {
  let listing: Promise<string[]> | undefined;
  return async (j) => {
    listing ??= readdir(recordingDir).catch(() => []);
    const names = (await listing).filter((n) => isRecordingOf(n, j));
    const times = await Promise.all(names.map((n) => stat(join(recordingDir, n)).then((s) => s.mtimeMs, () => 0)));
    const newest = Math.max(0, ...times);
    return newest > 0 ? new Date(newest) : null;
  };
}
