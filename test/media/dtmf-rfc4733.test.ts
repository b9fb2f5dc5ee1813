import t from 'tap';
import { existsSync } from 'node:fs';
import {
  MediaEndpoint,
  PortPool,
  MAX_FIRST,
  MAX_VOLUME,
  Rfc4733Receiver,
  buildTelephoneEvent,
  RtpSession,
  buildRtp,
  parseRtp,
  parseTelephoneEvent,
  telephoneEventPayloads,
  type DigitSource,
  type NegotiatedMedia,
} from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { readPcapUdp } from './pcap-read.js';
import { prng } from '../lab/prng.js';
import { udpPeer, type UdpPeer } from './udp-peer.js';

const PCAP_DIR = '/usr/share/sip-tester';
const NAMES: Array<[string, string]> = [...'1234567890'].map((d) => [d, d] as [string, string]).concat([['star', '*'], ['pound', '#']]);

async function endpoint(t: { teardown(fn: () => void): void }, peer: UdpPeer, tePt: number): Promise<{ ep: MediaEndpoint; digits: Array<[string, DigitSource]> }> {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: peer.port }, codec: 'PCMA', payloadType: 8, telephoneEventPt: tePt, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  const ep = new MediaEndpoint(new RtpSession(await pool.allocate(), media, { log }), log);
  const digits: Array<[string, DigitSource]> = [];
  ep.on('digit', (d, s) => digits.push([d, s]));
  t.teardown(() => ep.close());
  return { ep, digits };
}

/** Send datagrams at their original pacing: each at start + its offset (absolute targets, no drift). */
async function replay(peer: UdpPeer, port: number, recs: Array<{ timeMs: number; payload: Buffer }>): Promise<void> {
  const t0 = performance.now();
  const first = recs[0].timeMs;
  for (const r of recs) {
    const wait = t0 + (r.timeMs - first) - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    await peer.send(r.payload, port);
  }
}

t.test("SIPp's RFC 2833 pcaps are detected digit by digit, each once", { skip: !existsSync(`${PCAP_DIR}/dtmf_2833_1.pcap`) && 'sip-tester not installed' }, async (t) => {
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const { ep, digits } = await endpoint(t, peer, 101);
  let total = 0;
  for (const [name, digit] of NAMES) {
    const recs = readPcapUdp(`${PCAP_DIR}/dtmf_2833_${name}.pcap`);
    t.ok(recs.length >= 4, `${name}: ${recs.length} packets`);
    const p = parseRtp(recs[0].payload);
    t.equal(p?.payloadType, 101);
    const ends = recs.filter((r) => parseTelephoneEvent(parseRtp(r.payload)?.payload ?? Buffer.alloc(0))?.end).length;
    t.ok(ends >= 1, `${name}: has end packets (${ends})`);
    await replay(peer, ep.session.local.port, recs);
    total++;
    await until(() => digits.length >= total, `digit ${digit}`, 10000, 5);
    t.same(digits[total - 1], [digit, 'rfc4733'], `digit ${digit}`);
  }
  await until(() => ep.session.stats.received >= 12 * 8, 'all packets received', 10000, 5);
  t.equal(digits.map((d) => d[0]).join(''), '1234567890*#', 'every digit exactly once, in order');
});

type Pkt = [event: number, end: boolean, volume: number, duration: number, ts?: number, ssrc?: number];

/** Feed packets (ts 1000 and SSRC 1 unless given) to a new receiver; the digits it reports, in order. */
function run(pkts: Pkt[]): string {
  const r = new Rfc4733Receiver();
  let out = '';
  for (const [event, end, volume, duration, ts = 1000, ssrc = 1] of pkts) {
    const b = buildTelephoneEvent({ event, end, volume, duration });
    out += r.onPacket(b, 0, b.length, ts, ssrc) ?? '';
  }
  return out;
}

const seq = (digit: string, ms: number, ts: number): Pkt[] =>
  telephoneEventPayloads(digit, ms).map((b) => {
    const e = parseTelephoneEvent(b)!;
    return [e.event, e.end, e.volume, e.duration, ts];
  });

t.test('receiver rule (RFC 4733 §2.5): a digit counts once per event, when a second consistent packet confirms it', async (t) => {
  const cases: Array<[string, Pkt[], string]> = [
    ['a whole event: one digit', seq('1', 100, 1000), '1'],
    ['the key again: a new timestamp is a new event', [...seq('1', 100, 1000), ...seq('1', 60, 2600)], '11'],
    ['start (duration 0, as SIPp sends) then a growing one', [[5, false, 10, 0], [5, false, 10, 320]], '5'],
    ['start then one end packet (the rest lost)', [[9, false, 10, 160], [9, true, 10, 800]], '9'],
    ['start packets lost, two continuations', seq('#', 200, 1000).slice(3), '#'],
    ['reordered: a later continuation first, then an earlier one (ignored), then growth', [[2, false, 10, 480], [2, false, 10, 160], [2, false, 10, 640], [2, true, 10, 800]], '2'],
    ['only the start, duplicated: nothing confirms it', [[4, false, 10, 160], [4, false, 10, 160]], ''],
    ['duplicate start, then growth: counts once', [[4, false, 10, 160], [4, false, 10, 160], [4, false, 10, 320], [4, true, 10, 480]], '4'],
    ['E bit but no start: the three end packets alone', seq('#', 100, 1000).slice(-3), ''],
    ['E bit but no start: one end packet', [[7, true, 10, 800]], ''],
    ['the code flips on the same event, never an end', [[1, false, 10, 160], [2, false, 10, 320], [3, false, 10, 480], [1, false, 10, 640]], ''],
    ['the code flips at the end', [[1, false, 10, 160], [1, true, 10, 800]].map((p, i): Pkt => (i === 1 ? [8, true, 10, 800] : (p as Pkt))), ''],
    ['absurd first duration', [[3, false, 10, 60000], [3, true, 10, 60160]], ''],
    ['absurd jump of the duration', [[3, false, 10, 160], [3, false, 10, 40000], [3, true, 10, 40160]], ''],
    ['a shorter (late) packet is ignored, not counted', [[3, false, 10, 800], [3, false, 10, 160]], ''],
    ['a shorter packet, then the end', [[3, false, 10, 800], [3, false, 10, 160], [3, true, 10, 960]], '3'],
    ['too quiet (-63 dBm0)', [[6, false, 63, 160], [6, true, 63, 800]], ''],
    ['quiet but plausible (-40 dBm0)', [[6, false, 40, 160], [6, true, 40, 800]], '6'],
    ['flash (16) and tones are not keys', [[16, false, 10, 160], [16, true, 10, 800]], ''],
    ['a late end of an earlier event after the next began', [...seq('1', 100, 1000).slice(0, 3), ...seq('9', 100, 2600).slice(0, 2), ...seq('1', 100, 1000).slice(-1)], '19'],
    ['the same timestamp from another source is another event', [[1, false, 10, 160, 1000, 1], [1, false, 10, 320, 1000, 1], [1, false, 10, 160, 1000, 2], [1, true, 10, 800, 1000, 2]], '11'],
  ];
  for (const [why, pkts, want] of cases) t.equal(run(pkts), want, why);
  const r = new Rfc4733Receiver();
  t.equal(r.onPacket(Buffer.from([1, 0]), 0, 2, 9100, 1), undefined, 'a short payload is ignored');
});

t.test('seeded garbage: random telephone-event packets never count as keys; a proper event among them still does', async (t) => {
  const rnd = prng(16_4733);
  const int = (n: number): number => Math.floor(rnd() * n);
  const r = new Rfc4733Receiver();
  const feed = (event: number, end: boolean, volume: number, duration: number, ts: number, ssrc = 42): string =>
    r.onPacket(buildTelephoneEvent({ event, end, volume, duration }), 0, 4, ts >>> 0, ssrc) ?? '';
  const garbage: Record<string, () => string> = {
    // random payload bytes, a new random timestamp each packet
    random: () => {
      const b = Buffer.from([int(256), int(256), int(256), int(256)]);
      return r.onPacket(b, 0, 4, int(2 ** 32), 42) ?? '';
    },
    // one event that never ends and changes its code every packet
    flipping: () => {
      const ts = int(2 ** 32);
      let out = '';
      let code = int(16);
      for (let i = 1; i <= 20; i++) {
        out += feed(code, false, 10, i * 160, ts);
        code = (code + 1 + int(15)) % 16;
      }
      return out;
    },
    // end packets only, plausible in every other way
    endOnly: () => {
      const ts = int(2 ** 32);
      const code = int(16);
      return feed(code, true, 10, 800, ts) + feed(code, true, 10, 800, ts) + feed(code, true, 10, 800, ts);
    },
    // absurd durations
    absurd: () => {
      const ts = int(2 ** 32);
      const code = int(16);
      const d = MAX_FIRST + 1 + int(65535 - MAX_FIRST - 1);
      return feed(code, false, 10, d, ts) + feed(code, false, 10, Math.min(65535, d + 160), ts) + feed(code, true, 10, 65535, ts);
    },
    // inaudible
    quiet: () => {
      const ts = int(2 ** 32);
      const code = int(16);
      const v = MAX_VOLUME + 1 + int(63 - MAX_VOLUME);
      return feed(code, false, v, 160, ts) + feed(code, false, v, 320, ts) + feed(code, true, v, 800, ts);
    },
  };
  const kinds = Object.keys(garbage);
  let heard = '';
  let sent = '';
  for (let i = 0; i < 5000; i++) {
    heard += garbage[kinds[int(kinds.length)]]();
    if (i % 1000 === 999) {
      // a real key in the middle of the garbage
      const d = '0123456789*#'[int(12)];
      sent += d;
      const ts = int(2 ** 32);
      for (const b of telephoneEventPayloads(d, 100)) heard += r.onPacket(b, 0, b.length, ts, 42) ?? '';
    }
  }
  t.equal(heard, sent, `only the ${sent.length} real keys among 5000 garbage bursts`);
});

t.test('a stream with lost, duplicated and reordered packets over UDP gives each digit once', async (t) => {
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const { ep, digits } = await endpoint(t, peer, 100);
  const port = ep.session.local.port;
  let seq = 500;
  let ts = 160000;
  const keys = '1123#';
  for (const [i, d] of [...keys].entries()) {
    const pkts = telephoneEventPayloads(d, 120).map((p, k) => buildRtp({ payloadType: 100, marker: k === 0, seq: seq++, timestamp: ts, ssrc: 77, payload: p }));
    let send = pkts;
    if (i === 1) send = pkts.slice(2); // start packets lost
    if (i === 2) send = [...pkts, ...pkts]; // everything duplicated
    if (i === 3) send = [pkts[2], pkts[0], pkts[1], ...pkts.slice(3)]; // reordered
    if (i === 4) send = [pkts[0], pkts[pkts.length - 1]]; // only the start and one end packet survive
    for (const b of send) await peer.send(b, port);
    // audio between keys (PCMA silence): in-band detection must not add anything
    for (let k = 0; k < 5; k++) await peer.send(buildRtp({ payloadType: 8, seq: seq++, timestamp: ts + 1000 + k * 160, ssrc: 77, payload: Buffer.alloc(160, 0xd5) }), port);
    ts += 8000;
    await until(() => digits.length >= i + 1, `digit ${i + 1}`, 10000, 5);
  }
  await until(() => ep.session.stats.received >= 40, 'packets', 10000, 5);
  t.equal(digits.map((d) => d[0]).join(''), keys);
  t.ok(digits.every((d) => d[1] === 'rfc4733'));
});

t.test('SIP INFO bodies go through the same digit event', async (t) => {
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const { ep, digits } = await endpoint(t, peer, 101);
  t.equal(ep.onInfo('application/dtmf-relay', 'Signal=1\r\nDuration=160\r\n'), '1');
  t.equal(ep.onInfo('application/dtmf', Buffer.from('#')), '#');
  t.equal(ep.onInfo('text/plain', '1'), undefined);
  t.same(digits, [
    ['1', 'info'],
    ['#', 'info'],
  ]);
});
