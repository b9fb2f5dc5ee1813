/**
 * kill -9 at random moments (issue 15): the built appliance on a temp card,
 * a Kamailio PBX, technician phones (sip-phone.ts) and SIPp callers. Each
 * cycle places one emergency call, SIGKILLs the appliance at a random moment
 * (seeded, prng.ts) between the INVITE and some seconds after a normal end,
 * and starts it again on the same card. At the end the card is audited:
 * duplicate numbers, numbers without a ticket file, open journals left,
 * pcaps pcap2wave cannot read, IM/SMS lost for the `_END` tickets, and key
 * press -> first INVITE (at the phone) on the first call after each restart.
 * Used by bench/kill9.mjs (long) and test/tickets/e2e-kill9.test.ts (short).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseJournalName } from '../../src/tickets/journal.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller } from '../hotline/e2e-helpers.js';
import { DIST, removeCard, startAppliance } from './appliance.js';
import { startKamailio } from './kamailio.js';
import { stopAll, until } from './proc.js';
import { prng } from './prng.js';
import { SipPhones } from './sip-phone.js';

export interface Kill9Options {
  cycles: number;
  seed: number;
  /** The latest kill moment after the caller dials, ms (default 14000: past a normal end). */
  maxKillMs?: number;
  progress?(line: string): void;
}

export interface Kill9Report {
  cycles: number;
  /** Numbers the counter gave: [first, next). */
  numbers: number;
  ticketFiles: number;
  duplicates: number[];
  withoutFile: number[];
  journalsLeft: string[];
  ticketZero: number;
  pcaps: number;
  badPcaps: string[];
  endTickets: number;
  lostIm: string[];
  lostSms: string[];
  /** key press -> first INVITE at the phone, ms, one per cycle where both happened before the kill. */
  keyToInvite: number[];
  p50: number | null;
  p99: number | null;
  recoveredHops: number;
  /** Of those, closed with the end time of the call's recording (the rest: of the journal). */
  endFromRecording: number;
}

const pct = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

export async function runKill9(o: Kill9Options): Promise<Kill9Report> {
  const rnd = prng(o.seed);
  const say = o.progress ?? (() => undefined);
  const pbx = await startKamailio();
  // 731 answers half of the calls, 732 (the next hop, after 731's 5 s) nearly all; talk, then hang up
  const phones = await SipPhones.open(pbx.port, ['731', '732'], (to) =>
    rnd() < (to === '731' ? 0.5 : 0.9) ? { answerMs: 200 + rnd() * 2500, hangupMs: 300 + rnd() * 2500 } : {},
  );
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5, sms: { number: '3331111111' } }, '732': { next: '731', timeoutSec: 5, sms: { number: '3332222222' } } },
    files: { 'SMSProvider.txt': 'LOG', 'TicketNR.txt': '1000' },
  });
  const keyToInvite: number[] = [];
  let recoveredHops = 0;
  let endFromRecording = 0;
  // the recovery's lines of a start (it closes in the background: counted from the process's whole output)
  const recovered = (): number => {
    endFromRecording += (app.proc.output().match(/was open at the last stop.*last sign of life: its recording/g) ?? []).length;
    return (app.proc.output().match(/was open at the last stop/g) ?? []).length;
  };
  try {
    for (let i = 0; i < o.cycles; i++) {
      const from = `06${String(i).padStart(8, '0')}`;
      const call = await caller(pbx.port, { digits: '1', from });
      const killMs = 300 + rnd() * ((o.maxKillMs ?? 14000) - 300);
      await new Promise((r) => setTimeout(r, killMs)); // the random moment of the "power cut"
      const killedAt = Date.now();
      recoveredHops += recovered();
      await app.kill();
      await call.proc.stop();
      const log = app.proc.output();
      const key = /^(\S+) INFO .*proceed key 1 pressed/m.exec(log);
      if (key) {
        const pressed = Date.parse(key[1]);
        const invite = phones.invites.find((x) => x.at >= pressed - 5 && x.at <= killedAt);
        if (invite) keyToInvite.push(invite.at - pressed);
      }
      await app.restart();
      say(`cycle ${i + 1}/${o.cycles}: killed ${Math.round(killMs)} ms after dialling${key ? '' : ' (before the key)'}; ${recoveredHops} hop(s) recovered so far`);
    }
    // the last start's notifications, then a clean stop
    await settle(app.app, phones);
    recoveredHops += recovered();
    await app.stop();
    return { ...audit(app.app, app.cf0, phones), cycles: o.cycles, keyToInvite, p50: pct(keyToInvite, 50), p99: pct(keyToInvite, 99), recoveredHops, endFromRecording };
  } finally {
    phones.close();
    await stopAll();
    removeCard(app);
  }
}

const endTexts = (app: string): string[] => tickets(app).filter((f) => f.final).map((f) => f.text);

/** Wait (bounded) until every `_END` ticket has its IM and SMS, or nothing more comes. */
async function settle(app: string, phones: SipPhones): Promise<void> {
  const done = (): boolean => {
    const sms = readSms(app);
    const ims = new Set(phones.ims.map((m) => m.text));
    return endTexts(app).every((t) => ims.has(t) && sms.has(t));
  };
  await until(done, 'the IM and SMS of every _END ticket', 15000).catch(() => undefined);
}

function tickets(app: string): Array<NonNullable<ReturnType<typeof parseTicketFileName>> & { name: string }> {
  const dir = join(app, 'Ticket');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = parseTicketFileName(name);
    return p ? [{ ...p, name }] : [];
  });
}

function readSms(app: string): Set<string> {
  const f = join(app, 'SMS.log');
  if (!existsSync(f)) return new Set();
  return new Set(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(2).join(' ')));
}

function audit(app: string, cf0: string, phones: SipPhones): Omit<Kill9Report, 'cycles' | 'keyToInvite' | 'p50' | 'p99' | 'recoveredHops' | 'endFromRecording'> {
  const files = tickets(app);
  const next = Number(readFileSync(join(app, 'TicketNR.txt'), 'utf8').trim());
  const seen = new Map<number, number>();
  for (const f of files) if (f.ticket > 0) seen.set(f.ticket, (seen.get(f.ticket) ?? 0) + 1);
  const withoutFile: number[] = [];
  for (let n = 1000; n < next; n++) if (!seen.has(n)) withoutFile.push(n);
  const journalsLeft = existsSync(join(app, 'Ticket')) ? readdirSync(join(app, 'Ticket')).filter((n) => parseJournalName(n) !== null) : [];
  const recDir = join(cf0, 'TED_RECORDING');
  const pcaps = existsSync(recDir) ? readdirSync(recDir).filter((f) => f.endsWith('.pcap')) : [];
  const badPcaps = pcaps.filter((p) => {
    const out = join(recDir, `${p}.check.wav`);
    const r = spawnSync(process.execPath, [join(DIST, 'pcap2wave.js'), join(recDir, p), out], { encoding: 'utf8' });
    rmSync(out, { force: true });
    return r.status !== 0;
  });
  const ends = endTexts(app);
  const sms = readSms(app);
  const ims = new Set(phones.ims.map((m) => m.text));
  return {
    numbers: Math.max(0, next - 1000),
    ticketFiles: files.length,
    duplicates: [...seen].filter(([, c]) => c > 1).map(([n]) => n),
    withoutFile,
    journalsLeft,
    ticketZero: files.filter((f) => f.ticket === 0).length,
    pcaps: pcaps.length,
    badPcaps,
    endTickets: ends.length,
    lostIm: ends.filter((t) => !ims.has(t)),
    lostSms: ends.filter((t) => !sms.has(t)),
  };
}

/** The report as the bench prints it. */
export function formatReport(r: Kill9Report): string {
  const list = (xs: Array<string | number>): string => (xs.length ? ` (${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ', ...' : ''})` : '');
  return [
    `cycles: ${r.cycles}, numbers given: ${r.numbers}, ticket files: ${r.ticketFiles}, hops closed by recovery: ${r.recoveredHops} (end time from the recording: ${r.endFromRecording})`,
    `duplicate numbers: ${r.duplicates.length}${list(r.duplicates)}`,
    `numbers without a ticket file: ${r.withoutFile.length}${list(r.withoutFile)}`,
    `open journals left: ${r.journalsLeft.length}${list(r.journalsLeft)}`,
    `Ticket_0 files (no number could be stored): ${r.ticketZero}`,
    `pcaps: ${r.pcaps}, unreadable by pcap2wave: ${r.badPcaps.length}${list(r.badPcaps)}`,
    `_END tickets: ${r.endTickets}, lost IM: ${r.lostIm.length}${list(r.lostIm)}, lost SMS: ${r.lostSms.length}${list(r.lostSms)}`,
    `key press -> first INVITE at the phone (first call after each restart, n=${r.keyToInvite.length}): p50 ${r.p50 ?? '-'} ms, p99 ${r.p99 ?? '-'} ms`,
  ].join('\n');
}
