/**
 * Child processes for end-to-end tests: start, wait for a line in the
 * output (with a generous bound, never a fixed sleep), stop by PID.
 * Every process started here is registered and stopped at test teardown.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Proc {
  readonly child: ChildProcess;
  readonly name: string;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolve when `re` matches the output (already printed or later). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolve with the exit code (or signal name) when the process ends. */
  exited(timeoutMs?: number): Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Proc>();

/** Signal the process group we started (negative PID); it may be gone already. */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: nothing of that group is left
  }
}

export function start(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
  // Its own process group: stop() then reaches the workers a daemon forks (Kamailio's), which
  // would otherwise outlive a SIGKILLed parent and hold our pipes open (the test never exits).
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.slice()) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitValue: number | string | undefined;
  const exitPromise = new Promise<number | string>((resolve) => {
    child.on('exit', (code, sig) => {
      exitValue = code ?? sig ?? -1;
      for (const w of waiters.slice()) w();
      resolve(exitValue);
    });
    child.on('error', (e) => {
      out += `\n[spawn error] ${e.message}\n`;
      exitValue = -1;
      for (const w of waiters.slice()) w();
      resolve(-1);
    });
  });

  const proc: Proc = {
    child,
    name,
    output: () => out,
    waitFor(re, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = out.match(re);
          if (m) {
            cleanup();
            resolve(m);
            return true;
          }
          if (exitValue !== undefined) {
            cleanup();
            reject(new Error(`${name} exited (${exitValue}) before ${re}; output:\n${out.slice(-3000)}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${re}; output:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
        };
        const waiter = (): void => void check();
        if (!check()) waiters.push(waiter);
      });
    },
    exited(timeoutMs = 60000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: did not exit within ${timeoutMs} ms; output:\n${out.slice(-3000)}`)), timeoutMs);
        void exitPromise.then((v) => {
          clearTimeout(timer);
          resolve(v);
        });
      });
    },
    async stop(graceMs = 5000) {
      running.delete(proc);
      const pid = child.pid;
      if (pid !== undefined) {
        if (exitValue === undefined) {
          signalGroup(pid, 'SIGTERM');
          const t = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
          await exitPromise;
          clearTimeout(t);
        }
        signalGroup(pid, 'SIGKILL'); // whatever of the group is left (forked workers)
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
  running.add(proc);
  return proc;
}

/** Stop every process this test file started (call from t.teardown). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Poll `fn` until it returns a truthy value, bounded; for files written by other processes. */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
