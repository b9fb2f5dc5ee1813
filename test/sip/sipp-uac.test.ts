/**
 * SIPp as the caller (UAC) against our UA core on 127.0.0.1: call set-up
 * and tear-down both ways, CANCEL/487, 486, 404, re-INVITE answered with
 * our SDP, INFO, OPTIONS, MESSAGE.
 */
import t, { type Test } from 'tap';
import { stopAll } from '../lab/proc.js';
import { sipp } from '../lab/sipp.js';
import { startTestUa, type TestUa } from './test-ua.js';

const TIMERS = { T1: 100, T2: 400, T4: 500, D: 1000 };

async function withUa(t: Test, behaviour: Parameters<typeof startTestUa>[0]): Promise<TestUa> {
  const ua = await startTestUa(behaviour, { timers: TIMERS });
  t.teardown(() => ua.stop());
  return ua;
}

t.teardown(stopAll);

t.test('SIPp calls, we answer, SIPp hangs up: dialog closed by their BYE', async (t) => {
  const ua = await withUa(t, { invite: 'answer' });
  const s = await sipp({ scenario: 'uac-call-hangup.xml', remote: `127.0.0.1:${ua.port}`, service: '799', extra: ['-d', '200'] });
  const r = await s.result();
  t.equal(r.code, 0, 'SIPp exit code 0');
  t.equal(r.successful, 1);
  t.match(r.logs, /ANSWER s=uas-answer$/m, 'our SDP in the 200');
  await ua.waitEvent(/^closed$/);
  t.same(ua.events, ['invite', 'ack', 'bye', 'closed']);
  t.equal(ua.ua.stats.dialogs, 0);
});

t.test('SIPp calls, we answer and hang up: SIPp gets our BYE', async (t) => {
  const ua = await withUa(t, { invite: 'answer', hangupAfterMs: 200 });
  const s = await sipp({ scenario: 'uac-call-wait-bye.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const r = await s.result();
  t.equal(r.code, 0);
  t.equal(r.successful, 1);
  await ua.waitEvent(/^bye-sent$/);
  t.same(ua.events, ['invite', 'ack', 'closed', 'bye-sent']);
});

t.test('no ACK for our 200: retransmitted until 64*T1, then accept() rejects and a BYE ends the session', async (t) => {
  const ua = await withUa(t, { invite: 'answer' });
  const s = await sipp({ scenario: 'uac-no-ack.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const failed = await ua.waitEvent(/^accept-failed/);
  t.match(failed, /no ACK/);
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp got the BYE' : r.output.slice(-2000));
  t.ok(ua.ua.stats.coreRetransmissions >= 5, `2xx retransmitted ${ua.ua.stats.coreRetransmissions} times`);
  t.equal(ua.ua.stats.dialogs, 0);
});

t.test('SIPp cancels while we ring: 200 to CANCEL, 487 to INVITE, TU told', async (t) => {
  const ua = await withUa(t, { invite: 'ring' });
  const s = await sipp({ scenario: 'uac-cancel.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const r = await s.result();
  t.equal(r.code, 0);
  t.equal(r.successful, 1);
  t.same(r.counters.filter((c) => c.message === '200' || c.message === '487').map((c) => c.messages), [1, 1], '200 to CANCEL and 487 received');
  t.same(ua.events, ['invite', 'cancel']);
});

for (const code of [486, 404]) {
  t.test(`we reject with ${code}: SIPp receives it and ACKs it inside our transaction`, async (t) => {
    const ua = await withUa(t, { invite: code });
    const s = await sipp({ scenario: `uac-reject-${code}.xml`, remote: `127.0.0.1:${ua.port}`, service: '799' });
    const r = await s.result();
    t.equal(r.code, 0);
    t.equal(r.successful, 1);
    const retrans = r.counters.find((c) => c.message === String(code));
    t.equal(retrans?.messages, 1, `one ${code} seen (no retransmission once ACKed)`);
  });
}

t.test('re-INVITE from SIPp is answered with our current SDP; INFO and OPTIONS in the dialog get 200', async (t) => {
  const ua = await withUa(t, { invite: 'answer' });
  const s = await sipp({ scenario: 'uac-reinvite-info.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'rc 0' : r.output.slice(-2000));
  t.match(r.logs, /REINVITE-ANSWER s=uas-answer$/m, 'our answer SDP came back in the re-INVITE 200');
  await ua.waitEvent(/^closed$/);
  t.same(ua.events, ['invite', 'ack', 'reinvite:sipp-reoffer', 'info:application/dtmf-relay:Signal=1\r\nDuration=160', 'bye', 'closed']);
});

t.test('re-INVITE answered with the SDP the TU gives', async (t) => {
  const ua = await withUa(t, { invite: 'answer', reinviteSdp: 'v=0\r\ns=tu-answer\r\n' });
  const s = await sipp({ scenario: 'uac-reinvite-info.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const r = await s.result();
  t.equal(r.code, 0);
  t.match(r.logs, /REINVITE-ANSWER s=tu-answer$/m);
});

t.test('MESSAGE from SIPp reaches the TU, which answers 200', async (t) => {
  const ua = await withUa(t, {});
  const s = await sipp({ scenario: 'uac-message.xml', remote: `127.0.0.1:${ua.port}`, service: '799', calls: 3 });
  const r = await s.result();
  t.equal(r.code, 0);
  t.equal(r.successful, 3);
  t.same(ua.events.sort(), ['request:MESSAGE:hello from sipp 1', 'request:MESSAGE:hello from sipp 2', 'request:MESSAGE:hello from sipp 3']);
});

t.test('OPTIONS is answered 200 with Allow by the UA core', async (t) => {
  const ua = await withUa(t, {});
  const s = await sipp({ scenario: 'uac-options.xml', remote: `127.0.0.1:${ua.port}`, service: '799' });
  const r = await s.result();
  t.equal(r.code, 0);
  t.match(r.logs, /ALLOW MESSAGE/);
  t.same(ua.events, [], 'not passed to the TU');
  t.equal(ua.ua.stats.servers, 0, 'answered statelessly: no transaction kept');
});

t.test('beyond maxServerTransactions new MESSAGEs get a stateless 503; calls are still served', async (t) => {
  const ua = await startTestUa({ invite: 'answer' }, { timers: { ...TIMERS, T1: 500 }, maxServerTransactions: 3 });
  t.teardown(() => ua.stop());
  const s = await sipp({ scenario: 'uac-message.xml', remote: `127.0.0.1:${ua.port}`, service: '799', calls: 6, rate: 100 });
  const r = await s.result();
  t.equal(r.successful, 3, 'three fit (Timer J keeps them 32 s)');
  t.equal(r.failed, 3, 'three got 503');
  t.equal(ua.ua.overloadRejected, 3);
  const call = await sipp({ scenario: 'uac-call-hangup.xml', remote: `127.0.0.1:${ua.port}`, service: '799', extra: ['-d', '100'] });
  t.equal((await call.result()).code, 0, 'an INVITE still gets through');
});
