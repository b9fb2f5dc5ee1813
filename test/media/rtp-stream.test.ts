import t from 'tap';
import { RtpStream, newSourceKey } from '../../src/media/index.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let ms = 1000;
  return { now: () => ms, advance: (d) => (ms += d) };
}

t.test('one source: seq and timestamp keep the source spacing, including gaps', async (t) => {
  const c = clock();
  const s = new RtpStream(c.now, 0x1234);
  s.next(7, 100, 5000);
  const seq0 = s.outSeq;
  const ts0 = s.outTs;
  t.equal(s.switched, true, 'the first packet starts a source');
  s.next(7, 101, 5160);
  t.equal(s.switched, false);
  t.equal(s.outSeq, (seq0 + 1) & 0xffff);
  t.equal((s.outTs - ts0) >>> 0, 160);
  s.next(7, 104, 5640); // two packets lost upstream: the gap is kept
  t.equal(s.outSeq, (seq0 + 4) & 0xffff);
  t.equal((s.outTs - ts0) >>> 0, 640);
  t.equal(s.ssrc, 0x1234);
});

t.test('seq and timestamp wrap around (16 and 32 bits)', async (t) => {
  const c = clock();
  const s = new RtpStream(c.now);
  s.next(1, 65534, 0xffffff00);
  const seq0 = s.outSeq;
  const ts0 = s.outTs;
  s.next(1, 65535, 0xffffffa0);
  s.next(1, 0, 0x40);
  t.equal(s.switched, false, 'a wrap is not a new source');
  t.equal(s.outSeq, (seq0 + 2) & 0xffff);
  t.equal((s.outTs - ts0) >>> 0, 0x140);
});

t.test('a new source continues after the last packet: seq + 1, timestamp + elapsed time', async (t) => {
  const c = clock();
  const s = new RtpStream(c.now);
  const player = newSourceKey();
  for (let k = 0; k < 10; k++) {
    s.next(player, k, k * 160);
    c.advance(20);
  }
  const lastSeq = s.outSeq;
  const lastTs = s.outTs;
  c.advance(480); // 0.5 s after the last packet: 20 ms already counted above
  s.next(0xcafe, 4000, 123456);
  t.equal(s.switched, true);
  t.equal(s.outSeq, (lastSeq + 1) & 0xffff);
  t.equal((s.outTs - lastTs) >>> 0, 500 * 8, 'timestamp advanced by the elapsed 500 ms');
  // a switch right after the last packet still leaves room for that packet (no overlap)
  s.next(0xbeef, 1, 1);
  t.equal((s.outTs - ((lastTs + 4000) >>> 0)) >>> 0, 160);
});

t.test('a jump of more than 10 s inside one source is treated as a new source', async (t) => {
  const c = clock();
  const s = new RtpStream(c.now);
  s.next(5, 1, 1000);
  const ts0 = s.outTs;
  c.advance(20);
  s.next(5, 2, 1000 + 8000 * 60);
  t.equal(s.switched, true);
  t.equal((s.outTs - ts0) >>> 0, 160, 'resynchronised to real time, not 60 s ahead');
});

t.test('source keys never collide with each other or with an SSRC', async (t) => {
  const a = newSourceKey();
  const b = newSourceKey();
  t.not(a, b);
  t.ok(a >= 2 ** 32 && b >= 2 ** 32);
  t.equal(a % 2 ** 32, 0);
});
