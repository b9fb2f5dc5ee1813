import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallTickets, NO_TICKET } from '../../src/tickets/call-tickets.js';
import { TicketCounter } from '../../src/tickets/counter.js';
import { TicketLog } from '../../src/tickets/ticket-log.js';
import { parseJournal } from '../../src/tickets/journal.js';
import { memoryLogger } from '../../src/util/log.js';

function tempCard(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const at = (min: number, sec = 0): Date => new Date(2012, 9, 12, 14, min, sec);

function setup(t: { teardown(fn: () => void): void }, next = '1234') {
  const card = tempCard(t);
  writeFileSync(join(card, 'TicketNR.txt'), `${next}\n`);
  const log = memoryLogger();
  const ticketDir = join(card, 'Ticket');
  const tickets = new CallTickets(new TicketCounter(join(card, 'TicketNR.txt'), log), new TicketLog(ticketDir), log, '03472619287');
  return { card, log, ticketDir, tickets };
}

t.test('an open hop is on the card as its journal as soon as its number is given', async (t) => {
  const { ticketDir, tickets, log } = setup(t);
  tickets.open(1, '732', at(0));
  t.equal(await tickets.number(1), 1234);
  t.same(readdirSync(ticketDir), ['Open_Ticket_1234.jnl']);
  const j = parseJournal(readFileSync(join(ticketDir, 'Open_Ticket_1234.jnl'), 'utf8'));
  t.not(typeof j, 'string');
  if (typeof j === 'string') return;
  t.match(j, { ticket: 1234, hop: 1, caller: '03472619287', called: '732', first: 1234, tickets: [1234] });
  t.equal(j.start.getTime(), at(0).getTime());

  tickets.open(2, '731', at(0, 20));
  await tickets.number(2);
  const j2 = parseJournal(readFileSync(join(ticketDir, 'Open_Ticket_1235.jnl'), 'utf8'));
  if (typeof j2 === 'string') return t.fail(j2);
  t.match(j2, { ticket: 1235, hop: 2, called: '731', first: 1234, tickets: [1234, 1235], call: j.call }, 'same call, its tickets so far');

  await tickets.close({ hop: 1, ext: '732', start: at(0), end: at(0, 20), final: false });
  const closed = await tickets.close({ hop: 2, ext: '731', start: at(0, 20), end: at(2, 5), final: true });
  const names = readdirSync(ticketDir).sort();
  t.same(names, [
    '12.10.2012_14.00_12.10.2012_14.00_Ticket_1234_Caller_03472619287_Called_732_1.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_1.txt',
  ], 'each journal became its final name: one file per number');
  for (const n of names) t.equal(statSync(join(ticketDir, n)).size, 0, `${n} has zero length`);
  t.equal(closed.path, join(ticketDir, names[1]));
  t.same(log.lines, []);
});

t.test('hop 1 opened before the hunt knows its extension: the journal learns it', async (t) => {
  const { ticketDir, tickets } = setup(t);
  tickets.open(1);
  await tickets.number(1);
  t.match(readFileSync(join(ticketDir, 'Open_Ticket_1234.jnl'), 'utf8'), /\ncalled=\n/);
  tickets.open(1, '732', at(0));
  await tickets.settled();
  t.match(readFileSync(join(ticketDir, 'Open_Ticket_1234.jnl'), 'utf8'), /\ncalled=732\n/);
  t.equal(readFileSync(join(ticketDir, '..', 'TicketNR.txt'), 'utf8').trim(), '1235', 'no second number');
  await tickets.close({ hop: 1, ext: '732', start: at(0), end: at(1), final: true });
  t.same(readdirSync(ticketDir), ['12.10.2012_14.00_12.10.2012_14.01_Ticket_1234_Caller_03472619287_Called_732_END_1.txt']);
});

t.test('the extension learnt while the number is being taken is in the first journal', async (t) => {
  const { ticketDir, tickets } = setup(t);
  tickets.open(1);
  tickets.open(1, '732', at(0));
  await tickets.settled();
  t.match(readFileSync(join(ticketDir, 'Open_Ticket_1234.jnl'), 'utf8'), /\ncalled=732\n/);
});

t.test('a counter that cannot move: no number given and no journal left to become a ticket', async (t) => {
  const { card, ticketDir, tickets, log } = setup(t);
  // the counter's temp file cannot be renamed over a folder
  rmSync(join(card, 'TicketNR.txt'));
  mkdirSync(join(card, 'TicketNR.txt'));
  tickets.open(1, '732', at(0));
  t.equal(await tickets.number(1), NO_TICKET);
  t.same(readdirSync(ticketDir), [], 'the journal was dropped');
  t.match(log.lines.join('\n'), /hop 1: no ticket number/);
});

t.test('a close that cannot rename leaves the journal for the next start', async (t) => {
  const { ticketDir, tickets, log } = setup(t);
  tickets.open(1, '732', at(0));
  await tickets.number(1);
  // a folder squatting every serial's name: the rename is refused (EISDIR/ENOTEMPTY) -> the serial loop skips existing names
  const name = '12.10.2012_14.00_12.10.2012_14.01_Ticket_1234_Caller_03472619287_Called_732_END_1.txt';
  mkdirSync(join(ticketDir, name));
  const closed = await tickets.close({ hop: 1, ext: '732', start: at(0), end: at(1), final: true });
  t.equal(closed.path, join(ticketDir, name.replace('_END_1', '_END_2')), 'an existing name is never replaced: next serial');
  t.notOk(readdirSync(ticketDir).includes('Open_Ticket_1234.jnl'));
  t.same(log.lines, []);
});
