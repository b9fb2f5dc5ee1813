/**
 * SMS through a real Kannel (bearerbox + smsbox + fake SMSC) at the end of
 * real emergency calls (issue "sms"): only the technician who answered or
 * was rung last gets one; SMS queued while Kannel is down survive a
 * SIGKILL of the appliance and arrive exactly once, in order.
 */
import t from 'tap';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { kannelPorts, startKannel } from '../lab/kannel.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { caller, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

const u731 = { username: 'tech731', password: 'pw-731-secret' };
const u732 = { username: 'tech732', password: 'pw-732-secret' };

t.test('one emergency call ends with the SMS at the SMS centre for the technician who answered, and nobody else', async (t) => {
  const pbx = await startKamailio();
  const kannel = await startKannel({ users: [u731, u732] });
  t.teardown(() => kannel.stop());
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: {
      '731': { next: '732', timeoutSec: 5, sms: { number: '3331111111', user: u731.username, password: u731.password } },
      '732': { next: '731', sms: { number: '3332222222', user: u732.username, password: u732.password } },
    },
    files: { 'SMSProvider.txt': 'KANNEL', 'KANNEL/URL.txt': kannel.sendsmsUrl },
  });
  t.teardown(() => removeCard(app));
  await technician(pbx.port, '731', { kind: 'ring' });
  const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 300, hangupAfterMs: 1000 });
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  await t732.result(30000);
  const [end] = (await app.waitTickets(2)).slice(1);
  await until(() => kannel.received().length > 0, 'the SMS at the fake SMS centre', 30000);
  await until(() => app.outbox().length === 0, 'the outbox empty');
  const got = kannel.received();
  t.equal(got.length, 1, 'exactly one SMS');
  t.equal(got[0].to, '393332222222', 'to SMSprefix + 732\'s SMSNumber');
  t.equal(got[0].text, end.replace(/_END_1\.txt$/, ''), 'the ticket text');
  t.notMatch(app.proc.output(), new RegExp(`${u731.password}|${u732.password}`), 'no SMS password in the log');
});

t.test('Kannel down: three calls end, the appliance is killed, Kannel comes back: three SMS exactly once, in order', async (t) => {
  const pbx = await startKamailio();
  const ports = await kannelPorts();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '731', sms: { number: '3331111111', user: u731.username, password: u731.password } } },
    files: { 'SMSProvider.txt': 'KANNEL', 'KANNEL/URL.txt': `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms` },
  });
  t.teardown(() => removeCard(app));
  const tech = await technician(pbx.port, '731', { kind: 'ring' }, false, 3);
  for (const from of ['0611111111', '0622222222', '0633333333']) {
    const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 1500, from });
    t.equal(outcome(await call.result(60000)), 'caller-hung-up');
    await until(() => app.proc.output().includes(`call from ${from} over`), `the call from ${from} over`);
  }
  await tech.result(30000);
  await until(() => app.outbox().length === 3 && /retry/.test(app.proc.output()), 'three SMS waiting in the outbox, tried in vain');
  const texts = (await app.waitTickets(3)).map((f) => f.replace(/_END_1\.txt$/, ''));

  await app.kill(); // a power cut while the SMS centre is away
  t.equal(app.outbox().length, 3, 'all three still on the card');
  const kannel = await startKannel({ users: [u731], ports });
  t.teardown(() => kannel.stop());
  await app.restart();
  await until(() => kannel.received().length >= 3 && app.outbox().length === 0, 'three SMS delivered and the outbox empty', 60000);
  const got = kannel.received();
  t.same(got.map((m) => m.to), ['393331111111', '393331111111', '393331111111']);
  t.same(got.map((m) => m.text), texts, 'exactly once each, in order of the calls');
});
