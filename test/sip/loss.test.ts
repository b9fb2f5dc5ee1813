/**
 * The same call flows with SIPp dropping 10 % of what it sends and
 * receives (-lost 10): our retransmissions (timers A, E, G, the 2xx
 * retransmission until ACK, ACK re-sent on 2xx retransmissions) must carry
 * every call through. Checked: SIPp's exit code and counters, our
 * retransmission counters, and that every dialog and transaction ends.
 */
import t from 'tap';
import { stopAll, until } from '../lab/proc.js';
import { sipp, totalRetrans } from '../lab/sipp.js';
import { parseUri } from '../../src/sip/uri.js';
import type { Dialog } from '../../src/sip/dialog.js';
import { sdp, startTestUa, type TestUa } from './test-ua.js';

const TIMERS = { T1: 100, T2: 400, T4: 500, D: 1000 };
const CALLS = 20;
t.teardown(stopAll);

/** Retransmissions over the whole file: one flow may by chance lose nothing that needs ours. */
const total = { ours: 0, sipp: 0 };
function count(ua: TestUa, sippRetrans = 0): string {
  const s = ua.ua.stats;
  total.ours += s.retransmissions + s.coreRetransmissions;
  total.sipp += sippRetrans;
  return `we retransmitted ${s.retransmissions} times in transactions, ${s.coreRetransmissions} times in the core (2xx/ACK); SIPp ${sippRetrans} times`;
}

async function drained(ua: TestUa): Promise<void> {
  // Every transaction ends by its own timers (64*T1 at most), every dialog by BYE.
  await until(() => {
    const s = ua.ua.stats;
    return s.dialogs === 0 && s.clients === 0 && s.servers === 0;
  }, 'all dialogs and transactions ended', 30000);
}

t.test(`SIPp calls us ${CALLS} times with 10 % loss: every call set up and torn down`, async (t) => {
  const ua = await startTestUa({ invite: 'answer' }, { timers: TIMERS });
  t.teardown(() => ua.stop());
  const s = await sipp({ scenario: 'uac-call-hangup.xml', remote: `127.0.0.1:${ua.port}`, service: '799', calls: CALLS, rate: 5, lost: 10, extra: ['-d', '300'], timeoutS: 120 });
  const r = await s.result(150000);
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2500));
  t.equal(r.successful, CALLS);
  t.equal(r.failed, 0);
  t.comment(count(ua, totalRetrans(r)));
  t.equal(ua.events.filter((e) => e === 'invite').length, CALLS, 'each INVITE reached the TU once (retransmissions absorbed)');
  await drained(ua);
});

t.test(`we call SIPp ${CALLS / 2} times with 10 % loss and hang up: every call completes`, async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  const n = CALLS / 2;
  const s = await sipp({ scenario: 'uas-answer.xml', calls: n, lost: 10, timeoutS: 120 });
  for (let i = 0; i < n; i++) {
    const target = parseUri(`sip:732@127.0.0.1:${s.port}`);
    const out = ua.ua.invite({ target, from: { uri: parseUri('sip:799@127.0.0.1'), params: new Map() }, to: { uri: target, params: new Map() }, sdp: sdp(`call-${i}`) });
    const d = await new Promise<Dialog>((resolve, reject) => {
      out.on('answered', (dlg) => resolve(dlg));
      out.on('failed', (_res, reason) => reject(new Error(`call ${i}: ${reason}`)));
    });
    // A short conversation: long enough for SIPp's 200 retransmission (500 ms) when our ACK was lost.
    await new Promise((r) => setTimeout(r, 700));
    await d.bye();
  }
  const r = await s.result(150000);
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2500));
  t.equal(r.successful, n);
  t.comment(count(ua, totalRetrans(r)));
  await drained(ua);
});

t.test(`MESSAGE both ways with 10 % loss: ${CALLS} delivered each way`, async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  const inbound = await sipp({ scenario: 'uac-message.xml', remote: `127.0.0.1:${ua.port}`, service: '799', calls: CALLS, rate: 10, lost: 10, timeoutS: 120 });
  const outbound = await sipp({ scenario: 'uas-message.xml', calls: CALLS, lost: 10, timeoutS: 120 });
  const target = parseUri(`sip:732@127.0.0.1:${outbound.port}`);
  const statuses: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const res = await ua.ua.request({ method: 'MESSAGE', target, from: { uri: parseUri('sip:799@127.0.0.1'), params: new Map() }, to: { uri: target, params: new Map() }, body: Buffer.from(`m${i}`), contentType: 'text/plain' });
    statuses.push(res.status);
  }
  t.same(statuses, new Array(CALLS).fill(200), `every MESSAGE we sent got its 200: ${statuses.join(',')}`);
  const ri = await inbound.result(150000);
  const ro = await outbound.result(150000);
  t.equal(ri.code, 0, 'SIPp sender rc 0');
  t.equal(ri.successful, CALLS);
  t.equal(ro.code, 0, 'SIPp receiver rc 0');
  t.equal(new Set(ua.events.filter((e) => e.startsWith('request:MESSAGE'))).size, CALLS, 'each inbound MESSAGE reached the TU once');
  t.comment(count(ua, totalRetrans(ri) + totalRetrans(ro)));
  await drained(ua);
});

for (const [scenario, behaviour, what] of [
  ['uac-cancel.xml', { invite: 'ring' }, 'CANCEL/487'],
  ['uac-reject-486.xml', { invite: 486 }, '486 + ACK'],
] as const) {
  t.test(`SIPp ${what} ${CALLS / 2} times with 10 % loss: every transaction completes`, async (t) => {
    const ua = await startTestUa(behaviour, { timers: TIMERS });
    t.teardown(() => ua.stop());
    const s = await sipp({ scenario, remote: `127.0.0.1:${ua.port}`, service: '799', calls: CALLS / 2, rate: 5, lost: 10, timeoutS: 120 });
    const r = await s.result(150000);
    t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2500));
    t.equal(r.successful, CALLS / 2);
    t.equal(ua.events.filter((e) => e === 'invite').length, CALLS / 2, 'each INVITE reached the TU once');
    if (scenario === 'uac-cancel.xml') t.equal(ua.events.filter((e) => e === 'cancel').length, CALLS / 2, 'each CANCEL reached the TU once');
    t.comment(count(ua, totalRetrans(r)));
    await drained(ua);
  });
}

t.test('retransmissions happened on both sides over these flows', async (t) => {
  t.ok(total.ours > 0, `ours: ${total.ours}`);
  t.ok(total.sipp > 0, `SIPp's: ${total.sipp}`);
});
