/**
 * Issue 15, end to end on the built bundle with Kamailio and SIPp, the card
 * on a real tmpfs (the tests run as root on this box):
 * (a) a fresh card read-only at boot: the appliance starts, registers, a
 *     call rings and bridges, the log says the card is read-only; once it
 *     is writable again the SMS kept in memory reaches SMS.log (LOG provider);
 * (b) the card full mid-call: the SMS is kept, and delivered once space is freed;
 * (c) kill -9 while the technician's phone does not answer the IM: after the
 *     restart the IM reaches the phone.
 * Each test unmounts what it mounted.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startAppliance, type Appliance, type ApplianceOptions } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { freePort } from '../lab/ports.js';
import { stopAll, until } from '../lab/proc.js';
import { remount, rootOnly, tmpfsCard } from '../lab/tmpfs.js';
import { registerContact } from '../lab/register.js';
import { serializeEntry } from '../../src/notify/outbox-file.js';
import { smsChannel } from '../../src/notify/outbox-channel.js';
import { caller, imOf, outcome, technician } from '../hotline/e2e-helpers.js';

t.teardown(stopAll);
const root = rootOnly;

/** Fill the file system at `mnt` with one file; remove it to free the space. */
function fill(mnt: string): string {
  const path = join(mnt, 'filler.bin');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=64k'], { stdio: 'pipe' });
  } catch {
    // "No space left on device": that is the point
  }
  return path;
}

const imFiles = (a: Appliance): string[] => {
  const d = join(a.app, 'Outbox', 'IM');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')) : [];
};
const base = (pbxPort: number): ApplianceOptions => ({
  pbxPort,
  first: '731',
  technicians: { '731': { next: '731', sms: { number: '3331111111' } } },
});

t.test('(a) a fresh card read-only at boot: the call rings and bridges, the SMS and IM are not lost', root, async (t) => {
  const card = tmpfsCard(t);
  const pbx = await startKamailio();
  const app = await startAppliance({ ...base(pbx.port), root: card.mnt, beforeLaunch: () => remount(card.mnt, 'ro') });
  card.own(app);
  t.match(app.proc.output(), /card \S+ is read-only \(.*EROFS.*\): running degraded/, 'the log says the card is read-only');
  t.match(app.proc.output(), /registered for \d+ s/, 'registered at the PBX');
  t.equal(existsSync(join(app.app, 'Outbox')), false, 'a fresh card: no Outbox/ (it could not be created)');

  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1500 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance', 'answered, bridged, released by the technician');
  t.match(app.proc.output(), /answered: bridged/);
  const im = imOf(await tech.result(60000));
  t.ok(im, 'the IM reached the phone at once, the card did not hold it back');
  t.comment(`IM text on a read-only card: ${im?.text}`);
  await until(() => /SMS to 393331111111 queued in memory/.test(app.proc.output()), 'the SMS kept in memory');
  t.same(app.smsLog(), [], 'no SMS.log while read-only');

  remount(card.mnt, 'rw');
  await until(() => app.smsLog().length > 0, 'the kept SMS in SMS.log once the card is writable', 30000);
  await until(() => app.outbox().length === 0 && imFiles(app).length === 0, 'nothing left waiting on the card');
  const sms = app.smsLog();
  t.equal(sms.length, 1, 'exactly one SMS');
  t.match(sms[0], new RegExp(`393331111111 ${im?.text ?? '-'}$`), 'the same text as the IM');
  t.match(app.proc.output(), /card writable again/);
  // what the other layers said on the read-only card (tickets, recording: issue 15's other parts)
  for (const l of app.proc.output().split('\n').filter((x) => / (ERROR|WARN) /.test(x))) t.comment(l.slice(25, 250));
});

t.test('(a) a used card read-only at boot: the SMS waiting on it and the new one both go out once it is writable, in order', root, async (t) => {
  const card = tmpfsCard(t);
  const pbx = await startKamailio();
  const waiting = serializeEntry(smsChannel(() => undefined), { createdAt: Date.now() - 60_000, payload: { to: '393339999999', text: 'from_the_last_run' } });
  const app = await startAppliance({ ...base(pbx.port), root: card.mnt, files: { 'Outbox/0000000041.json': waiting }, beforeLaunch: () => remount(card.mnt, 'ro') });
  card.own(app);
  t.match(app.proc.output(), /resuming 1 SMS waiting/);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1000 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  const im = imOf(await tech.result(60000));
  await until(() => /0000000042: SMS to 393331111111 queued in memory/.test(app.proc.output()), 'the new SMS kept in memory, numbered after the waiting one');
  remount(card.mnt, 'rw');
  await until(() => app.smsLog().length >= 2 && app.outbox().length === 0, 'both SMS in SMS.log and the outbox empty', 30000);
  const sms = app.smsLog();
  t.equal(sms.length, 2, 'each exactly once');
  t.match(sms[0], /393339999999 from_the_last_run$/);
  t.match(sms[1], new RegExp(`393331111111 ${im?.text ?? '-'}$`));
  t.match(app.proc.output(), /is writable again/);
});

t.test('(b) the card fills up mid-call: the SMS is kept and delivered once space is freed', root, async (t) => {
  const card = tmpfsCard(t);
  const pbx = await startKamailio();
  const app = await startAppliance({ ...base(pbx.port), root: card.mnt });
  card.own(app);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 3000 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  await app.proc.waitFor(/answered: bridged/, 30000);
  const filler = fill(card.mnt);
  t.equal(outcome(await call.result(60000)), 'released-by-appliance', 'the call goes on and ends normally');
  const im = imOf(await tech.result(60000));
  t.ok(im, 'the IM reached the phone');
  await until(() => /SMS to 393331111111 queued in memory/.test(app.proc.output()), 'the SMS kept in memory');
  t.match(app.proc.output(), /card not writable, SMS kept in memory .*ENOSPC/, 'one clear line');
  t.same(app.smsLog(), []);

  unlinkSync(filler);
  await until(() => app.smsLog().length > 0, 'the SMS in SMS.log once space is freed', 30000);
  await until(() => app.outbox().length === 0, 'the outbox empty');
  t.equal(app.smsLog().length, 1, 'exactly one SMS');
  t.match(app.smsLog()[0], new RegExp(`393331111111 ${im?.text ?? '-'}$`));
});

t.test('(c) kill -9 while the phone does not answer the IM: after the restart the IM reaches the phone', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance(base(pbx.port));
  t.teardown(async () => {
    await app.stop().catch(() => undefined);
    rmSync(join(app.cf0, '..'), { recursive: true, force: true });
  });
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1500 });
  const call = await caller(pbx.port, { digits: '1' });
  await app.proc.waitFor(/answered: bridged/, 30000);
  // the desk phone goes away: the PBX now sends 731's MESSAGE where nobody listens
  await registerContact(pbx.port, '731', await freePort());
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  await tech.result(30000);
  await until(() => imFiles(app).length === 1, 'the IM journaled in Outbox/IM while no 2xx came');
  t.notMatch(app.proc.output(), /IM to 731 accepted/, 'not answered');
  await app.kill();
  t.equal(imFiles(app).length, 1, 'still on the card after kill -9');

  const phone = await technician(pbx.port, '731', { kind: 'ring' }, true, 0); // back: answers MESSAGE only
  await app.restart();
  const im = imOf(await phone.result(60000));
  t.ok(im, 'the IM reached the phone after the restart');
  t.match(im?.text, /_Ticket_\d+_Caller_\d+_Called_731$/);
  await until(() => imFiles(app).length === 0, 'the journal entry removed after the 2xx');
  t.match(app.proc.output(), /resuming 1 IM waiting/);
});
