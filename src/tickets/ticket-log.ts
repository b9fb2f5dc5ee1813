import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../util/atomic-write.js';
import { errText } from '../util/log.js';
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
