/**
 * Issue 10, never release an unanswered caller, end to end through Kamailio
 * with SIPp phones: a chain without a loop ends in the message phase (the
 * caller's message kept as a WAV, every technician notified), a looping
 * chain stops after Rounds.txt rounds, and a round in which everyone is busy
 * makes the caller hold, until three such rounds lead to the message phase.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startAppliance, removeCard, type Appliance } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { tonePcap } from './dtmf-pcap.js';
import { caller, imOf, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

const SHORT = { 'RetryPause.txt': '2', 'MessageSeconds.txt': '8' };

function showLogOnFailure(t: Test, app: Appliance): void {
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
}

/** The tickets as [called, END?] pairs, and whether their numbers are consecutive. */
function hops(files: string[]): { called: Array<[string | undefined, boolean | undefined]>; consecutive: boolean } {
  const p = files.map((f) => parseTicketFileName(basename(f)));
  return { called: p.map((x) => [x?.called, x?.final]), consecutive: p.every((x, i) => i === 0 || x?.ticket === (p[i - 1]?.ticket ?? NaN) + 1) };
}

/** sox's rough frequency and the length of a WAV. */
function wavInfo(wav: string): { seconds: number; hz: number; rate: number; channels: number } {
  const r = spawnSync('sox', [wav, '-n', 'stat'], { encoding: 'utf8' });
  const num = (re: RegExp): number => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const info = spawnSync('sox', ['--i', wav], { encoding: 'utf8' }).stdout;
  return { seconds: num(/Length \(seconds\):\s+([\d.]+)/), hz: num(/Rough\s+frequency:\s+(\d+)/), rate: Number(/Sample Rate\s*:\s*(\d+)/.exec(info)?.[1]), channels: Number(/Channels\s*:\s*(\d+)/.exec(info)?.[1]) };
}

t.test('a chain without a loop, nobody answering: the message phase, the WAV holds the caller\'s tone, everyone notified', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5, sms: { number: '3331000731' } }, '732': { timeoutSec: 5, sms: { number: '3331000732' } } },
    files: { ...SHORT, 'MessageSeconds.txt': '5' },
  });
  showLogOnFailure(t, app);
  const t731 = await technician(pbx.port, '731', { kind: 'ring' }, true);
  const t732 = await technician(pbx.port, '732', { kind: 'ring' }, true);
  const tone = join(mkdtempSync(join(tmpdir(), 'tl-tone-')), 'tone-440.pcap');
  writeFileSync(tone, tonePcap(440, 40));
  // the caller "speaks" a 440 Hz tone from the key press on and waits for the appliance to say goodbye
  const call = await caller(pbx.port, { digits: '1', audioPcap: tone });

  t.equal(outcome(await call.result(120000)), 'released-by-appliance', 'the caller is released only after the message');
  const log = app.proc.output();
  t.match(log, /nobody could be reached: the message phase/);
  t.match(log, /message of [\d.]+ s kept \(limit\)/, 'the 5 s limit ended the message');
  const files = await app.waitTickets(2);
  const h = hops(files);
  t.same(h.called, [['731', false], ['732', true]], 'one ticket per hop, the last one END');
  t.ok(h.consecutive, 'consecutive ticket numbers');
  const [pcap] = app.recordings();
  t.ok(pcap, 'the call was recorded');
  const numbers = files.map((f) => parseTicketFileName(basename(f))?.ticket);
  const wavs = readdirSync(dirname(pcap)).filter((f) => f.endsWith('.wav'));
  t.same(wavs, [`${basename(pcap, '.pcap')}_Message.wav`], 'the WAV sits next to the pcap, named like it');
  t.match(wavs[0] ?? '', new RegExp(`_Ticket_${numbers.join('_')}_`), 'with every ticket number of the call');
  const wav = join(dirname(pcap), wavs[0] ?? 'none');
  t.ok(existsSync(wav));
  const w = wavInfo(wav);
  t.equal(w.rate, 8000, '8 kHz');
  t.equal(w.channels, 1, 'mono');
  t.ok(w.seconds >= 4 && w.seconds <= 5.5, `about 5 s of message (${w.seconds} s)`);
  t.ok(Math.abs(w.hz - 440) < 20, `it holds the caller's 440 Hz tone (${w.hz} Hz)`);
  for (const [ext, tech] of [['731', t731], ['732', t732]] as const) {
    const r = await tech.result(30000);
    t.equal(outcome(r), 'cancelled', `${ext} rang out`);
    t.equal(imOf(r)?.text, files[1].replace(/_END_1\.txt$/, ''), `${ext} gets the IM with the last hop's ticket`);
    t.match(r.logs, new RegExp(`Message_waiting: ${wavs[0]}`), `${ext}'s IM says where the message is`);
  }
  await until(() => app.smsLog().length === 2, 'two SMS in SMS.log');
  const sms = app.smsLog().join('\n');
  t.match(sms, / 393331000731 .*_Called_732 Message_waiting: /, '731 gets the SMS');
  t.match(sms, / 393331000732 .*_Called_732 Message_waiting: /, '732 gets the SMS');
  await app.proc.waitFor(/over \(message\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(message\); RTP ports in use: 0/, 'no RTP port outlives the call');
});

t.test('a looping chain with Rounds.txt = 2: exactly two rounds of hops, then the message phase', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', timeoutSec: 5 } },
    files: { ...SHORT, 'Rounds.txt': '2' },
  });
  showLogOnFailure(t, app);
  const t731 = await technician(pbx.port, '731', { kind: 'ring' }, true, 2);
  const t732 = await technician(pbx.port, '732', { kind: 'ring' }, true, 2);
  // the caller says nothing and hangs up during the message phase
  const call = await caller(pbx.port, { digits: '1', hangupAfterMs: 27000 });
  t.equal(outcome(await call.result(120000)), 'caller-hung-up');
  await app.proc.waitFor(/over \(message\)/, 30000);
  const log = app.proc.output();
  t.match(log, /nobody could be reached: the message phase/);
  t.notMatch(log, /ringing \d+ as 5\.desk/, 'no fifth hop');
  const files = await app.waitTickets(4);
  const h = hops(files);
  t.same(h.called, [['731', false], ['732', false], ['731', false], ['732', true]], 'two rounds: four hops, the last END');
  t.ok(h.consecutive, 'consecutive ticket numbers');
  for (const [ext, tech] of [['731', t731], ['732', t732]] as const) {
    const r = await tech.result(30000);
    t.ok(imOf(r), `${ext} gets the IM`);
    t.notMatch(r.logs, /Message_waiting/, 'no message was left, none is announced');
  }
});

t.test('everyone busy: the hold prompt, the pause, the next round; after three such rounds the message phase', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', timeoutSec: 5 } },
    files: SHORT,
  });
  showLogOnFailure(t, app);
  const t731 = await technician(pbx.port, '731', { kind: 'busy' }, true, 3);
  const t732 = await technician(pbx.port, '732', { kind: 'busy' }, true, 3);
  const call = await caller(pbx.port, { digits: '1' });
  t.equal(outcome(await call.result(120000)), 'released-by-appliance', 'released after the message phase');
  const log = app.proc.output();
  const holds = log.match(/every technician of this round is busy or unreachable: the caller holds 2 s/g) ?? [];
  t.equal(holds.length, 2, 'two pauses between three busy rounds');
  t.match(log, /nobody could be reached: the message phase/);
  const files = await app.waitTickets(6);
  const h = hops(files);
  t.same(h.called, [['731', false], ['732', false], ['731', false], ['732', false], ['731', false], ['732', true]], 'every hop of the three rounds got its ticket');
  t.ok(h.consecutive, 'consecutive ticket numbers');
  for (const [ext, tech] of [['731', t731], ['732', t732]] as const) {
    const r = await tech.result(30000);
    t.equal((r.logs.match(/OUTCOME busy/g) ?? []).length, 3, `${ext} was rung once a round`);
    t.ok(imOf(r), `${ext} gets the IM`);
  }
  await app.proc.waitFor(/over \(message\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(message\); RTP ports in use: 0/);
});
