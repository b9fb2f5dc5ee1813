/**
 * The waiting queue takes the proceed key in every form the media engine
 * supports (DESIGN.md §1, issue 3 "Waiting queue"), through the built
 * appliance and a real PBX: SIP INFO (application/dtmf-relay and
 * application/dtmf), in-band tones from a caller that offers no
 * telephone-event, RFC 4733 on the payload type the caller chose, and the
 * key pressed while the announcement still plays. The ticket file on the
 * card is the evidence that the hunt started (or, for a wrong key, that it
 * did not).
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, removeCard, type Appliance } from '../lab/appliance.js';
import { startKamailio, type Kamailio } from '../lab/kamailio.js';
import { stopAll } from '../lab/proc.js';
import { inbandDigitPcap, sippDtmfPcap, withPayloadType } from './dtmf-pcap.js';
import { caller, msBetween, outcome, technician } from './e2e-helpers.js';
import type { CallerScenario } from './scenarios.js';

t.teardown(stopAll);

const pcapDir = mkdtempSync(join(tmpdir(), 'tl-dtmf-'));
t.teardown(() => rmSync(pcapDir, { recursive: true, force: true }));

/** Write a pcap for SIPp into the temp folder; returns its path. */
function pcapFile(name: string, data: Buffer): string {
  const p = join(pcapDir, name);
  writeFileSync(p, data);
  return p;
}

/** In-band key: 1 s of silence, 150 ms of the tone pair, 500 ms of silence (PCMA, 20 ms packets). */
const inband = (d: string): string => pcapFile(`inband-${d}.pcap`, inbandDigitPcap(d, { leadMs: 1000, toneMs: 150, tailMs: 500 }));
const INBAND_GAP_MS = 1900; // the pcap lasts 1.65 s: the next step waits until it has played

async function setUp(t: Test): Promise<{ pbx: Kamailio; app: Appliance }> {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } } });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
  return { pbx, app };
}

/**
 * The caller presses 1 as `dtmf` says; 731 answers: the hunt started, and
 * the card holds the one END ticket for 731. Returns the appliance log.
 */
async function proceedsWith(t: Test, dtmf: Omit<CallerScenario, 'digits'>, source: string): Promise<string> {
  const { pbx, app } = await setUp(t);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300 });
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 3000, ...dtmf });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up', 'the caller hangs up during the conversation');
  t.equal(outcome(await tech.result(30000)), 'released-by-appliance', '731 was rung, answered, and released when the caller hung up');
  const files = await app.waitTickets(1, 20000);
  t.equal(files.length, 1, 'one ticket');
  t.match(files[0], /_Caller_03472619287_Called_731_END_1\.txt$/, 'the answered hop is on the card');
  const log = app.proc.output();
  t.match(log, new RegExp(`DTMF 1 \\(${source}\\)`), `the key arrived as ${source}`);
  t.match(log, /proceed key 1 pressed/);
  t.equal(log.match(/DTMF \S+ \(/g)?.length, 1, 'the key counted once (no second detector saw it too)');
  t.notMatch(log, /ERROR|dropped unparsable/, 'no error on the way');
  return log;
}

t.test('SIP INFO application/dtmf-relay (Signal=1, Duration=160) in the dialog: the hunt starts', async (t) => {
  await proceedsWith(t, { dtmfMode: 'info-dtmf-relay' }, 'info');
});

t.test('SIP INFO application/dtmf (body "1") in the dialog: the hunt starts', async (t) => {
  await proceedsWith(t, { dtmfMode: 'info-dtmf' }, 'info');
});

t.test('in-band DTMF from a caller offering no telephone-event: the tone 697 + 1209 Hz starts the hunt', async (t) => {
  const log = await proceedsWith(
    t,
    { dtmfMode: 'inband', telephoneEvent: null, digitPcap: inband, digitGapMs: INBAND_GAP_MS, firstDigitMs: 300 },
    'inband',
  );
  t.notMatch(log, /rfc4733/, 'nothing came as telephone-event');
});

t.test('RFC 4733 on payload type 96 (the one the caller offered): the hunt starts', async (t) => {
  const pt96 = pcapFile('dtmf-1-pt96.pcap', withPayloadType(sippDtmfPcap('1'), 96));
  await proceedsWith(t, { telephoneEvent: 96, digitPcap: () => pt96 }, 'rfc4733');
});

t.test('the key pressed 300 ms into the ~8.6 s announcement counts at once', async (t) => {
  const log = await proceedsWith(t, { firstDigitMs: 300 }, 'rfc4733');
  const ms = msBetween(log, /answered \S+: announcement/, /proceed key 1 pressed/);
  t.ok(ms >= 0 && ms < 4000, `proceed key ${ms} ms after the answer, well inside the announcement`);
  t.match(log, /proceed key 1 pressed \(announcement 1, 0 complete\)/, 'during the first announcement');
  t.ok(msBetween(log, /answered \S+: announcement/, /ringing 731/) < 4000, '731 rung before the announcement would have ended');
});

t.test('in-band key 5 is not the proceed key: the announcement goes on, the caller hangs up, no ticket', async (t) => {
  const { pbx, app } = await setUp(t);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300 });
  const call = await caller(pbx.port, {
    digits: '5',
    dtmfMode: 'inband',
    telephoneEvent: null,
    digitPcap: inband,
    digitGapMs: INBAND_GAP_MS,
    firstDigitMs: 300,
    hangupAfterMs: 1000,
  });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  await app.proc.waitFor(/caller hung up in the waiting queue: no ticket/, 20000);
  const log = app.proc.output();
  t.match(log, /DTMF 5 \(inband\)/, 'the tone was heard as 5');
  t.match(log, /key 5 is not the proceed key 1: the announcement goes on/);
  t.notMatch(log, /proceed key 1 pressed|ringing /, 'the hunt did not start');
  t.same(app.ticketFiles(), [], 'no ticket file on the card');
  t.same(app.recordings(), [], 'no recording');
  t.equal(pbx.lines('REQ').filter((l) => /INVITE sip:731@/.test(l)).length, 0, 'the PBX saw no INVITE for 731');
  await tech.proc.stop();
  t.notOk(outcome(await tech.result(10000)), '731 was never called');
});
