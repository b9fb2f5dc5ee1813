import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createProvider } from '../../src/notify/sms/provider.js';
import { createLogProvider, SMS_LOG_FILE } from '../../src/notify/sms/log-provider.js';
import { judgeKannelReply, sendsmsUrl } from '../../src/notify/sms/kannel-provider.js';
import { fillTemplate, judgeHttpReply } from '../../src/notify/sms/http-provider.js';

const TICKET = '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732';

const dirs: string[] = [];
function tempCard(): string {
  const d = mkdtempSync(join(tmpdir(), 'tl-prov-'));
  dirs.push(d);
  return d;
}
t.teardown(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

t.test('LOG appends one line per SMS with time, number and text, never user or password', async (t) => {
  const dir = tempCard();
  const log = memoryLogger();
  const { provider, problems } = createProvider(' log\n', dir, log);
  t.same(problems, []);
  t.equal(provider?.name, 'LOG');
  t.same(await provider?.send({ to: '39333111', text: TICKET, user: 'u731', password: 'Secr3t!' }), { kind: 'accepted' });
  t.same(await provider?.send({ to: '39333222', text: 'two\nlines', password: 'Secr3t!' }), { kind: 'accepted' });
  const lines = readFileSync(join(dir, SMS_LOG_FILE), 'utf8').split('\n');
  t.equal(lines.length, 3, 'two lines and the final newline');
  t.match(lines[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z 39333111 ${TICKET.replace(/\./g, '\\.')}$`));
  t.match(lines[1], /Z 39333222 two lines$/);
  t.notMatch(readFileSync(join(dir, SMS_LOG_FILE), 'utf8'), /Secr3t|u731/);
  t.notOk(log.lines.some((l) => l.includes('Secr3t')));
});

t.test('LOG turns a failed write into a retry', async (t) => {
  const dir = tempCard();
  mkdirSync(join(dir, SMS_LOG_FILE)); // a folder where the file should be: append fails (also as root)
  const p = createLogProvider(dir, memoryLogger());
  const r = await p.send({ to: '39333111', text: 'x' });
  t.equal(r.kind, 'retry');
  if (r.kind === 'retry') t.match(r.reason, /EISDIR/);
});

t.test('CODEMA is accepted as a name, says once it is unsupported, and rejects every SMS', async (t) => {
  const log = memoryLogger();
  const { provider, problems } = createProvider('CODEMA', tempCard(), log);
  t.same(problems, []);
  t.equal(log.lines.filter((l) => /CODEMA is not supported.*HTTP/.test(l)).length, 1, 'one config-time line');
  const r = await provider?.send({ to: '39333', text: 'x' });
  t.equal(r?.kind, 'rejected');
  if (r?.kind === 'rejected') t.match(r.reason, /not supported.*use|HTTP/);
  t.equal(log.lines.length, 1, 'sending logs nothing more: the outbox logs the rejection');
});

t.test('an unknown provider name is a problem of SMSProvider.txt listing the valid names', async (t) => {
  const { provider, problems } = createProvider('SMSGLOBAL', tempCard(), memoryLogger());
  t.equal(provider, undefined);
  t.match(problems, [{ file: 'SMSProvider.txt', message: /unknown SMS provider "SMSGLOBAL".*LOG, HTTP, KANNEL, CODEMA/ }]);
});

t.test('KANNEL needs KANNEL/URL.txt holding an http(s) URL', async (t) => {
  const dir = tempCard();
  let res = createProvider('KANNEL', dir, memoryLogger());
  t.match(res.problems, [{ file: 'KANNEL/URL.txt', message: /missing: should hold Kannel's sendsms URL/ }]);
  mkdirSync(join(dir, 'KANNEL'));
  writeFileSync(join(dir, 'KANNEL', 'URL.txt'), '  \n');
  res = createProvider('KANNEL', dir, memoryLogger());
  t.match(res.problems, [{ file: 'KANNEL/URL.txt', message: /empty/ }]);
  writeFileSync(join(dir, 'KANNEL', 'URL.txt'), 'not a url');
  res = createProvider('KANNEL', dir, memoryLogger());
  t.match(res.problems, [{ file: 'KANNEL/URL.txt', message: /not a valid URL/ }]);
  writeFileSync(join(dir, 'KANNEL', 'URL.txt'), 'http://127.0.0.1:13013/cgi-bin/sendsms\n');
  res = createProvider('KANNEL', dir, memoryLogger());
  t.same(res.problems, []);
  t.equal(res.provider?.name, 'KANNEL');
});

t.test('an unreadable provider file is a problem, not a crash', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async (t) => {
  const dir = tempCard();
  mkdirSync(join(dir, 'HTTP'));
  writeFileSync(join(dir, 'HTTP', 'URL.txt'), 'http://127.0.0.1/');
  chmodSync(join(dir, 'HTTP', 'URL.txt'), 0);
  t.match(createProvider('HTTP', dir, memoryLogger()).problems, [{ file: 'HTTP/URL.txt', message: /cannot read/ }]);
});

t.test('sendsms URL keeps the base query and encodes the SMS fields', async (t) => {
  const u = sendsmsUrl('http://127.0.0.1:13013/cgi-bin/sendsms?smsc=FAKE', { to: '39333', text: 'a b&c', user: 'u', password: 'p&w' });
  t.equal(u.searchParams.get('smsc'), 'FAKE');
  t.equal(u.searchParams.get('text'), 'a b&c');
  t.equal(u.searchParams.get('password'), 'p&w');
  t.notOk(sendsmsUrl('http://h/s', { to: '1', text: 'x' }).searchParams.has('username'), 'no credentials: no parameters');
});

t.test('Kannel answers map to accepted / rejected / retry', async (t) => {
  t.equal(judgeKannelReply({ status: 202, body: '0: Accepted for delivery' }).kind, 'accepted');
  t.equal(judgeKannelReply({ status: 202, body: '3: Queued for later delivery' }).kind, 'accepted');
  const bad = judgeKannelReply({ status: 403, body: 'Authorization failed for sendsms' });
  t.equal(bad.kind, 'rejected');
  if (bad.kind === 'rejected') t.match(bad.reason, /403.*Authorization failed.*SMSPassword\.txt/);
  t.equal(judgeKannelReply({ status: 400, body: 'Missing receiver number, rejected' }).kind, 'rejected');
  t.equal(judgeKannelReply({ status: 503, body: 'Temporal failure, try again later.' }).kind, 'retry');
});

t.test('HTTP judgement and templates are pure functions', async (t) => {
  t.equal(fillTemplate('{number}/{text}/{user}/{password}/{other}', { to: '1', text: 'a b' }, encodeURIComponent), '1/a%20b///{other}');
  t.equal(judgeHttpReply({ status: 201, body: '' }, undefined).kind, 'accepted');
  t.equal(judgeHttpReply({ status: 418, body: 'teapot' }, undefined).kind, 'rejected');
  t.equal(judgeHttpReply({ status: 599, body: '' }, /OK/).kind, 'retry');
});
