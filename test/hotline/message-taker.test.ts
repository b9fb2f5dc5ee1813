import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool, RtpSession, buildRtp, readWav, type NegotiatedMedia } from '../../src/media/index.js';
import { takeMessage, TAIL_MS, type MessageResult } from '../../src/hotline/message-taker.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { udpPeer, type UdpPeer } from '../media/udp-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketline-message-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const SILENCE = { PCMA: 0xd5, PCMU: 0xff } as const;
type Law = keyof typeof SILENCE;

/** A 1 kHz tone as raw G.711 from sox, cut into 20 ms payloads. */
function tone(law: Law, seconds: number): Buffer[] {
  const raw = join(dir, `tone-${law}-${seconds}.raw`);
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', law === 'PCMA' ? 'a-law' : 'u-law', '-t', 'raw', raw, 'synth', String(seconds), 'sine', '1000', 'vol', '0.5']);
  const bytes = readFileSync(raw);
  const out: Buffer[] = [];
  for (let i = 0; i + 160 <= bytes.length; i += 160) out.push(bytes.subarray(i, i + 160));
  return out;
}

interface Caller {
  session: RtpSession;
  phone: UdpPeer;
  log: ReturnType<typeof memoryLogger>;
  /** Send packets; `skip` (packet indexes) are lost on the way but their timestamps are used up. */
  send(payloads: Buffer[], o?: { paced?: boolean; skip?: Set<number> }): Promise<void>;
}

async function caller(t: { teardown(fn: () => void): void }, law: Law = 'PCMA'): Promise<Caller> {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const media: NegotiatedMedia = {
    remote: { address: '127.0.0.1', port: phone.port }, codec: law, payloadType: law === 'PCMA' ? 8 : 0, telephoneEventPt: 101, ptime: 20,
    remoteDirection: 'sendrecv', hold: false,
  };
  const session = new RtpSession(await pool.allocate(), media, { log });
  t.teardown(() => {
    session.close();
    phone.close();
  });
  let seq = 100;
  let ts = 0xffff0000; // wraps during a message: RFC 3550 timestamps start anywhere
  return {
    session, phone, log,
    async send(payloads, o = {}) {
      const t0 = performance.now();
      for (let i = 0; i < payloads.length; i++) {
        if (o.paced) {
          const wait = t0 + i * 20 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        if (!o.skip?.has(i)) await phone.send(buildRtp({ payloadType: media.payloadType, seq, timestamp: ts >>> 0, ssrc: 0x1234, payload: payloads[i] }), session.local.port);
        seq = (seq + 1) & 0xffff;
        ts = (ts + payloads[i].length) >>> 0;
      }
    },
  };
}

/** Silence packets paced like a phone until `done` settles (a phone keeps sending while the caller says nothing). */
async function silenceUntil(c: Caller, done: Promise<MessageResult>, law: Law = 'PCMA'): Promise<MessageResult> {
  let over = false;
  void done.then(() => (over = true));
  while (!over) {
    await c.send([Buffer.alloc(160, SILENCE[law])]);
    await new Promise((r) => setTimeout(r, 20));
  }
  return done;
}

function soxStat(path: string): { seconds: number; frequency: number; rms: number } {
  const r = spawnSync('sox', [path, '-n', 'stat'], { encoding: 'utf8' });
  const num = (label: string): number => Number(new RegExp(`${label}:\\s+(-?[0-9.]+)`).exec(r.stderr)?.[1]);
  return { seconds: num('Length \\(seconds\\)'), frequency: num('Rough\\s+frequency'), rms: num('RMS\\s+amplitude') };
}

const rms = (pcm: Int16Array): number => Math.sqrt(pcm.reduce((s, v) => s + v * v, 0) / Math.max(1, pcm.length));

t.test('3 s of a 1 kHz tone (PCMA, 5 packets lost), then silence: the WAV holds the 3 s of tone, ends by silence', async (t) => {
  const c = await caller(t);
  const wavPath = join(dir, 'rec', 'msg-3s.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 120, silenceSec: 1, log: c.log });
  await c.send(tone('PCMA', 3), { paced: true, skip: new Set([40, 41, 42, 43, 44]) });
  const r = await silenceUntil(c, m.done);
  t.equal(r.end, 'silence');
  t.equal(r.path, wavPath);
  t.equal(r.seconds, 3 + TAIL_MS / 1000, 'the tone and the kept tail: the quiet rest is cut');
  const stat = soxStat(wavPath);
  t.equal(stat.seconds, 3.5, `sox: ${stat.seconds} s`);
  t.ok(Math.abs(stat.frequency - 1000) < 60, `sox: rough frequency ${stat.frequency} Hz`);
  t.match(execFileSync('sox', ['--i', wavPath], { encoding: 'utf8' }), /Channels\s+: 1\n.*Sample Rate\s+: 8000\n.*Precision\s+: 16-bit/s);
  const pcm = readWav(wavPath);
  t.ok(rms(pcm.subarray(0, 6400)) > 5000, 'tone before the loss');
  t.same(rms(pcm.subarray(6400, 7200)), 0, 'the 5 lost packets are 100 ms of silence, by timestamp');
  t.ok(rms(pcm.subarray(7200, 24000)) > 5000, 'tone after the loss, in its place');
  t.ok(rms(pcm.subarray(24000)) < 50, 'silence after the tone');
  t.match(c.log.lines.join('\n'), /message of 3\.5 s kept in .*msg-3s\.wav \(silence\)/);
  t.same(spawnSync('ls', [join(dir, 'rec')], { encoding: 'utf8' }).stdout.trim().split('\n'), ['msg-3s.wav'], 'no temp file left');
});

t.test('µ-law (PCMU) is decoded with its own law', async (t) => {
  const c = await caller(t, 'PCMU');
  const wavPath = join(dir, 'msg-ulaw.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 120, silenceSec: 0.5, log: c.log });
  await c.send(tone('PCMU', 1), { paced: true });
  const r = await silenceUntil(c, m.done, 'PCMU');
  t.equal(r.end, 'silence');
  const stat = soxStat(wavPath);
  t.ok(Math.abs(stat.frequency - 1000) < 60, `rough frequency ${stat.frequency} Hz`);
  const level = rms(readWav(wavPath).subarray(0, 8000)) / 32768;
  t.ok(level > 0.33 && level < 0.37, `the tone's level (0.5 peak = 0.354 RMS): ${level}`);
});

t.test('maxSec cuts the message at exactly that much audio', async (t) => {
  const c = await caller(t);
  const wavPath = join(dir, 'msg-limit.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 1, log: c.log });
  await c.send(tone('PCMA', 2));
  const r = await m.done;
  t.same(r, { path: wavPath, seconds: 1, end: 'limit' });
  t.equal(readWav(wavPath).length, 8000);
});

t.test('stop() (the caller hung up) ends it and keeps what was said', async (t) => {
  const c = await caller(t);
  const wavPath = join(dir, 'msg-stop.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 120, log: c.log });
  await c.send(tone('PCMA', 1));
  await until(() => c.session.stats.received >= 50, '50 packets in', 10000, 5);
  m.stop();
  m.stop();
  t.same(await m.done, { path: wavPath, seconds: 1, end: 'stopped' });
  t.ok(rms(readWav(wavPath)) > 5000);
});

t.test('the caller leg closing its media ends it like stop()', async (t) => {
  const c = await caller(t);
  const wavPath = join(dir, 'msg-closed.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 120, log: c.log });
  await c.send(tone('PCMA', 0.6));
  await until(() => c.session.stats.received >= 30, '30 packets in', 10000, 5);
  c.session.close();
  const r = await m.done;
  t.equal(r.end, 'stopped');
  t.equal(r.seconds, 0.6);
});

t.test('nothing said (silence packets, or no packets): no file, path null', async (t) => {
  const c = await caller(t);
  const quiet = join(dir, 'msg-quiet.wav');
  const m = takeMessage({ session: c.session, wavPath: quiet, maxSec: 120, silenceSec: 0.5, leadSec: 1, log: c.log });
  t.same(await silenceUntil(c, m.done), { path: null, seconds: 0, end: 'silence' });
  t.notOk(existsSync(quiet));
  const none = join(dir, 'msg-none.wav');
  const n = takeMessage({ session: c.session, wavPath: none, maxSec: 120, silenceSec: 0.5, leadSec: 0.5, log: c.log });
  t.same(await n.done, { path: null, seconds: 0, end: 'silence' });
  t.notOk(existsSync(none));
  t.match(c.log.lines.join('\n'), /no message: nothing was said \(silence\)/);
});

t.test('a card that cannot be written: one error line, path null, no throw', async (t) => {
  const c = await caller(t);
  writeFileSync(join(dir, 'a-file'), 'x');
  const wavPath = join(dir, 'a-file', 'msg.wav');
  const m = takeMessage({ session: c.session, wavPath, maxSec: 120, log: c.log });
  await c.send(tone('PCMA', 0.4));
  await until(() => c.session.stats.received >= 20, '20 packets in', 10000, 5);
  m.stop();
  t.same(await m.done, { path: null, seconds: 0.4, end: 'stopped' });
  const errors = c.log.lines.filter((l) => /ERROR/.test(l));
  t.equal(errors.length, 1);
  t.match(errors[0], /the message \(0\.4 s\) could not be written to .*a-file\/msg\.wav: .*(EEXIST|ENOTDIR)/);
});
