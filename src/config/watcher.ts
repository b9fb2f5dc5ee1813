/**
 * Picks up card edits without a restart (DESIGN.md "The card"). fs.watch on
 * the application folder and each of its sub-folders (recursive watching is
 * not available everywhere, and FAT may not report at all), plus a periodic
 * re-scan as the fallback. Each problem is logged once while it lasts; the
 * last good configuration stays current while the card is unusable.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../util/log.js';
import { errText } from '../util/log.js';
import { loadCard, type CardConfig } from './card.js';
import { describeCard } from './check.js';
import type { Problem } from './txt-value.js';

export interface CardWatcherEvents {
  /** A new configuration is current (also the first one at start). */
  change: [config: CardConfig];
  /** The set of problems changed (an empty list: the card is clean again). */
  problems: [list: Problem[]];
}

export interface CardWatcherOptions {
  /** Periodic re-scan, ms (the fallback where fs.watch reports nothing). */
  rescanMs?: number;
  /** Quiet time after the last file event before reloading, ms (an editor's save is a burst). */
  debounceMs?: number;
  /** false: re-scan only (for file systems whose events are unreliable). Default true. */
  watch?: boolean;
}

/** Written by the appliance itself, not configuration: never a reason to reload. */
const NOT_CONFIG = new Set(['ticket', 'outbox', 'ticketnr.txt']);

/** Whether a change to `name` (in the application folder or a sub-folder) may change the configuration. */
export function isConfigName(name: string | null): boolean {
  if (name === null) return true; // the platform did not say which file: assume it matters
  if (/^\..*\.tmp$/.test(name)) return false; // writeFileAtomic's temp files
  // the ticket counter's lock file, the LOG provider's SMS.log, the bundle itself
  if (/\.(lock|log|js)$/i.test(name)) return false;
  return !NOT_CONFIG.has(name.toLowerCase());
}

const keyOf = (p: Problem): string => `${p.file}\u0000${p.message}`;

/** JSON of a config for change detection (Maps as entry lists). */
function fingerprint(c: CardConfig): string {
  return JSON.stringify({ ...c, technicians: [...c.technicians.entries()] });
}

export class CardWatcher extends EventEmitter<CardWatcherEvents> {
  private config: CardConfig | undefined;
  private print = '';
  private logged = new Map<string, Problem>();
  private usable = true;
  private watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private triggers = new Set<string>();
  private loading: Promise<void> | undefined;
  private again = false;
  private running = false;
  private readonly dir: string;
  private readonly rescanMs: number;
  private readonly debounceMs: number;
  private readonly useWatch: boolean;
  private loadCount = 0;

  constructor(dir: string, private readonly log: Logger, options: CardWatcherOptions = {}) {
    super();
    this.dir = resolve(dir);
    this.rescanMs = options.rescanMs ?? 5000;
    this.debounceMs = options.debounceMs ?? 200;
    this.useWatch = options.watch ?? true;
  }

  /** How many times the card has been read (for diagnostics and tests). */
  get loads(): number {
    return this.loadCount;
  }

  /** Load the card, then watch it. Resolves when the first load is done (current() may still be undefined). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.reload();
    if (!this.running) return;
    this.timer = setInterval(() => void this.reload(), this.rescanMs);
    this.timer.unref();
  }

  /** Close every watcher and timer; harmless twice. */
  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = this.debounce = undefined;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** The last good configuration, or undefined when the card has never been usable. */
  current(): CardConfig | undefined {
    return this.config;
  }

  /** The problems of the last load. */
  currentProblems(): Problem[] {
    return [...this.logged.values()];
  }

  /** Load the card now (e.g. right after the appliance wrote it); loads never overlap. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        await this.loadOnce();
      } while (this.again && this.running);
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    // Watch first, then read: an edit made after the read is then always seen.
    if (this.useWatch) await this.syncWatchers();
    let result: Awaited<ReturnType<typeof loadCard>>;
    try {
      result = await loadCard(this.dir);
    } catch (e) {
      result = { problems: [{ file: '.', message: `cannot be loaded: ${errText(e)}` }] };
    }
    if (!this.running) return;
    this.loadCount++;
    this.report(result.problems);
    const before = this.config;
    this.apply(result.config);
    // a new recording folder may now be excluded from watching
    if (this.useWatch && this.config !== before) await this.syncWatchers();
  }

  /** Log new problems once, log fixed ones, and emit when the set changed. */
  private report(problems: Problem[]): void {
    const next = new Map(problems.map((p) => [keyOf(p), p]));
    let changed = false;
    for (const [k, p] of next) {
      if (this.logged.has(k)) continue;
      changed = true;
      if (p.warning) this.log.warn(`${p.file}: ${p.message}`);
      else this.log.error(`${p.file}: ${p.message}`);
    }
    for (const [k, p] of this.logged) {
      if (next.has(k)) continue;
      changed = true;
      if (![...next.values()].some((q) => q.file === p.file)) this.log.info(`${p.file}: fixed`);
    }
    const hadProblems = this.logged.size > 0;
    this.logged = next;
    if (hadProblems && next.size === 0) this.log.info('card OK again');
    if (changed) this.emit('problems', problems);
  }

  private apply(config: CardConfig | undefined): void {
    if (!config) {
      if (this.usable) {
        this.log.error(this.config
          ? `card not usable: keeping the last good configuration (${describeCard(this.config)})`
          : 'card not usable and no earlier configuration: waiting for the card to be fixed');
      }
      this.usable = false;
      return;
    }
    this.usable = true;
    const print = fingerprint(config);
    if (print === this.print) return;
    this.log.info(`${this.config ? 'card reloaded' : 'card loaded'}: ${describeCard(config)}`);
    this.config = config;
    this.print = print;
    this.emit('change', config);
  }

  /** Watch the application folder and its sub-folders (technicians, the CFU object). */
  private async syncWatchers(): Promise<void> {
    const want = new Set<string>(['']);
    try {
      for (const e of await readdir(this.dir, { withFileTypes: true })) {
        if (e.isDirectory() && !e.name.startsWith('.') && isConfigName(e.name) && !this.written(e.name)) want.add(e.name);
      }
    } catch {
      // the card folder itself is gone: loadCard reports it; keep trying on the re-scan
    }
    if (!this.running) return;
    for (const [rel, w] of this.watchers) {
      if (want.has(rel)) continue;
      w.close();
      this.watchers.delete(rel);
    }
    for (const rel of want) if (!this.watchers.has(rel)) this.watchFolder(rel);
  }

  /** A folder the appliance writes into (e.g. Recording.txt pointing inside the card folder). */
  private written(name: string): boolean {
    const c = this.config;
    return c !== undefined && resolve(this.dir, name) === c.recordingDir;
  }

  private watchFolder(rel: string): void {
    try {
      const w = watch(join(this.dir, rel), { persistent: false }, (_event, name) => this.onEvent(rel, name));
      w.on('error', (e) => {
        this.log.debug(`watching ${rel || '.'} stopped (${errText(e)}); the periodic re-scan goes on`);
        w.close();
        this.watchers.delete(rel);
      });
      this.watchers.set(rel, w);
    } catch (e) {
      this.log.debug(`cannot watch ${rel || '.'} (${errText(e)}); relying on the periodic re-scan`);
    }
  }

  private onEvent(rel: string, name: string | Buffer | null): void {
    const file = name === null ? null : name.toString();
    if (!this.running || !isConfigName(file)) return;
    this.triggers.add(rel ? `${rel}/${file ?? '?'}` : file ?? '?');
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.log.debug(`re-reading the card after an edit of ${[...this.triggers].sort().join(', ')}`);
      this.triggers.clear();
      void this.reload();
    }, this.debounceMs);
    this.debounce.unref();
  }
}
