import t from 'tap';
import { LocalSdp, SdpError, answerOffer, buildOffer, parseAnswer, parseSdp } from '../../src/media/index.js';

const crlf = (s: string): string => s.trim().split('\n').map((l) => l.trim()).join('\r\n') + '\r\n';
const local = { address: '127.0.0.1', port: 30000 };

// What SIPp's uac_pcap scenario offers (PCMA first, telephone-event/101).
const SIPP = crlf(`v=0
  o=sipp 53655765 2353687637 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  m=audio 6000 RTP/AVP 8 0 101
  a=rtpmap:8 PCMA/8000
  a=rtpmap:0 PCMU/8000
  a=rtpmap:101 telephone-event/8000
  a=fmtp:101 0-16
  a=ptime:20
  a=sendrecv`);

// Captured from baresip 1.0.0 dialing us (session-level c=, unknown attributes).
const BARESIP = crlf(`v=0
  o=- 1525426051 196258567 IN IP4 127.0.0.1
  s=-
  c=IN IP4 127.0.0.1
  t=0 0
  a=tool:baresip 1.0.0
  m=audio 27454 RTP/AVP 0 8 101
  a=rtpmap:0 PCMU/8000
  a=rtpmap:8 PCMA/8000
  a=rtpmap:101 telephone-event/8000
  a=fmtp:101 0-15
  a=sendrecv
  a=label:1
  a=rtcp-rsize
  a=ssrc:1282391732 cname:sip:731@127.0.0.1:27390
  a=minptime:20
  a=ptime:20`);

// A trunk offer of the kind a proxy passes on (Kamailio forwards bodies unchanged; the live
// SIPp -> Kamailio -> us path is in sipp-dtmf.test.ts): video first, media-level c=,
// static PTs without rtpmap, telephone-event on 96, LF line ends, ptime 30.
const KAMAILIO_FWD = `v=0
o=trunk 1 1 IN IP4 10.0.0.1
s=call
c=IN IP4 10.0.0.1
t=0 0
b=AS:80
m=video 4000 RTP/AVP 97
a=rtpmap:97 H264/90000
m=audio 4002 RTP/AVP 18 0 8 96
c=IN IP4 127.0.0.5
a=rtpmap:18 G729/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=ptime:30
x=whatever
`;

t.test('parses SIPp, baresip and forwarded offers, whatever the line ends', async (t) => {
  const s = parseSdp(SIPP);
  t.equal(s.origin.sessionId, '53655765');
  t.equal(s.connection, '127.0.0.1');
  t.same(s.media[0].formats, ['8', '0', '101']);
  t.same(s.media[0].rtpmap.get(101), { encoding: 'telephone-event', clockRate: 8000 });
  t.equal(s.media[0].fmtp.get(101), '0-16');
  t.equal(s.media[0].ptime, 20);
  t.equal(s.media[0].direction, 'sendrecv');
  const b = parseSdp(BARESIP);
  t.ok(b.attributes.includes('tool:baresip 1.0.0'), 'unknown session attribute kept');
  t.ok(b.media[0].attributes.includes('rtcp-rsize'));
  const k = parseSdp(Buffer.from(KAMAILIO_FWD));
  t.equal(k.media.length, 2);
  t.equal(k.media[1].connection, '127.0.0.5');
});

t.test('answer picks the first of our preferences the offer has and keeps the offer PTs', async (t) => {
  const a = answerOffer(SIPP, ['PCMU', 'PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(a.media.codec, 'PCMU');
  t.equal(a.media.payloadType, 0);
  t.equal(a.media.telephoneEventPt, 101);
  t.same(a.media.remote, { address: '127.0.0.1', port: 6000 });
  t.equal(a.media.hold, false);
  const ans = parseSdp(a.sdp);
  t.same(ans.media[0].formats, ['0', '101']);
  t.equal(ans.media[0].port, 30000);
  t.equal(ans.media[0].ptime, 20);
  t.equal(ans.media[0].direction, 'sendrecv');
  t.match(a.sdp, /\r\nc=IN IP4 127\.0\.0\.1\r\n/);

  const b = answerOffer(BARESIP, ['PCMA', 'PCMU'], local, new LocalSdp('127.0.0.1'));
  t.equal(b.media.codec, 'PCMA');
  t.equal(b.media.payloadType, 8);
  t.equal(b.media.remote.port, 27454);
});

t.test('forwarded offer: video rejected with port 0, static PT without rtpmap, telephone-event 96, ptime echoed', async (t) => {
  const a = answerOffer(KAMAILIO_FWD, ['PCMA', 'PCMU'], local, new LocalSdp('127.0.0.1'));
  t.equal(a.media.codec, 'PCMA');
  t.equal(a.media.payloadType, 8);
  t.equal(a.media.telephoneEventPt, 96);
  t.equal(a.media.ptime, 30);
  t.same(a.media.remote, { address: '127.0.0.5', port: 4002 });
  const ans = parseSdp(a.sdp);
  t.equal(ans.media.length, 2, 'one answer line per offered line (RFC 3264 §6)');
  t.equal(ans.media[0].media, 'video');
  t.equal(ans.media[0].port, 0);
  t.same(ans.media[1].formats, ['8', '96']);
  t.equal(ans.media[1].rtpmap.get(96)?.encoding, 'telephone-event');
  t.equal(ans.media[1].ptime, 30);
});

for (const pt of [96, 100, 101, 127]) {
  t.test(`telephone-event on dynamic payload type ${pt} is kept`, async (t) => {
    const offer = SIPP.replace(/101/g, String(pt));
    const a = answerOffer(offer, ['PCMA'], local, new LocalSdp('127.0.0.1'));
    t.equal(a.media.telephoneEventPt, pt);
    t.match(a.sdp, new RegExp(`a=rtpmap:${pt} telephone-event/8000`));
  });
}

t.test('no telephone-event offered: none answered', async (t) => {
  const offer = crlf(`v=0
    o=- 1 1 IN IP4 127.0.0.1
    s=-
    c=IN IP4 127.0.0.1
    t=0 0
    m=audio 5000 RTP/AVP 0`);
  const a = answerOffer(offer, ['PCMA', 'PCMU'], local, new LocalSdp('127.0.0.1'));
  t.equal(a.media.telephoneEventPt, undefined);
  t.equal(a.media.codec, 'PCMU');
  t.notMatch(a.sdp, /telephone-event/);
});

t.test('no common codec is a 488', async (t) => {
  const offer = SIPP.replace('m=audio 6000 RTP/AVP 8 0 101', 'm=audio 6000 RTP/AVP 18 9 101').replace(/a=rtpmap:[08] .*\r\n/g, '');
  t.throws(() => answerOffer(offer, ['PCMA', 'PCMU'], local, new LocalSdp('127.0.0.1')), { name: 'SdpError', status: 488 });
  // a codec the offer has but we do not want
  t.throws(() => answerOffer(SIPP.replace(' 8 0 101', ' 0 101'), ['PCMA'], local, new LocalSdp('127.0.0.1')), { name: 'SdpError', status: 488 });
  // PCMA/16000 is not G.711 at 8 kHz
  const wide = SIPP.replace(' 8 0 101', ' 8 101').replace('PCMA/8000', 'PCMA/16000');
  t.throws(() => answerOffer(wide, ['PCMA'], local, new LocalSdp('127.0.0.1')), { name: 'SdpError', status: 488 });
});

t.test('a host name in c= is never resolved: the offer or answer is a 488', async (t) => {
  const named = (sdp: string): string => sdp.replace(/c=IN IP4 127\.0\.0\.1/g, 'c=IN IP4 localhost');
  t.not(named(SIPP), SIPP, 'the fixture has a c= line to rename');
  t.throws(() => answerOffer(named(SIPP), ['PCMA', 'PCMU'], local, new LocalSdp('127.0.0.1')), { name: 'SdpError', status: 488 });
  t.throws(() => parseAnswer(named(BARESIP), ['PCMA', 'PCMU']), { name: 'SdpError', status: 488 });
  t.doesNotThrow(() => answerOffer(SIPP.replace(/c=IN IP4 127\.0\.0\.1/g, 'c=IN IP6 ::1'), ['PCMA'], local, new LocalSdp('127.0.0.1')), 'an IPv6 literal is an address');
});

t.test('an SRTP-only offer is a 488 (no keys), a plain RTP line beside it is taken', async (t) => {
  const srtp = SIPP.replace('RTP/AVP', 'RTP/SAVP').replace('a=sendrecv', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz');
  t.throws(() => answerOffer(srtp, ['PCMA'], local, new LocalSdp('127.0.0.1')), { name: 'SdpError', status: 488 });
  const both = srtp + 'm=audio 6002 RTP/AVP 8\r\n';
  const a = answerOffer(both, ['PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(a.media.remote.port, 6002);
  const lines = parseSdp(a.sdp).media;
  t.equal(lines[0].port, 0, 'SRTP line rejected');
  t.equal(lines[1].port, local.port);
});

t.test('hold is understood: sendonly, inactive, c=0.0.0.0', async (t) => {
  const so = answerOffer(SIPP.replace('a=sendrecv', 'a=sendonly'), ['PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(so.media.hold, true);
  t.match(so.sdp, /a=recvonly/);
  const ina = answerOffer(SIPP.replace('a=sendrecv', 'a=inactive'), ['PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(ina.media.hold, true);
  t.match(ina.sdp, /a=inactive/);
  const zero = answerOffer(SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'), ['PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(zero.media.hold, true);
  const ro = answerOffer(SIPP.replace('a=sendrecv', 'a=recvonly'), ['PCMA'], local, new LocalSdp('127.0.0.1'));
  t.equal(ro.media.hold, false);
  t.match(ro.sdp, /a=sendonly/);
});

t.test('o= keeps the session id and bumps the version only when the body changes', async (t) => {
  const l = new LocalSdp('127.0.0.1', 'ticketline', 1000);
  const o1 = parseSdp(buildOffer(local, ['PCMA', 'PCMU'], l)).origin;
  const o2 = parseSdp(buildOffer(local, ['PCMA', 'PCMU'], l)).origin;
  const o3 = parseSdp(buildOffer({ address: '127.0.0.1', port: 30002 }, ['PCMA', 'PCMU'], l)).origin;
  t.equal(o1.sessionId, '1000');
  t.equal(o2.sessionVersion, o1.sessionVersion, 'same body, same version');
  t.equal(Number(o3.sessionVersion), Number(o1.sessionVersion) + 1, 'changed body, version + 1');
  t.equal(o3.sessionId, o1.sessionId);
});

t.test('our offer lists the codecs in configured order, then telephone-event/101', async (t) => {
  const sdp = buildOffer(local, ['PCMU', 'PCMA'], new LocalSdp('127.0.0.1'));
  const m = parseSdp(sdp).media[0];
  t.same(m.formats, ['0', '8', '101']);
  t.equal(m.rtpmap.get(8)?.encoding, 'PCMA');
  t.equal(m.fmtp.get(101), '0-15');
  t.equal(m.ptime, 20);
});

t.test('parseAnswer learns the remote endpoint, the codec and the telephone-event PT', async (t) => {
  const a = parseAnswer(BARESIP, ['PCMA', 'PCMU']);
  t.same(a.remote, { address: '127.0.0.1', port: 27454 });
  t.equal(a.codec, 'PCMU');
  t.equal(a.telephoneEventPt, 101);
  t.throws(() => parseAnswer(BARESIP, []), { name: 'SdpError', status: 488 });
  t.throws(() => parseAnswer(BARESIP.replace('m=audio 27454', 'm=audio 0'), ['PCMA']), { name: 'SdpError', status: 488 });
});

t.test('garbage is a 400, never a crash', async (t) => {
  t.throws(() => parseSdp('hello'), SdpError);
  t.throws(() => parseSdp('v=0\r\n'), { name: 'SdpError', status: 400 });
  t.throws(() => parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n'), { name: 'SdpError', status: 400 });
  t.throws(() => parseSdp('v=0\r\no=x\r\n' + 'a=x\r\n'.repeat(5000)), { name: 'SdpError', status: 400 });
  for (let i = 0; i < 200; i++) {
    const junk = Buffer.from(Array.from({ length: 200 }, () => Math.floor(Math.random() * 256)));
    try {
      parseSdp(Buffer.concat([Buffer.from('v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n'), junk]));
    } catch (e) {
      t.type(e, SdpError);
    }
  }
});
