/**
 * The outbox on a card that cannot be written (issue 15): a full or
 * read-only card keeps notifications in memory (bounded), sends them from
 * there, writes them once the card can take them again, and never sends one
 * twice. Real tmpfs mounts (the box runs the tests as root); and the IM
 * channel: sent at once, journaled in parallel, retried or failed by status.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeEntry } from '../../src/notify/outbox-file.js';
import { smsChannel } from '../../src/notify/outbox-channel.js';
import { memoryLogger } from '../../src/util/log.js';
import { Outbox, type Backoff } from '../../src/notify/outbox.js';
import { imChannel, imResult, type Im } from '../../src/notify/outbox-channel.js';
import { createLogProvider } from '../../src/notify/sms/log-provider.js';
import type { Sms, SmsProvider } from '../../src/notify/sms/provider.js';
import { until } from '../lab/proc.js';

const BACKOFF: Backoff = { firstMs: 20, maxMs: 80, maxAgeMs: 60_000 };
const PASSWORD = 'Deg-pw 9';
const sms = (n: number): Sms => ({ to: '39333000111', text: `Ticket_${n}_Caller_0347_Called_732`, user: 'u', password: PASSWORD });
const asRoot = process.getuid?.() === 0;
const root = { skip: asRoot ? false : 'needs root to mount a small tmpfs' };

function tmpfs(t: Test, size = '256k'): string {
  const mnt = mkdtempSync(join(tmpdir(), 'tl-deg-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', mnt]);
  t.teardown(() => {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  return mnt;
}
const remount = (mnt: string, mode: 'ro' | 'rw'): void => void execFileSync('mount', ['-o', `remount,${mode}`, mnt]);
const jsonFiles = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : []);
/** Fill the file system at `mnt` with one file; returns its path (remove it to free the space). */
function fill(mnt: string): string {
  const path = join(mnt, 'filler.bin');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd ends with "No space left on device": that is the point
  }
  return path;
}

function smsRig(t: Test, dir: string, provider: () => SmsProvider | undefined, maxKept?: number) {
  const log = memoryLogger();
  const outbox = new Outbox({ dir, provider, logger: log, backoff: BACKOFF, cardRetryMs: 50, maxKept });
  const sent: string[] = [];
  outbox.on('sent', (id) => sent.push(id));
  t.teardown(() => outbox.stop());
  return { outbox, log, sent };
}

t.test('a full card keeps the SMS in memory, one error line, and writes it once space is freed', root, async (t) => {
  const mnt = tmpfs(t);
  const dir = join(mnt, 'Outbox');
  const r = smsRig(t, dir, () => undefined); // no provider: the SMS stays waiting
  await r.outbox.start();
  const filler = fill(mnt);
  const ids = [await r.outbox.enqueue(sms(1)), await r.outbox.enqueue(sms(2))];
  t.same(r.outbox.pending(), ids, 'both waiting');
  t.equal(r.outbox.keptInMemory(), 2);
  t.same(jsonFiles(dir), [], 'nothing on the card');
  t.same(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
  const errors = (): string[] => r.log.lines.filter((l) => / ERROR /.test(l));
  await new Promise((res) => setTimeout(res, 300)); // several card ticks fail meanwhile
  t.equal(errors().length, 1, 'one error line, not one per retry');
  t.match(errors()[0], /card not writable, SMS kept in memory .*ENOSPC/);
  t.notOk(r.log.lines.some((l) => l.includes(PASSWORD)), 'no password in the log');

  unlinkSync(filler);
  await until(() => jsonFiles(dir).length === 2, 'both SMS written to the card', 5000);
  t.same(jsonFiles(dir), ids.map((id) => `${id}.json`), 'under the same ids, so they are never sent twice');
  t.equal(r.outbox.keptInMemory(), 0);
  t.match(r.log.lines.join('\n'), /card writable again/);
});

t.test('read-only card at start: no Outbox/ yet, start() still works, the SMS goes to SMS.log once the card is writable', root, async (t) => {
  const mnt = tmpfs(t);
  remount(mnt, 'ro');
  const dir = join(mnt, 'Outbox');
  const r = smsRig(t, dir, () => provider);
  const provider = createLogProvider(mnt, memoryLogger());
  await r.outbox.start(); // must not throw
  t.match(r.log.lines.join('\n'), /card not writable, SMS kept in memory .*cannot open .*Outbox/);
  const id = await r.outbox.enqueue(sms(1));
  await until(() => r.log.lines.some((l) => l.includes(`${id}: SMS to 39333000111 not sent`)), 'a try that failed (SMS.log is on the card too)');
  remount(mnt, 'rw');
  await until(() => r.sent.length === 1, 'the SMS sent once the card can be written', 10_000);
  await until(() => r.outbox.keptInMemory() === 0 && r.outbox.pending().length === 0, 'nothing waiting');
  const lines = readFileSync(join(mnt, 'SMS.log'), 'utf8').trim().split('\n');
  t.equal(lines.length, 1, 'exactly one SMS');
  t.match(lines[0], /39333000111 Ticket_1_Caller_0347_Called_732$/);
  await new Promise((res) => setTimeout(res, 200));
  t.same(jsonFiles(dir), [], 'the Outbox is empty: the sent SMS is not left to be sent again after a restart');
});

t.test('an SMS sent from memory before the card came back is not written to the card afterwards', root, async (t) => {
  const mnt = tmpfs(t);
  const dir = join(mnt, 'Outbox');
  mkdirSync(dir);
  const got: Sms[] = [];
  const r = smsRig(t, dir, () => ({ name: 'MEM', send: async (s) => (got.push(s), { kind: 'accepted' as const }) }));
  await r.outbox.start();
  remount(mnt, 'ro');
  await r.outbox.enqueue(sms(1));
  await until(() => r.sent.length === 1, 'sent from memory');
  remount(mnt, 'rw');
  await new Promise((res) => setTimeout(res, 300)); // several card ticks
  t.equal(got.length, 1);
  t.same(jsonFiles(dir), [], 'nothing written that would be resent after a restart');
  t.equal(r.outbox.keptInMemory(), 0);
});

t.test('memory is bounded: past maxKept an SMS is refused with a clear error', root, async (t) => {
  const mnt = tmpfs(t);
  const dir = join(mnt, 'Outbox');
  const r = smsRig(t, dir, () => undefined, 3);
  await r.outbox.start();
  remount(mnt, 'ro');
  for (let i = 1; i <= 3; i++) await r.outbox.enqueue(sms(i));
  await t.rejects(r.outbox.enqueue(sms(4)), /not queued: the card cannot be written and 3 SMS are already kept in memory \(the limit\)/);
  t.equal(r.outbox.pending().length, 3);
  remount(mnt, 'rw');
  await until(() => jsonFiles(dir).length === 3, 'the three kept written');
});

t.test('a stop while messages are only in memory says which ones are lost', root, async (t) => {
  const mnt = tmpfs(t);
  const r = smsRig(t, join(mnt, 'Outbox'), () => undefined);
  await r.outbox.start();
  remount(mnt, 'ro');
  const id = await r.outbox.enqueue(sms(1));
  await r.outbox.stop();
  t.match(r.log.lines.join('\n'), new RegExp(`1 SMS kept in memory never reached the card, lost with this stop: ${id}`));
  remount(mnt, 'rw');
});

t.test('an Outbox that cannot be listed at start: kept messages never take the name of one on the card, which is adopted once it can be read', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'tl-deg-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'Outbox');
  writeFileSync(dir, 'not a folder'); // readdir: ENOTDIR
  const texts: string[] = [];
  const r = smsRig(t, dir, () => ({ name: 'MEM', send: async (s) => (texts.push(s.text), { kind: 'accepted' as const }) }));
  await r.outbox.start();
  const id = await r.outbox.enqueue(sms(2));
  t.equal(id, '9000000001', 'numbered above any name a normal run reaches');
  await until(() => r.sent.length === 1, 'sent from memory');
  t.equal(await r.outbox.enqueue(sms(3)), '9000000002');
  rmSync(dir);
  mkdirSync(dir);
  writeFileSync(join(dir, '0000000005.json'), serializeEntry(smsChannel(() => undefined), { createdAt: Date.now(), payload: sms(1) }));
  await until(() => r.sent.length === 3, 'the SMS found on the card adopted and sent');
  t.same(texts, [sms(2).text, sms(3).text, sms(1).text], 'each once');
  await until(() => jsonFiles(dir).length === 0, 'nothing left on the card');
});

t.test('IM status table: 2xx done; 408, 480, 486, 5xx retry; 404 and the rest final', async (t) => {
  const table: Array<[number, string]> = [
    [200, 'accepted'], [202, 'accepted'], [408, 'retry'], [480, 'retry'], [486, 'retry'], [500, 'retry'], [503, 'retry'],
    [404, 'rejected'], [403, 'rejected'], [415, 'rejected'], [603, 'rejected'], [302, 'rejected'],
  ];
  for (const [status, kind] of table) t.equal(imResult(status).kind, kind, `${status} -> ${kind}`);
});

function imRig(t: Test, dir: string, answer: (im: Im) => Promise<number>) {
  const log = memoryLogger();
  const tried: Im[] = [];
  const outbox = new Outbox<Im>({
    dir,
    channel: imChannel((ext, from, text) => (tried.push({ ext, from, text }), answer({ ext, from, text }))),
    logger: log,
    backoff: BACKOFF,
    sendAtOnce: true,
    cardRetryMs: 50,
  });
  const events: string[] = [];
  for (const e of ['sent', 'retry', 'failed'] as const) outbox.on(e, (id: string) => events.push(`${e} ${id}`));
  t.teardown(() => outbox.stop());
  return { outbox, log, tried, events };
}
const im: Im = { ext: '732', from: '03472619287', text: 'Ticket_7_Caller_03472619287_Called_732' };

t.test('an IM is sent at once, in parallel with its card write; its file is removed on 2xx', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tl-im-')), 'IM');
  t.teardown(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  let answer!: (s: number) => void;
  const r = imRig(t, dir, () => new Promise((res) => (answer = res)));
  await r.outbox.start();
  const queued = r.outbox.enqueue(im);
  t.equal(r.tried.length, 1, 'the MESSAGE went out before the card write finished');
  await until(() => jsonFiles(dir).length === 1, 'journaled while no 2xx came');
  t.match(JSON.parse(readFileSync(join(dir, jsonFiles(dir)[0]), 'utf8')), { v: 1, im });
  answer(200);
  const id = await queued;
  t.same(r.events, [`sent ${id}`]);
  t.same(jsonFiles(dir), [], 'journal entry removed on 2xx');
});

t.test('an IM the PBX answers 480 or not at all is retried with backoff, and a restart resends it', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tl-im-')), 'IM');
  t.teardown(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const first = imRig(t, dir, async () => 480);
  await first.outbox.start();
  const id = await first.outbox.enqueue(im);
  await until(() => first.events.filter((e) => e.startsWith('retry')).length >= 3, 'three tries');
  t.same(jsonFiles(dir), [`${id}.json`], 'still journaled');
  await first.outbox.stop(); // as a crash would leave it: the file stays

  const second = imRig(t, dir, async () => 200);
  await second.outbox.start();
  await until(() => second.events.includes(`sent ${id}`), 'resent after the restart');
  t.same(second.tried, [im], 'the same IM, From the caller');
  t.same(jsonFiles(dir), []);

  const third = imRig(t, join(dir, '..', 'IM2'), () => Promise.reject(new Error('Timer F')));
  await third.outbox.start();
  await third.outbox.enqueue(im);
  await until(() => third.events.some((e) => e.startsWith('retry')), 'a timeout is retried');
});

t.test('an IM answered 404 is final: one error line, moved to failed/', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tl-im-')), 'IM');
  t.teardown(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const r = imRig(t, dir, async () => 404);
  await r.outbox.start();
  const id = await r.outbox.enqueue(im);
  t.same(r.events, [`failed ${id}`]);
  t.equal(r.tried.length, 1, 'tried once only');
  t.same(jsonFiles(dir), []);
  t.ok(existsSync(join(dir, 'failed', `${id}.json`)));
  t.match(readFileSync(join(dir, 'failed', `${id}.reason.txt`), 'utf8'), /IM to 732 rejected by PBX: answered 404/);
  t.equal(r.log.lines.filter((l) => / ERROR /.test(l)).length, 1, 'one error line');
});

t.test('an IM on a read-only card is still sent at once; a 2xx leaves nothing to write later', root, async (t) => {
  const mnt = tmpfs(t);
  remount(mnt, 'ro');
  const r = imRig(t, join(mnt, 'Outbox', 'IM'), async () => 200);
  await r.outbox.start();
  const id = await r.outbox.enqueue(im);
  t.same(r.events, [`sent ${id}`]);
  t.equal(r.outbox.keptInMemory(), 0);
});
