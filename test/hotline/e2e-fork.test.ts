/**
 * Desk phone and mobile fork rung in parallel (DESIGN.md §4): the mobile
 * answers first, the desk leg is cancelled with RFC 3326 "Call completed
 * elsewhere", and the ticket names the extension, never the fork number.
 */
import t from 'tap';
import { basename } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

t.test('the mobile fork answers first: desk cancelled (answered elsewhere), ticket and IM name the extension', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', fork: '00393331112222', sms: { number: '3331112222' } }, '732': { next: '731' } },
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(app.proc.output());
    removeCard(app);
  });
  const desk = await technician(pbx.port, '731', { kind: 'ring' }, true);
  const mobile = await technician(pbx.port, '00393331112222', { kind: 'answer', afterMs: 800, hangupAfterMs: 1500 });
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance', 'the mobile hanging up releases the caller');
  t.equal(outcome(await mobile.result(30000)), 'technician-hung-up');
  const files = await app.waitTickets(1);
  t.equal(files.length, 1, 'one hop, one ticket');
  const f = parseTicketFileName(basename(files[0]));
  t.equal(f?.called, '731', 'the ticket names the extension, not the fork number');
  t.equal(f?.final, true);
  await until(() => app.smsLog().length > 0, 'the SMS');
  t.match(app.smsLog()[0], / 393331112222 .*_Called_731$/, 'SMS to the technician of the fork');
  await until(() => /IM \S+ /.test(desk.logsSoFar()), 'the IM at the desk phone');
  await desk.proc.stop();
  const d = await desk.result(10000);
  t.equal(outcome(d), 'cancelled', 'the desk stops ringing');
  t.match(d.logs, /CANCEL-REASON\s+SIP;cause=200;text="Call completed elsewhere"/, 'RFC 3326 Reason on the CANCEL');
  t.equal(imOf(d)?.text, files[0].replace(/_END_1\.txt$/, ''), 'the IM goes to the extension (its desk phone)');
  await app.proc.waitFor(/over \(answered\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(answered\); RTP ports in use: 0/, 'no RTP port of the caller, desk or mobile leg outlives the call');
});
