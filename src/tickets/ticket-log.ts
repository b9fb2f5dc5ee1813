import { lstat, mkdir, open, rename, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from '../util/atomic-write.js';
import { errText } from '../util/log.js';
import { journalName, journalText, type OpenHop } from './journal.js';
import { ticketFileName, ticketText, type TicketInfo } from './ticket-name.js';

/**
 * How many serials are tried for one name before giving up. Equal names need
 * the same ticket number, caller and minute: more than a handful means
 * something else is wrong, and the bound keeps a broken folder from spinning.
 */
export const MAX_SERIAL = 1000;

export interface TicketLogEntry extends TicketInfo {
  /** The last hop of the call: its file name carries `_END`. */
  final: boolean;
}

/**
 * The `Ticket/` folder of zero-length log files, one per hop. The name is the
 * record: a zero-length file costs one directory entry, so a small card holds
 * many (seed: "the length is zero so a reasonable number of records can be done").
 */
export class TicketLog {
  private ready: Promise<void> | null = null;

  /** `dir` is the `Ticket` folder; it is created on the first write if missing. */
  constructor(readonly dir: string) {}

  /**
   * Create the entry's file with the lowest free serial starting at 1. The
   * folder is never listed (it may hold years of tickets): exclusive create,
   * and on EEXIST the next serial. Resolves with the path once the folder is
   * fsynced; rejects with one clear message (card full, read-only, ...) and
   * leaves no file behind.
   */
  async write(entry: TicketLogEntry): Promise<string> {
    await this.ensureDir();
    const text = ticketText(entry);
    for (let serial = 1; serial <= MAX_SERIAL; serial++) {
      const path = join(this.dir, ticketFileName(text, { final: entry.final, serial }));
      if (await this.createExclusive(path)) {
        await this.syncOrRemove(path);
        return path;
      }
    }
    throw new Error(`ticket log ${this.dir}: serials 1..${MAX_SERIAL} of ${text} are all taken`);
  }

  /**
   * Journal an open hop (journal.ts): `Open_Ticket_<N>.jnl`, written durably
   * (temp file, fsync, rename). Called again for the same number, it replaces
   * the journal (the hop's extension became known). Rejects on failure.
   */
  async openHop(j: OpenHop): Promise<void> {
    await this.ensureDir();
    const path = join(this.dir, journalName(j.ticket));
    try {
      await writeFileAtomic(path, journalText(j));
    } catch (e) {
      throw new Error(`ticket log: cannot write journal ${path}: ${errText(e)}`);
    }
  }

  /** Remove the journal of a number that was not given after all (the counter could not move). */
  async dropHop(ticket: number): Promise<void> {
    await unlink(join(this.dir, journalName(ticket))).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    });
  }

  /**
   * Close an open hop: its journal is renamed to the final name (lowest free
   * serial), the folder fsynced, then the file truncated to zero length. A
   * rename never leaves two files for one number nor none; a power cut
   * between the rename and the truncate leaves the final name holding the
   * journal's text (harmless: the name is the record). Without a journal
   * (it was removed by hand) the file is created as by write().
   */
  async closeHop(entry: TicketLogEntry): Promise<string> {
    await this.ensureDir();
    const journal = join(this.dir, journalName(entry.ticket));
    const text = ticketText(entry);
    for (let serial = 1; serial <= MAX_SERIAL; serial++) {
      const path = join(this.dir, ticketFileName(text, { final: entry.final, serial }));
      // rename replaces an existing file: look first (names carry the unique number, so a clash
      // needs a counter set back by hand, and this process closes one number at a time)
      if (await exists(path)) continue;
      try {
        await rename(journal, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(journal))) return this.write(entry);
        throw new Error(`ticket log: cannot rename ${journal} to ${path}: ${errText(e)}`);
      }
      // the rename is done: a folder that refuses fsync or a failed truncate does not undo it
      // (at worst a power cut right now brings the journal back, and the next start closes it)
      await syncDir(this.dir).catch(() => undefined);
      await truncate(path, 0).catch(() => undefined);
      return path;
    }
    throw new Error(`ticket log ${this.dir}: serials 1..${MAX_SERIAL} of ${text} are all taken`);
  }

  private ensureDir(): Promise<void> {
    // Retried on the next write if it failed (the card may have been re-inserted).
    this.ready ??= mkdir(this.dir, { recursive: true }).then(
      () => undefined,
      (e: unknown) => {
        this.ready = null;
        throw new Error(`ticket log: cannot create folder ${this.dir}: ${errText(e)}`);
      },
    );
    return this.ready;
  }

  /** true if created, false if the name is taken; throws on any other failure. */
  private async createExclusive(path: string): Promise<boolean> {
    try {
      const fh = await open(path, 'wx');
      await fh.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new Error(`ticket log: cannot create ${path}: ${errText(e)}`);
    }
  }

  private async syncOrRemove(path: string): Promise<void> {
    try {
      await syncDir(this.dir);
    } catch (e) {
      await unlink(path).catch(() => undefined);
      throw new Error(`ticket log: cannot sync folder ${this.dir} after creating ${path}: ${errText(e)}`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`ticket log: cannot look at ${path}: ${errText(e)}`);
  }
}
