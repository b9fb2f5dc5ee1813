import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createProvider, type SmsProvider } from '../../src/notify/sms/provider.js';
import { startKannel, type Kannel } from '../lab/kannel.js';
import { stopAll, until } from '../lab/proc.js';

const TICKET = '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732';
const USER = { username: 'u732', password: 'K4nnel-pw-732' };

let kannel: Kannel;
let provider: SmsProvider;
const log = memoryLogger();
const dirs: string[] = [];

t.before(async () => {
  kannel = await startKannel({ users: [USER] });
  dirs.push(kannel.dir);
  const card = mkdtempSync(join(tmpdir(), 'tl-kcard-'));
  dirs.push(card);
  mkdirSync(join(card, 'KANNEL'));
  writeFileSync(join(card, 'KANNEL', 'URL.txt'), `${kannel.sendsmsUrl}\n`);
  const made = createProvider('KANNEL', card, log);
  if (!made.provider) throw new Error(`KANNEL provider expected: ${JSON.stringify(made.problems)}`);
  provider = made.provider;
});
t.teardown(async () => {
  await kannel?.stop();
  await stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

t.test('a ticket SMS reaches the fake SMSC with the right number and text', async (t) => {
  const r1 = await provider.send({ to: '393471112233', text: TICKET, user: USER.username, password: USER.password });
  t.same(r1, { kind: 'accepted' });
  const spaced = 'Ticket 1235 from 0347 2619287: call back. Thanks_all';
  const r2 = await provider.send({ to: '393479998877', text: spaced, user: USER.username, password: USER.password });
  t.same(r2, { kind: 'accepted' });
  await until(() => kannel.received().length >= 2, 'two messages at fakesmsc');
  t.same(
    kannel.received().map((m) => [m.to, m.text]),
    [
      ['393471112233', TICKET],
      ['393479998877', spaced],
    ],
  );
});

t.test('a wrong password is rejected (403) and the password shows nowhere', async (t) => {
  const before = kannel.received().length;
  const r = await provider.send({ to: '393471112233', text: 'never delivered', user: USER.username, password: 'wrong-Pa55' });
  t.equal(r.kind, 'rejected');
  if (r.kind === 'rejected') {
    t.match(r.reason, /Kannel HTTP 403: Authorization failed/);
    t.notOk(r.reason.includes('wrong-Pa55'));
  }
  t.notOk(log.lines.some((l) => l.includes('wrong-Pa55') || l.includes(USER.password)), 'no password in the log');
  const access = readFileSync(join(kannel.dir, 'access.log'), 'utf8');
  t.equal(access.split('\n').filter((l) => l.includes('Sent SMS')).length, before, 'Kannel sent nothing more');
});

t.test('a missing number is a rejection by Kannel, not a retry', async (t) => {
  const r = await provider.send({ to: '', text: 'x', user: USER.username, password: USER.password });
  t.equal(r.kind, 'rejected');
  if (r.kind === 'rejected') t.match(r.reason, /HTTP 400/);
});

t.test('with the SMSC disconnected Kannel takes the SMS (accepted) and delivers it once the SMSC is back', async (t) => {
  const before = kannel.received().length;
  await kannel.stopSmsc();
  const r = await provider.send({ to: '393475550000', text: TICKET, user: USER.username, password: USER.password });
  t.same(r, { kind: 'accepted' });
  t.match(log.lines.at(-1), /KANNEL: SMS to 393475550000 accepted \((0: Accepted for delivery|3: Queued for later delivery)\)/);
  await kannel.startSmsc();
  await until(() => kannel.received().length > before, 'the held SMS delivered', 30000);
  t.same(kannel.received().slice(before).map((m) => [m.to, m.text]), [['393475550000', TICKET]]);
});

t.test('Kannel down is a retry', async (t) => {
  await kannel.stop();
  const r = await provider.send({ to: '393471112233', text: TICKET, user: USER.username, password: USER.password });
  t.equal(r.kind, 'retry');
  if (r.kind === 'retry') {
    t.match(r.reason, /Kannel not reachable: ECONNREFUSED/);
    t.notOk(r.reason.includes(USER.password));
  }
});
