/**
 * A card on a real tmpfs (the tests run as root), to make it read-only or
 * full: `remount` switches it, the teardown stops the appliance on it
 * before the unmount.
 */
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appliance } from './appliance.js';

/** Skips a test where no tmpfs can be mounted. */
export const rootOnly = { skip: process.getuid?.() === 0 ? false : 'needs root to mount a tmpfs' };

export const remount = (mnt: string, mode: 'ro' | 'rw'): void => void execFileSync('mount', ['-o', `remount,${mode}`, mnt]);

/** A tmpfs card; the appliance on it is stopped before the unmount. */
export function tmpfsCard(t: Test): { mnt: string; own(a: Appliance): void } {
  const mnt = mkdtempSync(join(tmpdir(), 'tl-e2e-card-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'tmpfs', mnt]);
  let app: Appliance | undefined;
  t.teardown(async () => {
    await app?.stop().catch(() => undefined);
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return { mnt, own: (a) => void (app = a) };
}
