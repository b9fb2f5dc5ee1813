/**
 * The emergency call end to end through a real PBX (Kamailio), with SIPp
 * as the caller (RFC 4733 DTMF) and as the technicians' phones.
 */
import t from 'tap';
import { basename } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, msBetween, outcome, technician } from './e2e-helpers.js';
import { FIRST_CASE, firstNoAnswerSecondAnswers } from './hunt-first-case.js';

t.teardown(stopAll);

t.test(FIRST_CASE, async (t) => {
  await firstNoAnswerSecondAnswers(t);
});

t.test('the caller gives up while the phone rings: one END ticket, the IM goes to the technician rung last', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', sms: { number: '3339876543' } } },
  });
  t.teardown(() => removeCard(app));
  const t731 = await technician(pbx.port, '731', { kind: 'ring' }, true);
  const t732 = await technician(pbx.port, '732', { kind: 'ring' }, true);
  // 731 rings 5 s, then 732; the caller gives up while 732 rings
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 7000 });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  const files = await app.waitTickets(2);
  const [f1, f2] = files.map((f) => parseTicketFileName(basename(f)));
  t.equal(f1?.called, '731');
  t.equal(f1?.final, false);
  t.equal(f2?.called, '732');
  t.equal(f2?.final, true, 'the hop ringing when the caller gave up is END');
  const r732 = await t732.result(60000);
  t.equal(outcome(r732), 'cancelled', '732 stops ringing when the caller hangs up');
  t.equal(imOf(r732)?.text, files[1].replace(/_END_1\.txt$/, ''), '732, rung last, gets the IM');
  await t731.proc.stop();
  t.notOk(imOf(await t731.result(10000)), '731 gets no IM');
  await until(() => app.smsLog().length === 1, 'the SMS in SMS.log');
  t.match(app.smsLog()[0], / 393339876543 .*_Called_732$/);
});

t.test('busy goes on to the next technician at once; the caller hangs up during the conversation', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 60 }, '732': { next: '731' } },
  });
  t.teardown(() => removeCard(app));
  const t731 = await technician(pbx.port, '731', { kind: 'busy' });
  const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 300 }, true);
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 3000 });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  t.equal(outcome(await t731.result(30000)), 'busy');
  const r732 = await t732.result(30000);
  t.equal(outcome(r732), 'released-by-appliance', 'the technician gets a BYE when the caller hangs up');
  const log = app.proc.output();
  // 731's timeout is 60 s: the whole call lasting a few seconds proves busy did not wait for it
  t.ok(msBetween(log, /ringing 731 as 1\.desk/, /ringing 732 as 2\.desk/) < 30000, 'busy moved on without waiting for the timeout');
  const files = await app.waitTickets(2);
  t.match(files[0], /_Called_731_1\.txt$/);
  t.match(files[1], /_Called_732_END_1\.txt$/);
  t.ok(imOf(r732), '732 gets the IM');
  await app.proc.waitFor(/over \(answered\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(answered\); RTP ports in use: 0/, 'no RTP port outlives the call');
});

t.test('a phone that answers with SDP we cannot use (G.722 only, or none) is released at once and the hunt goes on', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 60 }, '732': { next: '733', timeoutSec: 60 }, '733': { next: '731' } },
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
  const g722 = 'v=0\no=phone 1 1 IN IP4 [media_ip]\ns=-\nc=IN IP4 [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 9\na=rtpmap:9 G722/8000\na=sendrecv';
  const t731 = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, sdp: g722 }, true);
  const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 300, sdp: null }, true);
  const t733 = await technician(pbx.port, '733', { kind: 'answer', afterMs: 300, hangupAfterMs: 1500 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  const r733 = await t733.result(30000);
  t.equal(outcome(r733), 'technician-hung-up');
  t.ok(imOf(r733), '733, who could talk, gets the IM');
  for (const [who, tech] of [['731', t731], ['732', t732]] as const) {
    await tech.proc.stop();
    const r = await tech.result(10000);
    t.equal(outcome(r), 'released-by-appliance', `${who} got a BYE right after its 200 OK`);
    t.notOk(imOf(r), `${who} gets no IM`);
  }
  const log = app.proc.output();
  t.match(log, /731: SDP unusable/);
  t.match(log, /732: SDP unusable/);
  t.ok(msBetween(log, /ringing 731 as 1\.desk/, /ringing 733 as 3\.desk/) < 30000, 'moved on without waiting for the 60 s timeouts');
  const files = await app.waitTickets(3);
  t.match(files[0], /_Called_731_1\.txt$/);
  t.match(files[1], /_Called_732_1\.txt$/);
  t.match(files[2], /_Called_733_END_1\.txt$/);
  await app.proc.waitFor(/over \(answered\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(answered\); RTP ports in use: 0/, 'no RTP port outlives the call');
});
