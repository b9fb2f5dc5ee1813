/** Unit tests of the pure parts: pcap/pcapng framing, RTP parsing, timeline placement. */
import t from 'tap';
import { FlowFrame, ipv4HeaderChecksum, ipv4ToInt, ipv6Bytes, isIpv6, pcapGlobalHeader, recordLength, writeRecord, type FrameInfo } from '../../src/record/pcap-writer.js';
import { readCapture } from '../../src/record/pcap-reader.js';
import { decodeUdp, LINKTYPE } from '../../src/record/frame-decode.js';
import { parseRtp, isEventOrNoise, payloadTypeName } from '../../src/record/rtp-packet.js';
import { placeChannel, type AudioPacket } from '../../src/record/timeline.js';
import { wavHeader } from '../../src/media/wav.js';
import { rtpPacket } from './helpers.js';

const A = { address: '10.1.2.3', port: 4000 };
const B = { address: '192.168.200.1', port: 30000 };

function oneRecord(f: Partial<FrameInfo>, rtp: Buffer): Buffer {
  const frame: FrameInfo = { from: 'caller', to: 'appliance', src: A, dst: B, timeMs: 1_700_000_000_123.4567, ipId: 7, ...f };
  const buf = Buffer.alloc(recordLength(rtp.length));
  const end = writeRecord(buf, 0, frame, rtp);
  if (end !== buf.length) throw new Error(`writeRecord wrote ${end} bytes, recordLength says ${buf.length}`);
  return Buffer.concat([pcapGlobalHeader(), buf]);
}

t.test('global header: magic a1b2c3d4, v2.4, snaplen 65535, Ethernet', async (t) => {
  t.equal(pcapGlobalHeader().toString('hex'), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000');
});

t.test('a record carries µs time, role MACs, IPv4 with a valid checksum, UDP with the real ports', async (t) => {
  const rtp = rtpPacket(8, 1, 160, 0xdeadbeef, Buffer.alloc(160, 0xd5));
  const file = oneRecord({}, rtp);
  const cap = readCapture(file);
  t.equal(cap.packets.length, 1);
  const p = cap.packets[0];
  t.equal(p.timeUs, 1_700_000_000_123_457, 'microseconds, rounded');
  const d = p.data;
  t.equal(d.toString('hex', 0, 6), '020000000000', 'destination MAC = receiver role (appliance)');
  t.equal(d.toString('hex', 6, 12), '020000000001', 'source MAC = sender role (caller)');
  t.equal(ipv4HeaderChecksum(d, 14), d.readUInt16BE(24), 'header checksum as written');
  // RFC 1071: the sum over a header including its checksum is 0xffff
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += d.readUInt16BE(14 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  t.equal(sum, 0xffff, 'checksum verifies');
  const udp = decodeUdp(LINKTYPE.ETHERNET, d);
  t.same(udp && [udp.srcAddr, udp.srcPort, udp.dstAddr, udp.dstPort], ['10.1.2.3', 4000, '192.168.200.1', 30000]);
  t.same(udp?.payload, rtp, 'the RTP bytes untouched');
  const unknown = readCapture(oneRecord({ from: 'appliance', to: undefined }, rtp)).packets[0].data;
  t.equal(unknown.toString('hex', 0, 12), '0200000000ff' + '020000000000', 'unknown receiver is ff');
});

/** RFC 1071: the one's-complement sum over data that includes its checksum is 0xffff. */
function sumsToOnes(words: number[]): boolean {
  let sum = words.reduce((a, b) => a + b, 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

function words(b: Buffer, from: number, to: number): number[] {
  const w: number[] = [];
  for (let i = from; i < to; i += 2) w.push(i + 1 < to ? b.readUInt16BE(i) : b[i] << 8);
  return w;
}

t.test('one flow frame writes any number of records: lengths, ids and checksums are per packet', async (t) => {
  const v4 = new FlowFrame('technician', 'appliance', B, A);
  const v6 = new FlowFrame('appliance', 'caller', { address: '2001:db8::7', port: 5004 }, { address: '10.0.0.9', port: 7078 });
  const buf = Buffer.alloc(4096);
  let bad = 0;
  for (let i = 0; i < 400; i++) {
    const len = 12 + ((i * 37) % 333); // odd and even lengths
    const rtp = rtpPacket(8, i, i * 160, 9, Buffer.alloc(len - 12, i & 0xff));
    const id = 0xfff0 + i; // wraps past 16 bits
    for (const f of [v4, v6]) {
      const end = f.write(buf, 0, 1_700_000_000_000 + i * 20, id, rtp);
      const d = buf.subarray(16, end);
      if (end !== f.recordLength(rtp.length) || buf.readUInt32LE(8) !== d.length || buf.readUInt32LE(12) !== d.length) bad++;
      const udp = decodeUdp(LINKTYPE.ETHERNET, d);
      if (!udp || !udp.payload.equals(rtp)) bad++;
      if (f.v6) {
        // pseudo-header (addresses, length, next header) + UDP header + payload
        const ip = 14;
        if (d.readUInt16BE(ip + 4) !== 8 + rtp.length) bad++;
        if (!sumsToOnes([...words(d, ip + 8, ip + 40), 8 + rtp.length, 17, ...words(d, ip + 40, d.length)])) bad++;
      } else {
        if (d.readUInt16BE(16) !== 28 + rtp.length || d.readUInt16BE(18) !== (id & 0xffff)) bad++;
        if (!sumsToOnes(words(d, 14, 34)) || ipv4HeaderChecksum(d, 14) !== d.readUInt16BE(24)) bad++;
      }
    }
  }
  t.equal(bad, 0, '800 records, every field and checksum right');
  t.ok(v6.v6, 'one IPv6 end makes an IPv6 frame (the IPv4 one as ::ffff:)');
  t.ok(v4.is('technician', 'appliance', { ...B }, { ...A }), 'a flow is found by value');
  t.notOk(v4.is('technician', undefined, B, A), 'another receiver is another flow');
});

t.test('timestamps round into the next second when the fraction rounds up', async (t) => {
  const cap = readCapture(oneRecord({ timeMs: 1999.9999 }, rtpPacket(0, 1, 1, 1, Buffer.alloc(1))));
  t.equal(cap.packets[0].timeUs, 2_000_000);
});

t.test('ipv4ToInt accepts dotted quads and v4-mapped v6, maps the rest to 0', async (t) => {
  t.equal(ipv4ToInt('127.0.0.1'), 0x7f000001);
  t.equal(ipv4ToInt('::ffff:10.0.0.2'), 0x0a000002);
  t.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
  t.equal(ipv4ToInt('256.1.1.1'), 0);
  t.equal(ipv4ToInt('fe80::1'), 0);
});

t.test('the reader: big-endian and nanosecond pcap, truncation, garbage', async (t) => {
  const le = oneRecord({}, rtpPacket(8, 1, 160, 1, Buffer.alloc(160)));
  const be = Buffer.from(le);
  for (const o of [0, 8, 12, 16, 20, 24, 28, 32, 36]) be.writeUInt32BE(le.readUInt32LE(o), o);
  for (const o of [4, 6]) be.writeUInt16BE(le.readUInt16LE(o), o);
  t.same(readCapture(be).packets[0], readCapture(le).packets[0], 'big-endian reads the same');
  const ns = Buffer.from(le);
  ns.writeUInt32LE(0xa1b23c4d, 0);
  ns.writeUInt32LE(123456789, 28);
  t.equal(readCapture(ns).packets[0].timeUs, 1_700_000_000 * 1e6 + 123456.789, 'nanoseconds');
  const cut = readCapture(le.subarray(0, le.length - 1));
  t.equal(cut.packets.length, 0);
  t.match(cut.truncated, /file ends inside a record at byte 24/);
  t.match(readCapture(le.subarray(0, 30)).truncated, /inside a record header/);
  t.throws(() => readCapture(Buffer.from('GET / HTTP/1.1\r\n')), { name: 'CaptureFormatError', message: /not a pcap file/ });
  const huge = Buffer.from(le);
  huge.writeUInt32LE(0x7fffffff, 32);
  t.match(readCapture(huge).truncated, /claims \d+ bytes: file is damaged/);
});

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

t.test('the reader: pcapng with if_tsresol, EPB and SPB', async (t) => {
  const shb = block(0x0a0d0d0a, Buffer.from('4d3c2b1a01000000ffffffffffffffff', 'hex'));
  // IDB: Ethernet, snaplen, option if_tsresol = 9 (ns), end of options
  const idb = block(1, Buffer.from('0100' + '0000' + 'ffff0000' + '09000100' + '09000000' + '00000000', 'hex'));
  const frame = readCapture(oneRecord({}, rtpPacket(0, 5, 800, 9, Buffer.alloc(160, 0xff)))).packets[0].data;
  const pad = Buffer.alloc((4 - (frame.length % 4)) % 4);
  const ts = 1_700_000_000_000_000_500n; // ns
  const epbHead = Buffer.alloc(20);
  epbHead.writeUInt32LE(0, 0);
  epbHead.writeUInt32LE(Number(ts >> 32n), 4);
  epbHead.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  epbHead.writeUInt32LE(frame.length, 12);
  epbHead.writeUInt32LE(frame.length, 16);
  const epb = block(6, Buffer.concat([epbHead, frame, pad]));
  const spbHead = Buffer.alloc(4);
  spbHead.writeUInt32LE(frame.length, 0);
  const spb = block(3, Buffer.concat([spbHead, frame, pad]));
  const cap = readCapture(Buffer.concat([shb, idb, epb, spb]));
  t.equal(cap.format, 'pcapng');
  t.equal(cap.packets.length, 2);
  t.ok(Math.abs(cap.packets[0].timeUs - 1_700_000_000_000_000.5) < 1, 'ns resolution honoured');
  t.same(cap.packets[0].data, frame);
  t.equal(cap.packets[1].timeUs, cap.packets[0].timeUs, 'SPB takes the previous time');
  const cut = readCapture(Buffer.concat([shb, idb, epb, spb.subarray(0, 10)]));
  t.equal(cut.packets.length, 1);
  t.match(cut.truncated, /inside a block header/);
});

t.test('link layers: SLL, SLL2, null, loop, raw, VLAN; non-UDP and later fragments are skipped', async (t) => {
  const eth = readCapture(oneRecord({}, rtpPacket(8, 1, 1, 1, Buffer.alloc(10)))).packets[0].data;
  const ip = eth.subarray(14);
  const sll = Buffer.concat([Buffer.alloc(14), Buffer.from([8, 0]), ip]);
  const sll2 = Buffer.concat([Buffer.from([8, 0]), Buffer.alloc(18), ip]);
  const vlan = Buffer.concat([eth.subarray(0, 12), Buffer.from([0x81, 0, 0, 5]), eth.subarray(12)]);
  const cases: [string, number, Buffer][] = [
    ['SLL', LINKTYPE.LINUX_SLL, sll],
    ['SLL2', LINKTYPE.LINUX_SLL2, sll2],
    ['null (little-endian AF_INET)', LINKTYPE.NULL, Buffer.concat([Buffer.from([2, 0, 0, 0]), ip])],
    ['null (big-endian AF_INET)', LINKTYPE.NULL, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip])],
    ['loop', LINKTYPE.LOOP, Buffer.concat([Buffer.from([0, 0, 0, 2]), ip])],
    ['raw', LINKTYPE.RAW, ip],
    ['IPv4', LINKTYPE.IPV4, ip],
    ['802.1Q', LINKTYPE.ETHERNET, vlan],
  ];
  for (const [name, lt, d] of cases) t.equal(decodeUdp(lt, d)?.srcPort, 4000, name);
  const tcp = Buffer.from(ip);
  tcp[9] = 6;
  t.equal(decodeUdp(LINKTYPE.RAW, tcp), undefined, 'TCP skipped');
  const frag = Buffer.from(ip);
  frag.writeUInt16BE(0x0010, 6);
  t.equal(decodeUdp(LINKTYPE.RAW, frag), undefined, 'a later fragment has no UDP header');
  t.equal(decodeUdp(999, eth), undefined, 'unknown link type');
  // IPv6 UDP
  const v6 = Buffer.alloc(40 + 8 + 12);
  v6[0] = 0x60;
  v6.writeUInt16BE(20, 4);
  v6[6] = 17;
  v6[23] = 1; // ::1
  v6[39] = 1;
  v6.writeUInt16BE(5004, 40);
  v6.writeUInt16BE(6000, 42);
  v6.writeUInt16BE(20, 44);
  const u6 = decodeUdp(LINKTYPE.IPV6, v6);
  t.same(u6 && [u6.srcAddr, u6.srcPort, u6.dstPort, u6.payload.length], ['::1', 5004, 6000, 12]);
});

t.test('RTP parsing: version, CSRC, extension, padding, RTCP excluded', async (t) => {
  const base = rtpPacket(0, 9, 1234, 0xcafe, Buffer.alloc(160, 0xff), true);
  const p = parseRtp(base);
  t.same(p && [p.payloadType, p.marker, p.seq, p.timestamp, p.ssrc, p.payload.length], [0, true, 9, 1234, 0xcafe, 160]);
  t.equal(parseRtp(Buffer.from('INVITE sip:1@x SIP/2.0')), undefined, 'SIP text is not RTP');
  const rtcp = Buffer.from(base);
  rtcp[1] = 200; // SR
  t.equal(parseRtp(rtcp), undefined, 'RTCP sender report');
  const ext = Buffer.concat([Buffer.from(base.subarray(0, 12)), Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]), Buffer.alloc(160)]);
  ext[0] |= 0x10;
  t.equal(parseRtp(ext)?.payload.length, 160, 'header extension skipped');
  const csrc = Buffer.concat([Buffer.from(base.subarray(0, 12)), Buffer.alloc(8), Buffer.alloc(160)]);
  csrc[0] |= 2;
  t.equal(parseRtp(csrc)?.payload.length, 160, 'CSRC list skipped');
  const padded = Buffer.concat([base, Buffer.from([0, 0, 3])]);
  padded[0] |= 0x20;
  t.equal(parseRtp(padded)?.payload.length, 160, 'padding removed');
  const badPad = Buffer.from(base);
  badPad[0] |= 0x20;
  badPad[badPad.length - 1] = 250;
  t.equal(parseRtp(badPad), undefined, 'padding longer than the packet');
  t.ok(isEventOrNoise(parseRtp(rtpPacket(101, 1, 1, 1, Buffer.from([1, 0, 0, 160])))!), 'telephone-event');
  t.notOk(isEventOrNoise(p!));
  t.equal(payloadTypeName(18), 'G729');
  t.equal(payloadTypeName(97), 'dynamic 97');
});

const pk = (seq: number, ts: number, timeMs: number, stream = 's', marker = false): AudioPacket => ({ timeUs: timeMs * 1000, stream, seq, timestamp: ts, marker, law: 'PCMA', payload: Buffer.alloc(160) });

t.test('timeline: RTP time within a stream, arrival across streams, resync on a jump, duplicates out', async (t) => {
  const list = [pk(1, 1000, 0), pk(3, 1320, 41), pk(2, 1160, 42), pk(2, 1160, 43), pk(4, 1480, 60)];
  const r = placeChannel(list, 0);
  t.same(r.placed.map((p) => p.pos), [0, 320, 160, 480], 'reordered packet placed by timestamp, duplicate dropped');
  t.same([r.stats[0].packets, r.stats[0].duplicates, r.stats[0].lost], [4, 1, 0]);
  const hop = placeChannel([pk(1, 5, 0, 'a'), pk(2, 165, 20, 'a'), pk(77, 900000, 1000, 'b')], 0);
  t.same(hop.placed.map((p) => p.pos), [0, 160, 8000], 'new SSRC placed by arrival');
  const jump = placeChannel([pk(1, 0, 0), pk(2, 160, 20), pk(3, 8_000_000, 40)], 0);
  t.same(jump.placed.map((p) => p.pos), [0, 160, 320], 'a timestamp jump far from the arrival re-anchors');
  const wrap = placeChannel([pk(65535, 0xffffff60, 0), pk(1, 0xa0, 40), pk(0, 0, 20)], 0);
  t.same(wrap.placed.map((p) => p.pos), [0, 320, 160], 'sequence and timestamp wrap');
  t.equal(wrap.stats[0].lost, 0);
  // a relay switching sources under one SSRC: timestamps 300 ms off, marker set
  const switched = placeChannel([pk(1, 0, 0), pk(2, 160, 20), pk(3, 160 + 2400, 40, 's', true), pk(4, 320 + 2400, 60)], 0);
  t.same(switched.placed.map((p) => p.pos), [0, 160, 320, 480], 'a marked packet far from its arrival re-anchors');
  const talkspurt = placeChannel([pk(1, 0, 0), pk(2, 160, 20), pk(3, 4000, 500, 's', true)], 0);
  t.same(talkspurt.placed.map((p) => p.pos), [0, 160, 4000], 'a talkspurt after silence keeps its RTP position');
  const lost = placeChannel([pk(10, 0, 0), pk(14, 640, 80)], 0);
  t.equal(lost.stats[0].lost, 3);
});

t.test('WAV header is the canonical 44-byte PCM header', async (t) => {
  const h = wavHeader(8000, 2, 100);
  t.equal(h.toString('ascii', 0, 4) + h.toString('ascii', 8, 16) + h.toString('ascii', 36, 40), 'RIFFWAVEfmt data');
  t.same([h.readUInt32LE(4), h.readUInt16LE(20), h.readUInt16LE(22), h.readUInt32LE(24), h.readUInt32LE(28), h.readUInt16LE(32), h.readUInt16LE(34), h.readUInt32LE(40)], [436, 1, 2, 8000, 32000, 4, 16, 400]);
});

t.test('IPv6 text forms parse to 16 bytes; v4-mapped addresses stay IPv4', async (t) => {
  const hex = (a: string): string => Buffer.from(ipv6Bytes(a)).toString('hex');
  t.equal(hex('::1'), '00000000000000000000000000000001');
  t.equal(hex('fe80::1:2%eth0'), 'fe800000000000000000000000010002');
  t.equal(hex('2001:db8::'), '20010db8000000000000000000000000');
  t.equal(hex('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
  t.equal(hex('1:2:3:4:5:6:7:8'), '00010002000300040005000600070008');
  t.equal(hex('nonsense'), '0'.repeat(32));
  t.ok(isIpv6('::1'));
  t.notOk(isIpv6('::ffff:10.0.0.1'));
  t.notOk(isIpv6('10.0.0.1'));
});
