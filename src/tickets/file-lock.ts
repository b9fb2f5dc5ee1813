import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errText, type Logger } from '../util/log.js';
import { pidAlive } from '../util/pid.js';

export interface LockOptions {
  /** A lock of a LIVE holder older than this is taken over (a holder hung on a dead card). */
  readonly staleMs: number;
  /** Pause between attempts while another process holds the lock. */
  readonly retryMs: number;
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** An empty or unreadable lock older than this is dead (see the rule below). */
  readonly emptyMs?: number;
  /** The folder's file system has no link() (FAT): create exclusively at once (found out by itself otherwise). */
  readonly noLink?: boolean;
}

/** A read-modify-write of a one-value file takes milliseconds: ten seconds is surely dead. */
export const DEFAULT_LOCK: LockOptions = { staleMs: 10_000, retryMs: 20, timeoutMs: 15_000, emptyMs: 1_000 };

/**
 * Run `fn` while holding `lockPath`. It keeps two processes on the same card
 * (a second instance started by mistake, a tool) from handing out the same
 * ticket number. The lock is never waited out by age when its holder is dead:
 *
 * - The lock holds `<pid> <identity>`, identity = `<boot_id>/<start time of
 *   the pid>` (from /proc: the process start in clock ticks since boot,
 *   field 22 of /proc/<pid>/stat), or a random token where /proc is missing.
 *   A pid that is gone, or alive but with another boot or start time (a pid
 *   reused after a reboot or by a later process) is a dead holder: taken over
 *   at once. (With a token, or a bare pid written by an older version, a
 *   reused pid is only found out by staleMs below.)
 * - The lock is created WITH its content: written to a temp file, then
 *   link()ed to the lock name (link fails with EEXIST if held), so a crash or
 *   a full card never leaves an empty lock behind.
 * - A FAT card has no link(): there the lock is created exclusively and the
 *   content written after. It is empty for the time of one small write, so an
 *   EMPTY or unreadable lock is dead once its mtime is more than `emptyMs`
 *   (1 s) away from now: no holder takes a second to write 40 bytes, and a
 *   crash between create and write can only leave it empty. "Away" is a
 *   distance: a clock stepped since (NTP after boot) cannot keep it young.
 * - A live holder is respected, but not for ever: after `staleMs` it is taken
 *   over (a read-modify-write takes milliseconds; a holder hung on a dead
 *   card must not stop the counter).
 *
 * Best effort between waiters: two processes taking over the same dead lock
 * at the same instant is not ruled out (the content is compared again just
 * before removing it); a live holder is.
 */
export function withFileLock<T>(lockPath: string, fn: () => Promise<T>, log: Logger, opts: LockOptions = DEFAULT_LOCK): Promise<T> {
  return new FileLock(lockPath, log, opts).run(fn);
}

/** One lock file; it remembers a folder without link() (FAT), so no temp file is made there again. */
export class FileLock {
  private readonly fs: { noLink: boolean };

  constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly opts: LockOptions = DEFAULT_LOCK,
  ) {
    this.fs = { noLink: opts.noLink === true };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await unlink(this.path).catch((e: unknown) => this.log.warn(`lock ${this.path}: cannot remove it: ${errText(e)}`));
    }
  }

  private async acquire(): Promise<void> {
    const { path, opts } = this;
    const deadline = Date.now() + opts.timeoutMs;
    const content = `${process.pid} ${identityOf(process.pid) ?? `token:${randomBytes(8).toString('hex')}`}\n`;
    for (;;) {
      if (await tryCreate(path, content, this.fs)) return;
      const holder = await inspect(path);
      if (holder === null) continue; // released between our attempt and the look: try again at once
      const dead = deadBecause(holder, opts);
      if (dead) {
        this.log.warn(`lock ${path}: taking over the lock of pid ${holder.pid ?? '?'} (${dead})`);
        await removeStale(path, holder.content);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`lock ${path}: still held after ${opts.timeoutMs} ms`);
      await sleep(opts.retryMs);
    }
  }
}

interface Holder {
  readonly content: string;
  readonly pid: number | null;
  /** `<boot_id>/<start ticks>`, `token:...`, or null in an old or garbled lock. */
  readonly identity: string | null;
  readonly ageMs: number;
}

/** Why the holder is dead, or null if it is (or may be) alive. */
export function deadBecause(h: Holder, opts: LockOptions): string | null {
  const emptyMs = opts.emptyMs ?? DEFAULT_LOCK.emptyMs ?? 1_000;
  if (h.pid === null) return h.ageMs > emptyMs ? `${h.content.trim() === '' ? 'empty' : 'unreadable'} lock, ${Math.round(h.ageMs)} ms old` : null;
  if (!pidAlive(h.pid)) return 'process gone';
  if (h.identity !== null && !h.identity.startsWith('token:')) {
    const now = identityOf(h.pid);
    if (now !== null && now !== h.identity) return 'its pid now belongs to another process';
  }
  if (h.ageMs > opts.staleMs) return `held ${Math.round(h.ageMs / 1000)} s`;
  return null;
}

/** The boot and start time of a process, or null without /proc (e.g. not Linux). */
export function identityOf(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and ')': fields after the LAST ')' are fixed
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = fields[19]; // field 22 of stat(5); fields[0] is field 3
    return boot && /^\d+$/.test(startTicks ?? '') ? `${boot}/${startTicks}` : null;
  } catch {
    return null;
  }
}

async function removeStale(lockPath: string, seen: string): Promise<void> {
  try {
    // a waiter that took it over meanwhile wrote other content: leave its lock alone
    if ((await readFile(lockPath, 'utf8')) !== seen) return;
    await unlink(lockPath);
  } catch (e) {
    // ENOENT: another waiter took it over first, which is fine.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`lock ${lockPath}: cannot remove a dead lock: ${errText(e)}`);
  }
}

/** link() unsupported by the file system (FAT: EPERM; some FUSE: ENOSYS/ENOTSUP). */
const NO_LINK = new Set(['EPERM', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV']);

/** `fs.noLink` is learnt: after one EPERM no temp file is made again (each costs two slow FAT directory scans). */
async function tryCreate(lockPath: string, content: string, fs: { noLink: boolean }): Promise<boolean> {
  if (fs.noLink) return createExclusive(lockPath, content);
  const tmp = join(dirname(lockPath), `.${basename(lockPath)}.${randomBytes(4).toString('hex')}.tmp`);
  let linkable = true;
  try {
    await writeFile(tmp, content);
  } catch (e) {
    // no room for a temp file (card full): the exclusive create below still tells held from free
    await unlink(tmp).catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`lock ${lockPath}: cannot create it: ${errText(e)}`);
    linkable = false;
  }
  if (linkable) {
    try {
      await link(tmp, lockPath);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!NO_LINK.has(code)) throw new Error(`lock ${lockPath}: cannot create it: ${errText(e)}`);
      fs.noLink = true;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
  return createExclusive(lockPath, content);
}

/** The FAT way: exclusive create, then the content (empty for the time of one small write). */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(lockPath, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`lock ${lockPath}: cannot create it: ${errText(e)}`);
  }
  try {
    await fh.writeFile(content);
  } catch {
    // card full: we hold an empty lock, which others take as dead after emptyMs; our take goes on
  } finally {
    await fh.close().catch(() => undefined);
  }
  return true;
}

/** Who holds the lock; null if it vanished meanwhile. */
async function inspect(lockPath: string): Promise<Holder | null> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, { mtimeMs }] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // unreadable (I/O error on a bad card): judged like an empty lock, by its age if it can be had
    mtimeMs = await stat(lockPath).then((s) => s.mtimeMs, () => Date.now() - Number.MAX_SAFE_INTEGER);
    content = '';
  }
  const m = /^(\d{1,10})(?:\s+(\S+))?\s*$/.exec(content);
  return { content, pid: m ? Number(m[1]) : null, identity: m?.[2] ?? null, ageMs: Math.abs(Date.now() - mtimeMs) };
}
