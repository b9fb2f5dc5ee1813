/**
 * CFU by phone (DESIGN.md §8) through the PBX: a technician dials
 * 799*21 / 799*21*<ext> / 799#21; the card's TED_CFU/Target.txt changes
 * before the confirmation, and the next emergency call rings the new
 * technician first. Only technicians on the card may do it.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll } from '../lab/proc.js';
import { caller, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

t.test('CFU switched by phone changes who rings first, and #21 switches back', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '732' }, '732': { next: '731' } } });
  t.teardown(() => {
    if (!t.passing()) t.comment(app.proc.output());
    removeCard(app);
  });
  const target = (): string => readFileSync(join(app.app, 'TED_CFU', 'Target.txt'), 'utf8').trim();
  t.equal(target(), '', 'no CFU at first');

  const set = await caller(pbx.port, { digits: '', from: '732', service: '799*21' });
  t.equal(outcome(await set.result(30000)), 'released-by-appliance', 'confirmation played, then the appliance hangs up');
  t.equal(target(), '732', '732 is in charge on the card');

  const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 200 });
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 1000 });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  t.equal(outcome(await t732.result(30000)), 'released-by-appliance', '732 answered');
  t.match(app.proc.output(), /hunting from 732 \(CFU\)/);
  t.match(app.proc.output(), /ringing 732 as 1\.desk/, '732 rang first');
  t.match((await app.waitTickets(1))[0], /_Called_732_END_1\.txt$/);

  const other = await caller(pbx.port, { digits: '', from: '731', service: '799*21*732' });
  t.equal(outcome(await other.result(30000)), 'released-by-appliance');
  t.equal(target(), '732', '*21*<ext> puts that extension in charge');

  const clear = await caller(pbx.port, { digits: '', from: '732', service: '799%2321' });
  t.equal(outcome(await clear.result(30000)), 'released-by-appliance');
  t.equal(target(), '', '#21 clears the CFU: First.txt is in charge again');
});

t.test('only technicians on the card may switch the CFU; an unknown target gets the error prompt and changes nothing', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '732' }, '732': { next: '731' } } });
  t.teardown(() => removeCard(app));
  const target = (): string => readFileSync(join(app.app, 'TED_CFU', 'Target.txt'), 'utf8').trim();

  const stranger = await caller(pbx.port, { digits: '', from: '0612345678', service: '799*21', expectRefused: 403 });
  t.equal(outcome(await stranger.result(30000)), 'refused-403');
  t.equal(target(), '');

  const unknown = await caller(pbx.port, { digits: '', from: '731', service: '799*21*745' });
  t.equal(outcome(await unknown.result(30000)), 'released-by-appliance', 'answered with the error prompt');
  t.match(app.proc.output(), /CFU to 745 by 731 refused: 745 is not a technician on the card/);
  t.equal(target(), '', 'nothing changed');
});
