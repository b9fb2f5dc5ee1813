/**
 * The durable SMS outbox (`Outbox/` on the card): no SMS is lost, also
 * across a restart or power cut, and none is sent twice by us.
 *
 * - enqueue() writes the SMS atomically (0600) before the first try and
 *   resolves only once it is on the card; a full card rejects, leaving nothing.
 * - One message at a time, strictly in order (file names are sequence
 *   numbers): the head blocks the rest while it waits for a retry, because a
 *   provider that says "try later" says it for all messages alike.
 * - accepted -> the file is removed (unlink + folder fsync) before the next
 *   message. A crash after the provider accepted but before the unlink is on
 *   the card would send that one SMS again after restart: at-least-once
 *   there is unavoidable without the provider's help, and the window is one
 *   unlink. Choosing at-most-once instead (mark before sending) could lose an
 *   SMS, which the hotline must never do.
 * - retry -> backoff (default 30 s doubling to 1 h). The try count lives in
 *   memory only (no card write per retry: flash wear); after a restart the
 *   backoff starts again, while the max age (default 3 days, from the time
 *   stored in the file) still holds. Past the max age -> `failed/`.
 * - rejected, corrupt file -> `failed/` at once, reason in `<id>.reason.txt`.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, unlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, syncDir } from '../util/atomic-write.js';
import { errText, type Logger } from '../util/log.js';
import { entryName, entrySeq, idOf, parseEntry, serializeEntry, TEMP, writePrivateAtomic, type OutboxEntry } from './outbox-file.js';
import type { Sms, SmsProvider, SmsResult } from './sms/provider.js';
import { redactSms } from './sms/secrets.js';

export interface Backoff {
  firstMs: number;
  maxMs: number;
  maxAgeMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 30_000, maxMs: 3_600_000, maxAgeMs: 3 * 24 * 3_600_000 };

export interface OutboxOptions {
  dir: string;
  /** The current provider (the config may change); undefined = none usable now: try later. */
  provider: () => SmsProvider | undefined;
  logger: Logger;
  backoff?: Backoff;
  now?: () => number;
}

/** Typed events, for tests and for the daily self-test to come. */
export interface OutboxEvents {
  queued: [id: string];
  sent: [id: string];
  retry: [id: string, reason: string, delayMs: number];
  failed: [id: string, reason: string];
}

export const FAILED_DIR = 'failed';
/** 2020-01-01: an earlier wall clock was not set (no RTC, no NTP yet). */
const CLOCK_SET_AFTER = Date.UTC(2020, 0, 1);

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly dir: string;
  private readonly failedDir: string;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly provider: () => SmsProvider | undefined;
  /** File names waiting, in send order. */
  private readonly queue: string[] = [];
  private readonly cache = new Map<string, OutboxEntry>();
  /** Per waiting message, in memory only: tries so far and when this process first tried it. */
  private readonly tries = new Map<string, { count: number; first: number }>();
  private nextSeq = 1;
  private started = false;
  private stopped = false;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private hurry = false;
  /** Enqueue writes run one after the other, so the queue order is the sequence order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(opts: OutboxOptions) {
    super();
    this.dir = opts.dir;
    this.failedDir = join(opts.dir, FAILED_DIR);
    this.log = opts.logger.child('outbox');
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.now = opts.now ?? Date.now;
    this.provider = opts.provider;
  }

  /** Create the folders, drop half-written temp files, resume every waiting SMS in order. */
  async start(): Promise<void> {
    if (this.started) return;
    await mkdir(this.failedDir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700).catch((e: unknown) => this.log.warn(`cannot make ${this.dir} private: ${errText(e)}`));
    const names = await readdir(this.dir);
    this.queue.length = 0;
    this.cache.clear();
    this.tries.clear();
    let maxSeq = 0;
    for (const name of names) {
      if (TEMP.test(name)) {
        // An enqueue that never completed (crash mid-write): its caller was never told "queued".
        await unlink(join(this.dir, name)).catch((e: unknown) => this.log.warn(`cannot remove temp file ${name}: ${errText(e)}`));
        continue;
      }
      const seq = entrySeq(name);
      if (seq === undefined) continue;
      maxSeq = Math.max(maxSeq, seq);
      this.queue.push(name);
    }
    for (const name of await readdir(this.failedDir)) maxSeq = Math.max(maxSeq, entrySeq(name) ?? 0);
    this.queue.sort();
    this.nextSeq = maxSeq + 1;
    this.started = true;
    this.stopped = false;
    if (this.queue.length > 0) this.log.info(`resuming ${this.queue.length} SMS waiting in ${this.dir}`);
    this.kick();
  }

  /** Put `sms` on the card; resolves with its id once it is durable, then it is sent in turn. */
  enqueue(sms: Sms): Promise<string> {
    if (!this.started) return Promise.reject(new Error('outbox: enqueue before start()'));
    if (!/^\d{3,20}$/.test(sms.to)) return Promise.reject(new Error(`outbox: SMS number "${sms.to}" is not 3-20 digits, not queued`));
    const job = this.writes.then(() => this.write(sms));
    this.writes = job.catch(() => undefined);
    return job;
  }

  private async write(sms: Sms): Promise<string> {
    const name = entryName(this.nextSeq++);
    const entry: OutboxEntry = { createdAt: this.now(), sms };
    try {
      await writePrivateAtomic(join(this.dir, name), serializeEntry(entry));
    } catch (e) {
      throw new Error(`outbox: SMS to ${sms.to} not queued, cannot write ${this.dir}: ${errText(e)}`);
    }
    const id = idOf(name);
    this.cache.set(name, entry);
    this.queue.push(name);
    this.log.info(`${id}: SMS to ${sms.to} queued`);
    this.tell('queued', id);
    this.kick();
    return id;
  }

  /**
   * Try the waiting head now instead of after its backoff: call it when the
   * SMS configuration changed (a fixed provider should not wait up to 1 h).
   */
  retryNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, 0);
    } else if (this.draining) {
      this.hurry = true; // a try is running: if it ends in "retry", do not wait
    }
  }

  /** Ids still waiting, in send order. */
  pending(): string[] {
    return this.queue.map(idOf);
  }

  /** Stop trying; waits for a try in progress (bounded by the provider's timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    await this.writes;
    this.started = false;
  }

  /** Emit without letting a throwing listener break the send loop (a message could be sent twice). */
  private tell<K extends keyof OutboxEvents>(event: K, ...args: OutboxEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: OutboxEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      this.log.error(`a listener of "${event}" failed: ${errText(e)}`);
    }
  }

  private kick(): void {
    if (this.stopped || !this.started || this.draining || this.timer) return;
    this.draining = this.drain()
      .catch((e: unknown) => {
        // Not expected (every I/O step catches): keep the process up and try again later.
        this.log.error(`unexpected error while sending, retry in ${this.backoff.firstMs} ms: ${errText(e)}`);
        if (!this.stopped && !this.timer) this.timer = setTimeout(() => ((this.timer = undefined), this.kick()), this.backoff.firstMs);
      })
      .finally(() => {
        this.draining = undefined;
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const name = this.queue[0];
      const waitMs = await this.tryHead(name);
      if (waitMs === undefined) {
        this.queue.shift();
        this.cache.delete(name);
        this.tries.delete(name);
        this.hurry = false;
        continue;
      }
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.hurry ? 0 : waitMs);
      this.hurry = false;
      return;
    }
  }

  /** One try of the head message: undefined when it is done with (sent or failed), else ms until the next try. */
  private async tryHead(name: string): Promise<number | undefined> {
    const id = idOf(name);
    const entry = await this.load(name);
    if (entry === 'gone') return undefined;
    if (entry instanceof Error) return this.retryLater(name, { createdAt: this.now(), sms: { to: '?', text: '' } }, entry.message);
    const provider = this.provider();
    let result: SmsResult;
    if (!provider) result = { kind: 'retry', reason: 'no usable SMS provider configured (see SMSProvider.txt)' };
    else {
      try {
        result = await provider.send(entry.sms);
      } catch (e) {
        result = { kind: 'retry', reason: `provider ${provider.name} failed: ${errText(e)}` };
      }
    }
    if (result.kind === 'accepted') {
      await this.remove(name, entry);
      this.log.info(`${id}: SMS to ${entry.sms.to} accepted by ${provider?.name}${result.id ? ` (id ${result.id})` : ''}`);
      this.tell('sent', id);
      return undefined;
    }
    const reason = redactSms(result.reason, entry.sms);
    if (result.kind === 'rejected') {
      await this.fail(name, `rejected by ${provider?.name}: ${reason}`);
      return undefined;
    }
    return this.retryLater(name, entry, reason);
  }

  private async retryLater(name: string, entry: OutboxEntry, reason: string): Promise<number | undefined> {
    const id = idOf(name);
    const now = this.now();
    const t = this.tries.get(name) ?? { count: 0, first: now };
    t.count++;
    this.tries.set(name, t);
    const age = now - this.ageStart(entry, t.first, now);
    if (age >= this.backoff.maxAgeMs) {
      await this.fail(name, `gave up after ${t.count} tries in ${Math.round(age / 60000)} min: ${reason}`);
      return undefined;
    }
    const delay = Math.min(this.backoff.firstMs * 2 ** Math.min(t.count - 1, 30), this.backoff.maxMs);
    this.log.warn(`${id}: SMS to ${entry.sms.to} not sent (try ${t.count}), retry in ${delay < 10_000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`}: ${reason}`);
    this.tell('retry', id, reason, delay);
    return delay;
  }

  /**
   * When the max age starts: the enqueue time on the card, unless the clock
   * was obviously not set then (a board without RTC before NTP: before 2020)
   * or is behind it now; then the first try of this process, so a wrong clock
   * can never make us give up on a fresh message.
   */
  private ageStart(entry: OutboxEntry, firstTry: number, now: number): number {
    const plausible = entry.createdAt >= CLOCK_SET_AFTER && entry.createdAt <= now;
    return plausible ? entry.createdAt : firstTry;
  }

  /** The entry of `name`: from memory, else from the card; a corrupt file goes to failed/. */
  private async load(name: string): Promise<OutboxEntry | 'gone' | Error> {
    const cached = this.cache.get(name);
    if (cached) return cached;
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.log.warn(`${idOf(name)}: file vanished from ${this.dir}, skipped`);
        return 'gone';
      }
      return new Error(`cannot read ${name}: ${errText(e)}`);
    }
    try {
      const entry = parseEntry(text);
      this.cache.set(name, entry);
      return entry;
    } catch (e) {
      await this.fail(name, `corrupt outbox file: ${errText(e)}`);
      return 'gone';
    }
  }

  private async remove(name: string, entry: OutboxEntry): Promise<void> {
    try {
      await unlink(join(this.dir, name));
      await syncDir(this.dir);
    } catch (e) {
      // Not resent by this process (it is off the queue); after a restart it would be: say so.
      this.log.error(`${idOf(name)}: SMS to ${entry.sms.to} was accepted but its file could not be removed (${errText(e)}); it may be sent again after a restart`);
    }
  }

  /** Move `name` to failed/ with its reason beside it; one error line. */
  private async fail(name: string, reason: string): Promise<void> {
    const id = idOf(name);
    this.log.error(`${id}: SMS moved to ${FAILED_DIR}/: ${reason}`);
    try {
      await writeFileAtomic(join(this.failedDir, `${id}.reason.txt`), `${reason}\n`);
      await rename(join(this.dir, name), join(this.failedDir, name));
      await syncDir(this.failedDir);
      await syncDir(this.dir);
    } catch (e) {
      this.log.error(`${id}: cannot move to ${FAILED_DIR}/ (${errText(e)}); left in ${this.dir}`);
    }
    this.tell('failed', id, reason);
  }
}
