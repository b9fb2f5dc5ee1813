/**
 * The latching rule of rtp-session.ts (issue 16) with real UDP sockets:
 * the SDP endpoint always wins, another port on its address only until
 * the SDP endpoint speaks (NAT), other addresses never; strangers are
 * counted and named in the session's close line.
 */
import t, { type Test } from 'tap';
import { createSocket } from 'node:dgram';
import { PortPool, RtpSession, buildRtp, type NegotiatedMedia } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { until } from '../lab/proc.js';
import { udpPeer, type UdpPeer } from './udp-peer.js';

function media(port: number, address = '127.0.0.1'): NegotiatedMedia {
  return { remote: { address, port }, codec: 'PCMA', payloadType: 8, telephoneEventPt: 101, ptime: 20, remoteDirection: 'sendrecv', hold: false };
}

const pkt = (seq: number, ssrc: number): Buffer => buildRtp({ payloadType: 8, seq, timestamp: seq * 160, ssrc, payload: Buffer.alloc(160, 0xd5) });
const audio = Buffer.alloc(160, 0x55);

async function setup(t: Test): Promise<{ session: RtpSession; phone: UdpPeer; stranger: UdpPeer; log: ReturnType<typeof memoryLogger> }> {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const phone = await udpPeer();
  const stranger = await udpPeer();
  const session = new RtpSession(await pool.allocate(), media(phone.port), { log });
  t.teardown(() => {
    session.close();
    phone.close();
    stranger.close();
  });
  return { session, phone, stranger, log };
}

/** Send from the session until `peer` has `n` packets (the first sends may race a connect()). */
async function sendUntil(session: RtpSession, peer: UdpPeer, n: number): Promise<void> {
  let seq = 0;
  await until(() => {
    session.sendPayload(audio, 8, false, 1, seq, seq * 160);
    seq++;
    return peer.received.length >= n;
  }, `${n} packets at the peer`, 10000, 5);
}

t.test('a stranger on the phone\'s address speaks first: latched (NAT), then the phone speaks and wins for good', async (t) => {
  const { session, phone, stranger, log } = await setup(t);
  const port = session.local.port;
  await stranger.send(pkt(1, 66), port);
  await until(() => session.latched, 'latched to the stranger', 10000, 5);
  t.same(session.remote, { address: '127.0.0.1', port: stranger.port }, 'nothing from the SDP endpoint yet: the other port is latched (NAT rule)');
  await sendUntil(session, stranger, 1);

  await phone.send(pkt(1, 7), port);
  await until(() => session.remote.port === phone.port, 're-latched to the phone', 10000, 5);
  t.equal(session.stats.received, 2);
  for (let i = 2; i < 12; i++) {
    await stranger.send(pkt(i, 66), port);
    await phone.send(pkt(i, 7), port);
  }
  await until(() => session.stats.received >= 12, 'the phone\'s packets', 10000, 5);
  const toStranger = stranger.received.length;
  await sendUntil(session, phone, 5);
  t.equal(stranger.received.length, toStranger, 'the stranger gets nothing after the phone spoke');
  t.same(session.remote, { address: '127.0.0.1', port: phone.port });
  t.ok(log.lines.some((l) => l.includes(`re-latched from 127.0.0.1:${stranger.port} to the SDP endpoint 127.0.0.1:${phone.port}`)));
  const strangers = session.stats.strangers;
  t.ok(strangers <= 10, `${strangers} stranger packets seen (the rest the connected socket's kernel dropped)`);
  session.close();
  const close = log.lines.find((l) => /RTP \d+ closed:/.test(l)) ?? '';
  t.match(close, new RegExp(`12 received, \\d+ sent, ${session.stats.dropped} dropped, ${strangers} from strangers`));
  if (strangers > 0) t.match(close, new RegExp(`INFO .*last 127\\.0\\.0\\.1:${stranger.port}`), 'strangers named at INFO');
});

t.test('once the phone has spoken, another port on its address is never latched, even after a pause', async (t) => {
  const { session, phone, stranger, log } = await setup(t);
  const port = session.local.port;
  await phone.send(pkt(1, 7), port);
  await until(() => session.latched, 'latched to the phone', 10000, 5);
  for (let i = 0; i < 20; i++) await stranger.send(pkt(i, 66), port);
  await phone.send(pkt(2, 7), port);
  await until(() => session.stats.received >= 2, 'second phone packet', 10000, 5);
  t.same(session.remote, { address: '127.0.0.1', port: phone.port });
  t.equal(session.stats.received, 2, 'no stranger packet accepted');
  t.notOk(log.lines.some((l) => /re-latched/.test(l)));
});

t.test('a phone behind NAT (never from its SDP port) stays latched on its real port', async (t) => {
  const { session, stranger: natPort } = await setup(t);
  for (let i = 1; i <= 5; i++) await natPort.send(pkt(i, 9), session.local.port);
  await until(() => session.stats.received >= 5, 'NAT packets accepted', 10000, 5);
  t.same(session.remote, { address: '127.0.0.1', port: natPort.port });
  await sendUntil(session, natPort, 3);
  t.equal(session.stats.strangers, 0);
});

t.test('another address is dropped and counted; a new SDP endpoint starts the rule over', async (t) => {
  const { session, phone, stranger, log } = await setup(t);
  const other = createSocket('udp4');
  await new Promise<void>((r) => other.bind(0, '127.0.0.2', () => r()));
  t.teardown(() => other.close());
  for (let i = 1; i <= 3; i++) other.send(pkt(i, 5), session.local.port, '127.0.0.1');
  await until(() => session.stats.strangers >= 3, 'three strangers', 10000, 5);
  t.notOk(session.latched);
  await phone.send(pkt(1, 7), session.local.port);
  await until(() => session.latched, 'latched', 10000, 5);
  // re-INVITE: the SDP now names the other socket's port; the old phone is a stranger, the new one wins
  session.setMedia(media(stranger.port));
  t.notOk(session.latched);
  await stranger.send(pkt(1, 8), session.local.port);
  await until(() => session.latched, 'latched to the new SDP endpoint', 10000, 5);
  t.same(session.remote, { address: '127.0.0.1', port: stranger.port });
  await sendUntil(session, stranger, 2);
  session.close();
  t.ok(log.lines.some((l) => new RegExp(`INFO RTP \\d+ closed: 2 received, \\d+ sent, 3 dropped, 3 from strangers \\(last 127\\.0\\.0\\.2:${other.address().port}\\)`).test(l)));
});
