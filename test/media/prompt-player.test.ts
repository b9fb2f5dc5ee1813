import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../src/media/g711.js';
import { PortPool, Prompt, PromptPlayer, RtpSession, WavError, buildWav, readWav, ringback, type NegotiatedMedia, type PlayEnd } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { udpPeer } from './udp-peer.js';
import { until } from '../lab/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketline-prompt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function sox(...args: string[]): void {
  execFileSync('sox', args, { stdio: 'pipe' });
}

const done = (p: PromptPlayer): Promise<PlayEnd> => new Promise((resolve) => p.once('done', resolve));

t.test('WAV: 16-bit PCM, A-law and µ-law at 8 kHz mono are read; anything else is refused naming the file', async (t) => {
  const pcm = join(dir, 'pcm.wav');
  sox('-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', pcm, 'synth', '0.5', 'sine', '1000', 'vol', '0.5');
  const a = join(dir, 'alaw.wav');
  sox(pcm, '-e', 'a-law', a);
  const u = join(dir, 'ulaw.wav');
  sox(pcm, '-e', 'u-law', u);
  const p = readWav(pcm);
  t.equal(p.length, 4000);
  const pa = readWav(a);
  const pu = readWav(u);
  t.equal(pa.length, 4000);
  t.equal(pu.length, 4000);
  let maxDiff = 0;
  for (let i = 0; i < p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i] - pa[i]), Math.abs(p[i] - pu[i]));
  t.ok(maxDiff < 1100, `G.711 files decode close to the PCM original (max diff ${maxDiff})`);

  const stereo = join(dir, 'stereo44.wav');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', stereo, 'synth', '0.1', 'sine', '440');
  t.throws(() => readWav(stereo), WavError);
  t.throws(() => readWav(stereo), { message: new RegExp(`${stereo.replace(/[/.]/g, '\\$&')}: 2 channels; expected an 8000 Hz mono WAV`) });
  const rate = join(dir, 'r16k.wav');
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', rate, 'synth', '0.1', 'sine', '440');
  t.throws(() => readWav(rate), { message: /r16k\.wav: sample rate 16000 Hz/ });
  const b8 = join(dir, 'u8.wav');
  sox('-n', '-r', '8000', '-c', '1', '-b', '8', '-e', 'unsigned-integer', b8, 'synth', '0.1', 'sine', '440');
  t.throws(() => readWav(b8), { message: /u8\.wav: 8-bit PCM/ });
  const txt = join(dir, 'notwav.wav');
  writeFileSync(txt, 'hello world, not audio');
  t.throws(() => readWav(txt), { message: /notwav\.wav: not a RIFF\/WAVE file/ });
  writeFileSync(join(dir, 'trunc.wav'), buildWav(new Int16Array(10)).subarray(0, 30));
  t.throws(() => readWav(join(dir, 'trunc.wav')), WavError);
  t.same([...readWav(pcm).subarray(0, 100)], [...p.subarray(0, 100)]);
});

t.test('a prompt is played paced at 20 ms, drift-free, with consecutive seq and timestamps, then done', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: phone.port }, codec: 'PCMA', payloadType: 8, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  const s = new RtpSession(await pool.allocate(), media, { log });
  t.teardown(() => {
    s.close();
    phone.close();
  });
  const wav = join(dir, 'prompt.wav');
  sox('-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav, 'synth', '2.01', 'sine', '1000', 'vol', '0.5');
  const prompt = Prompt.fromWav(wav);
  t.equal(prompt.encoded('PCMA'), prompt.encoded('PCMA'), 'encoded once per law');
  const player = new PromptPlayer(s, prompt).start();
  t.equal(await done(player), 'end');
  await phone.waitFor(101, 'the whole prompt');
  const got = phone.received.map((r) => r.pkt);
  t.equal(got.length, 101, '2.01 s = 100 full packets + 1 padded');
  t.equal(got[0].marker, true);
  const expected = encode('PCMA', prompt.pcm);
  for (let i = 1; i < got.length; i++) {
    t.equal(got[i].seq, (got[0].seq + i) & 0xffff);
    t.equal((got[i].timestamp - got[0].timestamp) >>> 0, i * 160);
    t.equal(got[i].ssrc, got[0].ssrc);
  }
  t.same([...got[50].payload], [...expected.subarray(50 * 160, 51 * 160)], 'payload is the encoded prompt');
  t.equal(got[100].payload[100], 0xd5, 'last packet padded with A-law silence');
  const span = phone.received[100].at - phone.received[0].at;
  const mean = span / 100;
  t.ok(mean > 12 && mean < 60, `mean interval ${mean.toFixed(2)} ms is near 20 ms`);
  t.equal(player.sent, 101);
});

t.test('ringback loops until stopped; the next player continues the same stream', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: phone.port }, codec: 'PCMU', payloadType: 0, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  const s = new RtpSession(await pool.allocate(), media, { log });
  t.teardown(() => {
    s.close();
    phone.close();
  });
  const rb = new PromptPlayer(s, new Prompt('ringback', ringback({ onMs: 100, offMs: 100 })), { loop: true }).start();
  await phone.waitFor(25, 'more than two ringback periods');
  const ended = done(rb);
  rb.stop();
  rb.stop();
  t.equal(await ended, 'stopped');
  const sentAtStop = rb.sent;
  const got = phone.received.map((r) => r.pkt);
  t.same([...got[12].payload], [...got[2].payload], 'period of 10 packets repeats');
  t.ok(got[2].payload.some((b) => b !== 0xff), 'tone part is not silence');
  t.equal(got[7].payload.every((b) => b === 0xff), true, 'off part is µ-law silence');

  const n = phone.received.length;
  const beep = new PromptPlayer(s, new Prompt('beep', ringback({ onMs: 200, offMs: 0 }))).start();
  t.equal(await done(beep), 'end');
  await phone.waitFor(n + 10, 'the beep');
  t.equal(rb.sent, sentAtStop, 'nothing sent after stop()');
  const last = phone.received[n - 1].pkt;
  const first = phone.received[n].pkt;
  t.equal(first.ssrc, last.ssrc, 'same SSRC');
  t.equal(first.seq, (last.seq + 1) & 0xffff, 'seq continues');
  t.ok(((first.timestamp - last.timestamp) >>> 0) >= 160, 'timestamp moves on');
  t.equal(first.marker, true);
});

t.test('a player on a closed session ends with "closed"', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: 9 }, codec: 'PCMU', payloadType: 0, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  const s = new RtpSession(await pool.allocate(), media, { log });
  const p = new PromptPlayer(s, new Prompt('x', ringback()), { loop: true }).start();
  s.close();
  t.equal(await done(p), 'closed');
});

t.test('after a stall the schedule moves: no burst, no audio lost, seq and timestamps consecutive', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: phone.port }, codec: 'PCMA', payloadType: 8, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  let now = 0;
  const s = new RtpSession(await pool.allocate(), media, { log, now: () => now });
  t.teardown(() => {
    s.close();
    phone.close();
  });
  const p = new PromptPlayer(s, new Prompt('long', ringback({ onMs: 5000, offMs: 0 })), { now: () => now }).start();
  t.equal(p.sent, 1, 'packet 0 at start');
  now = 1000; // the event loop was blocked for a second
  await until(() => p.sent >= 2, 'the first tick after the stall', 10000, 2);
  t.equal(p.sent, 2, 'one packet, not 50');
  t.equal(p.stalls, 1);
  now = 1100; // 100 ms later: 5 packets are due, sent together (a normal catch-up)
  await until(() => p.sent >= 7, 'catch-up', 10000, 2);
  p.stop();
  await phone.waitFor(7);
  const got = phone.received.map((r) => r.pkt);
  for (let i = 1; i < got.length; i++) {
    t.equal(got[i].seq, (got[0].seq + i) & 0xffff);
    t.equal((got[i].timestamp - got[0].timestamp) >>> 0, i * 160);
  }
  t.equal(got.length, 7);
});
