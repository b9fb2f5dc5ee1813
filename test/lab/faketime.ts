/**
 * A wall clock the test moves while the appliance runs: libfaketime (Debian
 * package `faketime`) preloaded into the appliance, reading its offset from
 * a file at every clock read (FAKETIME_TIMESTAMP_FILE + FAKETIME_NO_CACHE),
 * the monotonic clock left alone (FAKETIME_DONT_FAKE_MONOTONIC), as on a
 * board whose clock NTP steps: Node's timers run on, Date.now() jumps.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The multi-threaded libfaketime (Node has worker threads), or undefined when the package is missing. */
export function libfaketime(): string | undefined {
  for (const d of readdirSync('/usr/lib')) {
    const p = join('/usr/lib', d, 'faketime', 'libfaketimeMT.so.1');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface FakeClock {
  /** The offset file (give it to startAppliance as clockFile). */
  readonly file: string;
  /** The wall clock at the Unix epoch now, running on from there. */
  at1970(): void;
  /** The real time again: a step of +56 years from 1970. */
  real(): void;
}

export function fakeClock(dir: string): FakeClock {
  const file = join(dir, 'faketime-offset');
  // relative offsets ("-Ns"): the fake clock runs at the real pace from where it was set
  const set = (offsetSec: number): void => writeFileSync(file, `${offsetSec >= 0 ? '+' : ''}${offsetSec}s\n`);
  const clock = { file, at1970: () => set(-Math.floor(Date.now() / 1000)), real: () => set(0) };
  clock.real();
  return clock;
}

/** The environment that puts a process on the clock of `file`. */
export function fakeClockEnv(file: string): Record<string, string> {
  const lib = libfaketime();
  if (!lib) throw new Error('libfaketime not found: apt-get install faketime');
  return { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
