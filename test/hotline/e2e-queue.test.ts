/**
 * The waiting queue and the front door: wrong key then silence ends with
 * goodbye and no ticket; a source not in pbx.ini's allow list gets 403 and
 * nothing is rung; a broken card file is reported and the last good
 * configuration keeps serving.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll } from '../lab/proc.js';
import { caller, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

t.test('a wrong key, then silence: the announcement plays again, then goodbye; no ticket, no recording, nobody rung', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, files: { 'Tries.txt': '2' } });
  t.teardown(() => removeCard(app));
  const call = await caller(pbx.port, { digits: '5' });
  t.equal(outcome(await call.result(90000)), 'released-by-appliance', 'the appliance says goodbye and hangs up');
  const log = app.proc.output();
  t.match(log, /key 5 is not the proceed key 1/);
  t.match(log, /no proceed key after 2 announcements \(complete plays\): goodbye/);
  t.notMatch(log, /ringing /, 'no technician was rung');
  t.same(app.ticketFiles(), [], 'no ticket');
  t.same(app.recordings(), [], 'no recording');
});

t.test('an INVITE from a source not allowed gets 403 and no call is placed anywhere', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, allow: '127.0.0.1' });
  t.teardown(() => removeCard(app));
  // straight to the appliance from 127.0.0.2 (loopback, but not in the allow list)
  const call = await caller(app.port, { digits: '1', expectRefused: 403, localIp: '127.0.0.2' });
  t.equal(outcome(await call.result(30000)), 'refused-403');
  t.match(app.proc.output(), /INVITE from 127\.0\.0\.2:\d+ refused with 403: not in pbx.ini allow/);
  t.equal(pbx.lines('REQ').filter((l) => l.includes('INVITE')).length, 0, 'the PBX saw no INVITE');
  t.same(app.ticketFiles(), []);
});

t.test('a broken XMLnumber.txt is reported naming the file; calls keep working on the last good card', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, technicians: { '731': { next: '731' } }, first: '731' });
  t.teardown(() => removeCard(app));
  writeFileSync(join(app.app, 'XMLnumber.txt'), 'seven-nine-nine\r\n');
  await app.proc.waitFor(/XMLnumber\.txt: .*should hold/, 30000);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 200 });
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 1000 });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  t.equal(outcome(await tech.result(30000)), 'released-by-appliance', 'the technician was rung with the last good configuration');
  t.equal((await app.waitTickets(1)).length, 1);
  writeFileSync(join(app.app, 'XMLnumber.txt'), '799');
  await app.proc.waitFor(/card OK again/i, 30000);
});
