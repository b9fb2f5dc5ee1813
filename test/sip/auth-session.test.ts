/**
 * Digest retry decisions (RFC 3261 §22.2, RFC 2617 §3.2.2): nonce count per
 * nonce, fresh cnonce, stale=true, one answer per challenge, no credentials.
 */
import t from 'tap';
import { AuthAttempt, AuthSession } from '../../src/sip/auth-session.js';
import { buildRequest, buildResponse } from '../../src/sip/request-builder.js';
import { parseUri } from '../../src/sip/uri.js';
import { memoryLogger } from '../../src/util/log.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';

function register(cseq = 1): SipRequest {
  return buildRequest({ method: 'REGISTER', uri: parseUri('sip:pbx.test'), from: '<sip:799@pbx.test>;tag=a', to: '<sip:799@pbx.test>', callId: 'c1', cseq, via: { host: '127.0.0.1', port: 5070, branch: 'z9hG4bKx' + cseq } });
}

function challenge(req: SipRequest, status: 401 | 407, value: string): SipResponse {
  return buildResponse(req, status, 'Unauthorized', { toTag: 't', headers: [[status === 401 ? 'www-authenticate' : 'proxy-authenticate', value]] });
}

const field = (h: string, name: string): string | undefined => new RegExp(`${name}="?([^",]+)"?`).exec(h)?.[1];

t.test('401 -> Authorization; nc counts per nonce, cnonce changes', async (t) => {
  const log = memoryLogger();
  const auth = new AuthSession(() => ({ username: '799', password: 'pw-secret' }), log);
  const ch = 'Digest realm="pbx", nonce="N1", qop="auth", algorithm=MD5';
  const a1 = auth.authorize(register(), challenge(register(), 401, ch), new AuthAttempt())!;
  const a2 = auth.authorize(register(2), challenge(register(2), 401, ch), new AuthAttempt())!;
  t.equal(a1[0][0], 'authorization');
  t.equal(field(a1[0][1], 'nc'), '00000001');
  t.equal(field(a2[0][1], 'nc'), '00000002', 'same nonce: count goes on');
  t.not(field(a1[0][1], 'cnonce'), field(a2[0][1], 'cnonce'));
  t.equal(field(a1[0][1], 'uri'), 'sip:pbx.test');
  const a3 = auth.authorize(register(3), challenge(register(3), 401, ch.replace('N1', 'N2')), new AuthAttempt())!;
  t.equal(field(a3[0][1], 'nc'), '00000001', 'new nonce starts at 1');
  t.notOk(log.lines.some((l) => l.includes('pw-secret')));
});

t.test('407 -> Proxy-Authorization', async (t) => {
  const auth = new AuthSession(() => ({ username: '701', password: 'x' }), memoryLogger());
  const h = auth.authorize(register(), challenge(register(), 407, 'Digest realm="proxy", nonce="P"'), new AuthAttempt())!;
  t.equal(h[0][0], 'proxy-authorization');
  t.equal(field(h[0][1], 'username'), '701');
});

t.test('the same realm challenging again: give up, unless stale=true (bounded)', async (t) => {
  const auth = new AuthSession(() => ({ username: '799', password: 'x' }), memoryLogger());
  const attempt = new AuthAttempt();
  const req = register();
  t.ok(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="1"'), attempt));
  t.equal(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="2"'), attempt), undefined, 'refused credentials are not retried');
  const stale = new AuthAttempt();
  t.ok(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="3"'), stale));
  t.ok(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="4", stale=true'), stale), 'stale: retried');
  t.ok(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="5", stale=TRUE'), stale), 'stale again: retried');
  t.equal(auth.authorize(req, challenge(req, 401, 'Digest realm="r", nonce="6", stale=true'), stale), undefined, 'but not forever');
});

t.test('no credentials, unknown realm, or an unsupported challenge: no retry', async (t) => {
  const req = register();
  t.equal(new AuthSession(undefined, memoryLogger()).authorize(req, challenge(req, 401, 'Digest realm="r", nonce="1"'), new AuthAttempt()), undefined);
  const picky = new AuthSession((realm) => (realm === 'mine' ? { username: 'u', password: 'p' } : undefined), memoryLogger());
  t.equal(picky.authorize(req, challenge(req, 401, 'Digest realm="other", nonce="1"'), new AuthAttempt()), undefined);
  t.equal(picky.authorize(req, challenge(req, 401, 'Basic realm="mine"'), new AuthAttempt()), undefined);
  t.equal(picky.authorize(req, challenge(req, 401, 'Digest realm="mine", nonce="1", qop="auth-int"'), new AuthAttempt()), undefined);
});

t.test('SHA-256 is preferred when offered next to MD5 (RFC 8760)', async (t) => {
  const auth = new AuthSession(() => ({ username: 'u', password: 'p' }), memoryLogger());
  const req = register();
  const res = buildResponse(req, 401, 'Unauthorized', { toTag: 't', headers: [['www-authenticate', 'Digest realm="r", nonce="1", algorithm=MD5, qop="auth"'], ['www-authenticate', 'Digest realm="r", nonce="1", algorithm=SHA-256, qop="auth"']] });
  const h = auth.authorize(req, res, new AuthAttempt())!;
  t.match(h[0][1], /algorithm=SHA-256/);
  t.match(field(h[0][1], 'response'), /^[0-9a-f]{64}$/);
});
