/**
 * Issue 16: a flood of calls that never press a key, from an allowed source
 * (through the PBX, like every real caller), with a real emergency call in
 * the middle. The flood is held to its caps (MaxWaiting.txt, 2 per caller
 * number) and refused with 486 beyond them; the real caller presses 1 and
 * the technician's phone rings and is bridged; no port runs out.
 */
import t from 'tap';
import { startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { freeBlock } from '../lab/ports.js';
import { stopAll, until } from '../lab/proc.js';
import { sipp, type SippResult } from '../lab/sipp.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';
import { floodCallerScenario, scenarioFile } from './scenarios.js';

t.teardown(stopAll);

const CALLS = 150;
const FLOOD_FROM = '0699000000';

/** How many times the flood received `status` to its INVITE (the first row of that status in SIPp's screen). */
const received = (r: SippResult, status: string): number => r.counters.find((c) => c.direction === 'in' && c.message === status)?.messages ?? 0;

t.test('a flood of unkeyed calls gets 486 beyond its caps while a keyed call rings and bridges its technician', async (t) => {
  const pbx = await startKamailio();
  // the lab's pbx.ini has 20 RTP ports: 4 of them are reserved for the keyed call's legs (1 leg per hop x 4 calls)
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } }, files: { 'MaxWaiting.txt': '3\n' } });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output().slice(-8000)}`);
    removeCard(app);
  });
  t.match(app.proc.output(), /RTP: 4 of 20 ports reserved for the technician legs of calls that pressed the proceed key \(1 leg\(s\) per hop x 4 calls\); at most 3 callers wait for the key, 2 per caller/);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300 }, true);

  // 30 calls/s for 5 s, each hanging up 2 s after its answer without a key
  const flood = await sipp({
    scenario: scenarioFile('flood', floodCallerScenario({ from: FLOOD_FROM, holdMs: 2000 })),
    remote: `127.0.0.1:${pbx.port}`,
    service: '799',
    calls: CALLS,
    rate: 30,
    timeoutS: 150,
    extra: ['-mi', '127.0.0.1', '-mp', String(await freeBlock(4, 2))],
  });
  await until(() => /refused with 486/.test(app.proc.output()), 'the flood reaching its cap', 60000);
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 3000, from: '0612345678' });

  const c = await call.result(90000);
  t.equal(outcome(c), 'caller-hung-up', 'the real caller got in, pressed 1, was put through and hung up');
  const r = await tech.result(90000);
  t.equal(outcome(r), 'released-by-appliance', "731's phone rang, answered, and was released when the caller hung up");
  t.match(imOf(r)?.text ?? '', /_Ticket_\d+_Caller_0612345678_Called_731$/, '731 got the IM for the real call');

  const f = await flood.result(150000);
  const ok = received(f, '200');
  const busy = received(f, '486');
  t.equal(ok + busy, CALLS, `every flood call was answered (${ok}) or refused with 486 (${busy})`);
  t.equal(received(f, '503') + received(f, '500'), 0, 'no 503 (nor the 500 a proxy makes of it): 486 refuses only the call, not the appliance');
  // each flood call holds its place for 2 s and the number holds at most 2 places: most of the 150 are refused
  t.ok(busy >= 100, `the flood was refused beyond its caps (${busy} x 486)`);
  t.ok(ok >= 2, `the flood was let in up to its cap (${ok} answered)`);

  const log = app.proc.output();
  t.match(log, new RegExp(`WARN INVITE from \\S+ \\(caller ${FLOOD_FROM}\\) refused with 486: ${FLOOD_FROM} already has 2 calls waiting for the proceed key`));
  const lines = log.split('\n').filter((l) => /refused with 486/.test(l)).length;
  t.ok(lines < busy, `the 486s are logged rate-limited (${lines} lines for ${busy} refusals)`);
  t.notMatch(log, /no RTP port|exhausted|not rung/, 'no call ran out of RTP ports');
  t.notMatch(log, / ERROR /, 'no error logged');
  t.equal(app.proc.child.exitCode, null, 'the appliance is still running');
});

t.test('callers who never press a key cannot take the RTP ports reserved for a keyed call\'s technician legs', async (t) => {
  const pbx = await startKamailio();
  // MaxWaiting 30 lets the flood take every unreserved port (16 of the lab's 20); 4 stay reserved
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } }, files: { 'MaxWaiting.txt': '30\n' } });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output().slice(-8000)}`);
    removeCard(app);
  });
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300 }, true);
  // the real caller is answered first and presses 1 only once the flood holds every unreserved port
  const call = await caller(pbx.port, { digits: '1', firstDigitMs: 6000, hangupAfterMs: 3000, from: '0612345678' });
  await until(() => /answered 0612345678: announcement/.test(app.proc.output()), 'the real caller in the waiting queue', 60000);
  // 30 calls, each from its own number (the per-caller cap does not hold them), held 15 s
  const flood = await sipp({
    scenario: scenarioFile('flood', floodCallerScenario({ from: '0698[call_number]', holdMs: 15000 })),
    remote: `127.0.0.1:${pbx.port}`,
    service: '799',
    calls: 30,
    rate: 30,
    timeoutS: 150,
    extra: ['-mi', '127.0.0.1', '-mp', String(await freeBlock(4, 2))],
  });
  await until(() => /no RTP port for the caller 0698/.test(app.proc.output()), 'the flood holding every unreserved port', 60000);

  t.equal(outcome(await call.result(90000)), 'caller-hung-up', 'the real caller pressed 1, was put through and hung up');
  const r = await tech.result(90000);
  t.equal(outcome(r), 'released-by-appliance', "731's phone rang on a reserved port and was bridged");
  t.match(imOf(r)?.text ?? '', /_Caller_0612345678_Called_731$/);
  const f = await flood.result(150000);
  const ok = received(f, '200');
  // the appliance's 503 reaches the flood as 500: a proxy does not pass a 503 on (RFC 3261 §16.7 step 6)
  const noPort = received(f, '503') + received(f, '500');
  t.equal(ok + noPort, 30, `the flood was answered (${ok}) or refused for want of a port (${noPort})`);
  t.ok(ok <= 15, `the flood got at most the 15 unreserved ports the real caller left (${ok})`);
  const log = app.proc.output();
  t.match(log, /ERROR no RTP port for the caller 0698\d+: RTP port pool \d+-\d+: no port free outside the 4 reserved/);
  t.notMatch(log, /not rung|exhausted: every even port/, 'the keyed call found its port');
  t.equal(app.proc.child.exitCode, null, 'the appliance is still running');
});
