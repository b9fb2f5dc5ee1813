/**
 * Two emergency calls at the same time never share a ticket number
 * (TicketNR.txt is taken through one durable counter).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

t.test('two calls at once get distinct ticket numbers, starting at the installer\'s TicketNR.txt', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '731' } }, files: { 'TicketNR.txt': '100\r\n' } });
  t.teardown(() => removeCard(app));
  const tech = await technician(pbx.port, '731', { kind: 'ring' }, false, 2);
  const [a, b] = await Promise.all([
    caller(pbx.port, { digits: '1', hangupAfterMs: 2500, from: '0611111111' }),
    caller(pbx.port, { digits: '1', hangupAfterMs: 2500, from: '0622222222' }),
  ]);
  t.equal(outcome(await a.result(60000)), 'caller-hung-up');
  t.equal(outcome(await b.result(60000)), 'caller-hung-up');
  const files = await app.waitTickets(2);
  const tickets = files.map((f) => parseTicketFileName(basename(f)));
  t.same(tickets.map((x) => x?.ticket).sort(), [100, 101], 'distinct numbers from 100 on');
  t.same(tickets.map((x) => x?.caller).sort(), ['0611111111', '0622222222']);
  t.ok(tickets.every((x) => x?.final), 'each call has its END');
  t.equal(readFileSync(join(app.app, 'TicketNR.txt'), 'utf8').trim(), '102', 'the counter holds the next number');
  await tech.result(30000);
});
