/**
 * `ticketline status [CARD_DIR]` (issue 13): the health checks from the
 * status.txt the running appliance keeps, and the last 5 emergency calls
 * from Ticket/. Exit code 0 when all is well; 1 when a check fails,
 * status.txt is missing, or the appliance that wrote it is not running.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseTicketFileName, type ParsedTicketFile } from '../tickets/ticket-name.js';
import { pidAlive } from '../util/pid.js';
import { pad } from '../util/time-format.js';
import { RUN_MARKER, STATUS_FILE, runningPid } from './run-marker.js';
import { localStamp, parseStatus } from './status-file.js';

export interface Out {
  write(s: string): unknown;
}

/** The appliance's state from status.txt and Running.txt: lines to print, and whether all is well. */
async function health(dir: string): Promise<{ lines: string[]; ok: boolean }> {
  const text = await readFile(join(dir, STATUS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return { lines: [`${STATUS_FILE}: missing: the appliance has not run on this card (or could not write it)`], ok: false };
  const s = parseStatus(text);
  const out = [...s.lines];
  let ok = s.failing.length === 0;
  const pid = await runningPid(dir);
  const when = await stat(join(dir, STATUS_FILE)).then((st) => localStamp(st.mtime), () => '?');
  if (pid === undefined) {
    out.push(`NOT RUNNING: stopped cleanly (no ${RUN_MARKER}); status above as of ${when}`);
    ok = false;
  } else if (!pidAlive(pid)) {
    out.push(`NOT RUNNING: pid ${pid} is gone without a clean stop; status above as of ${when}`);
    ok = false;
  }
  if (s.failing.length > 0) out.push(`FAILING: ${s.failing.join(', ')}`);
  return { lines: out, ok };
}

interface CallLine {
  first: ParsedTicketFile;
  end: ParsedTicketFile;
  tickets: number[];
  called: string[];
}

/** The last `n` emergency calls: each _END hop with the earlier hops of the same caller that led to it. */
export function lastCalls(names: readonly string[], n = 5): CallLine[] {
  const hops = names.flatMap((name) => parseTicketFileName(name) ?? []).sort((a, b) => a.ticket - b.ticket);
  const calls: CallLine[] = [];
  const open = new Map<string, ParsedTicketFile[]>();
  for (const h of hops) {
    const before = open.get(h.caller) ?? [];
    if (!h.final) {
      open.set(h.caller, [...before, h]);
      continue;
    }
    const all = [...before, h];
    calls.push({ first: all[0], end: h, tickets: all.map((x) => x.ticket), called: all.map((x) => x.called) });
    open.delete(h.caller);
  }
  return calls.sort((a, b) => b.end.end.getTime() - a.end.end.getTime() || b.end.ticket - a.end.ticket).slice(0, n);
}

function dm(d: Date): string {
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function ticketNames(dir: string): Promise<string[] | undefined> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const folder = entries.find((e) => e.toLowerCase() === 'ticket');
  if (folder === undefined) return undefined;
  return readdir(join(dir, folder)).catch(() => []);
}

export async function runStatus(argv: readonly string[], out: Out, defaultDir: string): Promise<number> {
  const args = argv[0] === 'status' ? argv.slice(1) : argv;
  const dir = resolve(args[0] ?? defaultDir);
  const h = await health(dir);
  for (const l of h.lines) out.write(`${l}\n`);
  const names = await ticketNames(dir);
  const calls = names ? lastCalls(names) : [];
  out.write(`last ${calls.length} emergency call(s):\n`);
  for (const c of calls) {
    out.write(`  ${dm(c.first.start)}  caller ${c.end.caller}  tickets ${c.tickets.join(',')}  called ${c.called.join(' -> ')}  END ${dm(c.end.end)}\n`);
  }
  out.write(h.ok ? 'all well\n' : 'NOT all well\n');
  return h.ok ? 0 : 1;
}
