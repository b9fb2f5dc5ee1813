// Issue 13 end to end: the built appliance tells Admin/ (LOG provider: SMS.log) when the PBX is gone, when
// it is back, and after a restart that followed a kill -9; `status` reads what the appliance wrote.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startAppliance, removeCard, type Appliance } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { startPbxOn } from '../hotline/robust-helpers.js';

t.teardown(stopAll);

const ADMIN = { 'Admin/SMSNumber.txt': '3339990000', 'SMSprefix.txt': '39' };
const alerts = (a: Appliance): string[] => a.smsLog().filter((l) => l.includes('393339990000'));

function status(a: Appliance): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(a.app, 'ticketline.js'), 'status', a.app], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout };
}

t.test('kill -9, then start: one alert "previous run ended without a clean stop"; status 0 while running, 1 once killed', async (t) => {
  const pbx = await startKamailio();
  const a = await startAppliance({ pbxPort: pbx.port, files: ADMIN });
  t.teardown(() => removeCard(a));
  await until(() => status(a).code === 0, 'status says all well once status.txt is written', 15000);
  t.match(status(a).out, /check registration: ok since .*\ncheck card: ok .*\n(.|\n)*all well\n$/);
  t.same(alerts(a), [], 'no alert on a first, healthy start');
  await a.kill();
  const dead = status(a);
  t.equal(dead.code, 1, 'status exits 1 after the kill');
  t.match(dead.out, /NOT RUNNING: pid \d+ is gone without a clean stop/);
  await a.restart();
  await until(() => alerts(a).length === 1, 'one alert SMS after the restart', 20000);
  t.match(alerts(a)[0], /ticketline 799: started at \d\d:\d\d; previous run ended without a clean stop at about \d\d:\d\d/);
  await a.stop();
  await a.restart(); // a clean stop before: nothing to report
  await until(() => status(a).code === 0, 'status all well again', 15000);
  t.equal(alerts(a).length, 1, 'a clean stop is not reported as a crash');
  await a.stop();
  await pbx.proc.stop();
});

t.test('the PBX stops: exactly one alert SMS after the grace; the PBX back: one "registered again"', async (t) => {
  const pbx = await startKamailio();
  const a = await startAppliance({ pbxPort: pbx.port, files: ADMIN });
  t.teardown(() => removeCard(a));
  await pbx.proc.stop();
  // the OPTIONS probe (10 s) or the refresh notices, the REGISTER times out (Timer F, 32 s), then 60 s of grace
  const failed = await a.proc.waitFor(/registration failed/, 90000);
  const failedAt = Date.now();
  await until(() => alerts(a).length >= 1, 'the alert SMS', 60000 + 30000);
  t.ok(Date.now() - failedAt < 60000 + 20000, `alert within the 60 s grace + a bound after: ${failed[0]}`);
  t.match(alerts(a)[0], /ticketline 799: NOT REGISTERED at the PBX since \d\d:\d\d \(.*\) — emergency calls cannot reach the box/);
  t.equal(alerts(a).length, 1, 'exactly one alert');
  const pbx2 = await startPbxOn(pbx.port);
  await until(() => alerts(a).length >= 2, 'the recovered SMS', 60000);
  t.match(alerts(a)[1], /ticketline 799: registered again at \d\d:\d\d/);
  t.equal(alerts(a).length, 2, 'one alert, one recovered');
  await a.stop();
  await pbx2.proc.stop();
});
