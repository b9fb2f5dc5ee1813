/**
 * `ticketline check [CARD_DIR]`: validate a card and print every problem,
 * one `<file>: <message>` line each, then a summary. Exit code 0 when clean;
 * WARN lines (a valid card that probably does not do what is meant, e.g. one
 * copied from the original) keep exit code 0.
 */
import { dirname, resolve } from 'node:path';
import { parseCounter } from '../tickets/counter.js';
import { loadCard, type CardConfig } from './card.js';
import { TxtReader, quote, type Problem } from './txt-value.js';

/**
 * TicketNR.txt is not part of CardConfig (the ticket counter reads it itself
 * for each hop). A value the counter will not take is a WARN: the counter
 * logs an error, counts on from its last number (or 1) and rewrites the file,
 * so calls go on, but the numbering is not the one the installer wrote.
 */
async function checkTicketNr(r: TxtReader): Promise<void> {
  const got = await r.read('TicketNR.txt');
  if (got.kind !== 'value') return;
  const counted = parseCounter(got.value);
  if (counted.kind !== 'garbage') return;
  r.problems.push({
    file: 'TicketNR.txt',
    message: `${quote(got.value)} will not be taken by the ticket counter: should hold the next ticket number (a whole number from 1, or blank to start at 1); `
      + 'as it is, numbering restarts at 1',
    advice: true,
  });
}

/**
 * Valid cards that do not do what they are meant to (issue 10 "Migration"):
 * a card copied from the original has no Next.txt (the chain lived in the
 * PBX's CFNR) and may still name CODEMA as SMS provider.
 */
export function cardAdvice(c: CardConfig): Problem[] {
  const out: Problem[] = [];
  if (![...c.technicians.values()].some((t) => t.next !== undefined)) {
    const first = c.cfuTarget ?? c.first;
    out.push({
      file: 'Next.txt',
      message: `no technician has one, so the hunt rings only ${first} — the original took the chain from the PBX's CFNR: write Next.txt in each technician folder`,
      advice: true,
    });
  }
  if (c.smsProvider === 'CODEMA') {
    out.push({
      file: 'SMSProvider.txt',
      message: "is CODEMA, whose interface is not public: every SMS will go to Outbox/failed/; use HTTP (HTTP/URL.txt) with your gateway",
      advice: true,
    });
  }
  if (!c.admin) {
    out.push({
      file: 'Admin/',
      message: 'is missing: nobody is told when the box cannot take an emergency call (not registered, card not writable, a crash); '
        + 'alerts go only to the log: write Admin/Extension.txt and/or Admin/SMSNumber.txt',
      advice: true,
    });
  }
  return out;
}

/** Every problem of the card in `dir`: errors, warnings and WARN advice (TicketNR.txt included). */
export async function checkCard(dir: string): Promise<Problem[]> {
  return (await inspectCard(dir)).problems;
}

async function inspectCard(dir: string): Promise<{ config?: CardConfig; problems: Problem[] }> {
  const { config, problems } = await loadCard(dir);
  if (problems.some((p) => p.file === '.')) return { problems };
  const r = new TxtReader(resolve(dir));
  await checkTicketNr(r);
  return { config, problems: [...problems, ...r.problems, ...(config ? cardAdvice(config) : [])] };
}

/** One line about a good card, without secrets: for `check` and the start-up log. */
export function describeCard(c: CardConfig): string {
  const ring: string[] = [];
  for (let ext: string | undefined = c.cfuTarget ?? c.first; ext !== undefined && !ring.includes(ext); ext = c.technicians.get(ext)?.next) ring.push(ext);
  const loop = ring.length > 0 && c.technicians.get(ring[ring.length - 1])?.next;
  const hunt = ring.join(' -> ') + (loop ? ` -> ${loop}` : '');
  return `number ${c.xmlNumber}, ${c.technicians.size} technician(s), hunt ${hunt}${c.cfuTarget ? ` (CFU to ${c.cfuTarget})` : ''}, `
    + `PBX ${c.pbx.pbx.host}:${c.pbx.pbx.port}, listen ${c.pbx.listen.host}:${c.pbx.listen.port}, SMS ${c.smsProvider}`;
}

export interface Out {
  write(s: string): unknown;
}

/** More checks of a usable card by upper layers (e.g. the SMS provider's own settings). */
export type ExtraCheck = (config: CardConfig) => Problem[] | Promise<Problem[]>;

/**
 * `argv`: the arguments after the program (a leading `check` is skipped);
 * the card folder defaults to `defaultDir` (the folder holding the bundle).
 */
export async function runCheck(argv: readonly string[], stdout: Out, defaultDir = dirname(process.argv[1] ?? '.'), extra?: ExtraCheck): Promise<number> {
  const args = argv[0] === 'check' ? argv.slice(1) : argv;
  const dir = resolve(args[0] ?? defaultDir);
  const { config, problems: all } = await inspectCard(dir);
  if (config && extra) all.push(...(await extra(config)));
  const problems = all.filter((p) => !p.advice);
  const advice = all.filter((p) => p.advice);
  for (const p of problems) stdout.write(`${p.file}: ${p.warning ? 'warning: ' : ''}${p.message}\n`);
  for (const p of advice) stdout.write(`WARN ${p.file}: ${p.message}\n`);
  const errors = problems.filter((p) => !p.warning).length;
  const counts = `${errors} error(s), ${problems.length - errors} warning(s)${advice.length ? `, ${advice.length} WARN` : ''}`;
  if (!config) stdout.write(`card ${dir}: ${counts}; NOT usable: a running appliance keeps its last good configuration, a starting one waits for a fix\n`);
  else if (problems.length) stdout.write(`card ${dir}: ${counts}; usable with the settings above dropped or defaulted (${describeCard(config)})\n`);
  else if (advice.length) stdout.write(`card ${dir}: OK with ${advice.length} WARN above (${describeCard(config)})\n`);
  else stdout.write(`card ${dir}: OK (${describeCard(config)})\n`);
  return problems.length === 0 ? 0 : 1;
}
