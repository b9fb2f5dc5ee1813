import t from 'tap';
import { encode } from '../../src/media/g711.js';
import { MessageBuffer, SPEECH_RMS } from '../../src/hotline/message-buffer.js';

/** A packet of 160 samples at level `v` (0 = silence), A-law. */
const packet = (v: number): Buffer => encode('PCMA', new Int16Array(160).fill(v));
const LOUD = 8000;

// [packets as (timestamp, ssrc, level)], expected length, [sample index, expected level (approx.)]
type Row = [string, [number, number, number][], number, [number, number][]];
const ROWS: Row[] = [
  ['in order', [[1000, 1, LOUD], [1160, 1, LOUD]], 320, [[0, LOUD], [319, LOUD]]],
  ['a lost packet is silence of its length', [[1000, 1, LOUD], [1320, 1, LOUD]], 480, [[0, LOUD], [200, 0], [320, LOUD]]],
  ['a late packet lands in its place', [[1000, 1, LOUD], [1320, 1, LOUD], [1160, 1, 4000]], 480, [[160, 4000], [320, LOUD]]],
  ['a duplicate overwrites itself', [[1000, 1, LOUD], [1000, 1, LOUD], [1160, 1, LOUD]], 320, [[0, LOUD], [160, LOUD]]],
  ['the timestamp wraps at 2^32', [[0xffffff60, 1, LOUD], [0x00000000, 1, 4000], [0x000000a0, 1, LOUD]], 480, [[0, LOUD], [160, 4000], [320, LOUD]]],
  ['a new SSRC continues after what was heard', [[1000, 1, LOUD], [99999, 2, 4000], [100159, 2, LOUD]], 480, [[160, 4000], [320, LOUD]]],
  ['a timestamp jump continues after what was heard', [[1000, 1, LOUD], [1000 + 8000 * 60, 1, 4000]], 320, [[160, 4000]]],
  ['a packet from long ago is dropped', [[1000 + 8000 * 20, 1, LOUD], [1160 + 8000 * 20, 1, LOUD], [1000, 1, 4000]], 480, [[320, 4000]]],
];

t.test('packets are placed by RTP timestamp', async (t) => {
  for (const [label, packets, length, probes] of ROWS) {
    const b = new MessageBuffer(8000 * 120);
    for (const [ts, ssrc, level] of packets) b.place('PCMA', packet(level), 0, 160, ts, ssrc);
    t.equal(b.length, length, `${label}: length`);
    const pcm = b.samples();
    for (const [i, want] of probes) t.ok(Math.abs(pcm[i] - want) <= want / 16 + 8, `${label}: sample ${i} = ${pcm[i]} ~ ${want}`);
  }
});

t.test('speech: above SPEECH_RMS only; speechEnd follows the last speech', async (t) => {
  const b = new MessageBuffer(8000 * 120);
  t.same(b.place('PCMA', packet(SPEECH_RMS / 2), 0, 160, 0, 7), { speech: false, full: false });
  t.notOk(b.spoke);
  t.same(b.place('PCMA', packet(SPEECH_RMS * 3), 0, 160, 160, 7), { speech: true, full: false });
  b.place('PCMA', packet(0), 0, 160, 320, 7);
  t.equal(b.speechEnd, 320);
  t.equal(b.length, 480);
  t.equal(b.samples(400).length, 400);
});

t.test('the cap: the packet that reaches it is cut, later ones are dropped; the buffer grows as needed', async (t) => {
  const b = new MessageBuffer(8000 * 15 + 100); // more than the first allocation (10 s)
  let full = false;
  let ts = 0;
  for (let i = 0; i < 800 && !full; i++, ts += 160) full = b.place('PCMA', packet(LOUD), 0, 160, ts, 1).full;
  t.ok(full);
  t.equal(b.length, 8000 * 15 + 100);
  t.same(b.place('PCMA', packet(LOUD), 0, 160, ts, 1), { speech: false, full: true });
  t.equal(b.length, 8000 * 15 + 100);
});
