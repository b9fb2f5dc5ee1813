import t from 'tap';
import { createSocket } from 'node:dgram';
import { encode } from '../../src/media/g711.js';
import { MediaEndpoint, PortPool, RtpSession, buildRtp, dtmfTone, telephoneEventPayloads, type NegotiatedMedia } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { udpPeer } from './udp-peer.js';

function media(port: number, address = '127.0.0.1'): NegotiatedMedia {
  return { remote: { address, port }, codec: 'PCMA', payloadType: 8, telephoneEventPt: 101, ptime: 20, remoteDirection: 'sendrecv', hold: false };
}

t.test('open() takes a port from the pool, close() gives it back; a phone sending both 4733 and tones counts once', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  t.teardown(() => phone.close());
  const ep = await MediaEndpoint.open(pool, media(phone.port), { log });
  t.equal(pool.inUse, 1);
  const got: string[] = [];
  ep.on('digit', (d, s) => got.push(`${d}:${s}`));
  const port = ep.session.local.port;
  // key 4 as telephone-events AND as in-band audio, like some phones do
  let seq = 1;
  for (const p of telephoneEventPayloads('4', 100)) await phone.send(buildRtp({ payloadType: 101, seq: seq++, timestamp: 800, ssrc: 9, payload: p }), port);
  const tone = encode('PCMA', dtmfTone('4', 200));
  for (let i = 0; i + 160 <= tone.length; i += 160) await phone.send(buildRtp({ payloadType: 8, seq: seq++, timestamp: 800 + i, ssrc: 9, payload: tone.subarray(i, i + 160) }), port);
  await until(() => ep.session.stats.received >= seq - 1, 'all packets', 10000, 5);
  t.same(got, ['4:rfc4733'], 'in-band detection turned itself off once events were seen');
  ep.close();
  ep.close();
  t.equal(pool.inUse, 0);
  t.match(log.lines.join('\n'), /DTMF 4 \(rfc4733\)/);
});

t.test('latching: only the SDP address unless latchAnyAddress; new SDP drops the latch', async (t) => {
  const base = await freeBlock(4, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 3, bindAddress: '127.0.0.1', log });
  const natted = createSocket('udp4');
  await new Promise<void>((r) => natted.bind(0, '127.0.0.2', () => r()));
  const phone = await udpPeer();
  t.teardown(() => {
    natted.close();
    phone.close();
  });
  const pkt = buildRtp({ payloadType: 8, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(160, 0xd5) });
  const strict = new RtpSession(await pool.allocate(), media(phone.port), { log });
  const loose = new RtpSession(await pool.allocate(), media(phone.port), { log, latchAnyAddress: true });
  t.teardown(() => {
    strict.close();
    loose.close();
  });
  natted.send(pkt, strict.local.port, '127.0.0.1');
  natted.send(pkt, loose.local.port, '127.0.0.1');
  await until(() => strict.stats.dropped + loose.stats.received >= 2, 'both handled', 10000, 5);
  t.equal(strict.latched, false, 'strict session ignores another address');
  t.equal(strict.stats.dropped, 1);
  t.equal(loose.latched, true);
  t.same(loose.remote, { address: '127.0.0.2', port: natted.address().port }, 'loose session sends to the NATed source');
  t.ok(loose.stats.lastReceivedMs > 0, 'time of the last packet kept (RTP timeout)');
  t.equal(strict.stats.lastReceivedMs, 0, 'dropped packets do not count as media');

  await phone.send(pkt, strict.local.port);
  await until(() => strict.latched, 'latched to the phone', 10000, 5);
  t.same(strict.remote, { address: '127.0.0.1', port: phone.port });
  // unknown payload type (e.g. comfort noise 13) is dropped without latching changes
  await phone.send(buildRtp({ payloadType: 13, seq: 2, timestamp: 2, ssrc: 1, payload: Buffer.alloc(1) }), strict.local.port);
  await until(() => strict.stats.dropped >= 2, 'CN dropped', 10000, 5);
  strict.setMedia(media(phone.port + 1));
  t.equal(strict.latched, false, 're-INVITE to a new address drops the latch');
  t.same(strict.remote, { address: '127.0.0.1', port: phone.port + 1 });
});
