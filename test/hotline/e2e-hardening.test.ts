/**
 * Issue 16 end to end, against the built appliance: a stranger's RTP on
 * the technician's address cannot take the technician's leg; a panicking
 * caller's wrong keys do not end the call, the 1 after them starts the
 * hunt; a control character in From gets a 400 and never reaches the log
 * raw; a scanner outside pbx.ini allow learns no product or version.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, removeCard, type Appliance, type ApplianceOptions } from '../lab/appliance.js';
import { startKamailio } from '../lab/kamailio.js';
import { freePort } from '../lab/ports.js';
import { start, stopAll, until } from '../lab/proc.js';
import { buildRtp } from '../../src/media/index.js';
import { readPcapUdp } from '../media/pcap-read.js';
import { udpPeer, type UdpPeer } from '../media/udp-peer.js';
import { caller, outcome, technician } from './e2e-helpers.js';
import { UdpProbe, request } from './robust-helpers.js';

t.teardown(stopAll);

const SETUP: Omit<ApplianceOptions, 'pbxPort'> = { first: '731', technicians: { '731': { next: '731', timeoutSec: 20 } } };
/** A raw control character (C0 but LF, DEL, C1): none may reach the log. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

async function appliance(t: Test, pbxPort: number, extra: Partial<ApplianceOptions> = {}): Promise<Appliance> {
  const app = await startAppliance({ pbxPort, ...SETUP, ...extra });
  t.teardown(() => {
    if (!t.passing()) t.comment(`appliance log:\n${app.proc.output().slice(-6000)}`);
    removeCard(app);
  });
  return app;
}

t.test('wrong keys 2, 3, 4 within a second, then 1: the announcement goes on and the hunt starts (731 rings and answers)', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300 }, true);
  const call = await caller(pbx.port, { digits: '2341', digitGapMs: 300, hangupAfterMs: 3000 });
  t.equal(outcome(await call.result(60000)), 'caller-hung-up', 'put through, talked, hung up');
  t.equal(outcome(await tech.result(60000)), 'released-by-appliance', '731 answered');
  const log = app.proc.output();
  for (const k of '234') t.match(log, new RegExp(`key ${k} is not the proceed key 1: the announcement goes on`));
  t.match(log, /proceed key 1 pressed \(announcement 1, 0 complete\)/, 'the 1 right after the wrong keys counts, during the first announcement');
  t.match(log, /ringing 731/);
  t.notMatch(log, /no proceed key after|goodbye/);
});

t.test('a control character in From gets 400 naming From; ESC in a Request-URI never reaches the log raw', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const probe = await UdpProbe.open();
  t.teardown(() => probe.close());
  const invite = request({ method: 'INVITE', user: '799', appPort: app.port, probe, callId: 'ctl-from' }).replace('<sip:03472619287@', '<sip:0347\x1b[31m2619287@');
  const a = await probe.ask(invite, app.port, 'ctl-from');
  t.equal(a.status, 400, 'answered, not dropped: the PBX knows');
  t.match(a.reason, /^Bad Request \(bad From header/, 'the reason names the broken header');
  // raw ESC in the Request-URI (400), and an escaped one (%1b) that is valid SIP and unescaped by the parser (404)
  const rawUri = request({ method: 'INVITE', user: '79\x1b[2J9', appPort: app.port, probe, callId: 'ctl-ruri' });
  t.equal((await probe.ask(rawUri, app.port, 'ctl-ruri')).status, 400);
  const escUri = request({ method: 'INVITE', user: '79%1b%5d0%3bowned%07%1b%5b2J', appPort: app.port, probe, callId: 'esc-ruri' });
  t.equal((await probe.ask(escUri, app.port, 'esc-ruri')).status, 404);
  await app.proc.waitFor(/INVITE for 79.*refused with 404/, 10000);
  const log = app.proc.output();
  t.notMatch(log, RAW_CONTROL, 'no raw control character anywhere in the log');
  t.match(log, /INVITE for 79\\x1b\]0;owned\\x07\\x1b\[2J from 127\.0\.0\.1:\d+ refused with 404/, 'shown escaped');
  t.match(log, /malformed INVITE from 127\.0\.0\.1:\d+: bad From header/);
});

t.test('OPTIONS and svmap from a source outside pbx.ini allow (127.0.0.2): answered without product or version; the PBX still sees it', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port, { allow: '127.0.0.1' });
  const stranger = await UdpProbe.open('127.0.0.2');
  const friend = await UdpProbe.open('127.0.0.1');
  t.teardown(() => {
    stranger.close();
    friend.close();
  });
  for (const [method, id] of [['OPTIONS', 'sv-opt'], ['SUBSCRIBE', 'sv-sub'], ['INVITE', 'sv-inv']] as const) {
    const a = await stranger.ask(request({ method, user: '799', appPort: app.port, probe: stranger, callId: id }), app.port, id);
    t.ok(a.status >= 200, `${method}: answered ${a.status}`);
    t.notMatch(a.text, /ticketline|^(Server|User-Agent)\s*:/im, `${method} answer: no product, no version`);
  }
  const own = await friend.ask(request({ method: 'OPTIONS', user: '799', appPort: app.port, probe: friend, callId: 'pbx-opt' }), app.port, 'pbx-opt');
  t.match(own.text, /^Server: ticketline\/\S+/im, 'a source in allow sees who answers');
  const home = mkdtempSync(join(tmpdir(), 'tl-svmap-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const svmap = start('svmap', 'timeout', ['60', 'svmap', '-b', '127.0.0.2', '-P', String(await freePort()), '-x', '127.0.0.2', '-p', String(app.port), '127.0.0.1'], { env: { ...process.env, HOME: home } });
  await svmap.exited(90000);
  t.match(svmap.output(), new RegExp(`127\\.0\\.0\\.1:${app.port}`), 'svmap finds a SIP device');
  t.notMatch(svmap.output(), /ticketline/, 'but not which one');
});

const TECH_SDP = (port: number): string => `v=0
o=phone 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio ${port} RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendrecv`;

const PHONE_BYTE = 0x11;
const STRANGER_BYTE = 0x77;
const rtp = (seq: number, ssrc: number, byte: number): Buffer => buildRtp({ payloadType: 8, seq, timestamp: seq * 160, ssrc, payload: Buffer.alloc(160, byte) });
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The leg port the appliance sends from, once it has sent to `peer`. */
async function legPort(peer: UdpPeer): Promise<number> {
  await until(() => peer.received.length > 0, 'the appliance sends to the phone', 30000, 10);
  return peer.received[0].from;
}

t.test('a stranger on the technician\'s address speaks first: the phone still wins, caller and technician hear each other, the stranger is dropped and counted', async (t) => {
  const pbx = await startKamailio();
  const app = await appliance(t, pbx.port);
  const phone = await udpPeer();
  const stranger = await udpPeer();
  t.teardown(() => {
    phone.close();
    stranger.close();
  });
  const tech = await technician(pbx.port, '731', { kind: 'answer', afterMs: 300, sdp: TECH_SDP(phone.port) }, true);
  const call = await caller(pbx.port, { digits: '1', audioPcap: '/usr/share/sip-tester/g711a.pcap', hangupAfterMs: 9000 });
  // the caller's audio reaches the phone's SDP address: that names the technician leg's port
  const leg = await legPort(phone);
  for (let i = 0; i < 10; i++) await stranger.send(rtp(i, 0x5757, STRANGER_BYTE), leg);
  await until(() => stranger.received.length > 0, 'the stranger, latched first (NAT rule), gets the caller\'s audio', 10000, 5);
  // the phone speaks; the stranger keeps sending
  const beforePhone = phone.received.length;
  let strangerAt10 = 0;
  for (let i = 0; i < 150; i++) {
    await phone.send(rtp(i, 0x1111, PHONE_BYTE), leg);
    await stranger.send(rtp(10 + i, 0x5757, STRANGER_BYTE), leg);
    if (i === 10) strangerAt10 = stranger.received.length;
    await pause(20);
  }
  t.ok(phone.received.length - beforePhone > 50, `the technician hears the caller (${phone.received.length - beforePhone} packets)`);
  t.ok(stranger.received.length - strangerAt10 <= 2, `the stranger hears nothing once the phone spoke (${stranger.received.length - strangerAt10} after)`);
  t.equal(outcome(await call.result(60000)), 'caller-hung-up');
  t.equal(outcome(await tech.result(60000)), 'released-by-appliance');
  const line = await app.proc.waitFor(new RegExp(`RTP ${leg} closed: .* (\\d+) from strangers \\(last 127\\.0\\.0\\.1:${stranger.port}\\)`), 20000);
  const counted = Number(/(\d+) from strangers/.exec(line[0])?.[1] ?? 0);
  // once latched to the phone the socket is connect()ed: the kernel drops the rest unseen, so only those before count
  t.ok(counted >= 1, `the stranger's packets seen after the phone spoke were dropped, counted (${counted}) and named`);
  t.match(app.proc.output(), new RegExp(`RTP ${leg} re-latched from 127\\.0\\.0\\.1:${stranger.port} to the SDP endpoint 127\\.0\\.0\\.1:${phone.port}`));
  // the recording: what went out to the caller is the phone's audio, the stranger's only before the phone spoke
  const [pcap] = app.recordings();
  const recs = readPcapUdp(pcap);
  const filled = (b: Buffer, v: number): boolean => b.length === 172 && b[12] === v && b[171] === v;
  const phoneToCaller = recs.filter((r) => filled(r.payload, PHONE_BYTE) && r.srcPort !== phone.port).length;
  const strangerToCaller = recs.filter((r) => filled(r.payload, STRANGER_BYTE) && r.srcPort !== stranger.port).length;
  t.ok(phoneToCaller >= 140, `the caller hears the technician (${phoneToCaller} of the phone's 150 packets relayed)`);
  t.ok(strangerToCaller <= 12, `the stranger reached the caller only before the phone spoke (${strangerToCaller} packets)`);
});
