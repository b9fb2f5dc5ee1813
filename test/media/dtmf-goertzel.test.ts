import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../src/media/g711.js';
import { DTMF_FREQS, GoertzelDetector, MediaEndpoint, PortPool, RtpSession, buildRtp, readWav, type NegotiatedMedia } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { udpPeer } from './udp-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketline-dtmf-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const FMT = ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
let n = 0;

function sox(...args: string[]): void {
  execFileSync('sox', args, { stdio: 'pipe' });
}

/** A WAV of DTMF digits made by sox: each `toneS` long, `gapS` of silence between, at `vol`. */
function dtmfWav(digits: string, toneS: number, gapS: number, vol = 0.5): string {
  const parts: string[] = [];
  for (const d of digits) {
    const [lo, hi] = DTMF_FREQS[d];
    const f = join(dir, `d${n++}.wav`);
    sox('-n', ...FMT, f, 'synth', String(toneS), 'sine', String(lo), 'sine', String(hi), 'vol', String(vol));
    const g = join(dir, `g${n++}.wav`);
    sox('-n', ...FMT, g, 'trim', '0', String(gapS));
    parts.push(f, g);
  }
  const out = join(dir, `seq${n++}.wav`);
  sox(...parts, out);
  return out;
}

function detect(file: string): string {
  let got = '';
  const det = new GoertzelDetector((d) => (got += d));
  const pcm = readWav(file);
  // in 20 ms packets, as they come off RTP
  for (let i = 0; i < pcm.length; i += 160) det.pushPcm(pcm.subarray(i, i + 160));
  return got;
}

t.test('every digit of a sox-made sequence is detected once', async (t) => {
  t.equal(detect(dtmfWav('1234567890*#ABCD', 0.1, 0.1)), '1234567890*#ABCD');
});

t.test('repeated keys with short gaps, long tones and 50 ms tones', async (t) => {
  t.equal(detect(dtmfWav('1155', 0.08, 0.07)), '1155', 'same key twice with 70 ms gaps');
  t.equal(detect(dtmfWav('9', 1.5, 0.1)), '9', 'a 1.5 s press is one digit');
  t.equal(detect(dtmfWav('0#', 0.05, 0.1)), '0#', '50 ms tones');
  t.equal(detect(dtmfWav('7', 0.02, 0.2)), '', '20 ms blip is too short');
});

t.test('digits are still found under white noise and at low level', async (t) => {
  const seq = dtmfWav('159#', 0.1, 0.1, 0.4);
  const noise = join(dir, 'noise.wav');
  sox('-n', ...FMT, noise, 'synth', '0.8', 'whitenoise', 'vol', '0.05');
  const mixed = join(dir, 'mixed.wav');
  sox('-m', seq, noise, mixed);
  t.equal(detect(mixed), '159#', 'with noise (~20 dB SNR)');
  t.equal(detect(dtmfWav('26', 0.1, 0.1, 0.02)), '26', 'at -34 dBFS');
});

t.test('nothing on a 1 kHz tone, white noise, speech, or a single DTMF frequency', async (t) => {
  const tone = join(dir, 'tone.wav');
  sox('-n', ...FMT, tone, 'synth', '2', 'sine', '1000', 'vol', '0.5');
  t.equal(detect(tone), '');
  const noise = join(dir, 'wn.wav');
  sox('-n', ...FMT, noise, 'synth', '2', 'whitenoise', 'vol', '0.5');
  t.equal(detect(noise), '');
  const single = join(dir, 'single.wav');
  sox('-n', ...FMT, single, 'synth', '1', 'sine', '697', 'vol', '0.5');
  t.equal(detect(single), '');
  const raw = join(dir, 'speech22k.wav');
  execFileSync('espeak-ng', ['-w', raw, 'This call is recorded. Emergency use only. Press one to continue, or two, three, four, five, six, seven, eight, nine.'], { stdio: 'pipe' });
  const speech = join(dir, 'speech.wav');
  sox(raw, ...FMT, speech);
  t.equal(detect(speech), '', 'speech gives no digits');
});

t.test('in-band digits in G.711 RTP reach the endpoint digit event', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const trunk = await udpPeer();
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: trunk.port }, codec: 'PCMU', payloadType: 0, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  const ep = new MediaEndpoint(new RtpSession(await pool.allocate(), media, { log }), log);
  t.teardown(() => {
    ep.close();
    trunk.close();
  });
  const got: string[] = [];
  ep.on('digit', (d, src) => got.push(`${d}:${src}`));
  const ulaw = encode('PCMU', readWav(dtmfWav('1#', 0.1, 0.1)));
  let k = 0;
  for (let i = 0; i + 160 <= ulaw.length; i += 160, k++) {
    await trunk.send(buildRtp({ payloadType: 0, seq: k, timestamp: k * 160, ssrc: 3, payload: ulaw.subarray(i, i + 160) }), ep.session.local.port);
  }
  await until(() => ep.session.stats.received >= k, 'all audio packets', 10000, 5);
  await until(() => got.length >= 2, 'two digits', 10000, 5);
  t.same(got, ['1:inband', '#:inband']);
});
