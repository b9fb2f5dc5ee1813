import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errText, type Logger } from '../util/log.js';

export interface LockOptions {
  /** A lock older than this is left over from a crash or power cut: taken over. */
  readonly staleMs: number;
  /** Pause between attempts while another process holds the lock. */
  readonly retryMs: number;
  /** Give up after this long (longer than staleMs, so a stale lock is always taken over first). */
  readonly timeoutMs: number;
}

/** A read-modify-write of a one-value file takes milliseconds: ten seconds is surely dead. */
export const DEFAULT_LOCK: LockOptions = { staleMs: 10_000, retryMs: 20, timeoutMs: 15_000 };

/**
 * Run `fn` while holding `lockPath`, a file created exclusively and holding
 * the pid. It keeps two processes on the same card (a second instance started
 * by mistake, a tool) from handing out the same ticket number. A lock whose
 * pid is gone, or that is older than staleMs, is taken over (best effort: two
 * waiters taking over the same stale lock at the same instant is not ruled
 * out; a live holder is).
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, log: Logger, opts: LockOptions = DEFAULT_LOCK): Promise<T> {
  await acquire(lockPath, log, opts);
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch((e: unknown) => log.warn(`lock ${lockPath}: cannot remove it: ${errText(e)}`));
  }
}

async function acquire(lockPath: string, log: Logger, opts: LockOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await tryCreate(lockPath)) return;
    if (Date.now() > deadline) throw new Error(`lock ${lockPath}: still held after ${opts.timeoutMs} ms`);
    const holder = await inspect(lockPath);
    if (holder === null) continue; // released between our attempt and the look: try again at once
    if (!holder.alive || holder.ageMs > opts.staleMs) {
      log.warn(`lock ${lockPath}: taking over a stale lock of pid ${holder.pid ?? '?'} (${holder.alive ? `${Math.round(holder.ageMs / 1000)} s old` : 'process gone'})`);
      await removeStale(lockPath);
      continue;
    }
    await sleep(opts.retryMs);
  }
}

async function removeStale(lockPath: string): Promise<void> {
  try {
    await unlink(lockPath);
  } catch (e) {
    // ENOENT: another waiter took it over first, which is fine.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`lock ${lockPath}: cannot remove a stale lock: ${errText(e)}`);
  }
}

async function tryCreate(lockPath: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(lockPath, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`lock ${lockPath}: cannot create it: ${errText(e)}`);
  }
  try {
    await fh.writeFile(`${process.pid}\n`);
  } finally {
    await fh.close();
  }
  return true;
}

interface Holder {
  readonly pid: number | null;
  readonly alive: boolean;
  readonly ageMs: number;
}

/** Who holds the lock; null if it vanished meanwhile. */
async function inspect(lockPath: string): Promise<Holder | null> {
  let content: string;
  let mtimeMs: number;
  try {
    [content, { mtimeMs }] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`lock ${lockPath}: cannot read it: ${errText(e)}`);
  }
  const pid = /^\d{1,10}$/.test(content.trim()) ? Number(content.trim()) : null;
  // A lock just created may still be empty: count it as alive until it is stale by age.
  // A clock stepped since the lock was written (NTP after boot) makes it look
  // young forever if it is "from the future": distance, not difference, ages it.
  return { pid, alive: pid === null || isAlive(pid), ageMs: Math.abs(Date.now() - mtimeMs) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
