/**
 * The built appliance under hostile and broken input: scanners, a burst of
 * garbage datagrams, a broken prompt, a Ticket/ folder that cannot be
 * written, a PBX that goes away and comes back. After each phase a real
 * emergency call goes through end to end (the caller presses 1, the
 * technician answers, a ticket and an IM come out) and the appliance is
 * still the same process.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startAppliance, removeCard, type Appliance, type ApplianceOptions } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { freePort } from '../lab/ports.js';
import { start, stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';
import { BROKEN_SDP, UdpProbe, hostileDatagram, inDialog, linesSince, prng, request, sdpOffer, startPbxOn } from './robust-helpers.js';

t.teardown(stopAll);

const TEXT = /^\d\d\.\d\d\.\d{4}_\d\d\.\d\d_\d\d\.\d\d\.\d{4}_\d\d\.\d\d_Ticket_(\d+)_Caller_03472619287_Called_731$/;

/** One technician, 731, who answers; the example card otherwise. */
const SETUP: Omit<ApplianceOptions, 'pbxPort'> = { first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } } };

async function appliance(t: Test, pbxPort: number, extra: Partial<ApplianceOptions> = {}): Promise<Appliance> {
  const app = await startAppliance({ pbxPort, ...SETUP, ...extra });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output().split('\n').filter((l) => !/refused with 403/.test(l)).join('\n').slice(-6000)}`);
    removeCard(app);
  });
  return app;
}

/**
 * A real emergency call: the caller (through the PBX) presses 1, 731
 * answers, the caller hangs up. Proves the call was released, the IM carries the
 * ticket text, and (unless `ticketFile` is false) the ticket file appeared.
 * The appliance must still be the process `pid`. Returns the IM text.
 */
async function emergencyCallWorks(t: Test, pbxPort: number, app: Appliance, pid: number | undefined, o: { ticketFile?: boolean } = {}): Promise<string> {
  // (a Ticket that is not a folder cannot be listed)
  const before = o.ticketFile === false ? 0 : app.ticketFiles().length;
  const tech = await technician(pbxPort, '731', { kind: 'answer', afterMs: 300 }, true);
  // the caller hangs up 3 s after pressing 1: the technician has answered by then
  const call = await caller(pbxPort, { digits: '1', hangupAfterMs: 3000 });
  const c = await call.result(60000);
  t.equal(outcome(c), 'caller-hung-up', 'the caller pressed 1, was put through, talked and hung up');
  const r = await tech.result(60000);
  if (!t.equal(outcome(r), 'released-by-appliance', '731 answered the emergency call and was released when the caller hung up')) {
    t.comment(`731's SIPp:\n${r.logs.slice(-3000)}\n${r.output.slice(-2000)}`);
  }
  const im = imOf(r)?.text ?? '';
  t.match(im, TEXT, '731 got the IM with the ticket text');
  if (o.ticketFile !== false) {
    const files = await app.waitTickets(before + 1);
    const last = files[files.length - 1];
    t.equal(last, `${im}_END_1.txt`, 'the ticket file is the IM text + END');
    t.equal(parseTicketFileName(basename(last))?.called, '731');
  }
  t.equal(app.proc.child.pid, pid, 'the same appliance process (never restarted)');
  t.equal(app.proc.child.exitCode, null, 'the appliance is still running');
  return im;
}

function homeDir(t: Test): string {
  const home = mkdtempSync(join(tmpdir(), 'tl-sipvicious-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** Run a sipvicious tool against the appliance only: loopback, explicit port, bounded twice. */
async function sipvicious(home: string, tool: 'svmap' | 'svwar', args: string[]): Promise<{ code: number | string; out: string }> {
  const bindPort = await freePort();
  const p = start(tool, 'timeout', ['60', tool, '-b', '127.0.0.1', '-P', String(bindPort), '-x', '127.0.0.1', ...args, '127.0.0.1'], {
    env: { ...process.env, HOME: home },
  });
  const code = await p.exited(90000);
  return { code, out: p.output() };
}

t.test('svmap and svwar scan the appliance: OPTIONS answered 200, REGISTER 405 (not a registrar), the log stays quiet, a call still works', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const pid = app.proc.child.pid;
  const home = homeDir(t);
  const mark = app.proc.output().length;
  const t0 = Date.now();

  const map = await sipvicious(home, 'svmap', ['-p', String(app.port)]);
  t.match(map.out, new RegExp(`127\\.0\\.0\\.1:${app.port}\\s*\\|\\s*ticketline/`), 'svmap finds the appliance and its User-Agent');
  const reg = await sipvicious(home, 'svwar', ['-p', String(app.port), '-e', '700-799', '-m', 'REGISTER', '-t', '0.01', '--maximumtime', '15']);
  t.not(reg.code, 124, 'svwar REGISTER ended by itself');
  t.notMatch(reg.out, /reqauth|\| 7\d\d /, 'svwar finds no extension to attack (every REGISTER gets the same 405)');
  const opt = await sipvicious(home, 'svwar', ['-p', String(app.port), '-e', '700-799', '-m', 'OPTIONS', '-t', '0.01', '--maximumtime', '15', '--force']);
  t.not(opt.code, 124, 'svwar OPTIONS ended by itself');
  t.comment(`svmap: ${map.out.trim().split('\n').slice(-4).join(' / ')}`);
  t.comment(`svwar REGISTER: ${reg.out.trim().split('\n').slice(-2).join(' / ')}`);
  t.comment(`svwar OPTIONS: ${opt.out.trim().split('\n').slice(-2).join(' / ')}`);

  // what a scanner sees, checked directly
  const probe = await UdpProbe.open();
  t.teardown(() => probe.close());
  const o = await probe.ask(request({ method: 'OPTIONS', user: '731', appPort: app.port, probe, callId: 'scan-options' }), app.port, 'scan-options');
  t.equal(o.status, 200, 'out-of-dialog OPTIONS: 200');
  t.match(o.text, /^Allow:.*INVITE/im, 'with Allow');
  const r = await probe.ask(request({ method: 'REGISTER', user: '731', appPort: app.port, probe, callId: 'scan-register' }), app.port, 'scan-register');
  t.equal(r.status, 405, 'REGISTER: 405 Method Not Allowed, the appliance is no registrar');
  t.match(r.text, /^Allow:/im, '405 says what is allowed (RFC 3261 §21.4.6)');

  const lines = linesSince(app.proc.output(), mark);
  const seconds = Math.ceil((Date.now() - t0) / 1000);
  t.ok(lines.length <= 2 * seconds + 5, `the scans left ${lines.length} log lines in ${seconds} s (bounded by the rate limit)`);
  t.notMatch(lines.join('\n'), /uncaught|unhandled/, 'nothing escaped a handler');
  await emergencyCallWorks(t, pbx.port, app, pid);
});

t.test('a burst of 5000 garbage and pathological datagrams: no crash, readable ones get 400, the stranger gets 403, the log is bounded, a call still works', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const pid = app.proc.child.pid;
  const probe = await UdpProbe.open();
  t.teardown(() => probe.close());
  const mark = app.proc.output().length;
  await garbageBurst(t, app, probe);
  await malformedRequests(t, app, probe);
  await strangers(t, app);
  t.notMatch(linesSince(app.proc.output(), mark).join('\n'), /uncaught|unhandled|ticketline .* ready in .*[\s\S]*ready in/, 'nothing escaped a handler');
  t.equal(app.ticketFiles().length, 0, 'no ticket from any of it');
  await emergencyCallWorks(t, pbx.port, app, pid);
});

/** 5000 seeded datagrams (random bytes, INVITEs cut short, the largest UDP datagrams), 25 every 10 ms. */
async function garbageBurst(t: Test, app: Appliance, probe: UdpProbe): Promise<void> {
  const mark = app.proc.output().length;
  const t0 = Date.now();
  const rnd = prng(0x5eed);
  const kinds = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const { kind, buf } = hostileDatagram(rnd, i, app.port, probe);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    await probe.send(buf, app.port);
    if (i % 25 === 24) await new Promise((r) => setTimeout(r, 10));
  }
  t.comment(`sent: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}; send errors: ${probe.sendErrors}`);
  // the appliance has worked through its queue when it answers a probe sent after the burst
  const after = await probe.ask(request({ method: 'OPTIONS', user: '799', appPort: app.port, probe, callId: 'after-burst' }), app.port, 'after-burst');
  t.equal(after.status, 200, 'the appliance answers OPTIONS right after the burst');
  const burstLines = linesSince(app.proc.output(), mark);
  const seconds = Math.ceil((Date.now() - t0) / 1000);
  t.ok(burstLines.length <= 2 * seconds + 5, `the burst left ${burstLines.length} log lines in ${seconds} s (rate-limited)`);
  t.match(burstLines.join('\n'), /SIP: dropped .*\(\+\d+ more since the last line\)/, 'dropped input is summarised, not logged one line each');
  const cut = probe.answers.filter((a) => /^(cut|max)\d+$/.test(a.callId));
  t.ok(cut.length > 0, `${cut.length} truncated INVITEs were answered`);
  t.same([...new Set(cut.map((a) => a.status))], [400], 'every answered truncated INVITE got 400, none started a call');
  t.notOk(probe.answers.some((a) => a.status < 200 || (a.status >= 200 && a.status < 300 && a.callId !== 'after-burst')), 'no 1xx/2xx to anything in the burst');

}

/** Requests with readable headers but broken in one way each: 400/404/488 with the cause, never a call. */
async function malformedRequests(t: Test, app: Appliance, probe: UdpProbe): Promise<void> {
  // malformed with readable headers: 400 each, with the cause in the reason phrase
  const bad: Array<[string, string, RegExp]> = [
    ['short-body', request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'short-body', body: sdpOffer(), contentLength: '400' }), /shorter than Content-Length/],
    ['huge-cl', request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'huge-cl', body: sdpOffer(), contentLength: '999999999' }), /shorter than Content-Length/],
    ['bad-cl', request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'bad-cl', body: sdpOffer(), contentLength: '12345678901234567890' }), /Content-Length/],
    ['cseq', request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'cseq', body: sdpOffer() }).replace('CSeq: 1 INVITE', 'CSeq: 1 BYE'), /CSeq/],
    ['maxfwd', request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'maxfwd', body: sdpOffer() }).replace('Max-Forwards: 70', 'Max-Forwards: 9999'), /Max-Forwards/],
  ];
  for (const [id, msg, why] of bad) {
    const a = await probe.ask(msg, app.port, id);
    t.equal(a.status, 400, `${id}: 400`);
    t.match(a.reason, why, `${id}: the reason names the cause (${a.reason})`);
  }

  // a request with 1000 Via headers (about 45 KB): answered, nothing breaks
  const vias = await probe.ask(request({ method: 'OPTIONS', user: '799', appPort: app.port, probe, callId: 'vias', vias: 1000 }), app.port, 'vias');
  t.equal(vias.status, 200, 'OPTIONS with 1000 Vias answered 200');
  t.equal((vias.text.match(/^Via:/gim) ?? []).length, 1000, 'the answer carries the 1000 Vias back (RFC 3261 §8.2.6.2)');
  const viasInvite = await probe.ask(request({ method: 'INVITE', user: '12345', appPort: app.port, probe, callId: 'vias-invite', vias: 1000, body: sdpOffer() }), app.port, 'vias-invite');
  t.equal(viasInvite.status, 404, 'INVITE with 1000 Vias for an unknown number: 404');

  // INVITEs for 799 from an allowed source with broken SDP: refused, never answered
  for (const [i, sdp] of BROKEN_SDP.entries()) {
    const a = await probe.ask(request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: `sdp${i}`, body: sdp }), app.port, `sdp${i}`);
    t.ok(a.status === 400 || a.status === 488, `broken SDP ${i}: ${a.status} ${a.reason}`);
    await probe.send(ackFor(a.text), app.port);
  }

  // the largest datagram UDP over IPv4 carries is 65507 bytes: anything larger never reaches the appliance
  const errorsBefore = probe.sendErrors;
  await probe.send(Buffer.alloc(70000, 0x41), app.port);
  t.equal(probe.sendErrors, errorsBefore + 1, 'a 70000-byte datagram cannot even be sent (EMSGSIZE)');

  // an SDP whose c= is a host name, not an address: the appliance would resolve whatever a caller writes there
  // ("localhost" is in /etc/hosts: no DNS query leaves the machine)
  const host = await probe.ask(request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'sdp-host', body: sdpOffer().replace('c=IN IP4 127.0.0.1', 'c=IN IP4 localhost') }), app.port, 'sdp-host');
  t.equal(host.status, 488, `INVITE with c=IN IP4 localhost refused: ${host.status} ${host.reason}`);
  if (host.status >= 200 && host.status < 300) {
    // end that call cleanly: ACK, then BYE
    await probe.send(inDialog('ACK', host, probe, 1), app.port);
    t.equal((await probe.ask(inDialog('BYE', host, probe, 2), app.port, 'sdp-host', 'BYE')).status, 200, 'the call it started ends with our BYE');
  }

}

/** INVITEs from 127.0.0.2, outside pbx.ini's allow (127.0.0.1): 403, one at a time and as a flood. */
async function strangers(t: Test, app: Appliance): Promise<void> {
  // an INVITE from a source outside pbx.ini's allow list (127.0.0.2; allow is 127.0.0.1): 403
  const stranger = await UdpProbe.open('127.0.0.2');
  t.teardown(() => stranger.close());
  const s = await stranger.ask(request({ method: 'INVITE', user: '799', appPort: app.port, probe: stranger, callId: 'stranger', body: sdpOffer('127.0.0.2') }), app.port, 'stranger');
  t.equal(s.status, 403, 'INVITE from outside the allow list: 403');
  await stranger.send(ackFor(s.text), app.port);
  // refusals share one rate-limited log line a second: a stranger that keeps trying is named within a second or two
  let tries = 0;
  await until(
    async () => {
      const id = `stranger-again${++tries}`;
      await stranger.ask(request({ method: 'INVITE', user: '799', appPort: app.port, probe: stranger, callId: id, body: sdpOffer('127.0.0.2') }), app.port, id);
      return /INVITE from 127\.0\.0\.2:\d+ refused with 403: not in pbx\.ini allow/.test(app.proc.output());
    },
    'a log line naming the stranger',
    10000,
    100,
  );
  t.pass(`one line names the stranger and the cause (after ${tries} INVITE(s))`);

  // a scanner's INVITE flood from outside the allow list: every INVITE gets 403, the log must stay bounded
  const flood = linesSince(app.proc.output(), 0).length;
  const f0 = Date.now();
  for (let i = 0; i < 300; i++) {
    await stranger.send(request({ method: 'INVITE', user: String(100 + i), appPort: app.port, probe: stranger, callId: `flood${i}`, body: sdpOffer('127.0.0.2') }), app.port);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
  }
  await until(() => stranger.answers.filter((a) => a.callId.startsWith('flood') && a.status === 403).length >= 300, '300 answers 403', 30000).catch(() => false);
  const refused = new Set(stranger.answers.filter((a) => a.callId.startsWith('flood') && a.status === 403).map((a) => a.callId)).size;
  t.equal(refused, 300, 'each of 300 INVITEs from the stranger got 403');
  const floodLines = linesSince(app.proc.output(), 0).slice(flood).filter((l) => /127\.0\.0\.2/.test(l)).length;
  const floodSeconds = Math.ceil((Date.now() - f0) / 1000);
  t.ok(floodLines <= 2 * floodSeconds + 5, `the flood left ${floodLines} log lines in ${floodSeconds} s (rate-limited)`);
  t.match(app.proc.output(), /refused with 403: not in pbx\.ini allow \(\+\d+ more since the last line\)/, 'the rest are counted on the next line');
  for (const [i, a] of stranger.answers.filter((x) => x.callId.startsWith('flood')).slice(0, 300).entries()) {
    await stranger.send(ackFor(a.text), app.port);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
  }

}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final answer, built from the answer. */
function ackFor(res: string): string {
  const get = (h: string): string => new RegExp(`^${h}\\s*:\\s*([^\\r\\n]*)`, 'im').exec(res)?.[1] ?? '';
  const to = get('To');
  const uri = /<([^>]+)>/.exec(to)?.[1] ?? 'sip:invalid';
  return [`ACK ${uri} SIP/2.0`, `Via: ${get('Via')}`, 'Max-Forwards: 70', `From: ${get('From')}`, `To: ${to}`, `Call-ID: ${get('Call-ID')}`, `CSeq: ${get('CSeq').split(' ')[0]} ACK`, 'Content-Length: 0', '', ''].join('\r\n');
}

t.test('a broken announcement.wav on the running card: the caller hears a fallback tone, one error names the file, the key still starts the hunt', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const pid = app.proc.child.pid;
  const wav = join(app.app, 'announcement.wav');
  const mark = app.proc.output().length;
  writeFileSync(wav, Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk'), randomBytes(4000)]));
  await emergencyCallWorks(t, pbx.port, app, pid);
  const lines = linesSince(app.proc.output(), mark);
  const prompt = lines.filter((l) => /ERROR .*prompt .*announcement\.wav not playable .*playing a tone instead/.test(l));
  t.equal(prompt.length, 1, 'one error line names the broken prompt and says a tone plays instead');
  t.ok(lines.some((l) => /proceed key 1 pressed/.test(l)), 'the key was heard while the fallback tone played');
  const naming = lines.filter((l) => /announcement\.wav/.test(l));
  t.ok(naming.length <= 2, `at most one more line names it, the card check's (logged once while the problem lasts): ${naming.length}`);
});

t.test('Ticket/ cannot be created (a file named Ticket is in the way): the call still rings and is answered, the errors name the ticket folder, the IM says Ticket_0 (no number is given that has no file), and the number goes to the next call once the card is fixed', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port, { files: { 'TicketNR.txt': '41' } });
  const pid = app.proc.child.pid;
  const ticketDir = join(app.app, 'Ticket');
  rmSync(ticketDir, { recursive: true, force: true });
  writeFileSync(ticketDir, 'a file where the Ticket folder should be\n');
  const mark = app.proc.output().length;

  const im = await emergencyCallWorks(t, pbx.port, app, pid, { ticketFile: false });
  // a number is given only once its hop is journaled in Ticket/ (every number taken ends up as a file)
  t.equal(TEXT.exec(im)?.[1], '0', 'the IM carries Ticket_0: the card needs attention');
  const errors = linesSince(app.proc.output(), mark).filter((l) => / ERROR /.test(l));
  t.ok(errors.length >= 1 && errors.length <= 2, `one or two error lines (the number, the log file): ${errors.join(' | ')}`);
  t.ok(errors.every((l) => /hop 1.*Ticket.*(EEXIST|ENOTDIR)/.test(l)), 'each names the hop, the folder and the cause');
  t.ok(statSync(ticketDir).isFile(), 'the file in the way was left alone');
  t.equal(app.recordings().length, 1, 'the call was still recorded');
  t.equal(readFileSync(join(app.app, 'TicketNR.txt'), 'utf8').trim(), '41', 'ticket 41 was not given: no gap in the numbers');

  // the card is fixed: the next call's ticket is written again, with the number that was not given
  rmSync(ticketDir);
  const next = await emergencyCallWorks(t, pbx.port, app, pid);
  t.equal(TEXT.exec(next)?.[1], '41', 'the next call gets ticket 41');
  t.ok(existsSync(join(ticketDir, `${next}_END_1.txt`)), 'and its ticket file');
});

t.test('the PBX goes away and comes back on the same port: the refresh fails, the appliance retries by itself and registers at the new PBX, the next call works', async (t) => {
  // bindings of 10 s: the appliance refreshes every 5 s, so it notices the PBX is gone
  const pbx = await startPbxOn(undefined, { maxExpires: 10 });
  const app = await appliance(t, pbx.port);
  const pid = app.proc.child.pid;
  t.match(app.proc.output(), /registered for 10 s/, 'registered with the PBX’s 10 s binding');
  await pbx.proc.stop();
  // the refresh REGISTER times out after 64*T1 = 32 s (RFC 3261 §17.1.2.2, Timer F): that is the failure
  const failed = await app.proc.waitFor(/registration failed: 408 .*; retry in \d+ s/, 60000);
  t.match(failed[0], /retry in 5 s/, `one line says the registration failed and when it is retried: ${failed[0]}`);
  const registeredBefore = (app.proc.output().match(/registered for \d+ s/g) ?? []).length;
  // the new PBX grants the usual lifetimes (the technicians' 300 s bindings must outlive a slow call set-up)
  const pbx2 = await startPbxOn(pbx.port);
  await until(() => (app.proc.output().match(/registered for \d+ s/g) ?? []).length > registeredBefore, 'the appliance registered at the new PBX', 30000);
  t.ok(pbx2.lines('REQ').some((l) => /REQ REGISTER/.test(l)), 'the new PBX got the appliance’s REGISTER');
  await emergencyCallWorks(t, pbx2.port, app, pid);
});

t.test('the PBX restarts at once and forgets the binding (1 h lifetime): the appliance notices by its OPTIONS probe to its own number (every 10 s), registers again at once, and the next call works', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const pid = app.proc.child.pid;
  const registeredBefore = (app.proc.output().match(/registered for \d+ s/g) ?? []).length;
  const mark = app.proc.output().length;
  await pbx.proc.stop();
  const pbx2 = await startPbxOn(pbx.port);
  // the restart is too quick for any REGISTER to fail: the probe finds the PBX no longer routes 799 (404)
  await app.proc.waitFor(/the PBX does not route sip:799@\S+ \(OPTIONS answered 404 [^)]*\): registering again now/, 30000);
  t.notMatch(app.proc.output().slice(mark), /registration failed/, 'no failed REGISTER on the way');
  await until(
    () => pbx2.lines('REQ').some((l) => l.includes(`REQ REGISTER`) && l.includes(`from 127.0.0.1:${app.port}`)) && (app.proc.output().match(/registered for \d+ s/g) ?? []).length > registeredBefore,
    'the appliance registered at the restarted PBX',
    45000,
  );
  t.pass('the appliance registered at the restarted PBX by itself');
  await emergencyCallWorks(t, pbx2.port, app, pid);
});

t.test('the technician hangs up: the appliance sends no BYE back into the dialog the technician ended (RFC 3261 §15.1.2)', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1000 }, true);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(60000)), 'released-by-appliance', 'the caller is released when the technician hangs up');
  // with a stray BYE from us, SIPp would abort the technician's call (an unexpected BYE)
  t.equal(outcome(await tech.result(60000)), 'technician-hung-up', "731's call ended by its own BYE, nothing unexpected");
  const fromApp = pbx.lines('REQ').filter((l) => l.includes(`from 127.0.0.1:${app.port}`));
  t.ok(fromApp.some((l) => /REQ BYE sip:03472619287@/.test(l)), 'the appliance sent BYE to the caller');
  const byeToTech = fromApp.filter((l) => /REQ BYE sip:731@/.test(l));
  t.equal(byeToTech.length, 0, `no BYE from the appliance to 731: ${byeToTech.join(' | ')}`);
});
