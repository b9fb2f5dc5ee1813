import t from 'tap';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../../src/media/g711.js';
import { PortPool, Relay, RtpSession, buildRtp, buildTelephoneEvent, type NegotiatedMedia, type RtpTap } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { udpPeer, type UdpPeer } from './udp-peer.js';

function media(peer: UdpPeer, codec: 'PCMA' | 'PCMU', te?: number): NegotiatedMedia {
  const m: NegotiatedMedia = { remote: { address: '127.0.0.1', port: peer.port }, codec, payloadType: codec === 'PCMA' ? 8 : 0, ptime: 20, remoteDirection: 'sendrecv', hold: false };
  if (te !== undefined) m.telephoneEventPt = te;
  return m;
}

function audio(i: number): Buffer {
  const b = Buffer.alloc(160);
  for (let j = 0; j < 160; j++) b[j] = (i * 7 + j) & 0xff;
  return b;
}

async function sendStream(from: UdpPeer, to: number, pt: number, ssrc: number, seq0: number, ts0: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await from.send(buildRtp({ payloadType: pt, seq: (seq0 + i) & 0xffff, timestamp: ts0 + i * 160, ssrc, payload: audio(i) }), to);
  }
}

t.test('relay transcodes, maps telephone-event PTs and keeps one continuous stream across a technician switch', async (t) => {
  const base = await freeBlock(8, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 7, bindAddress: '127.0.0.1', log });
  const caller = await udpPeer();
  const tech1 = await udpPeer();
  const tech2 = await udpPeer();
  const taps: string[] = [];
  const tap: RtpTap = (dir, pkt, local, remote) => taps.push(`${dir}:${local.port}:${remote.port}:${pkt.length}`);
  const a = new RtpSession(await pool.allocate(), media(caller, 'PCMA', 101), { log, tap });
  const b1 = new RtpSession(await pool.allocate(), media(tech1, 'PCMU', 100), { log });
  const b2 = new RtpSession(await pool.allocate(), media(tech2, 'PCMA', 96), { log });
  t.teardown(() => {
    for (const x of [a, b1, b2]) x.close();
    for (const p of [caller, tech1, tech2]) p.close();
  });

  const r1 = new Relay(a, b1).start();
  await sendStream(caller, a.local.port, 8, 0x1111, 100, 5000, 20);
  await tech1.waitFor(20, 'caller audio at technician 1');
  const got1 = tech1.received.map((r) => r.pkt);
  t.ok(got1.every((p) => p.payloadType === 0), 'A-law caller arrives as PCMU (PT 0)');
  t.same([...got1[3].payload], [...audio(3)].map((x) => ALAW_TO_ULAW[x]), 'payload transcoded A-law -> µ-law');
  t.ok(got1.every((p) => p.ssrc === got1[0].ssrc), 'one SSRC');
  t.ok(got1.every((p, i) => i === 0 || p.seq === ((got1[i - 1].seq + 1) & 0xffff)), 'consecutive seq');
  t.ok(got1.every((p, i) => i === 0 || p.timestamp - got1[i - 1].timestamp === 160), 'timestamps step 160');

  await sendStream(tech1, b1.local.port, 0, 0x2222, 7, 90000, 10);
  await caller.waitFor(10, 'technician 1 audio at the caller');
  t.same([...caller.received[2].pkt.payload], [...audio(2)].map((x) => ULAW_TO_ALAW[x]), 'µ-law -> A-law');
  t.ok(caller.received.every((r) => r.pkt.payloadType === 8));
  t.ok(caller.received.every((r) => r.from === a.local.port), 'sent from the port in our SDP (symmetric RTP)');

  // hunt hop: technician 2 answers, replaying the very same stream (same SSRC, seq, timestamps)
  r1.stop();
  r1.stop();
  const r2 = new Relay(a, b2).start();
  await sendStream(tech2, b2.local.port, 8, 0x2222, 7, 90000, 10);
  await caller.waitFor(20, 'technician 2 audio at the caller');
  const c = caller.received.map((r) => r.pkt);
  t.ok(c.every((p) => p.ssrc === c[0].ssrc), 'the caller sees one SSRC across the switch');
  for (let i = 1; i < c.length; i++) {
    t.equal(c[i].seq, (c[i - 1].seq + 1) & 0xffff, `seq ${i} continues`);
    t.ok(((c[i].timestamp - c[i - 1].timestamp) >>> 0) >= 160 && ((c[i].timestamp - c[i - 1].timestamp) >>> 0) < 80000, `timestamp ${i} moves forward`);
  }
  t.equal(c[10].marker, true, 'marker bit on the first packet after the switch');
  t.same([...c[12].payload], [...audio(2)], 'same law on both sides: payload untouched');

  // telephone-event from the caller (PT 101) reaches technician 2 as its PT 96
  const before = tech2.received.length;
  await caller.send(buildRtp({ payloadType: 101, marker: true, seq: 120, timestamp: 5000 + 20 * 160, ssrc: 0x1111, payload: buildTelephoneEvent({ event: 1, end: false, volume: 10, duration: 160 }) }), a.local.port);
  await tech2.waitFor(before + 1, 'the event at technician 2');
  t.equal(tech2.received[before].pkt.payloadType, 96);
  t.equal(tech2.received[before].pkt.payload[0], 1);

  // a stranger after latching is dropped (by the kernel: the socket is connected to the caller)
  const stranger = await udpPeer();
  await sendStream(stranger, a.local.port, 8, 0x9999, 1, 1, 3);
  await sendStream(caller, a.local.port, 8, 0x1111, 121, 5000 + 21 * 160, 1);
  await tech2.waitFor(before + 2, 'the caller packet after the stranger');
  t.equal(tech2.received.length, before + 2, 'none of them was forwarded (they were sent before the caller packet)');
  t.ok(tech2.received.slice(before + 1).every((r) => r.pkt.payload.length === 160 && r.pkt.payloadType === 8));
  stranger.close();

  t.ok(taps.some((x) => x.startsWith(`in:${a.local.port}:${caller.port}:172`)), 'tap saw the caller packets');
  t.ok(taps.some((x) => x.startsWith(`out:${a.local.port}:`)), 'tap saw the packets sent to the caller');
  t.equal(taps.filter((x) => x.startsWith('in:')).length, a.stats.received);
  t.equal(taps.filter((x) => x.startsWith('out:')).length, a.stats.sent);
  r2.stop();
});

t.test('events are dropped towards a leg without telephone-event; nothing is sent to a leg on hold', async (t) => {
  const base = await freeBlock(4, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 3, bindAddress: '127.0.0.1', log });
  const caller = await udpPeer();
  const tech = await udpPeer();
  const a = new RtpSession(await pool.allocate(), media(caller, 'PCMU', 101), { log });
  const held = { ...media(tech, 'PCMU'), remoteDirection: 'sendonly' as const, hold: true };
  const b = new RtpSession(await pool.allocate(), media(tech, 'PCMU'), { log });
  t.teardown(() => {
    a.close();
    b.close();
    caller.close();
    tech.close();
  });
  const r = new Relay(a, b).start();
  await caller.send(buildRtp({ payloadType: 101, seq: 1, timestamp: 1, ssrc: 5, payload: buildTelephoneEvent({ event: 5, end: false, volume: 10, duration: 160 }) }), a.local.port);
  await sendStream(caller, a.local.port, 0, 5, 2, 161, 1);
  await tech.waitFor(1);
  t.equal(tech.received[0].pkt.payloadType, 0, 'only the audio went through');
  t.equal(r.stats.dropped, 1);
  b.setMedia(held);
  t.equal(b.canSend, false);
  await sendStream(caller, a.local.port, 0, 5, 3, 321, 3);
  await sendStream(tech, b.local.port, 0, 6, 1, 1, 1);
  await caller.waitFor(1, 'held technician still heard');
  t.equal(tech.received.length, 1, 'nothing sent to the leg on hold');
  t.equal(r.stats.dropped, 4);
  a.close();
  a.close();
  t.equal(a.isClosed, true);
  t.equal(pool.inUse, 1, 'closed session returned its port');
});

t.test('a newer relay on the caller session survives the stop of the older one', async (t) => {
  const base = await freeBlock(6, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 5, bindAddress: '127.0.0.1', log });
  const caller = await udpPeer();
  const desk = await udpPeer();
  const mobile = await udpPeer();
  const a = new RtpSession(await pool.allocate(), media(caller, 'PCMA'), { log });
  const d = new RtpSession(await pool.allocate(), media(desk, 'PCMA'), { log });
  const m = new RtpSession(await pool.allocate(), media(mobile, 'PCMA'), { log });
  t.teardown(() => {
    for (const x of [a, d, m]) x.close();
    for (const p of [caller, desk, mobile]) p.close();
  });
  const rDesk = new Relay(a, d).start();
  const rMobile = new Relay(a, m).start(); // the mobile answered: it takes the caller over
  rDesk.stop(); // the desk leg is cancelled afterwards
  t.equal(rMobile.active, true);
  await sendStream(caller, a.local.port, 8, 1, 1, 1, 5);
  await mobile.waitFor(5, 'caller audio at the mobile');
  t.equal(desk.received.length, 0, 'nothing to the cancelled desk phone');
  await sendStream(mobile, m.local.port, 8, 2, 1, 1, 3);
  await caller.waitFor(3, 'mobile audio at the caller');
  rMobile.stop();
});

t.test('a latched (connected) leg survives the phone closing its port, and follows a re-INVITE to a new address', async (t) => {
  const base = await freeBlock(4, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 3, bindAddress: '127.0.0.1', log });
  const caller = await udpPeer();
  let tech = await udpPeer();
  const a = new RtpSession(await pool.allocate(), media(caller, 'PCMA'), { log });
  const b = new RtpSession(await pool.allocate(), media(tech, 'PCMA'), { log });
  const extra: UdpPeer[] = [];
  t.teardown(() => {
    a.close();
    b.close();
    for (const p of [caller, tech, ...extra]) p.close();
  });
  new Relay(a, b).start();
  await sendStream(tech, b.local.port, 8, 7, 1, 160, 2); // b latches to the technician
  await caller.waitFor(2, 'technician audio at the caller');
  await sendStream(caller, a.local.port, 8, 5, 1, 160, 3);
  await tech.waitFor(3, 'caller audio at the technician');

  // the phone's port goes away: ICMP port unreachable comes back to b's connected socket
  const techPort = tech.port;
  tech.close();
  await sendStream(caller, a.local.port, 8, 5, 4, 4 * 160, 5);
  await new Promise((r) => setTimeout(r, 100)); // let the ICMP errors reach the socket
  await sendStream(caller, a.local.port, 8, 5, 9, 9 * 160, 5);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(b.isClosed, false, 'the leg is still open');
  t.equal(pool.inUse, 2, 'its port still taken');
  t.notMatch(log.lines.join('\n'), /socket error, closing/);

  // a re-INVITE moves the technician to a new port: the latch (and the connection) follows
  tech = await udpPeer();
  t.not(tech.port, techPort);
  b.setMedia(media(tech, 'PCMA'));
  await sendStream(tech, b.local.port, 8, 8, 1, 160, 2);
  await caller.waitFor(4, 'audio from the new technician port');
  await sendStream(caller, a.local.port, 8, 5, 14, 14 * 160, 3);
  await tech.waitFor(3, 'caller audio at the new technician port');
  t.ok(tech.received.every((r) => r.from === b.local.port), 'sent from the port in our SDP');
});
