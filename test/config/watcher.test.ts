import t from 'tap';
import { join } from 'node:path';
import { renameSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { CardWatcher, isConfigName } from '../../src/config/watcher.js';
import { setCfuTarget, type CardConfig, type Problem } from '../../src/config/card.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { memoryLogger } from '../../src/util/log.js';
import { until } from '../lab/proc.js';
import { tempCard } from './card-fixture.js';

const BOUND = 20000; // generous: a loaded CI machine may be slow to deliver file events

/**
 * The next `change` event whose config satisfies `ok`, within a generous
 * bound. (The watcher's timers don't keep a process alive; this one does.)
 */
function changeWhere(w: CardWatcher, ok: (c: CardConfig) => boolean, what: string): Promise<CardConfig> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no change event with ${what} within ${BOUND} ms`)), BOUND);
    const on = (c: CardConfig): void => {
      if (!ok(c)) return;
      clearTimeout(timer);
      w.off('change', on);
      resolve(c);
    };
    w.on('change', on);
  });
}

/** The next `problems` event, within a generous bound. */
function nextProblems(w: CardWatcher): Promise<Problem[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no problems event within ${BOUND} ms`)), BOUND);
    w.once('problems', (list) => {
      clearTimeout(timer);
      resolve(list);
    });
  });
}

function watcher(t: { teardown(fn: () => void): void }, dir: string, opts: ConstructorParameters<typeof CardWatcher>[2]) {
  const log = memoryLogger();
  const w = new CardWatcher(dir, log, opts);
  t.teardown(() => w.stop());
  return { w, log };
}

t.test('only configuration files trigger a reload', async (t) => {
  for (const n of ['First.txt', 'pbx.ini', 'Next.txt', 'announcement.wav', 'TED_CFU', '731', null]) t.ok(isConfigName(n), String(n));
  for (const n of ['Ticket', 'ticket', 'Outbox', 'TicketNR.txt', 'TICKETNR.TXT', '.TicketNR.txt.1a2b3c4d.tmp', '.Target.txt.00ff00ff.tmp', 'TicketNR.txt.lock', 'SMS.log', 'ticketline.js']) t.notOk(isConfigName(n), n);
});

t.test('an edit is picked up through fs.watch and emits change with the new value', async (t) => {
  const card = tempCard(t);
  const { w, log } = watcher(t, card.dir, { rescanMs: 600000 });
  const first = once(w, 'change');
  await w.start();
  t.equal((await first)[0].first, '731');
  t.equal(w.current()?.first, '731');
  t.match(log.lines.join('\n'), /card loaded: number 799/);
  const next = changeWhere(w, (c) => c.first === '733', 'First = 733');
  card.write('First.txt', '733\r\n');
  t.equal((await next).first, '733');
  t.equal(w.current()?.first, '733');
  const tech = changeWhere(w, (c) => c.technicians.get('732')?.timeoutSec === 45, '732 timeout 45');
  card.write('732/Timeout.txt', '45');
  await tech;
  t.pass('an edit inside a technician folder is seen too');
  w.stop();
  w.stop();
});

t.test('polling alone picks up edits, new files and new folders (file systems without events)', async (t) => {
  const card = tempCard(t);
  const { w } = watcher(t, card.dir, { rescanMs: 100, watch: false });
  await w.start();
  const next = changeWhere(w, (c) => c.xmlNumber === '798', 'XMLnumber 798');
  card.write('XMLnumber.txt', '798');
  t.equal((await next).xmlNumber, '798');
  const tries = changeWhere(w, (c) => c.tries === 7, 'a new Tries.txt');
  card.write('Tries.txt', '7');
  await tries;
  const added = changeWhere(w, (c) => c.technicians.get('735')?.next === '731', 'a new technician 735');
  card.write('735/Next.txt', '731');
  await added;
  const edited = changeWhere(w, (c) => c.technicians.get('735')?.next === '732', '735 Next 732');
  card.write('735/Next.txt', '732');
  await edited;
  t.pass('edits inside the new folder are seen');
});

t.test('polling: an idle card is not re-read, nor are the appliance\'s own writes', async (t) => {
  const card = tempCard(t);
  const { w } = watcher(t, card.dir, { rescanMs: 50, watch: false });
  await w.start();
  const loads = w.loads;
  const polledFor = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  await polledFor(500); // ten polling intervals
  t.equal(w.loads, loads, 'nothing changed: nothing read');
  for (let n = 2; n < 6; n++) await writeFileAtomic(join(card.dir, 'TicketNR.txt'), `${n}\n`);
  card.write('Ticket/25.11.2026_10.00_25.11.2026_10.01_Ticket_1_Caller_0123_Called_731_END_1.txt', '');
  card.write('SMS.log', 'sms to 3471234567\n');
  const next = changeWhere(w, (c) => c.timeoutSec === 25, 'Timeout 25');
  await polledFor(500);
  card.write('Timeout.txt', '25');
  await next;
  t.equal(w.loads, loads + 1, 'one reload, for Timeout.txt only');
});

t.test('a broken file is logged once, the last good config stays, the fix is logged', async (t) => {
  const card = tempCard(t);
  const { w, log } = watcher(t, card.dir, { rescanMs: 50 });
  await w.start();
  const good = w.current();
  t.ok(good);
  const broken = nextProblems(w);
  card.write('XMLnumber.txt', '79x');
  const list = await broken;
  t.match(list, [{ file: 'XMLnumber.txt', message: /"79x" is not valid: should hold an extension/ }]);
  t.equal(w.current(), good, 'current() is still the last good configuration');
  const seen = w.loads;
  for (let i = 0; i < 5; i++) await w.reload(); // as after each CFU change by phone
  t.equal(w.loads, seen + 5);
  const lines = log.lines.filter((l) => l.includes('XMLnumber.txt: "79x"'));
  t.equal(lines.length, 1, 'the problem is logged once, not on every re-scan');
  t.match(lines[0], / ERROR XMLnumber.txt: "79x" is not valid/);
  t.equal(log.lines.filter((l) => /card not usable: keeping the last good configuration/.test(l)).length, 1);
  t.same(w.currentProblems().map((p) => p.file), ['XMLnumber.txt']);

  const fixed = nextProblems(w);
  card.write('XMLnumber.txt', '799\n');
  t.same(await fixed, [], 'an empty problem list: clean again');
  t.match(log.lines.join('\n'), /INFO XMLnumber.txt: fixed/);
  t.match(log.lines.join('\n'), /INFO card OK again/);
  t.equal(w.current(), good, 'the same values: no new configuration object');
});

t.test('a broken card at start gives no config; fixing it makes one current', async (t) => {
  const card = tempCard(t);
  card.write('First.txt', '999');
  const { w, log } = watcher(t, card.dir, { rescanMs: 600000 });
  await w.start();
  t.equal(w.current(), undefined);
  t.match(log.lines.join('\n'), /First.txt: names 999, which is not a technician.*\n.*no earlier configuration/);
  const next = changeWhere(w, (c) => c.first === '732', 'First = 732');
  card.write('First.txt', '732');
  await next;
  t.equal(w.current()?.first, '732');
});

t.test('writes to Ticket/, Outbox/, TicketNR.txt (and its lock) and SMS.log do not trigger reloads', async (t) => {
  const card = tempCard(t);
  const { w, log } = watcher(t, card.dir, { rescanMs: 600000 });
  await w.start();
  const loadsBefore = w.loads;
  card.write('Ticket/25.11.2026_10.00_25.11.2026_10.01_Ticket_1_Caller_0123_Called_731_END_1.txt', '');
  card.write('Ticket/25.11.2026_10.00_25.11.2026_10.01_Ticket_2_Caller_0123_Called_731_1.txt', '');
  card.write('Outbox/1.json', '{}');
  card.write('SMS.log', 'sms to 3471234567\n');
  card.write('TicketNR.txt.lock', '');
  for (let n = 2; n < 6; n++) await writeFileAtomic(join(card.dir, 'TicketNR.txt'), `${n}\n`);
  // then a real edit: the reload it causes must name only that file
  const next = changeWhere(w, (c) => c.timeoutSec === 25, 'Timeout 25');
  card.write('Timeout.txt', '25');
  await next;
  const reasons = log.lines.filter((l) => l.includes('re-reading the card after an edit of'));
  t.ok(reasons.length >= 1);
  for (const r of reasons) t.match(r, /after an edit of Timeout\.txt$/, 'only Timeout.txt caused a reload');
  t.equal(w.loads, loadsBefore + reasons.length);
});

t.test('setCfuTarget is picked up by the watcher', async (t) => {
  const card = tempCard(t);
  const { w } = watcher(t, card.dir, { rescanMs: 600000 });
  await w.start();
  const config = w.current();
  if (!config) return t.fail('no config');
  const next = changeWhere(w, (c) => c.cfuTarget === '732', 'CFU to 732');
  await setCfuTarget(config, '732');
  t.equal((await next).cfuTarget, '732');
  const cleared = changeWhere(w, (c) => c.cfuTarget === undefined, 'CFU cleared');
  await setCfuTarget(config, undefined);
  await cleared;
  t.pass('cleared');
});

t.test('a technician folder added later is watched', async (t) => {
  const card = tempCard(t);
  const { w } = watcher(t, card.dir, { rescanMs: 600000 });
  await w.start();
  const added = changeWhere(w, (c) => c.technicians.has('734'), '734 added');
  card.write('734/SMSNumber.txt', '3470000000');
  await added;
  const edited = changeWhere(w, (c) => c.technicians.get('734')?.next === '731', '734 Next 731');
  card.write('734/Next.txt', '731');
  await edited;
  t.pass('edits inside the new folder are seen');
});

t.test('an edit in the SMS provider folder emits change', async (t) => {
  const card = tempCard(t);
  card.write('SMSProvider.txt', 'KANNEL');
  card.write('KANNEL/URL.txt', 'http://127.0.0.1:13013/cgi-bin/sendsms');
  const { w } = watcher(t, card.dir, { rescanMs: 600000 });
  await w.start();
  const before = w.current()?.smsSettingsStamp;
  t.ok(before);
  const next = changeWhere(w, (c) => c.smsSettingsStamp !== before, 'a new stamp');
  card.write('KANNEL/URL.txt', 'http://127.0.0.1:13014/cgi-bin/sendsms');
  await next;
  t.pass('the provider can rebuild');
});

t.test('a recording folder inside the card folder is not watched', async (t) => {
  const card = tempCard(t);
  card.write('Recording.txt', 'Rec');
  card.write('Rec/.keep', '');
  const { w, log } = watcher(t, card.dir, { rescanMs: 50 });
  await w.start();
  t.equal(w.current()?.recordingDir, join(card.dir, 'Rec'));
  for (let i = 0; i < 3; i++) {
    card.write(`Rec/call-${i}.pcap`, Buffer.alloc(1000));
    await new Promise((r) => setTimeout(r, 200)); // a few polling intervals
  }
  const next = changeWhere(w, (c) => c.tries === 5, 'Tries 5');
  card.write('Tries.txt', '5');
  await next;
  const reasons = log.lines.filter((l) => l.includes('re-reading the card after an edit of'));
  t.ok(reasons.length >= 1);
  for (const r of reasons) t.match(r, /after an edit of Tries\.txt$/);
});

for (const watch of [true, false]) t.test(`the card folder goes away (card pulled, remounted) and comes back edited${watch ? '' : ', polling only'}`, async (t) => {
  const card = tempCard(t);
  const { w, log } = watcher(t, card.dir, { rescanMs: 100, watch });
  await w.start();
  const good = w.current();
  t.ok(good);
  const gone = nextProblems(w);
  renameSync(card.dir, `${card.dir}.away`);
  t.match(await gone, [{ file: '.', message: /cannot be read \(ENOENT\)/ }]);
  t.equal(w.current(), good, 'the last good configuration stays');
  writeFileSync(join(`${card.dir}.away`, 'Timeout.txt'), '42');
  const back = changeWhere(w, (c) => c.timeoutSec === 42, 'Timeout 42 after the card came back');
  renameSync(`${card.dir}.away`, card.dir);
  await back;
  t.match(log.lines.join('\n'), /card OK again/);
  const edited = changeWhere(w, (c) => c.tries === 4, 'an edit after the return');
  card.write('Tries.txt', '4');
  await edited;
});
