/**
 * status.txt in the card folder (issue 13 "Status"): the running appliance
 * writes its last known state when something changes, atomically, so an
 * installer with only the card in hand sees it, and `ticketline status`
 * prints it. Plain lines, one fact each:
 *
 *   ticketline 799 status at 2026-12-07 20:40:12 (started 2026-12-07 20:30:01, pid 4711)
 *   check registration: ok since 20:30:02 (registered)
 *   check card: FAILING since 20:31:10 (read-only (EROFS ...))
 *   outbox: 0 SMS, 1 IM waiting
 */
import { pad } from '../util/time-format.js';
import type { CheckState } from './health.js';

export interface StatusFacts {
  name: string;
  now: Date;
  started: Date;
  pid: number;
  checks: readonly CheckState[];
  smsWaiting: number;
  imWaiting: number;
}

/** `YYYY-MM-DD HH:MM:SS`, local time (the card's clock, as the ticket names). */
export function localStamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatStatus(f: StatusFacts): string {
  const lines = [`${f.name} status at ${localStamp(f.now)} (started ${localStamp(f.started)}, pid ${f.pid})`];
  for (const c of f.checks) {
    lines.push(`check ${c.name}: ${c.ok ? 'ok' : 'FAILING'} since ${localStamp(new Date(c.since))} (${c.reason.replace(/[\r\n]+/g, ' ')})`);
  }
  lines.push(`outbox: ${f.smsWaiting} SMS, ${f.imWaiting} IM waiting`);
  return `${lines.join('\n')}\n`;
}

export interface ParsedStatus {
  header: string;
  pid?: number;
  failing: string[];
  lines: string[];
}

/** What `status` needs from status.txt: the failing checks and the writer's pid. */
export function parseStatus(text: string): ParsedStatus {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const pid = /\bpid (\d+)\)/.exec(lines[0] ?? '')?.[1];
  const failing = lines.flatMap((l) => /^check ([\w-]+): FAILING/.exec(l)?.[1] ?? []);
  return { header: lines[0] ?? '', pid: pid ? Number(pid) : undefined, failing, lines };
}
