/**
 * Our UA core calls SIPp (as UAS) on 127.0.0.1: set-up and tear-down both
 * ways, we CANCEL (with Reason), 486 and 404 ACKed in the transaction,
 * MESSAGE sent with request().
 */
import t, { type Test } from 'tap';
import { stopAll } from '../lab/proc.js';
import { sipp } from '../lab/sipp.js';
import { parseUri } from '../../src/sip/uri.js';
import type { Dialog } from '../../src/sip/dialog.js';
import type { SipResponse } from '../../src/sip/message.js';
import type { OutgoingInvite } from '../../src/sip/ua.js';
import { sdp, startTestUa, type TestUa } from './test-ua.js';

const TIMERS = { T1: 100, T2: 400, T4: 500, D: 1000 };

t.teardown(stopAll);

async function withUa(t: Test): Promise<TestUa> {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  return ua;
}

function call(ua: TestUa, port: number): { out: OutgoingInvite; outcome: Promise<{ dialog?: Dialog; res?: SipResponse; reason?: string; provisional: number[] }> } {
  const target = parseUri(`sip:732@127.0.0.1:${port}`);
  const out = ua.ua.invite({ target, from: { uri: parseUri('sip:799@127.0.0.1'), params: new Map(), display: 'Hotline' }, to: { uri: target, params: new Map() }, sdp: sdp('our-offer') });
  const provisional: number[] = [];
  out.on('provisional', (r) => provisional.push(r.status));
  const outcome = new Promise<{ dialog?: Dialog; res?: SipResponse; reason?: string; provisional: number[] }>((resolve) => {
    out.on('answered', (dialog, res) => resolve({ dialog, res, provisional }));
    out.on('failed', (res, reason) => resolve({ res, reason, provisional }));
  });
  return { out, outcome };
}

t.test('we call SIPp, it answers, we hang up', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-answer.xml' });
  const { outcome } = call(ua, s.port);
  const o = await outcome;
  t.ok(o.dialog, 'answered');
  t.same(o.provisional, [180]);
  t.match(o.dialog!.remoteSdp, /s=sipp-answer/);
  t.equal(o.dialog!.remoteTarget.port, s.port, 'remote target from Contact');
  await o.dialog!.bye();
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000));
  t.match(r.logs, /OFFER s=our-offer FROM\s+"Hotline" <sip:799@127\.0\.0\.1>;tag=/);
  t.equal(r.counters.find((c) => c.message === 'ACK')?.messages, 1, 'SIPp got our ACK');
  t.equal(ua.ua.stats.dialogs, 0);
});

t.test('we call SIPp, it answers and hangs up: we get bye + closed', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-answer-hangup.xml', extra: ['-d', '200'] });
  const { outcome } = call(ua, s.port);
  const o = await outcome;
  t.ok(o.dialog);
  const events: string[] = [];
  await new Promise<void>((resolve) => {
    o.dialog!.on('bye', () => events.push('bye'));
    o.dialog!.on('closed', () => {
      events.push('closed');
      resolve();
    });
  });
  t.same(events, ['bye', 'closed']);
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000));
});

t.test('in the dialog we re-INVITE (answer becomes the remote SDP, Contact refreshes the target) and send INFO', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-answer-reinvite.xml' });
  const { outcome } = call(ua, s.port);
  const d = (await outcome).dialog!;
  t.match(d.remoteSdp, /s=sipp-answer/);
  const re = await d.reinvite(sdp('our-reoffer'));
  t.equal(re.status, 200);
  t.match(d.remoteSdp, /s=sipp-reanswer/, 'remote SDP from the re-INVITE answer');
  t.match(d.localSdp, /s=our-reoffer/);
  t.equal(d.remoteTarget.params.get('refreshed'), 'yes', 'remote target refreshed from the 2xx Contact (§12.2.1.2)');
  const info = await d.request('INFO', Buffer.from('Signal=5\r\nDuration=160\r\n'), 'application/dtmf-relay');
  t.equal(info.status, 200);
  await d.bye();
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000));
  t.match(r.logs, /REOFFER s=our-reoffer/);
  t.match(r.logs, /ACK to refreshed target refreshed=yes/);
  t.match(r.logs, /INFO Signal=5/);
});

t.test('a BYE challenged with 401 in the dialog is sent again with Authorization and the next CSeq (SIPp verifies only Authorization; 407 + Proxy-Authorization is proven with Kamailio)', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS, credentials: () => ({ username: '799', password: 's3cret-pw' }) });
  t.teardown(() => ua.stop());
  const s = await sipp({ scenario: 'uas-answer-bye-auth.xml' });
  const { outcome } = call(ua, s.port);
  const d = (await outcome).dialog!;
  const firstByeSeq = d.localSeq + 1;
  await d.bye();
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000));
  t.notMatch(r.logs, /BYE AUTH FAILED/);
  t.match(r.logs, new RegExp(`BYE AUTH CSeq ${firstByeSeq + 1}`));
});

t.test('we cancel a ringing call: CANCEL with Reason, 487 ends it as failed', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-ring.xml' });
  const { out, outcome } = call(ua, s.port);
  out.on('provisional', () => out.cancel('Call completed elsewhere'));
  const o = await outcome;
  t.equal(o.res?.status, 487);
  t.equal(o.dialog, undefined);
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000));
  t.match(r.logs, /CANCEL-REASON text="Call completed elsewhere"/);
});

t.test('cancel before any provisional waits for one (§9.1), then cancels', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-ring.xml' });
  const { out, outcome } = call(ua, s.port);
  out.cancel();
  const o = await outcome;
  t.equal(o.res?.status, 487, o.reason ?? '');
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2500) + r.logs);
});

/** Cancel the call just as its 200 arrives, before the UA sees it: the CANCEL and the 200 cross. */
function cancelOn200(ua: TestUa, out: OutgoingInvite): void {
  const deliver = ua.transport.onMessage!;
  ua.transport.onMessage = (m, src) => {
    if (m.type === 'response' && m.status === 200 && /INVITE/.test(m.headers.get('cseq') ?? '')) out.cancel();
    deliver(m, src);
  };
}

t.test('a 200 that crosses our CANCEL is ACKed and hung up (BYE) automatically', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-answer-crossing.xml' });
  const { out, outcome } = call(ua, s.port);
  cancelOn200(ua, out);
  const o = await outcome;
  t.equal(o.res?.status, 200);
  t.equal(o.dialog, undefined, 'not passed up as answered');
  t.match(o.reason, /answered after CANCEL: ACK and BYE sent/);
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp got CANCEL, ACK and BYE' : r.output.slice(-2000));
});

t.test('a TU that wants the crossing 200 gets the dialog', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-answer-crossing.xml' });
  const { out, outcome } = call(ua, s.port);
  out.acceptAnswerAfterCancel = true;
  cancelOn200(ua, out);
  const o = await outcome;
  t.ok(o.dialog, 'answered');
  t.match(o.dialog!.remoteSdp, /s=sipp-late-answer/);
  await o.dialog!.bye();
  t.equal((await s.result()).code, 0);
});

for (const code of [486, 404]) {
  t.test(`SIPp answers ${code}: failed with the response, ACK sent by our transaction`, async (t) => {
    const ua = await withUa(t);
    const s = await sipp({ scenario: `uas-reject-${code}.xml` });
    const { outcome } = call(ua, s.port);
    const o = await outcome;
    t.equal(o.res?.status, code);
    t.match(o.reason, new RegExp(`^${code} `));
    const r = await s.result();
    t.equal(r.code, 0);
    t.equal(r.counters.find((c) => c.message === 'ACK')?.messages, 1);
  });
}

t.test('MESSAGE sent with request() is delivered and answered 200', async (t) => {
  const ua = await withUa(t);
  const s = await sipp({ scenario: 'uas-message.xml' });
  const target = parseUri(`sip:732@127.0.0.1:${s.port}`);
  const res = await ua.ua.request({
    method: 'MESSAGE',
    target,
    from: { uri: parseUri('sip:03472619287@127.0.0.1'), params: new Map() },
    to: { uri: target, params: new Map() },
    body: Buffer.from('12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732'),
    contentType: 'text/plain',
  });
  t.equal(res.status, 200);
  const r = await s.result();
  t.equal(r.code, 0);
  t.match(r.logs, /MESSAGE sip:03472619287@ 12\.10\.2012_14\.00_12\.10\.2012_14\.05_Ticket_1234_Caller_03472619287_Called_732/);
});

t.test('request() to a silent peer resolves with a local 408 after Timer F', async (t) => {
  const ua = await withUa(t);
  const silent = await startTestUa({}, { timers: TIMERS });
  await silent.stop(); // its port is now closed: nobody answers (ICMP may give 503 instead)
  const target = parseUri(`sip:1@127.0.0.1:${silent.port}`);
  const res = await ua.ua.request({ method: 'OPTIONS', target, from: { uri: target, params: new Map() }, to: { uri: target, params: new Map() } });
  t.ok(res.status === 408 || res.status === 503, `${res.status} ${res.reason}`);
  t.match(res.reason, /local/);
});
