import t from 'tap';
import { buildRtp, parseRtp, payloadEnd, payloadStart, rtpBounds } from '../../src/media/index.js';

t.test('a built packet parses back to the same fields', async (t) => {
  const payload = Buffer.from([1, 2, 3, 4, 5]);
  const b = buildRtp({ payloadType: 8, marker: true, seq: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payload });
  const p = parseRtp(b);
  t.ok(p);
  t.equal(p?.payloadType, 8);
  t.equal(p?.marker, true);
  t.equal(p?.seq, 65535);
  t.equal(p?.timestamp, 0xfffffff0);
  t.equal(p?.ssrc, 0xdeadbeef);
  t.same([...(p?.payload ?? [])], [1, 2, 3, 4, 5]);
});

t.test('CSRC list, header extension and padding are skipped (RFC 3550 §5.1, §5.3.1)', async (t) => {
  const hdr = Buffer.from([0x80 | 0x20 | 0x10 | 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
  const csrc = Buffer.from([0, 0, 0, 7, 0, 0, 0, 9]);
  const ext = Buffer.from([0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
  const payload = Buffer.from([0xaa, 0xbb, 0xcc]);
  const pad = Buffer.from([0, 0, 3]);
  const b = Buffer.concat([hdr, csrc, ext, payload, pad]);
  const p = parseRtp(b);
  t.same(p?.csrcs, [7, 9]);
  t.same([...(p?.payload ?? [])], [0xaa, 0xbb, 0xcc]);
  const bounds = rtpBounds(b);
  t.equal(payloadStart(bounds), 28);
  t.equal(payloadEnd(bounds), 31);
});

t.test('invalid packets are refused', async (t) => {
  const good = buildRtp({ payloadType: 0, seq: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(160) });
  t.ok(parseRtp(good));
  const v1 = Buffer.from(good);
  v1[0] = 0x40;
  t.equal(parseRtp(v1), undefined, 'version 1');
  t.equal(parseRtp(good.subarray(0, 11)), undefined, 'shorter than a header');
  const cc = Buffer.from(good.subarray(0, 20));
  cc[0] = 0x8f;
  t.equal(parseRtp(cc), undefined, '15 CSRCs announced, not there');
  const ext = Buffer.from(good.subarray(0, 16));
  ext[0] = 0x90;
  ext[14] = 0xff;
  t.equal(parseRtp(ext), undefined, 'extension longer than the packet');
  const pad = Buffer.from(good.subarray(0, 20));
  pad[0] = 0xa0;
  pad[19] = 200;
  t.equal(parseRtp(pad), undefined, 'padding longer than the payload');
  pad[19] = 0;
  t.equal(parseRtp(pad), undefined, 'padding count 0');
  const rtcp = Buffer.from(good);
  rtcp[1] = 200; // RTCP SR: marker bit + PT 72
  t.equal(parseRtp(rtcp), undefined, 'RTCP is not RTP');
  t.equal(parseRtp(Buffer.alloc(1501, 0x80)), undefined, 'oversized');
});

t.test('random garbage never throws', async (t) => {
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(Math.random() * 64);
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(Math.random() * 256);
    if (len > 0 && i % 2 === 0) b[0] = 0x80 | (b[0] & 0x3f); // half of them look like version 2
    const p = parseRtp(b);
    if (p) {
      parsed++;
      t.ok(p.payload.length >= 0 && p.payload.byteOffset + p.payload.length <= b.byteOffset + b.length || p.payload.length === 0);
    }
  }
  t.ok(parsed > 0, `some random v2 headers are valid (${parsed})`);
});
