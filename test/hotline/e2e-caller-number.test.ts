/**
 * TrunkPrefix.txt end to end (issue 14): the PBX gives the caller's number
 * without the trunk prefix (it stripped the 0); the IM's From, the ticket's
 * Caller_ part, the recording's name and the SMS text all carry it, so
 * lifting the receiver calls back (seed: the caller number "contains prefix
 * of the local trunk line").
 */
import t from 'tap';
import { basename } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

t.test('a caller number without the trunk prefix reaches IM, ticket, recording and SMS with it', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '731', sms: { number: '3331234567' } } },
    files: { 'TrunkPrefix.txt': '0\r\n' },
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
  const t731 = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1000 }, true);
  const call = await caller(pbx.port, { digits: '1', from: '3472619287' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  const r731 = await t731.result(60000);
  const [file] = await app.waitTickets(1);
  const ticket = parseTicketFileName(basename(file));
  t.equal(ticket?.caller, '03472619287', 'the ticket names the number with the trunk prefix');
  const im = imOf(r731);
  t.equal(im?.from, '03472619287', 'the IM comes from the number to call back');
  t.match(im?.text ?? '', /_Caller_03472619287_Called_731$/, 'the IM text carries it');
  await until(() => app.smsLog().length > 0, 'the SMS in SMS.log');
  t.match(app.smsLog()[0], / 393331234567 .*_Caller_03472619287_Called_731$/, 'the SMS text carries it');
  t.match(basename(app.recordings()[0] ?? ''), /_Caller_03472619287\.pcap$/, 'the recording is named with it');
  t.match(app.proc.output(), /emergency call from 03472619287:/, 'the log says the number to call back');
});

t.test('a number that already carries the prefix is not doubled', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '731' } },
    files: { 'TrunkPrefix.txt': '0' },
  });
  t.teardown(() => removeCard(app));
  const t731 = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 800 }, true);
  const call = await caller(pbx.port, { digits: '1', from: '0612345678' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance');
  const im = imOf(await t731.result(60000));
  t.equal(im?.from, '0612345678', 'the IM From as it came');
  const [file] = await app.waitTickets(1);
  t.equal(parseTicketFileName(basename(file))?.caller, '0612345678');
});
