import t from 'tap';
import { encode } from '../../src/media/g711.js';
import {
  MediaEndpoint, PortPool, Prompt, PromptPlayer, buildRtp, dtmfTone, telephoneEventPayloads, type NegotiatedMedia, type PlayEnd,
} from '../../src/media/index.js';
import { awaitAcceptKey, REPEAT_PAUSE_MS, type AcceptResult } from '../../src/hotline/accept-prompt.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { udpPeer, type UdpPeer } from '../media/udp-peer.js';

const media = (port: number): NegotiatedMedia => ({
  remote: { address: '127.0.0.1', port }, codec: 'PCMA', payloadType: 8, telephoneEventPt: 101, ptime: 20, remoteDirection: 'sendrecv', hold: false,
});

/** A 200 ms 1 kHz "sentence": 10 packets of audio, then the repeat pause. */
const SENTENCE = new Prompt('sentence', Int16Array.from({ length: 1600 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000))));
const SILENT_ALAW = 0xd5;

interface Leg {
  ep: MediaEndpoint;
  phone: UdpPeer;
  log: ReturnType<typeof memoryLogger>;
  player(): PromptPlayer | undefined;
  play: (p: Prompt, loop: boolean) => Promise<PlayEnd>;
  stopPlaying: () => void;
  /** The phone sends packets like a real one: RTP to the leg's port. */
  send(payloads: Buffer[], payloadType: number): Promise<void>;
}

/** One technician leg on real sockets: a pool port on 127.0.0.1 and a UDP "phone". */
async function leg(t: { teardown(fn: () => void): void }): Promise<Leg> {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const ep = await MediaEndpoint.open(pool, media(phone.port), { log });
  t.teardown(() => {
    ep.close();
    phone.close();
  });
  let player: PromptPlayer | undefined;
  let seq = 1;
  let ts = 0;
  return {
    ep, phone, log,
    player: () => player,
    play: (p, loop) => {
      player?.stop();
      const pl = new PromptPlayer(ep.session, p, { loop });
      player = pl;
      const done = new Promise<PlayEnd>((resolve) => pl.once('done', resolve));
      pl.start();
      return done;
    },
    stopPlaying: () => player?.stop(),
    async send(payloads, payloadType) {
      for (const payload of payloads) {
        await phone.send(buildRtp({ payloadType, seq: seq++, timestamp: ts, ssrc: 77, payload }), ep.session.local.port);
        if (payloadType !== 101) ts += payload.length;
      }
      if (payloadType === 101) ts += 800;
    },
  };
}

const event = (digit: string): Buffer[] => telephoneEventPayloads(digit, 100);
const inband = (digit: string): Buffer[] => {
  const a = encode('PCMA', dtmfTone(digit, 200));
  const out: Buffer[] = [];
  for (let i = 0; i + 160 <= a.length; i += 160) out.push(a.subarray(i, i + 160));
  for (let i = 0; i < 5; i++) out.push(Buffer.alloc(160, SILENT_ALAW));
  return out;
};

function track(p: Promise<AcceptResult>): { value(): AcceptResult | undefined } {
  let v: AcceptResult | undefined;
  void p.then((r) => (v = r));
  return { value: () => v };
}

t.test('a wrong key (RFC 4733) is ignored; the right key accepts and stops the prompt', async (t) => {
  const l = await leg(t);
  const wait = awaitAcceptKey({ ...l, endpoint: l.ep, prompt: SENTENCE, key: '5', seconds: 30, log: l.log });
  const result = track(wait.result);
  await l.phone.waitFor(5, 'the prompt reaches the phone');
  await l.send(event('3'), 101);
  await until(() => l.log.lines.some((x) => /key 3 is not the accept key 5: ignored, still waiting/.test(x)), 'the wrong key logged', 10000, 5);
  t.equal(result.value(), undefined, 'the wrong key does not decide');
  t.equal(l.player()?.playing, true, 'the prompt goes on after the wrong key');
  await l.send(event('5'), 101);
  t.equal(await wait.result, 'accepted');
  t.equal(l.player()?.playing, false, 'the prompt stopped');
  t.equal(l.ep.listenerCount('digit'), 0, 'the digit listener is gone');
  wait.cancel();
  t.equal(await wait.result, 'accepted', 'cancel after the result changes nothing');
  t.match(l.log.lines.join('\n'), /accept key 5 pressed/);
});

t.test('the key as SIP INFO accepts', async (t) => {
  const l = await leg(t);
  const wait = awaitAcceptKey({ ...l, endpoint: l.ep, prompt: SENTENCE, key: '#', seconds: 30, log: l.log });
  await l.phone.waitFor(3, 'the prompt reaches the phone');
  t.equal(l.ep.onInfo('application/dtmf-relay', 'Signal=*\r\nDuration=160\r\n'), '*');
  l.ep.onInfo('application/dtmf-relay', 'Signal=#\r\nDuration=160\r\n');
  t.equal(await wait.result, 'accepted');
  t.match(l.log.lines.join('\n'), /key \* is not the accept key #/);
});

t.test('the key as an in-band tone accepts', async (t) => {
  const l = await leg(t);
  const wait = awaitAcceptKey({ ...l, endpoint: l.ep, prompt: SENTENCE, key: '7', seconds: 30, log: l.log });
  await l.send(inband('7'), 8);
  t.equal(await wait.result, 'accepted');
  t.match(l.log.lines.join('\n'), /DTMF 7 \(inband\)/);
});

t.test('no key: the prompt repeats with a pause until the seconds pass, then timeout', async (t) => {
  const l = await leg(t);
  const wait = awaitAcceptKey({ ...l, endpoint: l.ep, prompt: SENTENCE, key: '5', seconds: 2, log: l.log });
  await l.send(event('4'), 101);
  t.equal(await wait.result, 'timeout');
  t.equal(l.player()?.playing, false, 'the prompt stopped');
  t.match(l.log.lines.join('\n'), /no accept key 5 within 2 s/);
  // the phone heard: 10 packets of tone, REPEAT_PAUSE_MS of silence, the tone again
  const kinds = l.phone.received.map((r) => (r.pkt.payload.every((b) => b === SILENT_ALAW) ? '.' : 'T')).join('');
  t.match(kinds, new RegExp(`^T{10}\\.{${REPEAT_PAUSE_MS / 20}}T{10}`), `the sentence, the pause, the sentence again: ${kinds}`);
});

t.test('cancel(): cancelled, prompt stopped, a later key changes nothing', async (t) => {
  const l = await leg(t);
  const wait = awaitAcceptKey({ ...l, endpoint: l.ep, prompt: SENTENCE, key: '5', seconds: 30, log: l.log });
  await l.phone.waitFor(3, 'the prompt reaches the phone');
  wait.cancel();
  t.equal(await wait.result, 'cancelled');
  t.equal(l.player()?.playing, false);
  l.ep.onInfo('application/dtmf', '5');
  t.equal(await wait.result, 'cancelled');
  t.notMatch(l.log.lines.join('\n'), /accept key 5 pressed/);
});
