/**
 * Issue 15 end to end, the recording's side: the built appliance through
 * Kamailio, SIPp as caller (streaming SIPp's 7 s PCMA capture after the key)
 * and technician.
 * - A board at 1970 whose clock NTP steps by +56 years while the technician's
 *   phone rings (libfaketime, offset file re-read at every clock read): the
 *   recording is continuous and lasts what the call lasted, the ticket's two
 *   stamps are real (same year, end >= start, the call's length), the IM
 *   carries them, the recording's name carries the real time and the ticket.
 * - TicketNR.txt.lock held by a live process: the technician's phone rings
 *   and is answered while the lock is still held; the recording file exists
 *   (valid, named without a ticket yet) before the number is known; once the
 *   lock is released the ticket is written and the recording renamed to it.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DIST, removeCard, startAppliance, type Appliance } from '../lab/appliance.js';
import { fakeClock, libfaketime } from '../lab/faketime.js';
import { startKamailio } from '../lab/kamailio.js';
import { start, stopAll, until } from '../lab/proc.js';
import { caller, imOf, technician } from '../hotline/e2e-helpers.js';
import { readCapture } from '../../src/record/pcap-reader.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';

const G711A = '/usr/share/sip-tester/g711a.pcap';
const dir = mkdtempSync(join(tmpdir(), 'tl-clock-e2e-'));
t.teardown(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function keepLog(t: { teardown(fn: () => void): void; passing(): boolean; comment(s: string): void }, app: Appliance): void {
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
}

/** Seconds from the first to the last packet, and the longest silence between two packets. */
function timeline(pcap: string): { firstUs: number; spanSec: number; maxGapSec: number; packets: number } {
  const { packets } = readCapture(readFileSync(pcap));
  let maxGap = 0;
  for (let i = 1; i < packets.length; i++) maxGap = Math.max(maxGap, packets[i].timeUs - packets[i - 1].timeUs);
  const first = packets[0]?.timeUs ?? 0;
  return { firstUs: first, spanSec: ((packets.at(-1)?.timeUs ?? 0) - first) / 1e6, maxGapSec: maxGap / 1e6, packets: packets.length };
}

const localDay = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

t.test('a board at 1970, the clock stepped +56 years while the phone rings: continuous recording, real ticket stamps', { skip: !libfaketime() && 'faketime not installed' }, async (t) => {
  const clock = fakeClock(dir);
  clock.at1970();
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { timeoutSec: 30 } }, clockFile: clock.file });
  keepLog(t, app);
  t.match(app.proc.output(), /^1970-01-01T/, 'the appliance runs at 1970');
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 3000, hangupAfterMs: 2000 }, true);
  const call = await caller(pbx.port, { digits: '1', audioPcap: G711A });

  await app.proc.waitFor(/proceed key 1 pressed/, 30000);
  const keyAt = Date.now();
  await app.proc.waitFor(/ringing 731 as /);
  clock.real(); // NTP sets the clock: +56 years, the phone still ringing
  await app.proc.waitFor(/over \(answered\)/, 60000);
  const realSec = (Date.now() - keyAt) / 1000;
  await call.result(60000);
  const r = await tech.result(60000);

  const log = app.proc.output();
  t.match(log, /WARN call \d+: the wall clock stepped by \+56\.\d years during the call: its tickets use the new time, its recording stays continuous/);
  const [file] = await app.waitTickets(1);
  const ticket = parseTicketFileName(basename(file));
  t.ok(ticket, `the ticket name parses: ${basename(file)}`);
  const now = new Date();
  t.equal(ticket!.start.getFullYear(), now.getFullYear(), 'the start is in the real year, not 1970');
  t.equal(ticket!.end.getFullYear(), now.getFullYear(), 'the end too');
  const minutes = (ticket!.end.getTime() - ticket!.start.getTime()) / 60000;
  t.ok(minutes >= 0 && minutes <= Math.ceil(realSec / 60), `end >= start, ${minutes} min for a ${realSec.toFixed(1)} s call`);
  t.ok(Math.abs(ticket!.start.getTime() - keyAt) <= 2 * 60000, 'the start is the key press, to the minute');
  t.equal(imOf(r)?.text, basename(file).replace(/_END_1\.txt$/, ''), 'the IM carries the same real stamps');

  const [pcap] = app.recordings();
  t.match(basename(pcap), new RegExp(`^${localDay(new Date(keyAt))}_\\d\\d\\.\\d\\d\\.\\d\\d_Ticket_${ticket!.ticket}_Caller_03472619287\\.pcap$`), 'the recording is named by the real start and the ticket');
  const tl = timeline(pcap);
  t.ok(tl.packets > 200, `${tl.packets} packets`);
  t.ok(tl.firstUs < 86400e6, "the recording's timeline stays on the clock of the key press (1970 here)");
  t.ok(tl.spanSec <= realSec + 0.25, `no gap: the recording spans ${tl.spanSec.toFixed(2)} s of a ${realSec.toFixed(2)} s call`);
  t.ok(tl.spanSec >= realSec - 2, 'and covers the call');
  t.ok(tl.maxGapSec < 0.5, `the longest silence between packets is ${tl.maxGapSec.toFixed(3)} s`);
  const wav = join(dir, 'step.wav');
  const conv = spawnSync(process.execPath, [join(DIST, 'pcap2wave.js'), pcap, wav], { encoding: 'utf8' });
  t.equal(conv.status, 0, conv.stderr);
  t.equal(conv.stderr, '', 'no warning: no gap to cut, nothing truncated');
  const dur = Number(execFileSync('sox', ['--i', '-D', wav], { encoding: 'utf8' }).trim());
  // the WAV also holds the last packets' audio and places streams by their RTP time: a little over the span
  t.ok(Math.abs(dur - tl.spanSec) < 0.25, `the WAV lasts the recording: ${dur} s (${conv.stdout.trim()})`);
});

t.test('TicketNR.txt.lock held by a live process: the phone rings and is answered first, the ticket and the name follow', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { timeoutSec: 30 } }, files: { 'TicketNR.txt': '500' } });
  keepLog(t, app);
  const holder = start('lock holder', 'sleep', ['600']);
  const lock = join(app.app, 'TicketNR.txt.lock');
  writeFileSync(lock, `${holder.child.pid}\n`);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 500, hangupAfterMs: 1500 }, true);
  const call = await caller(pbx.port, { digits: '1', audioPcap: G711A });

  await app.proc.waitFor(/731 as \S+/, 30000);
  await app.proc.waitFor(/answered: bridged/, 30000);
  // the order of events: the phone rang and answered while the lock is still held by the live process
  t.equal(readFileSync(lock, 'utf8'), `${holder.child.pid}\n`, 'the lock is still held');
  t.equal(holder.child.exitCode, null, 'by a live process');
  t.same(app.ticketFiles(), [], 'no ticket number yet');
  const early = app.recordings();
  t.equal(early.length, 1, 'the recording exists before the ticket number');
  t.match(basename(early[0] ?? ''), /^\d{4}-\d\d-\d\d_\d\d\.\d\d\.\d\d_Caller_03472619287\.pcap$/, 'named by time and caller');
  t.equal(readCapture(readFileSync(early[0])).truncated, undefined, 'and already a valid capture');

  await holder.stop();
  unlinkSync(lock);
  const [file] = await app.waitTickets(1);
  t.match(basename(file), /_Ticket_500_Caller_03472619287_Called_731_END_1\.txt$/);
  await app.proc.waitFor(/over \(answered\)/, 30000);
  await until(() => app.recordings().some((p) => /_Ticket_500_Caller_03472619287\.pcap$/.test(p)), 'the recording renamed to its ticket');
  t.equal(app.recordings().length, 1, 'one recording, renamed');
  t.notOk(existsSync(early[0]), 'under its old name no more');
  const r = await tech.result(60000);
  t.match(imOf(r)?.text ?? '', /_Ticket_500_/, 'the IM carries the ticket');
  await call.result(60000);
});
