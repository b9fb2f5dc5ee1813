import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeCard, whenWritable } from '../../src/util/card-probe.js';

const asRoot = process.getuid?.() === 0;

t.test('a writable, read-only and full card are told apart, and the probe leaves nothing behind', { skip: asRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'tl-probe-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  t.teardown(() => {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  t.same(await probeCard(mnt), { writable: true });
  t.same(readdirSync(mnt), [], 'no probe file left');
  execFileSync('mount', ['-o', 'remount,ro', mnt]);
  const ro = await probeCard(mnt);
  t.equal(ro.writable, false);
  t.match(ro.why, /^read-only \(.*EROFS/);
  let back = 0;
  const stop = whenWritable(mnt, 20, () => back++);
  t.teardown(stop);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(back, 0, 'not while read-only');
  execFileSync('mount', ['-o', 'remount,rw', mnt]);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(back, 1, 'once, when writable again');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // full: that is the point
  }
  const full = await probeCard(mnt);
  t.equal(full.writable, false);
  t.match(full.why, /^full \(.*ENOSPC/);
  t.same(readdirSync(mnt), ['fill'], 'no probe file left on a full card');
});
