/**
 * SIPp for end-to-end tests: runs one of our scenarios (test/sipp/*.xml)
 * on a free port of 127.0.0.1, in a temp directory, and reads its final
 * screen: exit code, successful/failed calls, per-message counters
 * (messages, retransmissions, timeouts, unexpected).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, until, type Proc } from './proc.js';
import { freePort, udpBound } from './ports.js';

export const SCENARIO_DIR = resolve(fileURLToPath(new URL('../sipp/', import.meta.url)));

export interface SippOptions {
  /** File name under test/sipp/. */
  scenario: string;
  /** host:port of the peer (UAC mode); omitted for a UAS. */
  remote?: string;
  /** Local SIP port (default: a free one). */
  port?: number;
  /** The [service] keyword: user part of the Request-URI. */
  service?: string;
  calls?: number;
  /** Calls per second (default 10). */
  rate?: number;
  /** -lost N: drop N % of the messages SIPp sends and receives. */
  lost?: number;
  keys?: Record<string, string>;
  /** Global timeout in seconds (SIPp fails with a non-zero code when it hits it). */
  timeoutS?: number;
  extra?: string[];
}

export interface MessageCounter {
  message: string;
  direction: 'out' | 'in';
  messages: number;
  retrans: number;
  timeout: number;
  unexpected: number;
}

export interface SippResult {
  code: number | string;
  successful: number;
  failed: number;
  counters: MessageCounter[];
  output: string;
  /** What the scenario's <log> actions wrote, plus the error trace. */
  logs: string;
}

export interface Sipp {
  proc: Proc;
  port: number;
  /** Wait for SIPp to end by itself and read its statistics. */
  result(timeoutMs?: number): Promise<SippResult>;
  /** What the scenario's <log> actions have written so far (while it runs). */
  logsSoFar(): string;
}

export async function sipp(o: SippOptions): Promise<Sipp> {
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const args = ['-sf', resolve(SCENARIO_DIR, o.scenario), '-i', '127.0.0.1', '-p', String(port), '-m', String(o.calls ?? 1)];
  args.push('-r', String(o.rate ?? 10), '-nostdin', '-trace_err', '-trace_logs', '-timeout_error', '-timeout', `${o.timeoutS ?? 60}s`);
  if (o.service) args.push('-s', o.service);
  if (o.lost !== undefined) args.push('-lost', String(o.lost));
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  args.push(...(o.extra ?? []));
  if (o.remote) args.push(o.remote);
  const proc = start(`sipp ${o.scenario}`, 'sipp', args, { cwd: dir });
  if (!o.remote) {
    await until(
      () => {
        if (proc.child.exitCode !== null) throw new Error(`SIPp exited (${proc.child.exitCode}) before listening on ${port}: ${proc.output().slice(-1500)}`);
        return udpBound(port);
      },
      `SIPp listening on ${port}`,
      10000,
    );
  }
  const readLogs = (): string =>
    readdirSync(dir)
      .filter((f) => f.endsWith('_logs.log') || f.endsWith('_errors.log'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
  return {
    proc,
    port,
    logsSoFar: () => {
      try {
        return readLogs();
      } catch {
        return ''; // the temp dir is gone once result() has run
      }
    },
    async result(timeoutMs = 90000) {
      try {
        const code = await proc.exited(timeoutMs);
        const logs = readLogs();
        return { code, ...parseScreen(proc.output()), output: proc.output(), logs };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Read the last scenario and statistics screens SIPp printed on exit. */
export function parseScreen(out: string): { successful: number; failed: number; counters: MessageCounter[] } {
  const scen = out.lastIndexOf('Scenario Screen');
  const stats = out.lastIndexOf('Statistics Screen');
  const counters: MessageCounter[] = [];
  const screen = scen >= 0 ? out.slice(scen, stats > scen ? stats : undefined) : '';
  for (const line of screen.split('\n')) {
    // UAC screens put the arrow after the name, UAS screens before it.
    const m =
      /^\s+(\S.*?)\s+(-{3,}>|<-{3,})\s+(\d+)(?:\s+(\d+))?(?:\s+(\d+))?(?:\s+(\d+))?/.exec(line) ??
      /^\s+(-{3,}>|<-{3,})\s+(\S+)\s+(\d+)(?:\s+(\d+))?(?:\s+(\d+))?(?:\s+(\d+))?/.exec(line);
    if (!m) continue;
    const arrowFirst = m[1].includes('--');
    const name = arrowFirst ? m[2] : m[1];
    const arrow = arrowFirst ? m[1] : m[2];
    counters.push({
      message: name.trim(),
      direction: arrow.endsWith('>') ? 'out' : 'in',
      messages: Number(m[3]),
      retrans: Number(m[4] ?? 0),
      timeout: Number(m[5] ?? 0),
      unexpected: Number(m[6] ?? 0),
    });
  }
  const cum = (name: string): number => {
    const m = new RegExp(`${name}\\s+\\|\\s+\\d+\\s+\\|\\s+(\\d+)`).exec(out.slice(stats >= 0 ? stats : 0));
    return m ? Number(m[1]) : 0;
  };
  return { successful: cum('Successful call'), failed: cum('Failed call'), counters };
}

/** Sum of the retransmission column over every message row. */
export function totalRetrans(r: SippResult): number {
  return r.counters.reduce((a, c) => a + c.retrans, 0);
}
