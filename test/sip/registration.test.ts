/**
 * Registration client against a SIPp registrar that challenges (digest
 * qop=auth, stale nonce, refresh, un-REGISTER), and the backoff after
 * failures.
 */
import t from 'tap';
import { stopAll, until } from '../lab/proc.js';
import { sipp } from '../lab/sipp.js';
import { parseUri } from '../../src/sip/uri.js';
import { Registration } from '../../src/sip/registration.js';
import { startTestUa } from './test-ua.js';
import { createSocket } from 'node:dgram';
import { parseMessage } from '../../src/sip/parser.js';
import { buildResponse, reasonFor } from '../../src/sip/request-builder.js';
import { serialize } from '../../src/sip/serializer.js';

const TIMERS = { T1: 100, T2: 400, T4: 500, D: 1000 };
t.teardown(stopAll);

t.test('REGISTER with digest, refresh through a stale nonce, un-REGISTER on stop', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS, credentials: (realm) => (realm === 'sipp.test' ? { username: '799', password: 's3cret-pw' } : undefined) });
  t.teardown(() => ua.stop());
  const s = await sipp({ scenario: 'uas-register-auth.xml' });
  const reg = new Registration({ ua: ua.ua, registrar: parseUri(`sip:127.0.0.1:${s.port}`), aor: parseUri('sip:799@127.0.0.1'), expires: 60, logger: ua.log });
  const events: string[] = [];
  reg.on('registered', (e) => events.push(`registered:${e}`));
  reg.on('failed', (r) => events.push(`failed:${r}`));
  reg.on('unregistered', () => events.push('unregistered'));
  const second = new Promise<void>((resolve) => reg.on('registered', () => events.filter((e) => e.startsWith('registered')).length === 2 && resolve()));
  reg.start();
  await second; // the 2 s binding is refreshed after ~1 s
  t.equal(reg.status, 'registered');
  t.equal(reg.expires, 2, 'expires from our Contact in the 200');
  await reg.stop();
  t.same(events, ['registered:2', 'registered:2', 'unregistered']);
  const r = await s.result();
  t.equal(r.code, 0, r.code === 0 ? 'SIPp rc 0' : r.output.slice(-2000) + r.logs);
  t.match(r.logs, /AUTH-1 OK nc=00000001/);
  t.match(r.logs, /AUTH-2 OK after stale/);
  t.match(r.logs, /UNREGISTER Expires 0/);
  t.notMatch(r.logs, /AUTH FAILED|LOOP/);
  t.notOk(ua.log.lines.some((l) => l.includes('s3cret-pw')), 'password never logged');
});

t.test('wrong password: one retry, then failed with the reason and a backoff retry timer; no loop', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS, credentials: () => ({ username: '799', password: 'wrong' }) });
  t.teardown(() => ua.stop());
  const s = await sipp({ scenario: 'uas-register-auth.xml' });
  const reg = new Registration({ ua: ua.ua, registrar: parseUri(`sip:127.0.0.1:${s.port}`), aor: parseUri('sip:799@127.0.0.1'), logger: ua.log, backoffMs: 60000 });
  const failed = new Promise<string>((resolve) => reg.on('failed', resolve));
  reg.start();
  t.match(await failed, /^401 /);
  t.equal(reg.status, 'failed');
  const r = await s.result();
  t.match(r.logs, /AUTH FAILED/);
  t.notMatch(r.logs, /LOOP/, 'no REGISTER after the refused challenge');
  await reg.stop();
  t.notOk(ua.log.lines.some((l) => l.includes('wrong')), 'password never logged');
});

t.test('registrar answering 503: failed each time, retried with a doubling backoff up to the cap', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  const registrar = await startTestUa({ requestStatus: 503 }, { timers: TIMERS });
  t.teardown(() => registrar.stop());
  const reg = new Registration({ ua: ua.ua, registrar: registrar.uri('registrar'), aor: parseUri('sip:799@127.0.0.1'), logger: ua.log, backoffMs: 100, maxBackoffMs: 400 });
  const times: number[] = [];
  const t0 = Date.now();
  const five = new Promise<void>((resolve) => reg.on('failed', () => (times.push(Date.now() - t0), times.length === 5 && resolve())));
  reg.start();
  await five;
  await reg.stop();
  t.equal(reg.status, 'stopped');
  const gaps = times.slice(1).map((v, i) => v - times[i]);
  t.ok(gaps[1] > gaps[0] * 1.3 && gaps[2] > gaps[1] * 1.3, `backoff doubles: ${gaps.join(',')}`);
  t.ok(gaps[3] < gaps[2] * 1.5, `capped: ${gaps.join(',')}`);
  t.equal(registrar.events.filter((e) => e.startsWith('request:REGISTER')).length, 5, 'no un-REGISTER for a binding never made');
  t.match(reg.lastError, /^503 /);
});

/** A registrar of the test's own: answers every request on a UDP socket with `status()` (REGISTER and OPTIONS alike). */
async function rawRegistrar(status: () => number): Promise<{ port: number; methods: string[]; close(): void }> {
  const sock = createSocket('udp4');
  const methods: string[] = [];
  sock.on('message', (buf, rinfo) => {
    const r = parseMessage(buf);
    if (!r.ok || r.message.type !== 'request') return;
    methods.push(r.message.method);
    const res = buildResponse(r.message, status(), reasonFor(status()), { toTag: 'reg1' });
    sock.send(serialize(res), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: sock.address().port, methods, close: () => sock.close() };
}

t.test('the probe: an OPTIONS to our own AOR answered 404 (the PBX forgot us) registers again at once, without waiting for the refresh', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  let answer = 200;
  const pbx = await rawRegistrar(() => answer);
  t.teardown(() => pbx.close());
  // a 1 h binding: the refresh is 30 s away, so only the probe can explain a second REGISTER within the test
  const reg = new Registration({ ua: ua.ua, registrar: parseUri(`sip:127.0.0.1:${pbx.port}`), aor: parseUri('sip:799@127.0.0.1'), expires: 3600, logger: ua.log, probeMs: 200, backoffMs: 100 });
  const count = (m: string): number => pbx.methods.filter((x) => x === m).length;
  const registered = (): Promise<void> => new Promise((resolve) => reg.once('registered', () => resolve()));
  const first = registered();
  reg.start();
  await first;
  await until(() => count('OPTIONS') >= 2, 'two probes');
  t.equal(count('REGISTER'), 1, 'probes while the PBX routes us: no second REGISTER');
  // the PBX restarts with an empty location table: our own number is "Not Found"
  answer = 404;
  const failed = new Promise<string>((resolve) => reg.once('failed', resolve));
  t.match(await failed, /^404 /, 're-registered at once, and the (still forgetful) PBX refused it');
  t.ok(ua.log.lines.some((l) => /the PBX does not route sip:799@127\.0\.0\.1 \(OPTIONS answered 404 .*\): registering again now/.test(l)), 'one line says why it registers again');
  answer = 200;
  await registered();
  t.equal(reg.status, 'registered', 'registered again by the retry');
  t.equal(count('REGISTER'), 3, 'the first, the one after the 404 probe, and the retry');
  await reg.stop();
});

t.test('nobody answers the REGISTER: retried after the first backoff step each time, not a doubled one (Timer F already paced it)', async (t) => {
  const ua = await startTestUa({}, { timers: TIMERS });
  t.teardown(() => ua.stop());
  // a port where nothing listens: every REGISTER times out (Timer F = 64*T1 = 6.4 s with these timers)
  const reg = new Registration({ ua: ua.ua, registrar: parseUri(`sip:127.0.0.1:9`), aor: parseUri('sip:799@127.0.0.1'), logger: ua.log, backoffMs: 100 });
  let n = 0;
  const two = new Promise<void>((resolve) => reg.on('failed', () => ++n === 2 && resolve()));
  reg.start();
  await two;
  await reg.stop();
  const lines = ua.log.lines.filter((l) => /registration failed: 408 .*retry in/.test(l));
  t.equal(lines.length, 2, lines.join(' | '));
  t.ok(lines.every((l) => /retry in 0 s/.test(l)), `the same first step each time: ${lines.join(' | ')}`);
});
