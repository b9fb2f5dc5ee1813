/**
 * The durable outbox (`Outbox/` for SMS, `Outbox/IM/` for IMs on the card):
 * no notification is lost, also across a restart or power cut, and none is
 * sent twice by us. One mechanism for both; a channel (outbox-channel.ts)
 * says how one try is made, the journal (outbox-journal.ts) owns the card,
 * including the memory fallback when the card cannot be written.
 *
 * - enqueue() writes the message atomically (0600) before the first try and
 *   resolves once it is on the card, or kept in memory when the card cannot
 *   take it (read-only, full): then it is sent from memory and written when
 *   the card can be again. With `sendAtOnce` (the IM: a technician at a desk
 *   must not wait for the card) the first try runs in parallel with the
 *   write; the file is removed again when it was accepted.
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
 *   Ids are the file names' sequence numbers: a message kept in memory and
 *   written later keeps its id, so it is never sent once from memory and
 *   again from the card.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errText, type Logger } from '../util/log.js';
import { smsChannel, type OutboxChannel, type SendResult } from './outbox-channel.js';
import { entryName, idOf, parseEntry, serializeEntry, type OutboxEntry } from './outbox-file.js';
import { OutboxJournal } from './outbox-journal.js';
import type { Sms, SmsProvider } from './sms/provider.js';

export { FAILED_DIR } from './outbox-journal.js';

export interface Backoff {
  firstMs: number;
  maxMs: number;
  maxAgeMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { firstMs: 30_000, maxMs: 3_600_000, maxAgeMs: 3 * 24 * 3_600_000 };

interface CommonOptions {
  dir: string;
  logger: Logger;
  backoff?: Backoff;
  now?: () => number;
  /** First try in parallel with the card write (default false: written first, then sent in turn). */
  sendAtOnce?: boolean;
  /** How often a card that could not be written is tried again (default 5 s). */
  cardRetryMs?: number;
  /** Messages kept in memory at most while the card cannot be written (default 200). */
  maxKept?: number;
}

export type OutboxOptions<P> = CommonOptions &
  (
    | { channel: OutboxChannel<P> }
    /** The SMS outbox: the current provider (the config may change); undefined = none usable now: try later. */
    | { provider: () => SmsProvider | undefined }
  );

/** Typed events, for tests and for the daily self-test to come. */
export interface OutboxEvents {
  queued: [id: string];
  sent: [id: string];
  retry: [id: string, reason: string, delayMs: number];
  failed: [id: string, reason: string];
}

/** 2020-01-01: an earlier wall clock was not set (no RTC, no NTP yet). */
const CLOCK_SET_AFTER = Date.UTC(2020, 0, 1);

export class Outbox<P = Sms> extends EventEmitter<OutboxEvents> {
  private readonly dir: string;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly channel: OutboxChannel<P>;
  private readonly journal: OutboxJournal;
  private readonly what: string;
  /** File names waiting, in send order. */
  private readonly queue: string[] = [];
  private readonly cache = new Map<string, OutboxEntry<P>>();
  /** Per waiting message, in memory only: tries so far, when this process first tried it, not before when again. */
  private readonly tries = new Map<string, { count: number; first: number; notBefore: number }>();
  private nextSeq = 1;
  private started = false;
  private stopped = false;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private hurry = false;
  /** Enqueue writes start one after the other, so the queue order is the sequence order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: OutboxOptions<P>) {
    super();
    this.dir = opts.dir;
    this.channel = 'channel' in opts ? opts.channel : (smsChannel(opts.provider) as unknown as OutboxChannel<P>);
    this.what = this.channel.kind.toUpperCase();
    this.log = opts.logger.child(this.channel.kind === 'sms' ? 'outbox' : `outbox-${this.channel.kind}`);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.now = opts.now ?? Date.now;
    this.journal = new OutboxJournal({
      dir: opts.dir,
      what: this.what,
      logger: this.log,
      cardRetryMs: opts.cardRetryMs,
      maxKept: opts.maxKept,
      onRecovered: (found) => this.recovered(found),
    });
  }

  /** Resume every message waiting on the card, in order. Never throws: a card that cannot be read means degraded, not dead. */
  async start(): Promise<void> {
    if (this.started) return;
    const { names, nextSeq } = await this.journal.open();
    this.queue.length = 0;
    this.cache.clear();
    this.tries.clear();
    this.queue.push(...names);
    this.nextSeq = nextSeq;
    this.started = true;
    this.stopped = false;
    if (this.queue.length > 0) this.log.info(`resuming ${this.queue.length} ${this.what} waiting in ${this.dir}`);
    this.kick();
  }

  /** Queue `p`; resolves with its id once it is on the card or kept in memory (then it is sent in turn). */
  enqueue(p: P): Promise<string> {
    if (!this.started) return Promise.reject(new Error('outbox: enqueue before start()'));
    const bad = this.channel.check(p);
    if (bad) return Promise.reject(new Error(`outbox: ${bad}, not queued`));
    const name = entryName(this.nextSeq++);
    const entry: OutboxEntry<P> = { createdAt: this.now(), payload: p };
    this.cache.set(name, entry);
    // writes start in sequence order, so the queue (pushed as they end) keeps that order
    const put = this.writes.then(() => this.journal.put(name, serializeEntry(this.channel, entry)));
    this.writes = put.catch(() => undefined);
    const first = this.opts.sendAtOnce ? this.firstTry(name, entry, put) : undefined;
    return this.queued(name, entry, put, first);
  }

  private async queued(name: string, entry: OutboxEntry<P>, put: Promise<'card' | 'memory'>, first: Promise<number | undefined> | undefined): Promise<string> {
    const id = idOf(name);
    const desc = this.channel.describe(entry.payload);
    let where: 'card' | 'memory';
    try {
      where = await put;
    } catch (e) {
      this.cache.delete(name);
      this.tries.delete(name);
      throw new Error(`outbox: ${desc} not queued: ${errText(e)}`);
    }
    this.log.info(`${id}: ${desc} queued${where === 'memory' ? ' in memory (card not writable)' : ''}`);
    this.tell('queued', id);
    if (first && (await first) === undefined) {
      this.cache.delete(name);
      return id;
    }
    this.queue.push(name);
    this.kick();
    return id;
  }

  /** The first try of a message sent at once, in parallel with its card write: undefined when done with, else ms until the next try. */
  private async firstTry(name: string, entry: OutboxEntry<P>, put: Promise<unknown>): Promise<number | undefined> {
    const result = await this.sendOne(entry);
    // its file must be written (or kept) before it can be removed or moved
    await put.catch(() => undefined);
    return this.settle(name, entry, result);
  }

  /**
   * Try the waiting head now instead of after its backoff: call it when the
   * configuration changed (a fixed provider should not wait up to 1 h), or
   * the card can be written again.
   */
  retryNow(): void {
    this.hurry = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.kick(); // a try in progress: it sees `hurry` when it ends in "retry"
  }

  /** Ids still waiting, in send order. */
  pending(): string[] {
    return this.queue.map(idOf);
  }

  /** When this process first failed to deliver a message still waiting (ms, its clock), if any: the health check's "not accepted for 15 min". */
  oldestRetry(): number | undefined {
    let oldest: number | undefined;
    for (const name of this.queue) {
      const first = this.tries.get(name)?.first;
      if (first !== undefined && (oldest === undefined || first < oldest)) oldest = first;
    }
    return oldest;
  }

  /** Messages waiting in memory for the card. */
  keptInMemory(): number {
    return this.journal.keptNames().length;
  }

  /** Stop trying; waits for a try in progress (bounded by the provider's timeout) and the card writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    await this.writes;
    await this.journal.close();
    const lost = this.journal.keptNames();
    if (lost.length > 0) this.log.error(`${lost.length} ${this.what} kept in memory never reached the card, lost with this stop: ${lost.map(idOf).join(', ')}`);
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

  /** The card is usable again: adopt what a card that could not be listed at start held, and try at once. */
  private recovered(found: string[] | undefined): void {
    const fresh = (found ?? []).filter((n) => !this.queue.includes(n) && !this.cache.has(n));
    if (fresh.length > 0) {
      this.queue.push(...fresh);
      this.queue.sort();
      this.log.info(`resuming ${fresh.length} ${this.what} found in ${this.dir} now that it can be read`);
    }
    this.retryNow();
  }

  private kick(): void {
    if (this.stopped || !this.started || this.draining || this.timer) return;
    this.draining = this.drain()
      .catch((e: unknown) => {
        // Not expected (every I/O step catches): keep the process up and try again later.
        this.log.error(`unexpected error while sending, retry in ${this.backoff.firstMs} ms: ${errText(e)}`);
        this.arm(this.backoff.firstMs);
      })
      .finally(() => {
        this.draining = undefined;
      });
  }

  private arm(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, ms);
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const name = this.queue[0];
      const due = (this.tries.get(name)?.notBefore ?? 0) - performance.now();
      if (due > 0 && !this.hurry) return this.arm(due);
      this.hurry = false;
      const waitMs = await this.tryHead(name);
      if (waitMs === undefined) {
        this.queue.shift();
        this.cache.delete(name);
        this.tries.delete(name);
        continue;
      }
      if (this.stopped) return;
      return this.arm(this.hurry ? 0 : waitMs);
    }
  }

  /** One try of the head message: undefined when it is done with (sent or failed), else ms until the next try. */
  private async tryHead(name: string): Promise<number | undefined> {
    const entry = await this.load(name);
    if (entry === 'gone') return undefined;
    if (entry instanceof Error) return this.retryLater(name, undefined, entry.message);
    return this.settle(name, entry, await this.sendOne(entry));
  }

  private async sendOne(entry: OutboxEntry<P>): Promise<SendResult & { by?: string }> {
    const sender = this.channel.sender();
    if (!sender) return { kind: 'retry', reason: this.channel.kind === 'sms' ? 'no usable SMS provider configured (see SMSProvider.txt)' : `no ${this.what} sender` };
    try {
      return { ...(await sender.send(entry.payload)), by: sender.name };
    } catch (e) {
      return { kind: 'retry', reason: `${sender.name} failed: ${errText(e)}`, by: sender.name };
    }
  }

  /** Act on one try's result: remove, fail or schedule again. */
  private async settle(name: string, entry: OutboxEntry<P>, result: SendResult & { by?: string }): Promise<number | undefined> {
    const id = idOf(name);
    const desc = this.channel.describe(entry.payload);
    if (result.kind === 'accepted') {
      await this.journal.done(name);
      this.log.info(`${id}: ${desc} accepted by ${result.by}${result.id ? ` (id ${result.id})` : ''}`);
      this.tell('sent', id);
      return undefined;
    }
    const reason = this.channel.redact(result.reason, entry.payload);
    if (result.kind === 'rejected') {
      await this.fail(name, `${desc} rejected by ${result.by}: ${reason}`);
      return undefined;
    }
    return this.retryLater(name, entry, reason);
  }

  private async retryLater(name: string, entry: OutboxEntry<P> | undefined, reason: string): Promise<number | undefined> {
    const id = idOf(name);
    const now = this.now();
    const t = this.tries.get(name) ?? { count: 0, first: now, notBefore: 0 };
    t.count++;
    this.tries.set(name, t);
    const desc = entry ? this.channel.describe(entry.payload) : this.what;
    const age = now - this.ageStart(entry?.createdAt ?? now, t.first, now);
    if (age >= this.backoff.maxAgeMs) {
      await this.fail(name, `${desc}: gave up after ${t.count} tries in ${Math.round(age / 60000)} min: ${reason}`);
      return undefined;
    }
    const delay = Math.min(this.backoff.firstMs * 2 ** Math.min(t.count - 1, 30), this.backoff.maxMs);
    t.notBefore = performance.now() + delay; // a timer deadline: monotonic, not the (injectable) wall clock
    this.log.warn(`${id}: ${desc} not sent (try ${t.count}), retry in ${delay < 10_000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`}: ${reason}`);
    this.tell('retry', id, reason, delay);
    return delay;
  }

  /**
   * When the max age starts: the enqueue time on the card, unless the clock
   * was obviously not set then (a board without RTC before NTP: before 2020)
   * or is behind it now; then the first try of this process, so a wrong clock
   * can never make us give up on a fresh message.
   */
  private ageStart(createdAt: number, firstTry: number, now: number): number {
    const plausible = createdAt >= CLOCK_SET_AFTER && createdAt <= now;
    return plausible ? createdAt : firstTry;
  }

  /** The entry of `name`: from memory, else from the card; a corrupt file goes to failed/. */
  private async load(name: string): Promise<OutboxEntry<P> | 'gone' | Error> {
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
      const entry = parseEntry(this.channel, text);
      this.cache.set(name, entry);
      return entry;
    } catch (e) {
      await this.fail(name, `corrupt outbox file: ${errText(e)}`);
      return 'gone';
    }
  }

  /** Move `name` to failed/ with its reason beside it; one error line. */
  private async fail(name: string, reason: string): Promise<void> {
    const id = idOf(name);
    this.log.error(`${id}: ${this.what} moved to failed/: ${reason}`);
    await this.journal.fail(name, reason);
    this.tell('failed', id, reason);
  }
}
