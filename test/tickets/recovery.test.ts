import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, statSync, mkdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallTickets } from '../../src/tickets/call-tickets.js';
import { TicketCounter } from '../../src/tickets/counter.js';
import { TicketLog } from '../../src/tickets/ticket-log.js';
import { isRecordingOf, recordingMtime, recoverOpenTickets } from '../../src/tickets/recovery.js';
import { memoryLogger, type Logger } from '../../src/util/log.js';

const at = (min: number, sec = 0): Date => new Date(2012, 9, 12, 14, min, sec);

function card(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'recovery-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ticketDir = join(dir, 'Ticket');
  const recordingDir = join(dir, 'REC');
  mkdirSync(recordingDir);
  const counterPath = join(dir, 'TicketNR.txt');
  writeFileSync(counterPath, '1234\n');
  return { dir, ticketDir, recordingDir, counterPath };
}

/** A box that died mid-call: the hops' numbers were taken and journaled, nothing closed. */
async function diedDuring(c: ReturnType<typeof card>, caller: string, hops: Array<[string, Date]>, log: Logger): Promise<void> {
  const tickets = new CallTickets(new TicketCounter(c.counterPath, log), new TicketLog(c.ticketDir), log, caller);
  hops.forEach(([ext, start], i) => tickets.open(i + 1, ext, start));
  await tickets.settled();
}

function recover(c: ReturnType<typeof card>, log: Logger) {
  const notified: string[] = [];
  const done = recoverOpenTickets({
    ticketDir: c.ticketDir,
    log: new TicketLog(c.ticketDir),
    counter: new TicketCounter(c.counterPath, log),
    lastAlive: recordingMtime(c.recordingDir),
    notify: (ext, caller, text) => notified.push(`${ext} ${caller} ${text}`),
    logger: log,
  }).then((r) => r.closed);
  return { done, notified };
}

t.test('open hops of two calls are closed at the next start: last hop _END and notified, end = the recording\'s last write', async (t) => {
  const c = card(t);
  const log = memoryLogger();
  await diedDuring(c, '03472619287', [['732', at(0)], ['731', at(0, 20)]], log);
  await diedDuring(c, '0555', [['733', at(1)]], log);
  t.same(readdirSync(c.ticketDir).sort(), ['Open_Ticket_1234.jnl', 'Open_Ticket_1235.jnl', 'Open_Ticket_1236.jnl']);
  // the first call's recording was last written at 14:03:10, the second call has none
  const rec = join(c.recordingDir, '2012-10-12_14.00.00_Ticket_1234_Caller_03472619287.pcap');
  writeFileSync(rec, 'x');
  utimesSync(rec, at(3, 10), at(3, 10));
  for (const n of readdirSync(c.ticketDir)) utimesSync(join(c.ticketDir, n), at(1, 30), at(1, 30));

  const r = recover(c, log);
  const out = await r.done;
  t.same(readdirSync(c.ticketDir).sort(), [
    '12.10.2012_14.00_12.10.2012_14.03_Ticket_1234_Caller_03472619287_Called_732_1.txt',
    '12.10.2012_14.00_12.10.2012_14.03_Ticket_1235_Caller_03472619287_Called_731_END_1.txt',
    '12.10.2012_14.01_12.10.2012_14.01_Ticket_1236_Caller_0555_Called_733_END_1.txt',
  ]);
  for (const n of readdirSync(c.ticketDir)) t.equal(statSync(join(c.ticketDir, n)).size, 0);
  t.same(r.notified.sort(), [
    '731 03472619287 12.10.2012_14.00_12.10.2012_14.03_Ticket_1235_Caller_03472619287_Called_731',
    '733 0555 12.10.2012_14.01_12.10.2012_14.01_Ticket_1236_Caller_0555_Called_733',
  ], 'only each call\'s last hop, with the IM/SMS text');
  t.same(out.map((o) => [o.ticket, o.final]), [[1234, false], [1235, true], [1236, true]]);
  t.match(log.lines.join('\n'), /ticket 1235 \(hop 2 to 731\) was open at the last stop: closed as 12\.10\.2012_14\.03 \(last sign of life: its recording\)/);
  t.match(log.lines.join('\n'), /ticket 1236 .* \(last sign of life: its journal\)/);
  t.equal(readFileSync(c.counterPath, 'utf8').trim(), '1237', 'the counter was already past them');

  // a second start finds nothing to do
  const again = recover(c, memoryLogger());
  t.same(await again.done, []);
  t.same(again.notified, []);
});

t.test('a death between the journal and the counter write: the number is not given twice', async (t) => {
  const c = card(t);
  const log = memoryLogger();
  await diedDuring(c, '0555', [['733', at(1)]], log);
  writeFileSync(c.counterPath, '1234\n'); // as if the counter write never happened
  await recover(c, log).done;
  t.equal(readFileSync(c.counterPath, 'utf8').trim(), '1235');
  t.match(log.lines.join('\n'), /1234 is below a number already given .*: moved to 1235/);
  const next = await new TicketCounter(c.counterPath, log).take();
  t.equal(next, 1235);
});

t.test('a journal that cannot be read is still closed under its number, nobody notified', async (t) => {
  const c = card(t);
  mkdirSync(c.ticketDir);
  writeFileSync(join(c.ticketDir, 'Open_Ticket_77.jnl'), 'garbage');
  const log = memoryLogger();
  const r = recover(c, log);
  const out = await r.done;
  t.equal(out.length, 1);
  t.match(readdirSync(c.ticketDir), [/_Ticket_77_Caller_anonymous_Called_anonymous_1\.txt$/]);
  t.same(r.notified, []);
  t.match(log.lines.join('\n'), /ERROR ticket 77: journal .*Open_Ticket_77\.jnl cannot be read \(its first line is not/);
});

t.test('no Ticket folder, or no journal in it: nothing to do, nothing written', async (t) => {
  const c = card(t);
  const log = memoryLogger();
  t.same(await recover(c, log).done, []);
  mkdirSync(c.ticketDir);
  writeFileSync(join(c.ticketDir, '12.10.2012_14.00_12.10.2012_14.00_Ticket_1_Caller_1_Called_2_1.txt'), '');
  t.same(await recover(c, log).done, []);
  t.same(log.lines, []);
  t.equal(readFileSync(c.counterPath, 'utf8'), '1234\n');
});

t.test('which recording belongs to an open hop (names of record/recording-name.ts)', async (t) => {
  const hop1 = { ticket: 1234, call: 'a', hop: 1, start: at(0, 7), caller: '0347*1', called: '732', first: 1234, tickets: [1234] };
  const hop2 = { ...hop1, ticket: 1235, hop: 2, start: at(0, 27), first: 1234, tickets: [1234, 1235] };
  const cases: Array<[string, typeof hop1, boolean]> = [
    ['2012-10-12_14.00.07_Ticket_1234_Caller_0347x1.pcap', hop1, true],
    ['2012-10-12_14.00.07_Ticket_1234_Caller_0347x1.pcap', hop2, true],
    ['2012-10-12_14.00.07_Ticket_1234_1235_Caller_0347x1.pcap', hop2, true],
    ['2012-10-12_14.00.07_Ticket_12345_Caller_0347x1.pcap', hop1, false],
    ['2012-10-12_14.00.07_Ticket_1_1234_9_Caller_0347x1.pcap', hop1, true],
    ['2012-10-12_14.00.07_Caller_0347x1.pcap', hop1, true],
    ['2012-10-12_14.00.08_Caller_0347x1.pcap', hop1, false],
    ['2012-10-12_14.00.07_Caller_0347x2.pcap', hop1, false],
    ['2012-10-12_14.00.07_Caller_0347x1.pcap', hop2, false],
    ['2012-10-12_14.00.07_Ticket_1234_Caller_0347x1.pcap.part', hop1, false],
  ];
  for (const [name, j, want] of cases) t.equal(isRecordingOf(name, j), want, `${name} for hop ${j.hop}`);
});
