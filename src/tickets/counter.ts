import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { errText, type Logger } from '../util/log.js';
import { DEFAULT_LOCK, FileLock, type LockOptions } from './file-lock.js';

/** What `TicketNR.txt` holds, once whitespace is trimmed. */
export type CounterValue = { kind: 'number'; next: number } | { kind: 'blank' } | { kind: 'garbage'; why: string };

/**
 * `TicketNR.txt` holds the NEXT ticket number to give. Blank or missing means
 * 1 (seed: "if blank the first Ticket will be 1"). Whitespace and CR/LF are
 * tolerated: the card is edited on Windows too.
 */
export function parseCounter(content: string): CounterValue {
  const v = content.trim();
  if (v === '') return { kind: 'blank' };
  if (!/^\d{1,16}$/.test(v)) return { kind: 'garbage', why: `"${v.slice(0, 20)}" is not a whole number` };
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) return { kind: 'garbage', why: `${v} is not between 1 and ${Number.MAX_SAFE_INTEGER}` };
  return { kind: 'number', next: n };
}

/** Written under the counter's lock before a number is given; dropped if it is not given after all. */
export interface NumberJournal {
  write(n: number): Promise<void>;
  drop(n: number): Promise<void>;
}

/**
 * The durable ticket counter over `TicketNR.txt`.
 *
 * - The file is re-read on every take: the installer may write a new start
 *   value (e.g. 100) at any time, also while the appliance runs, and it wins.
 * - `take()` resolves only after number+1 is on the card (temp file, fsync,
 *   rename, folder fsync): a number that was handed out is never handed out
 *   again after a power cut. If the write fails (card full, read-only), the
 *   take rejects and the number is NOT given: a ticket that is not durable
 *   would be reused after a restart. The driver logs the error and goes on
 *   with the call (the call matters more than its paperwork: CallTickets
 *   uses ticket 0 for that hop); the next take tries the same number again.
 * - Takes are serialized by a promise queue: two simultaneous emergency calls
 *   never share a number.
 * - A file that became unreadable or garbage is one error line naming it;
 *   counting continues after the last number this process gave (or at 1) and
 *   the file is rewritten with a good value.
 *
 * - Two processes on the same card (a second instance started by mistake)
 *   are kept apart by `<file>.lock`, held only for the read-modify-write
 *   (file-lock.ts); a lock left by a crash is taken over.
 */
export class TicketCounter {
  private queue: Promise<unknown> = Promise.resolve();
  private lastGiven = 0;
  private readonly fileLock: FileLock;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    lock: LockOptions = DEFAULT_LOCK,
  ) {
    this.fileLock = new FileLock(`${path}.lock`, log, lock);
  }

  /**
   * The next ticket number, already durably counted. `journal.write(n)` runs under
   * the lock before the counter moves past n (CallTickets writes the hop's
   * journal there): if it rejects, n is not given and the take rejects. A
   * crash after the journal but before the counter leaves a journal of n
   * with the counter still at n: the start's recovery moves the counter past
   * every journal (atLeast) before any take.
   */
  take(journal?: NumberJournal): Promise<number> {
    const run = this.queue.then(() => this.fileLock.run(() => this.takeNow(journal)));
    // The queue goes on after a failed take; the failure goes to this caller.
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Make the counter at least `next` (recovery: past every number a journal holds). */
  atLeast(next: number): Promise<void> {
    const run = this.queue.then(() =>
      this.fileLock.run(async () => {
        const n = await this.readNext();
        if (n >= next) return;
        this.log.warn(`ticket counter ${this.path}: ${n} is below a number already given (journal of ${next - 1}): moved to ${next}`);
        await writeFileAtomic(this.path, `${next}\n`);
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async takeNow(journal?: NumberJournal): Promise<number> {
    const n = await this.readNext();
    if (journal) await journal.write(n);
    try {
      await writeFileAtomic(this.path, `${n + 1}\n`);
    } catch (e) {
      // n is not given: its journal must not turn into a ticket at the next start
      await journal?.drop(n).catch((d: unknown) => this.log.error(`ticket ${n}: journal not removed after the counter failed: ${errText(d)}`));
      throw new Error(`ticket counter ${this.path}: cannot store next number ${n + 1}, ticket ${n} not given: ${errText(e)}`);
    }
    this.lastGiven = n;
    return n;
  }

  private async readNext(): Promise<number> {
    let content: string;
    try {
      content = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 1;
      return this.recover(`cannot read it (${errText(e)})`);
    }
    const v = parseCounter(content);
    if (v.kind === 'blank') return 1;
    if (v.kind === 'garbage') return this.recover(v.why);
    return v.next;
  }

  private recover(why: string): number {
    const next = this.lastGiven + 1;
    this.log.error(`ticket counter ${this.path}: ${why}; it should hold the next ticket number (blank = 1); continuing at ${next} and rewriting it`);
    return next;
  }
}
