/**
 * Issue 10, the accept key, end to end through Kamailio with SIPp phones:
 * an answer is bridged only after the technician presses AcceptKey.txt
 * (RFC 4733); a "voicemail" that never presses it, or a phone pressing
 * another key, is hung up after AcceptSeconds and the hunt goes on.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DIST, startAppliance, removeCard } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { parseTicketFileName } from '../../src/tickets/ticket-name.js';
import { caller, imOf, msBetween, outcome, technician } from './e2e-helpers.js';

t.teardown(stopAll);

/** The share of a channel's energy (sox stat -freq) within 40 Hz of `hz`, over `len` s from `from`; NaN if silent. */
function shareNear(wav: string, channel: number, from: number, len: number, hz: number): number {
  const r = spawnSync('sox', [wav, '-n', 'remix', String(channel), 'trim', String(from), String(len), 'stat', '-freq'], { encoding: 'utf8' });
  let near = 0;
  let all = 0;
  for (const line of r.stderr.split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.eE+-]+)\s*$/.exec(line);
    if (!m) continue;
    all += Number(m[2]);
    if (Math.abs(Number(m[1]) - hz) <= 40) near += Number(m[2]);
  }
  return near / all;
}

t.test('wrong key -> not bridged, voicemail (no key) -> hung up after AcceptSeconds, the right key -> bridged', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 20 }, '732': { next: '733', timeoutSec: 20 }, '733': { next: '731', timeoutSec: 20, sms: { number: '3337654321' } } },
    files: { 'AcceptKey.txt': '5', 'AcceptSeconds.txt': '3' },
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output()}`);
    removeCard(app);
  });
  const wrong = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, keys: '9', keysAfterMs: 500 }, true);
  const voicemail = await technician(pbx.port, '732', { kind: 'answer', afterMs: 100 }, true);
  const right = await technician(pbx.port, '733', { kind: 'answer', afterMs: 300, keys: '5', keysAfterMs: 800, hangupAfterMs: 2000 }, true);
  const call = await caller(pbx.port, { digits: '1' });

  t.equal(outcome(await call.result(90000)), 'released-by-appliance', 'the caller is released when 733 hangs up');
  const r733 = await right.result(30000);
  t.equal(outcome(r733), 'technician-hung-up', '733 pressed 5, talked, hung up');
  const log = app.proc.output();
  t.match(log, /1\.desk answered: waiting 3 s for its accept key 5/);
  t.match(log, /1\.desk: no accept key in time: not answered/, 'the wrong key 9 does not accept');
  t.match(log, /2\.desk: no accept key in time: not answered/, 'the voicemail never presses a key');
  t.ok(msBetween(log, /2\.desk answered: waiting/, /2\.desk: no accept key in time/) >= 2900, 'the voicemail had its AcceptSeconds');
  t.match(log, /3\.desk: accept key pressed/);
  t.match(log, /3\.desk answered: bridged/);
  t.notMatch(log, /[12]\.desk answered: bridged/, 'neither the wrong key nor the voicemail was bridged');
  t.ok(msBetween(log, /2\.desk: no accept key in time/, /ringing 733 as 3\.desk/) < 5000, 'the next technician rings right after the voicemail is hung up');
  for (const [who, tech] of [['731', wrong], ['732', voicemail]] as const) {
    await tech.proc.stop();
    const r = await tech.result(10000);
    t.equal(outcome(r), 'released-by-appliance', `${who} answered and got the appliance's BYE`);
    t.notOk(imOf(r), `${who} gets no IM`);
    if (who === '731') t.match(r.logs, /KEYS 9/, '731 did press 9');
  }
  const files = await app.waitTickets(3);
  const parsed = files.map((f) => parseTicketFileName(basename(f)));
  t.same(parsed.map((p) => [p?.called, p?.final]), [['731', false], ['732', false], ['733', true]], 'three hops, the bridged one END');
  t.equal(imOf(r733)?.text, files[2].replace(/_END_1\.txt$/, ''), 'only 733 gets the IM');
  await until(() => app.smsLog().length === 1, 'the SMS in SMS.log');
  await app.proc.waitFor(/over \(answered\); RTP ports in use: \d+/);
  t.match(app.proc.output(), /over \(answered\); RTP ports in use: 0/, 'no RTP port outlives the call');

  // what the caller heard (the recording's right channel) while the voicemail heard its accept prompt: ringback only
  const [pcap] = app.recordings();
  const wav = join(mkdtempSync(join(tmpdir(), 'tl-accept-')), 'call.wav');
  execFileSync(process.execPath, [join(DIST, 'pcap2wave.js'), pcap, wav]);
  const at = msBetween(log, /proceed key 1 pressed/, /2\.desk answered: waiting/) / 1000;
  const share = shareNear(wav, 2, at + 0.2, 2.5, 425);
  t.ok(Number.isNaN(share) || share > 0.8, `the caller heard ringback (or its pause), not the prompt (${(share * 100).toFixed(0)}% of the energy at 425 Hz)`);
});
