/**
 * The recording of an emergency call end to end (issue "recording"):
 * baresip phones through Kamailio, the caller sending a 1 kHz tone and
 * pressing 1 (RFC 4733), the technician answering after a ringing period
 * with a 440 Hz tone. The pcap opens in tshark as RTP both ways; pcap2wave
 * gives caller 1 kHz on the left, technician 440 Hz on the right, and the
 * length runs from the key press to the release, ringing included.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, startAppliance, removeCard } from '../lab/appliance.js';
import { startBaresip } from '../lab/baresip.js';
import { startKamailio } from '../lab/kamailio.js';
import { stopAll, until } from '../lab/proc.js';
import { msBetween } from './e2e-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-rec-e2e-'));
t.teardown(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const tone = (hz: number): string => {
  const f = join(dir, `tone${hz}.wav`);
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', f, 'synth', '90', 'sine', String(hz), 'vol', '0.4']);
  return f;
};

/** sox's loudest FFT bin of one channel of a WAV, optionally from `from` s for `len` s. */
function dominantHz(wav: string, channel: number, from?: number, len?: number): number {
  const args = [wav, '-n', 'remix', String(channel)];
  if (from !== undefined) args.push('trim', String(from), String(len));
  args.push('stat', '-freq');
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  let best = 0;
  let power = -1;
  for (const line of r.stderr.split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.eE+-]+)\s*$/.exec(line);
    if (m && Number(m[2]) > power) [best, power] = [Number(m[1]), Number(m[2])];
  }
  return best;
}

t.test('the recording holds both directions from key press to release, caller left 1 kHz, technician right 440 Hz', async (t) => {
  const pbx = await startKamailio();
  const app = await startAppliance({ pbxPort: pbx.port, first: '731', technicians: { '731': { next: '731', timeoutSec: 30 } } });
  t.teardown(() => removeCard(app));
  const tech = await startBaresip({ user: '731', audioFile: tone(440), registrar: `127.0.0.1:${pbx.port}`, codecs: 'PCMU' });
  const callerPhone = await startBaresip({ user: '0612345678', audioFile: tone(1000), registrar: `127.0.0.1:${pbx.port}`, codecs: 'PCMA' });
  await until(() => /731@.*200 OK/.test(tech.proc.output()) && /0612345678@.*200 OK/.test(callerPhone.proc.output()), 'both phones registered');

  await callerPhone.ctrl.command('dial', `sip:799@127.0.0.1:${pbx.port}`);
  await callerPhone.ctrl.waitEvent('CALL_ESTABLISHED', 20000);
  await app.proc.waitFor(/answered 0612345678: announcement/);
  await callerPhone.ctrl.command('sndcode', '1');
  await app.proc.waitFor(/proceed key 1 pressed/);
  await tech.ctrl.waitEvent('CALL_INCOMING', 20000);
  // the ringing period the recording must prove: 2 s of ringback before the technician answers
  await new Promise((r) => setTimeout(r, 2000));
  await tech.ctrl.command('accept');
  await app.proc.waitFor(/answered: bridged/);
  await new Promise((r) => setTimeout(r, 3000)); // the conversation
  await callerPhone.ctrl.command('hangup');
  await app.proc.waitFor(/over \(answered\)/, 20000);

  const [pcap] = app.recordings();
  t.ok(pcap, 'one recording');
  const streams = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams'], { encoding: 'utf8' });
  t.match(streams, /g711A/, 'tshark sees the caller leg as PCMA RTP');
  t.match(streams, /g711U/, 'tshark sees the technician leg as PCMU RTP');
  const toCaller = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && eth.dst == 02:00:00:00:00:01', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length;
  const fromCaller = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && eth.src == 02:00:00:00:00:01', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length;
  t.ok(toCaller > 150 && fromCaller > 150, `RTP both ways (${fromCaller} from the caller, ${toCaller} to the caller)`);

  const wav = join(dir, 'call.wav');
  execFileSync(process.execPath, [join(DIST, 'pcap2wave.js'), pcap, wav]);
  const dur = Number(execFileSync('sox', ['--i', '-D', wav], { encoding: 'utf8' }).trim());
  const log = app.proc.output();
  const expected = msBetween(log, /proceed key 1 pressed/, /the caller hung up/) / 1000;
  t.ok(Math.abs(dur - expected) <= 0.1, `WAV ${dur.toFixed(3)} s = key press to release ${expected.toFixed(3)} s within 100 ms`);
  t.ok(Math.abs(dominantHz(wav, 1) - 1000) < 20, 'left channel (caller) is 1 kHz');
  t.ok(Math.abs(dominantHz(wav, 2, dur - 2.5, 2) - 440) < 10, 'right channel after the answer (technician) is 440 Hz');
  t.ok(Math.abs(dominantHz(wav, 2, 0.2, 0.8) - 425) < 10, 'right channel while ringing is the 425 Hz ringback');
});
