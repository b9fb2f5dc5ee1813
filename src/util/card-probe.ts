/**
 * Can the card be written now? One small file created, synced and removed in
 * `dir`. At start-up this turns a read-only or full card into one clear log
 * line (issue 15: degraded, never dead) instead of a failure somewhere later.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errText } from './log.js';

export interface CardState {
  writable: boolean;
  /** "read-only", "full" or "not writable", with the system's reason. */
  why?: string;
}

export async function probeCard(dir: string): Promise<CardState> {
  const path = join(dir, `.probe-${process.pid}.tmp`);
  try {
    const fh = await open(path, 'w');
    try {
      await fh.writeFile('probe\n');
      await fh.sync();
    } finally {
      await fh.close();
      await unlink(path).catch(() => undefined);
    }
    return { writable: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'EROFS' ? 'read-only' : code === 'ENOSPC' || code === 'EDQUOT' ? 'full' : 'not writable';
    return { writable: false, why: `${what} (${errText(e)})` };
  }
}

/**
 * Probe `dir` every `everyMs` until it can be written, then call `onWritable`
 * once. Returns a function that stops the probing (for a clean stop).
 */
export function whenWritable(dir: string, everyMs: number, onWritable: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const again = (): void => {
    timer = setTimeout(() => {
      void probeCard(dir).then((s) => {
        if (stopped) return;
        if (s.writable) onWritable();
        else again();
      });
    }, everyMs);
    timer.unref();
  };
  again();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
