/**
 * `ticketline check [CARD_DIR]`: validate a card and print every problem,
 * one `<file>: <message>` line each, then a summary. Exit code 0 when clean.
 */
import { dirname, resolve } from 'node:path';
import { loadCard, type CardConfig } from './card.js';
import { TxtReader, quote, type Problem } from './txt-value.js';

/**
 * TicketNR.txt is not part of CardConfig (the ticket counter reads it itself
 * for each hop) but a malformed value would stop tickets: blank or a
 * non-negative integer.
 */
async function checkTicketNr(dir: string): Promise<Problem[]> {
  const r = new TxtReader(resolve(dir));
  const got = await r.read('TicketNR.txt');
  if (got.kind === 'value' && !/^[0-9]{1,15}$/.test(got.value)) {
    r.problem('TicketNR.txt', `${quote(got.value)} is not valid: should hold the next ticket number (a whole number, or blank to start at 1)`);
  }
  return r.problems;
}

/** Every problem of the card in `dir`, TicketNR.txt included. */
export async function checkCard(dir: string): Promise<Problem[]> {
  const { problems } = await loadCard(dir);
  if (problems.some((p) => p.file === '.')) return problems;
  return [...problems, ...(await checkTicketNr(dir))];
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
  const { config, problems: loaded } = await loadCard(dir);
  const problems = loaded.some((p) => p.file === '.') ? loaded : [...loaded, ...(await checkTicketNr(dir))];
  if (config && extra) problems.push(...(await extra(config)));
  for (const p of problems) stdout.write(`${p.file}: ${p.warning ? 'warning: ' : ''}${p.message}\n`);
  const errors = problems.filter((p) => !p.warning).length;
  const counts = `${errors} error(s), ${problems.length - errors} warning(s)`;
  if (!config) stdout.write(`card ${dir}: ${counts}; NOT usable: a running appliance keeps its last good configuration, a starting one waits for a fix\n`);
  else if (problems.length) stdout.write(`card ${dir}: ${counts}; usable with the settings above dropped or defaulted (${describeCard(config)})\n`);
  else stdout.write(`card ${dir}: OK (${describeCard(config)})\n`);
  return problems.length === 0 ? 0 : 1;
}
