/**
 * The built appliance under hostile and broken input: scanners, a burst of
 * garbage datagrams, a broken prompt, a Ticket/ folder that cannot be
 * written, a PBX that goes away and comes back. After each phase a real
 * emergency call goes through end to end (the caller presses 1, the
 * technician answers, a ticket and an IM come out) and the appliance is
 * still the same process.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { startAppliance, removeCard, type Appliance, type ApplianceOptions } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { freePort } from '../lab/ports.js';
import { start, stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';
import { BROKEN_SDP, UdpProbe, hostileDatagram, linesSince, prng, request, sdpOffer, startPbxOn } from './robust-helpers.js';

t.teardown(stopAll);

const TEXT = /^\d\d\.\d\d\.\d{4}_\d\d\.\d\d_\d\d\.\d\d\.\d{4}_\d\d\.\d\d_Ticket_(\d+)_Caller_03472619287_Called_731$/;

/** One technician, 731, who answers; the example card otherwise. */
const SETUP: Omit<ApplianceOptions, 'pbxPort'> = { first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } } };

async function appliance(t: Test, pbxPort: number, extra: Partial<ApplianceOptions> = {}): Promise<Appliance> {
  const app = await startAppliance({ pbxPort, ...SETUP, ...extra });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output().slice(-6000)}`);
    removeCard(app);
  });
  return app;
}

/**
 * A real emergency call: the caller (through the PBX) presses 1, 731
 * answers and hangs up. Proves the call was released, the IM carries the
 * ticket text, and (unless `ticketFile` is false) the ticket file appeared.
 * The appliance must still be the process `pid`. Returns the IM text.
 */
async function emergencyCallWorks(t: Test, pbxPort: number, app: Appliance, pid: number | undefined, o: { ticketFile?: boolean } = {}): Promise<string> {
  const before = app.ticketFiles().length;
  const tech = await technician(pbxPort, '731', { kind: 'answer', afterMs: 300, hangupAfterMs: 1000 }, true);
  const call = await caller(pbxPort, { digits: '1' });
  const c = await call.result(60000);
  t.equal(outcome(c), 'released-by-appliance', 'the caller pressed 1, was put through and released when the technician hung up');
  const r = await tech.result(60000);
  t.equal(outcome(r), 'technician-hung-up', '731 answered the emergency call');
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
  await probe.send(request({ method: 'OPTIONS', user: '731', appPort: app.port, probe, callId: 'scan-options' }), app.port);
  const o = await probe.final('scan-options');
  t.equal(o.status, 200, 'out-of-dialog OPTIONS: 200');
  t.match(o.text, /^Allow:.*INVITE/im, 'with Allow');
  await probe.send(request({ method: 'REGISTER', user: '731', appPort: app.port, probe, callId: 'scan-register' }), app.port);
  const r = await probe.final('scan-register');
  t.equal(r.status, 405, 'REGISTER: 405 Method Not Allowed, the appliance is no registrar');
  t.match(r.text, /^Allow:/im, '405 says what is allowed (RFC 3261 §21.4.6)');

  const lines = linesSince(app.proc.output(), mark);
  const seconds = Math.ceil((Date.now() - t0) / 1000);
  t.ok(lines.length <= 2 * seconds + 5, `the scans left ${lines.length} log lines in ${seconds} s (bounded by the rate limit)`);
  t.notMatch(lines.join('\n'), /uncaught|unhandled/, 'nothing escaped a handler');
  await emergencyCallWorks(t, pbx.port, app, pid);
});
