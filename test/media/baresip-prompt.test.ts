/**
 * The media engine against a real phone: baresip dials our SIP core (src/sip),
 * we answer with our SDP, play a 1 kHz prompt and detect the phone's DTMF
 * (RFC 4733 via ctrl_tcp `sndcode`). baresip dumps what it received to a WAV;
 * sox must find 1 kHz in it.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSdp, MediaEndpoint, PortPool, Prompt, PromptPlayer, RtpSession, answerOffer, type DigitSource } from '../../src/media/index.js';
import { SipTransport } from '../../src/sip/transport.js';
import { UserAgent } from '../../src/sip/ua.js';
import type { Dialog } from '../../src/sip/dialog.js';
import { memoryLogger } from '../../src/util/log.js';
import { startBaresip } from '../lab/baresip.js';
import { freeBlock, freePort } from '../lab/ports.js';
import { stopAll, until } from '../lab/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketline-baresip-media-'));
t.teardown(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function sox(...args: string[]): string {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

function dominantHz(wav: string): number {
  let best = 0;
  let power = -1;
  for (const line of sox(wav, '-n', 'stat', '-freq').split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.eE+-]+)\s*$/.exec(line);
    if (m && Number(m[2]) > power) {
      power = Number(m[2]);
      best = Number(m[1]);
    }
  }
  return best;
}

for (const codecs of ['PCMU', 'PCMU,PCMA']) {
  t.test(`baresip (${codecs}) hears our 1 kHz prompt and its keys reach us as digits`, async (t) => {
    const log = memoryLogger();
    const sipPort = await freePort();
    const transport = new SipTransport({ host: '127.0.0.1', port: sipPort, logger: log });
    const ua = new UserAgent({ transport, contactHost: '127.0.0.1', contactPort: sipPort, logger: log, userAgent: 'ticketline-media-test' });
    await ua.start();
    t.teardown(() => ua.stop());
    const base = await freeBlock(4, 2);
    const pool = new PortPool({ min: base, max: base + 3, bindAddress: '127.0.0.1', log });

    const mic = join(dir, 'mic440.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', mic, 'synth', '60', 'sine', '440', 'vol', '0.3']);
    const promptWav = join(dir, 'prompt1k.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', promptWav, 'synth', '3', 'sine', '1000', 'vol', '0.5']);
    const prompt = Prompt.fromWav(promptWav);

    const digits: Array<[string, DigitSource]> = [];
    let ep: MediaEndpoint | undefined;
    let dialog: Dialog | undefined;
    let negotiated = '';
    let promptDone = false;
    ua.onInvite = (inv) => {
      void (async () => {
        const sock = await pool.allocate();
        let ans;
        try {
          ans = answerOffer(inv.sdp, ['PCMA', 'PCMU'], { address: '127.0.0.1', port: sock.port }, new LocalSdp('127.0.0.1'));
        } catch (e) {
          sock.close();
          inv.respond((e as { status?: number }).status ?? 488);
          return;
        }
        negotiated = `${ans.media.codec}/${ans.media.telephoneEventPt}`;
        ep = new MediaEndpoint(new RtpSession(sock, ans.media, { log }), log);
        ep.on('digit', (d, s) => digits.push([d, s]));
        inv.respond(180);
        dialog = await inv.accept(ans.sdp);
        dialog.on('info', (body, type) => ep?.onInfo(type, body));
        const player = new PromptPlayer(ep.session, prompt).start();
        player.once('done', () => {
          promptDone = true;
        });
      })().catch((e: unknown) => log.error(`test UAS: ${String(e)}`));
    };

    const phone = await startBaresip({ user: '731', audioFile: mic, codecs });
    t.teardown(() => phone.stop());
    const dial = await phone.ctrl.command('dial', `sip:799@127.0.0.1:${sipPort}`);
    t.equal(dial.ok, true, `dial accepted (${JSON.stringify(dial)})`);
    await phone.ctrl.waitEvent('CALL_ESTABLISHED');
    // our preference is PCMA first: taken when the phone offers it, else PCMU
    t.equal(negotiated, `${codecs.includes('PCMA') ? 'PCMA' : 'PCMU'}/101`, 'codec and telephone-event PT negotiated');
    await until(() => ep?.session.latched, 'RTP from the phone', 10000);
    await phone.ctrl.command('sndcode', '1');
    await until(() => digits.length >= 1, 'first digit', 10000);
    await phone.ctrl.command('sndcode', '#');
    await until(() => digits.length >= 2, 'second digit', 10000);
    t.same(digits, [
      ['1', 'rfc4733'],
      ['#', 'rfc4733'],
    ], 'each key once, as RFC 4733, while the prompt plays');
    await until(() => promptDone, 'the prompt played to the end', 20000);
    await phone.ctrl.command('hangup');
    await phone.ctrl.waitEvent('CALL_CLOSED');
    await phone.proc.stop(); // closes the dump WAV
    const wavs = phone.receivedWavs();
    t.equal(wavs.length, 1, 'one received-audio dump');
    const seconds = Number(execFileSync('sox', ['--i', '-D', wavs[0]], { encoding: 'utf8' }).trim());
    t.ok(seconds >= 2.5, `baresip received ${seconds} s of audio (prompt is 3 s)`);
    const hz = dominantHz(wavs[0]);
    t.ok(Math.abs(hz - 1000) < 20, `dominant frequency of what baresip heard: ${hz} Hz`);
    ep?.close();
    t.equal(pool.inUse, 0, 'RTP port returned');
  });
}
