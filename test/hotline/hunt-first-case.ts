/**
 * The first end-to-end hunt case, shared by e2e-hunt (x86) and e2e-arm (the
 * appliance on ARM Node under qemu): 731 does not answer, 732 answers and
 * hangs up; two tickets, IM and SMS only for 732, one recording, the caller
 * released. Bounds are generous (emulation is slow); assertions are the same.
 */
import type { Test } from 'tap';
import { basename } from 'node:path';
import { startAppliance, removeCard, type Appliance } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';

export const FIRST_CASE =
  'first technician does not answer, the second answers and hangs up: two tickets, END and IM only for the second, caller released';

const TEXT = /^\d\d\.\d\d\.\d{4}_\d\d\.\d\d_\d\d\.\d\d\.\d{4}_\d\d\.\d\d_Ticket_(\d+)_Caller_03472619287_Called_(\d+)$/;

/** Runs the case; `node` runs the appliance (default: this Node). Returns the appliance (its card is removed at teardown). */
export async function firstNoAnswerSecondAnswers(t: Test, node?: string): Promise<Appliance> {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', sms: { number: '3331234567' } } },
    node,
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
  const t731 = await technician(pbx.port, '731', { kind: 'ring' }, true);
  const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 500, hangupAfterMs: 1500 }, true);
  const call = await caller(pbx.port, { digits: '1' });

  const c = await call.result(120000);
  t.equal(outcome(c), 'released-by-appliance', 'the caller is released when the technician hangs up');
  t.equal(c.code, 0, 'SIPp caller ends cleanly');
  const r732 = await t732.result(60000);
  t.equal(outcome(r732), 'technician-hung-up');
  // 732 got its IM, so any IM for 731 would have come by now: 731's phone waits for one, and must not get it
  await t731.proc.stop();
  const r731 = await t731.result(10000);
  t.equal(outcome(r731), 'cancelled', '731 was cancelled after its timeout');
  t.notOk(imOf(r731), '731 gets no IM');
  const files = await app.waitTickets(2);
  t.equal(files.length, 2, 'one ticket per hop');
  const [f1, f2] = files.map((f) => parseTicketFileName(basename(f)));
  t.ok(f1 && f2, 'ticket names parse');
  t.equal(f1?.called, '731');
  t.equal(f1?.final, false, 'the unanswered hop is not END');
  t.equal(f2?.called, '732');
  t.equal(f2?.final, true, 'the answered hop is END');
  t.equal(f2!.ticket, f1!.ticket + 1, 'consecutive ticket numbers');
  t.match(files[1], /_END_1\.txt$/);
  const im = imOf(r732);
  t.ok(im, '732 received the IM');
  t.match(im?.text ?? '', TEXT, 'IM text is the ticket text');
  t.equal(im?.text, files[1].replace(/_END_1\.txt$/, ''), 'IM text = ticket name without END and serial');
  t.match(im?.from ?? '', /^03472619287/, 'IM comes from the caller number (call back)');
  await until(() => app.smsLog().length > 0, 'the SMS in SMS.log', 60000);
  const sms = app.smsLog();
  t.equal(sms.length, 1, 'exactly one SMS');
  t.match(sms[0], new RegExp(` 393331234567 ${im?.text}$`), 'SMS to prefix + number with the same text');
  t.equal(app.recordings().length, 1, 'one recording for the call');
  t.notMatch(app.proc.output(), /dropped unparsable|ERROR/, 'no malformed SIP and no error on the way');
  await app.proc.waitFor(/over \(answered\); RTP ports in use: (\d+)/, 60000);
  t.match(app.proc.output(), /over \(answered\); RTP ports in use: 0/, 'no RTP port outlives the call');
  return app;
}
