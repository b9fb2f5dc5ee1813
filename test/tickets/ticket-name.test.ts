import t from 'tap';
import { ticketText, ticketFileName, sanitizeNumber, parseTicketFileName, formatStamp, MAX_NUMBER_LENGTH } from '../../src/tickets/ticket-name.js';

// Dates are built from local-time fields, so the expected text holds whatever
// the machine's time zone is; the TZ test below proves local time is used.
const start = new Date(2012, 9, 12, 14, 0, 59);
const end = new Date(2012, 9, 12, 14, 5, 1);

t.test('the ticket text is exactly the seed example', async (t) => {
  t.equal(
    ticketText({ start, end, ticket: 1234, caller: '03472619287', called: '732' }),
    '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732',
  );
});

t.test('the log file names are the seed example plus serial', async (t) => {
  const a = ticketText({ start: new Date(2012, 9, 12, 14, 0), end: new Date(2012, 9, 12, 14, 0, 40), ticket: 1234, caller: '03472619287', called: '732' });
  const b = ticketText({ start: new Date(2012, 9, 12, 14, 0, 40), end: new Date(2012, 9, 12, 14, 2), ticket: 1235, caller: '03472619287', called: '731' });
  t.equal(ticketFileName(a, { final: false, serial: 1 }), '12.10.2012_14.00_12.10.2012_14.00_Ticket_1234_Caller_03472619287_Called_732_1.txt');
  t.equal(ticketFileName(b, { final: true, serial: 1 }), '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_1.txt');
  t.equal(ticketFileName(b, { final: true, serial: 12 }), '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_12.txt');
  t.throws(() => ticketFileName(a, { final: false, serial: 0 }), RangeError);
  t.throws(() => ticketText({ start, end, ticket: -1, caller: '1', called: '2' }), RangeError);
});

t.test('fields are zero-padded: single-digit days, months, hours, minutes', async (t) => {
  t.equal(formatStamp(new Date(2026, 0, 2, 3, 4)), '02.01.2026_03.04');
  t.equal(formatStamp(new Date(1999, 11, 31, 23, 59, 59, 999)), '31.12.1999_23.59');
});

t.test('the stamp is local time: the same instant reads differently per time zone', async (t) => {
  const saved = process.env.TZ;
  t.teardown(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  const instant = new Date(Date.UTC(2012, 9, 12, 12, 0)); // 12:00 UTC, CEST = UTC+2
  process.env.TZ = 'Europe/Rome';
  t.equal(formatStamp(instant), '12.10.2012_14.00');
  process.env.TZ = 'UTC';
  t.equal(formatStamp(instant), '12.10.2012_12.00');
  process.env.TZ = 'America/New_York';
  t.equal(formatStamp(instant), '12.10.2012_08.00');
});

t.test('sanitizeNumber keeps only digits + * # and bounds the length', async (t) => {
  const cases: Array<[string | undefined | null, string]> = [
    ['03472619287', '03472619287'],
    ['+39 347 261-92-87', '+393472619287'],
    ['*21*731', '*21*731'],
    ['#21', '#21'],
    ['../../etc/passwd', 'anonymous'],
    ['../12/34', '1234'],
    ['1/2\\3', '123'],
    ['"; rm -rf / ;"', 'anonymous'],
    ["0'12\"34`", '01234'],
    ['12\u000034\r\n56', '123456'],
    ['٣٤٥١２３', 'anonymous'], // Arabic-Indic and full-width digits are not ASCII digits
    ['4\u0301 5', '45'],
    ['sip:alice@example.com', 'anonymous'],
    ['', 'anonymous'],
    ['   ', 'anonymous'],
    [undefined, 'anonymous'],
    [null, 'anonymous'],
    ['1'.repeat(10_000), '1'.repeat(MAX_NUMBER_LENGTH)],
  ];
  for (const [raw, want] of cases) t.equal(sanitizeNumber(raw), want, JSON.stringify(raw)?.slice(0, 40) ?? String(raw));
});

t.test('an untrusted caller cannot leave the Ticket folder or break the name', async (t) => {
  const text = ticketText({ start, end, ticket: 7, caller: '../../../x/"; 0800 /1', called: '732' });
  const name = ticketFileName(text, { final: true, serial: 1 });
  t.notOk(name.includes('/'));
  t.notOk(name.includes('..'));
  t.match(name, /^[0-9A-Za-z._+#]+$/);
  t.equal(name, '12.10.2012_14.00_12.10.2012_14.05_Ticket_7_Caller_08001_Called_732_END_1.txt');
});

t.test('a star is written as x in the file name (FAT refuses *) and parsed back', async (t) => {
  const text = ticketText({ start, end, ticket: 9, caller: '*31#0123', called: '731' });
  t.equal(text, '12.10.2012_14.00_12.10.2012_14.05_Ticket_9_Caller_*31#0123_Called_731');
  const name = ticketFileName(text, { final: false, serial: 2 });
  t.equal(name, '12.10.2012_14.00_12.10.2012_14.05_Ticket_9_Caller_x31#0123_Called_731_2.txt');
  const p = parseTicketFileName(name);
  t.ok(p);
  t.equal(p?.caller, '*31#0123');
  t.equal(p?.text, text);
});

t.test('parseTicketFileName reads back every field', async (t) => {
  const name = '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_3.txt';
  const p = parseTicketFileName(name);
  t.ok(p);
  if (!p) return;
  t.equal(p.ticket, 1235);
  t.equal(p.caller, '03472619287');
  t.equal(p.called, '731');
  t.equal(p.final, true);
  t.equal(p.serial, 3);
  t.equal(p.start.getTime(), new Date(2012, 9, 12, 14, 0).getTime());
  t.equal(p.end.getTime(), new Date(2012, 9, 12, 14, 2).getTime());
  t.equal(p.text, '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731');
  t.equal(ticketFileName(p.text, p), name, 'round trip');
  const anon = parseTicketFileName('01.01.2020_00.00_01.01.2020_00.01_Ticket_1_Caller_anonymous_Called_732_1.txt');
  t.equal(anon?.caller, 'anonymous');
  t.equal(anon?.final, false);
});

t.test('parseTicketFileName refuses what is not a ticket file', async (t) => {
  for (const bad of [
    '',
    'README.txt',
    '.TicketNR.txt.abcd.tmp',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_0.txt',
    '31.02.2012_14.00_12.10.2012_14.02_Ticket_1_Caller_1_Called_731_1.txt',
    '12.10.2012_25.00_12.10.2012_14.02_Ticket_1_Caller_1_Called_731_1.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1_Caller_a/b_Called_731_1.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_x_Caller_1_Called_731_1.txt',
    '12.10.2012_14.00_12.10.2012_14.02_Ticket_1_Caller_1_Called_731_1.txt.bak',
  ]) t.equal(parseTicketFileName(bad), null, bad || '(empty)');
});
