import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { TicketLog, MAX_SERIAL } from '../../src/tickets/ticket-log.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';

function tempCard(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ticketlog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hop = {
  start: new Date(2012, 9, 12, 14, 0, 5),
  end: new Date(2012, 9, 12, 14, 2, 30),
  ticket: 1235,
  caller: '03472619287',
  called: '731',
};

t.test('the Ticket folder is created and holds one zero-length file per write', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  const a = await log.write({ ...hop, ticket: 1234, called: '732', end: new Date(2012, 9, 12, 14, 0, 5), final: false });
  const b = await log.write({ ...hop, final: true });
  t.equal(basename(a), '12.10.2012_14.00_12.10.2012_14.00_Ticket_1234_Caller_03472619287_Called_732_1.txt');
  t.equal(basename(b), '12.10.2012_14.00_12.10.2012_14.02_Ticket_1235_Caller_03472619287_Called_731_END_1.txt');
  t.equal(statSync(a).size, 0);
  t.equal(statSync(b).size, 0);
  t.same(readdirSync(dir).sort(), [basename(a), basename(b)].sort());
});

t.test('equal names in the same minute get serials 1, 2, 3', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  const paths = [];
  for (let i = 0; i < 3; i++) paths.push(await log.write({ ...hop, final: true }));
  t.same(paths.map((p) => parseTicketFileName(basename(p))?.serial), [1, 2, 3]);
});

t.test('concurrent writes of the same name never share a file', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  const paths = await Promise.all(Array.from({ length: 20 }, () => log.write({ ...hop, final: false })));
  t.equal(new Set(paths).size, 20);
  t.equal(readdirSync(dir).length, 20);
});

t.test('files left by an earlier run (another process) are skipped, not overwritten', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const first = await new TicketLog(dir).write({ ...hop, final: false });
  writeFileSync(join(dir, basename(first).replace('_1.txt', '_2.txt')), '');
  // A fresh TicketLog knows nothing: it must find 3 by exclusive create alone.
  const third = await new TicketLog(dir).write({ ...hop, final: false });
  t.equal(parseTicketFileName(basename(third))?.serial, 3);
});

t.test('the END and non-END names count serials separately', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  t.match(basename(await log.write({ ...hop, final: false })), /_731_1\.txt$/);
  t.match(basename(await log.write({ ...hop, final: true })), /_731_END_1\.txt$/);
});

t.test('an untrusted caller number cannot escape the Ticket folder', async (t) => {
  const card = tempCard(t);
  const dir = join(card, 'Ticket');
  const p = await new TicketLog(dir).write({ ...hop, caller: '../../../../tmp/evil"\n0', final: true });
  t.equal(join(dir, basename(p)), p);
  t.same(readdirSync(card), ['Ticket']);
  t.match(basename(p), /_Caller_0_Called_731_END_1\.txt$/);
});

t.test('the serial search is bounded', async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  const first = basename(await log.write({ ...hop, final: false }));
  for (let s = 2; s <= MAX_SERIAL; s++) writeFileSync(join(dir, first.replace('_1.txt', `_${s}.txt`)), '');
  await t.rejects(log.write({ ...hop, final: false }), /serials 1\.\.1000 .* are all taken/);
});

t.test('a Ticket folder that cannot be made is a clear rejection, nothing half-made', async (t) => {
  const card = tempCard(t);
  writeFileSync(join(card, 'Ticket'), 'a file where the folder should be');
  const log = new TicketLog(join(card, 'Ticket'));
  await t.rejects(log.write({ ...hop, final: true }), /ticket log: cannot create folder .*Ticket: E/);
  t.same(readdirSync(card), ['Ticket']);
  // The next write retries the folder: once the card is fixed, it works.
  rmSync(join(card, 'Ticket'));
  t.match(basename(await log.write({ ...hop, final: true })), /_END_1\.txt$/);
});

t.test('a read-only Ticket folder rejects the write', { skip: process.getuid?.() === 0 ? 'root ignores folder permissions' : false }, async (t) => {
  const dir = join(tempCard(t), 'Ticket');
  const log = new TicketLog(dir);
  await log.write({ ...hop, final: false });
  chmodSync(dir, 0o555);
  t.teardown(() => chmodSync(dir, 0o755));
  await t.rejects(log.write({ ...hop, final: true }), /ticket log: cannot create .*EACCES/);
});
