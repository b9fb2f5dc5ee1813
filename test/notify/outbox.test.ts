import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { Outbox, type Backoff } from '../../src/notify/outbox.js';
import { createProvider, type Sms, type SmsProvider } from '../../src/notify/sms/provider.js';
import { serializeEntry } from '../../src/notify/outbox-file.js';
import { smsChannel } from '../../src/notify/outbox-channel.js';

const SMS = smsChannel(() => undefined);
import { until } from '../lab/proc.js';
import { startGateway, type Gateway } from './http-gateway.js';

const PASSWORD = 'Very$ecret 7';
const BACKOFF: Backoff = { firstMs: 20, maxMs: 80, maxAgeMs: 60_000 };
const ticket = (n: number): string => `12.10.2012_14.00_12.10.2012_14.05_Ticket_${n}_Caller_03472619287_Called_732`;
const sms = (n: number): Sms => ({ to: '39333000111', text: ticket(n), user: 'u731', password: PASSWORD });

let gw: Gateway;
let httpProvider: SmsProvider;
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tl-outbox-'));
  dirs.push(d);
  return d;
}

t.before(async () => {
  gw = await startGateway();
  const card = tempDir();
  mkdirSync(join(card, 'HTTP'));
  writeFileSync(join(card, 'HTTP', 'URL.txt'), `${gw.base}/send?to={number}&text={text}&pw={password}`);
  const made = createProvider('HTTP', card, memoryLogger());
  if (!made.provider) throw new Error('HTTP provider expected');
  httpProvider = made.provider;
});
t.teardown(async () => {
  await gw.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
t.beforeEach(() => {
  gw.seen.length = 0;
  gw.script.length = 0;
  gw.fallback = { status: 200, body: 'OK' };
});

interface Rig {
  outbox: Outbox;
  dir: string;
  log: ReturnType<typeof memoryLogger>;
  events: string[];
  clock: { now: number };
}

function rig(t: Test, dir = join(tempDir(), 'Outbox'), provider: () => SmsProvider | undefined = () => httpProvider): Rig {
  const log = memoryLogger();
  const clock = { now: 1_000_000 };
  const outbox = new Outbox({ dir, provider, logger: log, backoff: BACKOFF, now: () => clock.now });
  const events: string[] = [];
  outbox.on('queued', (id) => events.push(`queued ${id}`));
  outbox.on('sent', (id) => events.push(`sent ${id}`));
  outbox.on('retry', (id, _r, ms) => events.push(`retry ${id} ${ms}`));
  outbox.on('failed', (id) => events.push(`failed ${id}`));
  t.teardown(() => outbox.stop());
  return { outbox, dir, log, events, clock };
}

const texts = (): string[] => gw.seen.map((r) => r.url.searchParams.get('text') ?? '');
const jsonFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.json'));

function noPasswordAnywhere(t: Test, r: Rig): void {
  t.notOk(r.log.lines.some((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD))), 'no password in any log line');
  const names = [...readdirSync(r.dir), ...(existsSync(join(r.dir, 'failed')) ? readdirSync(join(r.dir, 'failed')) : [])];
  t.notOk(names.some((n) => n.includes(PASSWORD)), 'no password in any file name');
}

t.test('three SMS are sent one at a time in order, and the outbox ends empty', async (t) => {
  const r = rig(t);
  await r.outbox.start();
  const ids = [await r.outbox.enqueue(sms(1)), await r.outbox.enqueue(sms(2)), await r.outbox.enqueue(sms(3))];
  t.same(ids, ['0000000001', '0000000002', '0000000003']);
  await until(() => r.events.filter((e) => e.startsWith('sent')).length === 3, 'three sent');
  t.same(texts(), [ticket(1), ticket(2), ticket(3)]);
  t.same(r.events.filter((e) => e.startsWith('sent')), ids.map((i) => `sent ${i}`));
  t.same(jsonFiles(r.dir), []);
  t.same(r.outbox.pending(), []);
  noPasswordAnywhere(t, r);
});

t.test('enqueue resolves only once the SMS is on the card, private (0600), credentials kept for the retry', async (t) => {
  const r = rig(t, undefined, () => undefined); // no provider: stays queued
  await r.outbox.start();
  const id = await r.outbox.enqueue(sms(7));
  const path = join(r.dir, `${id}.json`);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(statSync(r.dir).mode & 0o777, 0o700);
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { sms: Sms };
  t.same(saved.sms, sms(7));
  await until(() => r.events.some((e) => e.startsWith('retry')), 'a retry');
  t.match(r.log.lines.join('\n'), /no usable SMS provider configured/);
});

t.test('try-later answers back off (doubling, capped) and the head blocks the next message', async (t) => {
  const r = rig(t);
  gw.script.push({ status: 503, body: 'busy' }, { status: 429, body: 'slow down' }, { status: 500 }, { status: 502 });
  await r.outbox.start();
  const a = await r.outbox.enqueue(sms(1));
  const b = await r.outbox.enqueue(sms(2));
  await until(() => r.events.filter((e) => e.startsWith('sent')).length === 2, 'both sent');
  t.same(r.events.filter((e) => !e.startsWith('queued')), [`retry ${a} 20`, `retry ${a} 40`, `retry ${a} 80`, `retry ${a} 80`, `sent ${a}`, `sent ${b}`]);
  t.same(texts(), [ticket(1), ticket(1), ticket(1), ticket(1), ticket(1), ticket(2)], 'the second waited for the first');
  t.same(jsonFiles(r.dir), []);
});

t.test('retryNow() tries the waiting head at once, e.g. after the provider was fixed', async (t) => {
  let current: SmsProvider | undefined;
  const r = rig(t, undefined, () => current);
  const slow: Backoff = { firstMs: 3_600_000, maxMs: 3_600_000, maxAgeMs: 7_200_000 };
  const outbox = new Outbox({ dir: r.dir, provider: () => current, logger: r.log, backoff: slow, now: () => r.clock.now });
  t.teardown(() => outbox.stop());
  const seen: string[] = [];
  outbox.on('retry', (id) => seen.push(`retry ${id}`));
  outbox.on('sent', (id) => seen.push(`sent ${id}`));
  await outbox.start();
  const a = await outbox.enqueue(sms(1));
  await until(() => seen.length === 1, 'first try failed');
  current = httpProvider;
  outbox.retryNow();
  await until(() => seen.length === 2, 'sent after retryNow');
  t.same(seen, [`retry ${a}`, `sent ${a}`]);
  t.same(texts(), [ticket(1)]);
});

t.test('a throwing event listener neither stops the queue nor causes a second send', async (t) => {
  const r = rig(t);
  r.outbox.on('sent', () => {
    throw new Error('listener bug');
  });
  await r.outbox.start();
  await r.outbox.enqueue(sms(1));
  await r.outbox.enqueue(sms(2));
  await until(() => r.events.filter((e) => e.startsWith('sent')).length === 2, 'both sent');
  t.same(texts(), [ticket(1), ticket(2)], 'each sent once');
  t.equal(r.log.lines.filter((l) => /listener of "sent" failed: listener bug/.test(l)).length, 2);
});

t.test('a rejection moves the SMS to failed/ at once with its reason; the next one goes on', async (t) => {
  const r = rig(t);
  gw.script.push({ status: 403, body: `bad login for pw=${PASSWORD}` });
  await r.outbox.start();
  const a = await r.outbox.enqueue(sms(1));
  const b = await r.outbox.enqueue(sms(2));
  await until(() => r.events.includes(`sent ${b}`), 'second sent');
  t.same(r.events.filter((e) => !e.startsWith('queued')), [`failed ${a}`, `sent ${b}`]);
  t.ok(existsSync(join(r.dir, 'failed', `${a}.json`)), 'message kept in failed/');
  const reason = readFileSync(join(r.dir, 'failed', `${a}.reason.txt`), 'utf8');
  t.match(reason, /rejected by HTTP: HTTP 403: bad login for pw=\*\*\*/);
  t.notOk(reason.includes(PASSWORD), 'no password in the reason file');
  t.equal(r.log.lines.filter((l) => / ERROR .*moved to failed/.test(l)).length, 1, 'one error line');
  noPasswordAnywhere(t, r);
});

t.test('past the maximum age a message that keeps failing goes to failed/', async (t) => {
  const r = rig(t);
  gw.fallback = { status: 503, body: 'down' };
  await r.outbox.start();
  const a = await r.outbox.enqueue(sms(1));
  await until(() => r.events.filter((e) => e.startsWith('retry')).length >= 2, 'two retries');
  t.same(jsonFiles(r.dir), [`${a}.json`], 'still queued before the max age');
  r.clock.now += BACKOFF.maxAgeMs;
  await until(() => r.events.includes(`failed ${a}`), 'given up');
  t.match(readFileSync(join(r.dir, 'failed', `${a}.reason.txt`), 'utf8'), /gave up after \d+ tries in 1 min: HTTP 503: down/);
  t.same(jsonFiles(r.dir), []);
  gw.fallback = { status: 200, body: 'OK' };
  const b = await r.outbox.enqueue(sms(2));
  await until(() => r.events.includes(`sent ${b}`), 'next sent');
});

t.test('the max age counts from the enqueue time on the card, unless that clock was not set', async (t) => {
  const dir = join(tempDir(), 'Outbox');
  mkdirSync(dir);
  const now = Date.UTC(2026, 10, 25, 12);
  writeFileSync(join(dir, '0000000001.json'), serializeEntry(SMS, { createdAt: now - BACKOFF.maxAgeMs - 1, payload: sms(1) }));
  writeFileSync(join(dir, '0000000002.json'), serializeEntry(SMS, { createdAt: 86_400_000, payload: sms(2) })); // 2 Jan 1970: no RTC
  writeFileSync(join(dir, '0000000003.json'), serializeEntry(SMS, { createdAt: now + 3_600_000, payload: sms(3) })); // clock went back since
  gw.fallback = { status: 503, body: 'down' };
  const r = rig(t, dir);
  r.clock.now = now;
  await r.outbox.start();
  await until(() => r.events.includes('failed 0000000001'), 'the really old one given up');
  t.same(r.events.slice(0, 2), ['failed 0000000001', 'retry 0000000002 20'], 'old one given up at its first try, the next one kept');
  await until(() => r.events.filter((e) => e.startsWith('retry 0000000002')).length >= 2, 'more retries');
  t.notOk(r.events.includes('failed 0000000002'), 'a 1970 time stamp does not count as old');
  r.clock.now += BACKOFF.maxAgeMs;
  await until(() => r.events.includes('failed 0000000002'), 'given up after max age of its own tries');
  await until(() => r.events.some((e) => e.startsWith('retry 0000000003')), 'third tried');
  r.clock.now += BACKOFF.maxAgeMs - 1;
  await until(() => r.events.filter((e) => e.startsWith('retry 0000000003')).length >= 2, 'third retried');
  t.notOk(r.events.includes('failed 0000000003'), 'a time stamp in the future does not count as old either');
});

t.test('start() resumes what an earlier run left, in order, after a corrupt file and a half-written temp file', async (t) => {
  const dir = join(tempDir(), 'Outbox');
  mkdirSync(dir);
  const entry = (n: number): string => serializeEntry(SMS, { createdAt: 999_000, payload: sms(n) });
  writeFileSync(join(dir, '0000000003.json'), entry(3));
  writeFileSync(join(dir, '0000000001.json'), entry(1));
  writeFileSync(join(dir, '0000000002.json'), entry(2).slice(0, 30)); // truncated by a power cut
  writeFileSync(join(dir, '0000000004.json'), '{"v":1,"createdAt":5,"sms":{"to":7}}');
  writeFileSync(join(dir, '.0000000005.json.abcd1234.tmp'), entry(5).slice(0, 10));
  const r = rig(t, dir);
  await r.outbox.start();
  t.notOk(existsSync(join(dir, '.0000000005.json.abcd1234.tmp')), 'temp file of an unfinished enqueue removed');
  await until(() => r.events.filter((e) => /^(sent|failed)/.test(e)).length === 4, 'all four handled');
  t.same(r.events, ['sent 0000000001', 'failed 0000000002', 'sent 0000000003', 'failed 0000000004']);
  t.same(texts(), [ticket(1), ticket(3)]);
  t.match(readFileSync(join(dir, 'failed', '0000000002.reason.txt'), 'utf8'), /corrupt outbox file: not valid JSON/);
  t.match(readFileSync(join(dir, 'failed', '0000000004.reason.txt'), 'utf8'), /corrupt outbox file: no valid sms/);
  t.equal(r.log.lines.filter((l) => /0000000002.*corrupt/.test(l)).length, 1, 'one log line for the corrupt file');
  t.equal(await r.outbox.enqueue(sms(6)), '0000000005', 'numbering continues after the highest seen');
});

t.test('a restart resumes the queue of the previous outbox on the same folder', async (t) => {
  const first = rig(t, undefined, () => undefined);
  await first.outbox.start();
  for (const n of [1, 2, 3]) await first.outbox.enqueue(sms(n));
  await first.outbox.stop();
  t.same(first.outbox.pending(), ['0000000001', '0000000002', '0000000003']);
  const second = rig(t, first.dir);
  await second.outbox.start();
  await until(() => second.events.length === 3, 'three sent');
  t.same(second.events, ['sent 0000000001', 'sent 0000000002', 'sent 0000000003']);
  t.same(texts(), [ticket(1), ticket(2), ticket(3)]);
  t.same(jsonFiles(first.dir), []);
});

t.test('enqueue refuses bad input and use before start, with a clear error', async (t) => {
  const r = rig(t);
  await t.rejects(r.outbox.enqueue(sms(1)), /before start/);
  await r.outbox.start();
  await t.rejects(r.outbox.enqueue({ ...sms(1), to: '+39 333' }), /not 3-20 digits/);
  t.same(jsonFiles(r.dir), []);
});

// A full or read-only card: test/notify/outbox-degraded.test.ts
