import t from 'tap';
import { journalName, journalText, parseJournal, parseJournalName, type OpenHop } from '../../src/tickets/journal.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';

const hop: OpenHop = {
  ticket: 1235,
  call: '9f3c0a1e',
  hop: 2,
  start: new Date(Date.UTC(2012, 9, 12, 12, 0, 20, 123)),
  caller: '03472619287',
  called: '731',
  first: 1234,
  tickets: [1234, 1235],
};

t.test('a journal round-trips through its text', async (t) => {
  t.same(parseJournal(journalText(hop)), hop);
  t.same(parseJournal(journalText({ ...hop, called: '' })), { ...hop, called: '' }, 'an extension not known yet');
  t.same(parseJournal(journalText(hop).replace(/\n/g, '\r\n')), hop, 'edited on Windows');
});

t.test('untrusted numbers are sanitized in the journal', async (t) => {
  const j = parseJournal(journalText({ ...hop, caller: '+49 "x"/../1*2', call: 'a/b\nc' }));
  t.not(typeof j, 'string');
  if (typeof j !== 'string') {
    t.equal(j.caller, '+491*2');
    t.equal(j.call, 'abc');
  }
});

for (const [name, text, why] of [
  ['empty', '', /empty/],
  ['another file', 'hello\n', /first line/],
  ['no ticket', 'ticketline open hop 1\nhop=1\nstart=2012-10-12T12:00:00Z\n', /ticket, hop or start/],
  ['bad start', 'ticketline open hop 1\nticket=3\nhop=1\nstart=yesterday\n', /ticket, hop or start/],
] as const) {
  t.test(`a journal that is ${name} is refused with a reason`, async (t) => {
    const r = parseJournal(text);
    t.equal(typeof r, 'string');
    t.match(r as string, why);
  });
}

t.test('journal names: legal on FAT, never taken for a closed ticket', async (t) => {
  t.equal(journalName(1235), 'Open_Ticket_1235.jnl');
  t.notMatch(journalName(1235), /[*?:"<>|\\/]/);
  t.equal(parseTicketFileName(journalName(1235)), null, 'ticket-name.ts does not parse it');
  t.notMatch(journalName(1235), /\.txt$/i);
  t.equal(parseJournalName('Open_Ticket_1235.jnl'), 1235);
  for (const n of ['Open_Ticket_0.jnl', 'Open_Ticket_.jnl', 'Open_Ticket_12.txt', '.Open_Ticket_12.jnl.ab12.tmp', '12.10.2012_14.00_12.10.2012_14.00_Ticket_1_Caller_1_Called_2_1.txt']) {
    t.equal(parseJournalName(n), null, n);
  }
  t.throws(() => journalName(0), RangeError);
});
