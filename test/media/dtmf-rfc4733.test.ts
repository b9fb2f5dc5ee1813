import t from 'tap';
import { existsSync } from 'node:fs';
import {
  MediaEndpoint,
  PortPool,
  Rfc4733Receiver,
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

t.test('receiver: lost start packets, duplicates, reordering and repeated keys', async (t) => {
  const r = new Rfc4733Receiver();
  const feed = (b: Buffer, ts: number, ssrc = 1): string | undefined => r.onPacket(b, 0, b.length, ts, ssrc);
  const one = telephoneEventPayloads('1', 100);
  t.equal(one.length, 4 + 3, '4 progress packets then three end packets');
  t.same(one.map((b) => feed(b, 1000)), ['1', undefined, undefined, undefined, undefined, undefined, undefined], 'reported on the first packet only');
  // the same key pressed again: a new event has a new timestamp
  t.same(telephoneEventPayloads('1', 60).map((b) => feed(b, 2600)).filter(Boolean), ['1']);
  // all but the end packets lost
  t.same(telephoneEventPayloads('#', 100).slice(-3).map((b) => feed(b, 4000)).filter(Boolean), ['#']);
  // only one middle packet arrives, twice
  const five = telephoneEventPayloads('5', 200);
  t.equal(feed(five[4], 6000), '5');
  t.equal(feed(five[4], 6000), undefined);
  // a late end packet of an earlier event after the next event started
  t.equal(feed(telephoneEventPayloads('9', 100)[0], 8000), '9');
  t.equal(feed(one[6], 1000), undefined, 'late end of "1" not counted again');
  // same timestamp from another source (technician switched) is another event
  t.equal(feed(one[0], 1000, 2), '1');
  // events outside 0-15 (flash) and short payloads are ignored
  t.equal(feed(Buffer.from([16, 0, 0, 160]), 9000), undefined);
  t.equal(feed(Buffer.from([1, 0]), 9100), undefined);
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
    if (i === 4) send = pkts.slice(-1); // only one end packet survives
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
