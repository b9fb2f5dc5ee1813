/**
 * The card side of an outbox: its files in `Outbox/` (or `Outbox/IM/`), and
 * what happens when the card cannot take them.
 *
 * A card that is read-only or full never loses a notification and never
 * stops the appliance (issue 15, "degraded, never dead"): a file that cannot
 * be written is kept in memory and written on the next tick (every
 * `cardRetryMs`, default 5 s) once the card can take it again; a file that
 * cannot be removed after its message went out is removed on a later tick
 * (until then a restart would send it again). The outbox keeps sending from
 * memory meanwhile, so a message may go out before it ever reached the card.
 *
 * Memory is bounded: at most `maxKept` messages (default 200; one is under
 * 1 KB, so < 200 KB). Beyond that put() throws and the caller logs the loss.
 * A failing card is one error line at first, then at most one a minute
 * (with the count), and one line when it can be written again.
 *
 * All card operations of one file run one after the other (a per-name
 * chain), so a removal never overtakes the write it removes.
 */
import { chmod, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from '../util/atomic-write.js';
import { errText, type Logger } from '../util/log.js';
import { entrySeq, idOf, TEMP, writePrivateAtomic } from './outbox-file.js';

export const FAILED_DIR = 'failed';
const LOG_EVERY_MS = 60_000;

export interface JournalOptions {
  dir: string;
  /** "SMS" or "IM": for log lines. */
  what: string;
  logger: Logger;
  cardRetryMs?: number;
  maxKept?: number;
  /** Called after a tick made the card usable again (names found on a card that could not be listed at start). */
  onRecovered?: (listed: string[] | undefined) => void;
}

export interface Listing {
  /** Waiting file names, in send order. */
  names: string[];
  /** The first sequence number that is free. */
  nextSeq: number;
}

/** Above every name a normal run reaches: a message kept while the folder could not be listed never overwrites one. */
const UNLISTED_SEQ = 9_000_000_001;

export class OutboxJournal {
  private readonly failedDir: string;
  private readonly log: Logger;
  /** Files still to be written, in order: name -> content. */
  private readonly kept = new Map<string, string>();
  /** Files whose message is done but which could not be removed yet. */
  private readonly stale = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private listed = false;
  /** The folder did not exist at the last listing (so it held nothing). */
  private absent = false;
  /** What a late first listing found, until the outbox is told. */
  private found: string[] | undefined;
  private failing: { since: number; lastLog: number; count: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: JournalOptions) {
    this.failedDir = join(o.dir, FAILED_DIR);
    this.log = o.logger;
  }

  /** Names waiting on the card. Never throws: a card that cannot be read gives none now and is retried. */
  async open(): Promise<Listing> {
    this.closed = false;
    try {
      const l = await this.list();
      this.listed = true;
      return l;
    } catch (e) {
      const absent = this.absent;
      this.cardFailed(`cannot open ${this.o.dir}: ${errText(e)}`);
      this.arm();
      // an absent folder holds nothing, so numbering from 1 cannot collide
      return { names: [], nextSeq: absent ? 1 : UNLISTED_SEQ };
    }
  }

  private async list(): Promise<Listing> {
    let names: string[];
    this.absent = false;
    try {
      names = await readdir(this.o.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.absent = true;
      await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
      names = [];
    }
    // best effort: a read-only card still lets the waiting messages go out
    await mkdir(this.failedDir, { recursive: true, mode: 0o700 }).catch((e: unknown) => this.log.warn(`cannot create ${this.failedDir}: ${errText(e)}`));
    await chmod(this.o.dir, 0o700).catch((e: unknown) => this.log.warn(`cannot make ${this.o.dir} private: ${errText(e)}`));
    const waiting: string[] = [];
    let maxSeq = 0;
    for (const name of names) {
      if (TEMP.test(name)) {
        // A write that never completed (crash mid-write): its caller was never told "queued".
        await unlink(join(this.o.dir, name)).catch((e: unknown) => this.log.warn(`cannot remove temp file ${name}: ${errText(e)}`));
        continue;
      }
      const seq = entrySeq(name);
      if (seq === undefined || this.kept.has(name)) continue;
      maxSeq = Math.max(maxSeq, seq);
      waiting.push(name);
    }
    const failed = await readdir(this.failedDir).catch(() => [] as string[]);
    for (const name of failed) maxSeq = Math.max(maxSeq, entrySeq(name) ?? 0);
    return { names: waiting.sort(), nextSeq: maxSeq + 1 };
  }

  /** Write `name`; on a card that cannot take it, keep it in memory. Throws only when memory is full too. */
  put(name: string, text: string): Promise<'card' | 'memory'> {
    let where: 'card' | 'memory' = 'card';
    const job = this.chain(name, async () => {
      if (this.kept.size > 0) where = 'memory'; // keep the order: behind those already waiting for the card
      else {
        try {
          await writePrivateAtomic(join(this.o.dir, name), text);
          this.cardOk();
          return;
        } catch (e) {
          where = 'memory';
          this.cardFailed(`cannot write ${join(this.o.dir, name)}: ${errText(e)}`);
        }
      }
      if (this.kept.size >= (this.o.maxKept ?? 200)) {
        throw new Error(`the card cannot be written and ${this.kept.size} ${this.o.what} are already kept in memory (the limit)`);
      }
      this.kept.set(name, text);
      this.arm();
    });
    return job.then(() => where);
  }

  /** The message of `name` went out (or was given up): remove its file, or forget it if it never reached the card. */
  done(name: string): Promise<void> {
    return this.chain(name, async () => {
      if (this.kept.delete(name)) return;
      await this.unlinkOrLater(name);
    });
  }

  /** Move `name` to failed/ with its reason beside it (a message only in memory just goes: the caller logged why). */
  fail(name: string, reason: string): Promise<void> {
    const id = idOf(name);
    return this.chain(name, async () => {
      if (this.kept.delete(name)) return;
      try {
        await writeFileAtomic(join(this.failedDir, `${id}.reason.txt`), `${reason}\n`);
        await rename(join(this.o.dir, name), join(this.failedDir, name));
        await syncDir(this.failedDir);
        await syncDir(this.o.dir);
      } catch (e) {
        this.log.error(`${id}: cannot move to ${FAILED_DIR}/ (${errText(e)}); left in ${this.o.dir}`);
      }
    });
  }

  /** Names of the messages waiting for the card. */
  keptNames(): string[] {
    return [...this.kept.keys()];
  }

  /** Stop the tick; waits for the card operations in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    await Promise.all([...this.chains.values()]);
  }

  private chain(name: string, fn: () => Promise<void>): Promise<void> {
    const job = (this.chains.get(name) ?? Promise.resolve()).then(fn);
    const tail = job.catch(() => undefined);
    this.chains.set(name, tail);
    void tail.then(() => this.chains.get(name) === tail && this.chains.delete(name));
    return job;
  }

  private async unlinkOrLater(name: string): Promise<void> {
    try {
      await unlink(join(this.o.dir, name));
      await syncDir(this.o.dir);
      this.stale.delete(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return void this.stale.delete(name);
      if (!this.stale.has(name)) this.log.error(`${idOf(name)}: ${this.o.what} went out but its file cannot be removed yet (${errText(e)}); retried, a restart before that would send it again`);
      this.stale.add(name);
      this.arm();
    }
  }

  private arm(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, this.o.cardRetryMs ?? 5000);
  }

  /** One retry of the card: list it if that never worked, write what is kept (in order), remove what is stale. */
  private async tick(): Promise<void> {
    try {
      if (!this.listed) {
        this.found = (await this.list()).names;
        this.listed = true;
      }
      for (const [name, text] of [...this.kept]) {
        await this.chain(name, async () => {
          if (!this.kept.has(name)) return; // went out meanwhile: nothing to write
          await writePrivateAtomic(join(this.o.dir, name), text);
          this.kept.delete(name);
        });
      }
      for (const name of [...this.stale]) await this.chain(name, () => this.unlinkOrLater(name));
    } catch (e) {
      this.cardFailed(`${this.o.dir} still cannot be written: ${errText(e)}`);
    }
    if (!this.listed || this.kept.size > 0 || this.stale.size > 0) return this.arm();
    if (this.failing) {
      this.cardOk();
      const found = this.found;
      this.found = undefined;
      this.o.onRecovered?.(found);
    }
  }

  /** One error line at the first failure, then at most one a minute. */
  private cardFailed(reason: string): void {
    const now = Date.now();
    if (!this.failing) {
      this.failing = { since: now, lastLog: now, count: 1 };
      this.log.error(`card not writable, ${this.o.what} kept in memory and written when it can be (retried every ${Math.round((this.o.cardRetryMs ?? 5000) / 1000)} s): ${reason}`);
      return;
    }
    this.failing.count++;
    if (now - this.failing.lastLog < LOG_EVERY_MS) return;
    this.failing.lastLog = now;
    this.log.error(`card still not writable (${this.failing.count} failures in ${Math.round((now - this.failing.since) / 1000)} s, ${this.kept.size} ${this.o.what} in memory): ${reason}`);
  }

  private cardOk(): void {
    if (!this.failing || this.kept.size > 0 || this.stale.size > 0) return;
    this.log.info(`card writable again: every kept ${this.o.what} is on it (${this.o.dir})`);
    this.failing = undefined;
  }
}
