/**
 * Was the previous run stopped cleanly? (issue 13: "a restart after a crash
 * or power loss is reported at start"). `Running.txt` in the card folder is
 * written atomically at start and removed on a clean stop, so its presence
 * at start means the previous run ended without one. One small write per
 * start: the card is flash.
 */
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export const RUN_MARKER = 'Running.txt';
export const STATUS_FILE = 'status.txt';

export interface PreviousRun {
  /** The previous run ended without a clean stop. */
  crashed: boolean;
  /** About when it was last alive: the newest of the marker and status.txt (written on each change). */
  lastAlive?: Date;
}

async function mtime(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.mtimeMs, () => undefined);
}

export async function previousRun(dir: string): Promise<PreviousRun> {
  const marker = await mtime(join(dir, RUN_MARKER));
  if (marker === undefined) return { crashed: false };
  const status = await mtime(join(dir, STATUS_FILE));
  return { crashed: true, lastAlive: new Date(Math.max(marker, status ?? 0)) };
}

/** Write the marker (throws when the card cannot be written: the caller logs it, the box runs on). */
export async function markRunning(dir: string, now: Date, pid = process.pid): Promise<void> {
  await writeFileAtomic(join(dir, RUN_MARKER), `started ${now.toISOString()} pid ${pid}\n`);
}

/** The pid in the marker, if any (for `status`). */
export async function runningPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, RUN_MARKER), 'utf8').catch(() => '');
  const m = /pid (\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A clean stop: the next start is not reported as a crash. */
export async function markStopped(dir: string): Promise<void> {
  await unlink(join(dir, RUN_MARKER)).catch(() => undefined);
}
