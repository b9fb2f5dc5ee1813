import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { CallTickets, NO_TICKET } from '../../src/tickets/call-tickets.js';
import { TicketCounter } from '../../src/tickets/counter.js';
import { TicketLog } from '../../src/tickets/ticket-log.js';
import { memoryLogger } from '../../src/util/log.js';
import { initialHunt, step } from '../../src/hotline/hunt.js';
import type { HuntCommand, HuntEvent, HuntState } from '../../src/hotline/hunt.js';

function tempCard(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'calltickets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const at = (min: number, sec = 0): Date => new Date(2012, 9, 12, 14, min, sec);

/** Feed the hunt's ticket commands to CallTickets, as the B2BUA does; collect the notify texts. */
async function drive(tickets: CallTickets, events: HuntEvent[]): Promise<{ notified: string[]; state: HuntState }> {
  const dir = new Map([
    ['732', { next: '731', timeoutSec: 20 }],
    ['731', { next: '732', fork: '00393470000731', timeoutSec: 20 }],
  ]);
  let s = initialHunt();
  const notified: string[] = [];
  for (const e of events) {
    const r = step(s, e, dir);
    s = r.state;
    for (const c of r.commands as HuntCommand[]) {
      if (c.type === 'openTicket') tickets.open(c.hop);
      if (c.type === 'closeTicket') void tickets.close(c);
      if (c.type === 'notify') notified.push(`${c.ext}: ${(await tickets.closed(c.hop))?.text}`);
    }
  }
  return { notified, state: s };
}

t.test('the seed example, end to end: 732 rings out, 731 answers on the mobile', async (t) => {
  const card = tempCard(t);
  writeFileSync(join(card, 'TicketNR.txt'), '1234\r\n');
  const log = memoryLogger();
  const tickets = new CallTickets(new TicketCounter(join(card, 'TicketNR.txt'), log), new TicketLog(join(card, 'Ticket')), log, '03472619287');
  const { notified } = await drive(tickets, [
    { type: 'start', first: '732', at: at(0) },
    { type: 'hopTimeout', hop: 1, at: at(0, 20) },
    { type: 'answered', leg: '2.fork', at: at(0, 31) },
    { type: 'technicianHungUp', leg: '2.fork', at: at(2, 5) },
  ]);
  await tickets.settled();
  t.same(readdirSync(join(card, 'Ticket')).sort(), [
    '12.10.2012_14.00_12.10.2012_14.00_Ticket_1234_Caller_03472619287_Called_732_1.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_1.txt',
  ]);
  t.same(notified, ['731: 12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731'], 'only 731, by extension');
  t.equal(readFileSync(join(card, 'TicketNR.txt'), 'utf8').trim(), '1236');
  t.same(log.lines, []);
});

t.test('two calls at once on one card get distinct numbers', async (t) => {
  const card = tempCard(t);
  const log = memoryLogger();
  const counter = new TicketCounter(join(card, 'TicketNR.txt'), log);
  const ticketLog = new TicketLog(join(card, 'Ticket'));
  const a = new CallTickets(counter, ticketLog, log, '0301');
  const b = new CallTickets(counter, ticketLog, log, '0302');
  const caller = (first: string): HuntEvent[] => [
    { type: 'start', first, at: at(0) },
    { type: 'failed', leg: '1.desk', cause: 'busy', at: at(0, 1) },
    { type: 'callerHungUp', at: at(0, 9) },
  ];
  await Promise.all([drive(a, caller('732')), drive(b, caller('732'))]);
  const all = [...(await a.settled()), ...(await b.settled())].map((c) => c.ticket);
  t.same([...all].sort((x, y) => x - y), [1, 2, 3, 4]);
  t.equal(readdirSync(join(card, 'Ticket')).length, 4);
});

t.test('a counter that cannot store gives ticket 0 with one error line; the log file is still written', async (t) => {
  const card = tempCard(t);
  const counterPath = join(card, `${'N'.repeat(240)}.txt`); // its temp file name is too long: a real write failure
  writeFileSync(counterPath, '5');
  const log = memoryLogger();
  const tickets = new CallTickets(new TicketCounter(counterPath, log), new TicketLog(join(card, 'Ticket')), log, '+39 0471 "x"');
  tickets.open(1);
  const closed = await tickets.close({ hop: 1, ext: '731', start: at(0), end: at(1), final: true });
  t.equal(closed.ticket, NO_TICKET);
  t.equal(closed.text, '12.10.2012_14.00_12.10.2012_14.01_Ticket_0_Caller_+390471_Called_731');
  t.equal(basename(closed.path ?? ''), `${closed.text}_END_1.txt`);
  t.equal(log.lines.length, 1);
  t.match(log.lines[0], /ERROR hop 1: no ticket number: ticket counter .* ticket 5 not given/);
});

t.test('a Ticket folder that cannot be written: no number is given (it would have no file), the text is still there for the IM', async (t) => {
  const card = tempCard(t);
  writeFileSync(join(card, 'Ticket'), 'not a folder');
  const log = memoryLogger();
  const tickets = new CallTickets(new TicketCounter(join(card, 'TicketNR.txt'), log), new TicketLog(join(card, 'Ticket')), log, '0123');
  tickets.open(1);
  const closed = await tickets.close({ hop: 1, ext: '732', start: at(0), end: at(0, 30), final: true });
  t.same(closed, { hop: 1, ticket: 0, text: '12.10.2012_14.00_12.10.2012_14.00_Ticket_0_Caller_0123_Called_732', path: null });
  t.equal(log.lines.length, 2);
  t.match(log.lines[0], /ERROR hop 1: no ticket number: ticket log: cannot create folder/);
  t.match(log.lines[1], /ERROR hop 1 ticket 0: log file not written: ticket log: cannot create folder/);
  t.notOk(existsSync(join(card, 'TicketNR.txt')), 'the counter did not move');
});

t.test('close without open still takes a number; a second close of a hop writes nothing new', async (t) => {
  const card = tempCard(t);
  const log = memoryLogger();
  const tickets = new CallTickets(new TicketCounter(join(card, 'TicketNR.txt'), log), new TicketLog(join(card, 'Ticket')), log, '');
  const c = { hop: 3, ext: '731', start: at(0), end: at(0), final: false };
  const first = await tickets.close(c);
  const again = await tickets.close({ ...c, final: true });
  t.equal(first, again);
  t.equal(first.ticket, 1);
  t.match(first.text, /_Caller_anonymous_Called_731$/);
  tickets.open(3);
  t.equal(readdirSync(join(card, 'Ticket')).length, 1);
  t.equal(readFileSync(join(card, 'TicketNR.txt'), 'utf8').trim(), '2', 'a repeated open takes no number');
  t.equal(tickets.closed(9), undefined);
});

t.test('number(hop) gives the number of the hop, taking it only once', async (t) => {
  const card = tempCard(t);
  const log = memoryLogger();
  writeFileSync(join(card, 'TicketNR.txt'), '77');
  const tickets = new CallTickets(new TicketCounter(join(card, 'TicketNR.txt'), log), new TicketLog(join(card, 'Ticket')), log, '0123');
  t.equal(await tickets.number(1), 77, 'opens the hop if needed');
  tickets.open(1);
  t.equal(await tickets.number(1), 77, 'same number again');
  t.equal((await tickets.close({ hop: 1, ext: '731', start: at(0), end: at(1), final: true })).ticket, 77);
  t.equal(readFileSync(join(card, 'TicketNR.txt'), 'utf8').trim(), '78');
});
