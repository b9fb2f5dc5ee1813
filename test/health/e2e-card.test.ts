// Issue 13 end to end, the card on a real tmpfs (root): read-only at boot -> an alert line at once, and
// Admin/'s SMS once the card is writable again; read-only while running -> an alert when the next write fails,
// and an emergency call at that moment still rings and bridges.
import t from 'tap';
import { join } from 'node:path';
import { startAppliance, type Appliance } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { remount, rootOnly, tmpfsCard } from '../lab/tmpfs.js';
import { caller, outcome, technician } from '../hotline/e2e-helpers.js';

t.teardown(stopAll);
const root = rootOnly;

const FILES = { 'Admin/SMSNumber.txt': '3339990000', 'SMSprefix.txt': '39' };
const alerts = (a: Appliance): string[] => a.smsLog().filter((l) => l.includes('393339990000'));

t.test('read-only at boot: one alert line at once; writable again: the alert and "card writable again" reach Admin/', root, async (t) => {
  const card = tmpfsCard(t);
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, files: FILES, root: card.mnt, beforeLaunch: () => remount(card.mnt, 'ro') });
  card.own(app);
  await app.proc.waitFor(/alert: ticketline 799: card NOT WRITABLE since \d\d:\d\d \(read-only .*\) — tickets, recordings and SMS are kept in memory only/, 10000);
  remount(card.mnt, 'rw');
  await until(() => alerts(app).length >= 2, 'the alert and the recovery in SMS.log', 30000);
  t.match(alerts(app)[0], /card NOT WRITABLE/);
  t.match(alerts(app)[1], /ticketline 799: card writable again at \d\d:\d\d/);
  t.equal((app.proc.output().match(/alert: .*card NOT WRITABLE/g) ?? []).length, 1, 'one alert');
  await app.stop();
  await pbx.proc.stop();
});

t.test('read-only while running: the next write fails -> alert; the emergency call still rings and bridges', root, async (t) => {
  const card = tmpfsCard(t);
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port, files: FILES, root: card.mnt, first: '731', technicians: { '731': { sms: { number: '3331111111' } } },
  });
  card.own(app);
  remount(card.mnt, 'ro');
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1500 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance', 'answered, bridged, released by the technician');
  await tech.result(60000);
  // the technician's SMS is queued (in memory): status.txt follows and cannot be written -> the card check fails
  await app.proc.waitFor(/alert: ticketline 799: card NOT WRITABLE since \d\d:\d\d \(read-only \(EROFS\)\)/, 20000);
  remount(card.mnt, 'rw');
  await until(() => alerts(app).some((l) => /card writable again/.test(l)), 'the recovery reaches Admin/', 30000);
  await app.stop();
  await pbx.proc.stop();
});
