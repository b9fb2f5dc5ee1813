/**
 * The four transaction state machines (RFC 3261 §17) with short injected
 * timers: what goes on the wire, which state follows which input, and that
 * every timer is gone once a transaction ends.
 */
import t from 'tap';
import type { Endpoint, SipMessage, SipRequest, SipResponse } from '../../src/sip/message.js';
import { timerValues } from '../../src/sip/timers.js';
import { memoryLogger } from '../../src/util/log.js';
import { buildRequest, buildResponse } from '../../src/sip/request-builder.js';
import { parseUri } from '../../src/sip/uri.js';
import { TransactionLayer } from '../../src/sip/transaction/layer.js';
import { InviteClientTransaction } from '../../src/sip/transaction/client-invite.js';
import { NonInviteClientTransaction } from '../../src/sip/transaction/client-non-invite.js';
import { InviteServerTransaction } from '../../src/sip/transaction/server-invite.js';
import { NonInviteServerTransaction } from '../../src/sip/transaction/server-non-invite.js';
import type { ClientFailure } from '../../src/sip/transaction/common.js';

const T = timerValues({ T1: 20, T2: 80, T4: 50, D: 100, trying: 30 });
const PEER: Endpoint = { address: '127.0.0.1', port: 5999 };

interface Wire {
  sent: Array<{ msg: SipMessage; at: number }>;
  layer: TransactionLayer;
  failNext: boolean;
}

function wire(): Wire {
  const w: Wire = { sent: [], failNext: false, layer: undefined as unknown as TransactionLayer };
  const t0 = Date.now();
  const send = (msg: SipMessage, _d: Endpoint, onError?: (e: Error) => void): void => {
    w.sent.push({ msg, at: Date.now() - t0 });
    if (w.failNext) setImmediate(() => onError?.(new Error('EHOSTUNREACH')));
  };
  w.layer = new TransactionLayer({ send, sendResponse: (r, e) => send(r, PEER, e), timers: T, logger: memoryLogger() });
  return w;
}

function request(method: string, branch = 'z9hG4bK' + Math.random().toString(36).slice(2)): SipRequest {
  return buildRequest({
    method,
    uri: parseUri('sip:732@127.0.0.1:5999'),
    from: '<sip:799@127.0.0.1>;tag=abc',
    to: '<sip:732@127.0.0.1>',
    callId: 'call-1@test',
    cseq: 7,
    via: { host: '127.0.0.1', port: 5070, branch },
  });
}

function user() {
  const got: { responses: number[]; failed?: ClientFailure } = { responses: [] };
  return {
    got,
    tu: { response: (r: SipResponse) => got.responses.push(r.status), failed: (reason: ClientFailure) => (got.failed = reason) },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const requests = (w: Wire, method: string) => w.sent.filter((s) => s.msg.type === 'request' && s.msg.method === method);
const statuses = (w: Wire) => w.sent.filter((s) => s.msg.type === 'response').map((s) => (s.msg as SipResponse).status);

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(5);
  }
}

t.test('INVITE client: Timer A doubles until Timer B times the transaction out (§17.1.1.2)', async (t) => {
  const w = wire();
  const { got, tu } = user();
  const tx = w.layer.sendRequest(request('INVITE'), PEER, tu) as InviteClientTransaction;
  t.equal(tx.state, 'calling');
  await until(() => tx.state === 'terminated');
  t.equal(got.failed, 'timeout');
  const at = requests(w, 'INVITE').map((s) => s.at);
  // 0, 20, 60, 140, 300, 620, 1260 -> 7 sends within B = 64*T1 = 1280 ms
  t.ok(at.length >= 5 && at.length <= 7, `sent at ${at.join(',')}`);
  // Timers never fire early, so each gap is at least T1 * 2^i (load can only make it longer).
  for (let i = 1; i < at.length; i++) t.ok(at[i] - at[i - 1] >= T.T1 * 2 ** (i - 1) - 2, `gap ${i} >= ${T.T1 * 2 ** (i - 1)} ms`);
  t.same(w.layer.size, { clients: 0, servers: 0 });
});

t.test('INVITE client: 1xx stops retransmissions, non-2xx is ACKed in the transaction and absorbed in Completed', async (t) => {
  const w = wire();
  const { got, tu } = user();
  const req = request('INVITE');
  const tx = w.layer.sendRequest(req, PEER, tu) as InviteClientTransaction;
  w.layer.receiveResponse(buildResponse(req, 180, 'Ringing', { toTag: 'x' }));
  t.equal(tx.state, 'proceeding');
  await sleep(100);
  t.equal(requests(w, 'INVITE').length, 1, 'no retransmission in Proceeding');
  const busy = buildResponse(req, 486, 'Busy Here', { toTag: 'x' });
  w.layer.receiveResponse(busy);
  t.equal(tx.state, 'completed');
  const acks = requests(w, 'ACK');
  t.equal(acks.length, 1);
  const ack = acks[0].msg as SipRequest;
  t.equal(ack.headers.get('via'), req.headers.get('via'), 'ACK carries the INVITE branch (§17.1.1.3)');
  t.match(ack.headers.get('to'), /tag=x/);
  t.equal(ack.headers.get('cseq'), '7 ACK');
  w.layer.receiveResponse(busy);
  t.equal(requests(w, 'ACK').length, 2, 'retransmitted 486 gets the ACK again');
  t.same(got.responses, [180, 486], 'retransmission not passed up');
  await until(() => tx.state === 'terminated'); // Timer D
  t.same(w.layer.size, { clients: 0, servers: 0 });
});

t.test('INVITE client: 2xx terminates at once and is passed up (ACK is the core\'s)', async (t) => {
  const w = wire();
  const { got, tu } = user();
  const req = request('INVITE');
  const tx = w.layer.sendRequest(req, PEER, tu);
  w.layer.receiveResponse(buildResponse(req, 200, 'OK', { toTag: 'y' }));
  t.equal(tx.state, 'terminated');
  t.same(got.responses, [200]);
  t.equal(requests(w, 'ACK').length, 0);
  t.notOk(w.layer.receiveResponse(buildResponse(req, 200, 'OK', { toTag: 'y' })), 'a retransmitted 2xx matches no transaction');
});

t.test('INVITE client: a transport error ends the transaction', async (t) => {
  const w = wire();
  w.failNext = true;
  const { got, tu } = user();
  const tx = w.layer.sendRequest(request('INVITE'), PEER, tu);
  await until(() => tx.state === 'terminated');
  t.equal(got.failed, 'transport-error');
});

t.test('non-INVITE client: Timer E doubles up to T2, then Timer F (§17.1.2.2)', async (t) => {
  const w = wire();
  const { got, tu } = user();
  const tx = w.layer.sendRequest(request('MESSAGE'), PEER, tu) as NonInviteClientTransaction;
  await until(() => tx.state === 'terminated');
  t.equal(got.failed, 'timeout');
  const at = requests(w, 'MESSAGE').map((s) => s.at);
  const gaps = at.slice(1).map((v, i) => v - at[i]);
  for (let i = 0; i < gaps.length; i++) t.ok(gaps[i] >= Math.min(T.T1 * 2 ** i, T.T2) - 2, `gap ${i + 1} >= min(T1*2^i, T2)`);
  // Uncapped doubling would allow only 7 sends within F = 64*T1; capped at T2 there are up to 17.
  t.ok(at.length >= 9, `${at.length} sends: the interval stopped doubling at T2 (${gaps.join(',')})`);
});

t.test('non-INVITE client: provisional moves to Proceeding (E = T2), final to Completed, K ends it', async (t) => {
  const w = wire();
  const { got, tu } = user();
  const req = request('MESSAGE');
  const tx = w.layer.sendRequest(req, PEER, tu) as NonInviteClientTransaction;
  w.layer.receiveResponse(buildResponse(req, 100, 'Trying'));
  t.equal(tx.state, 'proceeding');
  await sleep(T.T2 + 30);
  t.equal(requests(w, 'MESSAGE').length, 2, 'one retransmission after T2 in Proceeding');
  w.layer.receiveResponse(buildResponse(req, 200, 'OK', { toTag: 'z' }));
  t.equal(tx.state, 'completed');
  w.layer.receiveResponse(buildResponse(req, 200, 'OK', { toTag: 'z' }));
  t.same(got.responses, [100, 200], 'final retransmission absorbed');
  await until(() => tx.state === 'terminated');
});

t.test('INVITE server: 100 Trying when the TU is slow, final retransmitted by G until ACK, I ends it', async (t) => {
  const w = wire();
  const req = request('INVITE');
  const tx = w.layer.createServer(req) as InviteServerTransaction;
  await until(() => statuses(w).includes(100));
  w.layer.matchRequest(req)?.receive(req);
  t.same(statuses(w), [100], 'a retransmitted INVITE before any TU response is absorbed');
  tx.respond(buildResponse(req, 486, 'Busy Here', { toTag: 'q' }));
  t.equal(tx.state, 'completed');
  await sleep(T.T1 * 3 + 10);
  t.ok(statuses(w).filter((s) => s === 486).length >= 2, 'G retransmits the final response');
  const ack = buildRequest({ method: 'ACK', uri: req.uri, from: '<sip:799@127.0.0.1>;tag=abc', to: '<sip:732@127.0.0.1>;tag=q', callId: 'call-1@test', cseq: 7, via: { host: '127.0.0.1', port: 5070, branch: req.headers.get('via')!.match(/branch=([^;]+)/)![1] } });
  const m = w.layer.matchRequest(ack);
  t.ok(m, 'ACK matches the INVITE transaction (§17.2.3)');
  m!.receive(ack);
  t.equal(tx.state, 'confirmed');
  const n = statuses(w).length;
  await until(() => tx.state === 'terminated');
  t.equal(statuses(w).length, n, 'no retransmission after ACK');
});

t.test('INVITE server: no 100 when the TU answers quickly; 2xx goes to Accepted and absorbs retransmissions (RFC 6026)', async (t) => {
  const w = wire();
  const req = request('INVITE');
  const tx = w.layer.createServer(req) as InviteServerTransaction;
  tx.respond(buildResponse(req, 180, 'Ringing', { toTag: 'r' }));
  w.layer.matchRequest(req)?.receive(req);
  t.same(statuses(w), [180, 180], 'retransmitted INVITE gets the last provisional');
  tx.respond(buildResponse(req, 200, 'OK', { toTag: 'r' }));
  t.equal(tx.state, 'accepted');
  w.layer.matchRequest(req)?.receive(req);
  t.same(statuses(w), [180, 180, 200], 'INVITE retransmission absorbed in Accepted');
  await sleep(T.trying + 20);
  t.notOk(statuses(w).includes(100));
  await until(() => tx.state === 'terminated', 3000);
});

t.test('INVITE server: Timer H ends Completed when no ACK comes', async (t) => {
  const w = wire();
  const req = request('INVITE');
  const tx = w.layer.createServer(req) as InviteServerTransaction;
  let failed = '';
  tx.user = { failed: (r) => (failed = r) };
  tx.respond(buildResponse(req, 404, 'Not Found', { toTag: 'h' }));
  await until(() => tx.state === 'terminated', 3000);
  t.equal(failed, 'no-ack');
  const n = statuses(w).filter((s) => s === 404).length;
  t.ok(n >= 8 && n <= 25, `G retransmissions capped at T2 (${n})`);
});

t.test('non-INVITE server: retransmissions absorbed in Trying, answered in Completed, J ends it', async (t) => {
  const w = wire();
  const req = request('MESSAGE');
  const tx = w.layer.createServer(req) as NonInviteServerTransaction;
  w.layer.matchRequest(req)?.receive(req);
  t.same(statuses(w), []);
  tx.respond(buildResponse(req, 200, 'OK', { toTag: 'm' }));
  w.layer.matchRequest(req)?.receive(req);
  t.same(statuses(w), [200, 200]);
  await until(() => tx.state === 'terminated', 3000);
  t.equal(w.layer.matchRequest(req), undefined);
});

t.test('matching: same branch but other sent-by or method is another transaction; CANCEL finds its INVITE', async (t) => {
  const w = wire();
  const inv = request('INVITE', 'z9hG4bKsame');
  w.layer.createServer(inv);
  t.equal(w.layer.matchRequest(request('MESSAGE', 'z9hG4bKsame')), undefined);
  const other = request('INVITE', 'z9hG4bKsame');
  other.headers.set('via', 'SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKsame');
  t.equal(w.layer.matchRequest(other), undefined);
  t.ok(w.layer.matchCancel(request('CANCEL', 'z9hG4bKsame')));
  w.layer.stop();
  t.same(w.layer.size, { clients: 0, servers: 0 });
});

t.test('non-INVITE server: a TU that never answers gets a 500 after 64*T1, so the transaction cannot leak', async (t) => {
  const w = wire();
  const tx = w.layer.createServer(request('MESSAGE')) as NonInviteServerTransaction;
  await until(() => statuses(w).length > 0, 5000);
  t.same(statuses(w), [500]);
  t.equal(tx.state, 'completed');
  t.equal(tx.method, 'MESSAGE');
  w.layer.stop();
});
