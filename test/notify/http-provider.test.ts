import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createProvider, type Sms, type SmsProvider } from '../../src/notify/sms/provider.js';
import { httpGatewayProvider, readHttpConfig } from '../../src/notify/sms/http-provider.js';
import { freePort } from '../lab/ports.js';
import { startGateway, type Gateway } from './http-gateway.js';

const TICKET = '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732';
const PASSWORD = 'p&ss w=rd/ü+%';
const sms: Sms = { to: '393471234567', text: `${TICKET} & more ü`, user: 'tech 731', password: PASSWORD };
const passwordForms = [PASSWORD, encodeURIComponent(PASSWORD), 'p%26ss', 'w%3Drd'];

function card(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-http-'));
  mkdirSync(join(dir, 'HTTP'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, 'HTTP', name), content);
  return dir;
}

function noPassword(t: Test, what: string, texts: string[]): void {
  for (const line of texts) t.notOk(passwordForms.some((p) => line.includes(p)), `${what} holds no form of the password: ${line}`);
}

let gw: Gateway;
const dirs: string[] = [];
t.before(async () => {
  gw = await startGateway();
});
t.teardown(async () => {
  await gw.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function provider(files: Record<string, string>): { p: SmsProvider; log: ReturnType<typeof memoryLogger> } {
  const dir = card(files);
  dirs.push(dir);
  const log = memoryLogger();
  const { provider: p, problems } = createProvider('http', dir, log);
  if (!p) throw new Error(`no provider: ${JSON.stringify(problems)}`);
  return { p, log };
}

t.test('GET: every placeholder is URL-encoded into the query and arrives intact', async (t) => {
  const { p } = provider({ 'URL.txt': `${gw.base}/send?to={number}&msg={text}&u={user}&pw={password}\n` });
  gw.seen.length = 0;
  const r = await p.send(sms);
  t.same(r, { kind: 'accepted' });
  t.equal(gw.seen.length, 1);
  const q = gw.seen[0].url.searchParams;
  t.equal(gw.seen[0].method, 'GET');
  t.equal(q.get('to'), sms.to);
  t.equal(q.get('msg'), sms.text);
  t.equal(q.get('u'), 'tech 731');
  t.equal(q.get('pw'), PASSWORD);
});

t.test('POST: Body.txt makes a form POST with the default content type', async (t) => {
  const { p } = provider({ 'URL.txt': `${gw.base}/api`, 'Body.txt': 'number={number}&message={text}&login={user}&secret={password}' });
  gw.seen.length = 0;
  t.same(await p.send(sms), { kind: 'accepted' });
  const req = gw.seen[0];
  t.equal(req.method, 'POST');
  t.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(req.body);
  t.equal(form.get('number'), sms.to);
  t.equal(form.get('message'), sms.text);
  t.equal(form.get('secret'), PASSWORD);
});

t.test('POST: a JSON content type gets JSON-escaped values', async (t) => {
  const { p } = provider({
    'URL.txt': `${gw.base}/json`,
    'Body.txt': '{"to":"{number}","text":"{text}","user":"{user}","pass":"{password}"}',
    'ContentType.txt': 'application/json',
  });
  gw.seen.length = 0;
  t.same(await p.send({ ...sms, text: 'say "hi"\\ now' }), { kind: 'accepted' });
  t.equal(gw.seen[0].headers['content-type'], 'application/json');
  t.same(JSON.parse(gw.seen[0].body), { to: sms.to, text: 'say "hi"\\ now', user: 'tech 731', pass: PASSWORD });
});

t.test('Success.txt: a 2xx answer must also match the pattern', async (t) => {
  const { p } = provider({ 'URL.txt': `${gw.base}/s?to={number}`, 'Success.txt': '^OK id=\\d+' });
  gw.script.push({ status: 200, body: 'OK id=42' }, { status: 200, body: 'ERROR 17 no credit' });
  t.same(await p.send(sms), { kind: 'accepted' });
  const r = await p.send(sms);
  t.equal(r.kind, 'rejected');
  if (r.kind === 'rejected') t.match(r.reason, /HTTP 200: ERROR 17 no credit/);
});

t.test('each status class maps to accepted / rejected / retry', async (t) => {
  const { p } = provider({ 'URL.txt': `${gw.base}/c?to={number}&pw={password}` });
  const cases: Array<[number, string]> = [
    [200, 'accepted'], [202, 'accepted'], [204, 'accepted'],
    [400, 'rejected'], [401, 'rejected'], [403, 'rejected'], [404, 'rejected'], [301, 'rejected'],
    [408, 'retry'], [429, 'retry'], [500, 'retry'], [502, 'retry'], [503, 'retry'],
  ];
  for (const [status, kind] of cases) {
    gw.script.push({ status, body: `status ${status} for request with pw=${PASSWORD}` });
    const r = await p.send(sms);
    t.equal(r.kind, kind, `HTTP ${status} -> ${kind}`);
    if (r.kind !== 'accepted') {
      t.match(r.reason, new RegExp(`HTTP ${status}: status ${status}`), 'reason names status and body');
      noPassword(t, `reason for ${status}`, [r.reason]);
    }
  }
});

t.test('a gateway that never answers is a retry after the bounded timeout', async (t) => {
  const dir = card({ 'URL.txt': `${gw.base}/slow?pw={password}` });
  dirs.push(dir);
  const { config } = readHttpConfig(dir);
  if (!config) throw new Error('config expected');
  const log = memoryLogger();
  const p = httpGatewayProvider({ ...config, timeoutMs: 300 }, log);
  gw.script.push('hang');
  const r = await p.send(sms);
  t.equal(r.kind, 'retry');
  if (r.kind === 'retry') t.match(r.reason, /within 300 ms/);
});

t.test('nothing listening is a retry, and the password is in no reason or log line', async (t) => {
  const port = await freePort();
  const { p, log } = provider({ 'URL.txt': `http://127.0.0.1:${port}/x?pw={password}` });
  const r = await p.send(sms);
  t.equal(r.kind, 'retry');
  if (r.kind === 'retry') {
    t.match(r.reason, /ECONNREFUSED/);
    noPassword(t, 'reason', [r.reason]);
  }
  noPassword(t, 'log', log.lines);
});

t.test('card problems name the file and what it should hold', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'tl-http-'));
  dirs.push(empty);
  let res = createProvider('HTTP', empty, memoryLogger());
  t.equal(res.provider, undefined);
  t.match(res.problems, [{ file: 'HTTP/URL.txt', message: /missing: should hold the gateway URL/ }]);

  const bad = card({ 'URL.txt': 'ftp://gw/{number}', 'Success.txt': '([' });
  dirs.push(bad);
  res = createProvider('HTTP', bad, memoryLogger());
  t.equal(res.provider, undefined);
  t.match(res.problems, [
    { file: 'HTTP/Success.txt', message: /not a valid regular expression/ },
    { file: 'HTTP/URL.txt', message: /unsupported scheme ftp:/ },
  ]);
});

t.test('https is spoken, and an untrusted certificate is a retry, never sent in clear', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-tls-'));
  dirs.push(dir);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
  let hits = 0;
  const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    hits++;
    res.end('OK');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { p, log } = provider({ 'URL.txt': `https://127.0.0.1:${port}/send?to={number}&pw={password}` });
  const r = await p.send(sms);
  t.equal(r.kind, 'retry');
  if (r.kind === 'retry') t.match(r.reason, /self[- ]signed certificate/i);
  t.equal(hits, 0, 'no request reached the server over an unverified connection');
  noPassword(t, 'log', log.lines);
});
