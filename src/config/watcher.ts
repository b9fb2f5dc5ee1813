/**
 * Picks up card edits without a restart (DESIGN.md "The card"). fs.watch on
 * the application folder and each of its sub-folders (recursive watching is
 * not available everywhere, and FAT may not report at all), plus stat
 * polling of the same folders and their files as the fallback. The polling
 * runs in libuv and calls into JavaScript only when a stat changed, so an
 * idle appliance reads nothing and makes no garbage (a periodic full
 * re-read every 5 s cost ~5 MB of idle RSS: its garbage and the optimizing
 * compiler's pages). Each problem is logged once while it lasts; the last
 * good configuration stays current while the card is unusable.
 */
import { EventEmitter } from 'node:events';
import { unwatchFile, watch, watchFile, type Dirent, type FSWatcher, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
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
  /** Stat polling interval, ms (the fallback where fs.watch reports nothing). Default 5000. */
  rescanMs?: number;
  /** Quiet time after the last file event before reloading, ms (an editor's save is a burst). */
  debounceMs?: number;
  /** false: polling only (for file systems whose events are unreliable). Default true. */
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

/** The names in a folder listing that may change the configuration, sorted. */
const configNamesOf = (names: string[]): string[] => names.filter((n) => isConfigName(n)).sort();

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
  /** Polled paths (folders and files): the folder each belongs to, and the listener for unwatchFile. */
  private polls = new Map<string, { rel: string; listener: (curr: Stats, prev: Stats) => void }>();
  /** Per polled folder: its configuration names, to tell an edit from the appliance's own writes. */
  private listings = new Map<string, string>();
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
  }

  /** Close every watcher and timer; harmless twice. */
  stop(): void {
    this.running = false;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const [path, p] of this.polls) unwatchFile(path, p.listener);
    this.polls.clear();
    this.listings.clear();
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
    await this.syncWatchers(true);
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
    if (this.config !== before) await this.syncWatchers(false);
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

  /**
   * Watch and poll the application folder, its sub-folders (technicians,
   * the CFU object) and their files. `beforeLoad`: the listings read now are
   * what the following load sees; after a load they may already be newer
   * than the configuration, so they are not recorded then.
   */
  private async syncWatchers(beforeLoad: boolean): Promise<void> {
    const want = new Set<string>(['']);
    let top: Dirent[] = [];
    try {
      top = await readdir(this.dir, { withFileTypes: true });
    } catch {
      // the card folder itself is gone: loadCard reports it; its poll sees it come back
    }
    for (const e of top) {
      if (e.isDirectory() && !e.name.startsWith('.') && isConfigName(e.name) && !this.written(e.name)) want.add(e.name);
    }
    const polled = new Map<string, string>(); // path -> folder (rel) it belongs to
    const listings = new Map<string, string>();
    for (const rel of want) {
      const names = rel === '' ? configNamesOf(top.map((e) => e.name)) : await this.configNames(rel);
      listings.set(rel, names.join('/'));
      const folder = this.folder(rel);
      polled.set(folder, rel);
      // plain concatenation: `folder` is absolute and normal, `n` a bare name
      // (path.join per file made path's normalizeString hot at start-up);
      // a sub-folder is polled as a folder (below), the recording folder not at all
      for (const n of names) if (rel !== '' || (!want.has(n) && !this.written(n))) polled.set(`${folder}/${n}`, rel);
    }
    if (!this.running) return;
    if (beforeLoad) this.listings = listings;
    else for (const rel of this.listings.keys()) if (!want.has(rel)) this.listings.delete(rel);
    if (this.useWatch) {
      for (const [rel, w] of this.watchers) {
        if (want.has(rel)) continue;
        w.close();
        this.watchers.delete(rel);
      }
      for (const rel of want) if (!this.watchers.has(rel)) this.watchFolder(rel);
    }
    for (const [path, p] of this.polls) {
      if (polled.get(path) === p.rel) continue;
      unwatchFile(path, p.listener);
      this.polls.delete(path);
    }
    for (const [path, rel] of polled) if (!this.polls.has(path)) this.poll(path, rel);
  }

  private folder(rel: string): string {
    return rel ? `${this.dir}/${rel}` : this.dir;
  }

  /** The configuration names in a folder, sorted ([] when it cannot be read). */
  private async configNames(rel: string): Promise<string[]> {
    try {
      return configNamesOf(await readdir(this.folder(rel)));
    } catch {
      return [];
    }
  }

  private poll(path: string, rel: string): void {
    const isFolder = path === this.folder(rel);
    const listener = (): void => {
      if (!this.running) return;
      if (isFolder) void this.onFolderChange(rel);
      else this.onEvent(rel, basename(path));
    };
    watchFile(path, { persistent: false, interval: this.rescanMs }, listener);
    this.polls.set(path, { rel, listener });
  }

  /**
   * A polled folder changed: reload only when its configuration names
   * changed, not for the appliance's own tickets, temp files and outbox.
   */
  private async onFolderChange(rel: string): Promise<void> {
    const names = (await this.configNames(rel)).join('/');
    if (!this.running || names === this.listings.get(rel)) return;
    this.listings.set(rel, names);
    this.onEvent(rel, null);
  }

  /** A folder the appliance writes into (e.g. Recording.txt pointing inside the card folder). */
  private written(name: string): boolean {
    const c = this.config;
    return c !== undefined && resolve(this.dir, name) === c.recordingDir;
  }

  private watchFolder(rel: string): void {
    try {
      const w = watch(this.folder(rel), { persistent: false }, (_event, name) => this.onEvent(rel, name));
      w.on('error', (e) => {
        this.log.debug(`watching ${rel || '.'} stopped (${errText(e)}); polling goes on`);
        w.close();
        this.watchers.delete(rel);
      });
      this.watchers.set(rel, w);
    } catch (e) {
      this.log.debug(`cannot watch ${rel || '.'} (${errText(e)}); relying on polling`);
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
