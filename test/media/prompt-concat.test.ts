import t from 'tap';
import { Prompt } from '../../src/media/prompt-player.js';
import { decode } from '../../src/media/g711.js';

const ramp = (name: string, from: number, n: number): Prompt => new Prompt(name, Int16Array.from({ length: n }, (_, i) => from + i));

// [parts (first value, length), gapMs, expected total samples]
const CASES: [[number, number][], number, number][] = [
  [[], 0, 0],
  [[], 50, 0],
  [[[100, 80]], 50, 80],
  [[[100, 80], [1000, 40]], 0, 120],
  [[[100, 80], [1000, 40]], 10, 200],
  [[[100, 80], [1000, 40], [5000, 8]], 25, 80 + 200 + 40 + 200 + 8],
  [[[100, 0], [1000, 16]], 1, 24],
];

t.test('Prompt.concat: the parts in order, gapMs of silence only between them', async (t) => {
  for (const [spec, gapMs, total] of CASES) {
    const parts = spec.map(([from, n], i) => ramp(`p${i}`, from, n));
    const joined = Prompt.concat('joined', parts, gapMs);
    const label = `${JSON.stringify(spec)} gap ${gapMs}`;
    t.equal(joined.name, 'joined');
    t.equal(joined.pcm.length, total, `${label}: ${total} samples`);
    t.equal(joined.ms, total / 8, `${label}: duration`);
    let at = 0;
    parts.forEach((p, i) => {
      if (i > 0) {
        const gap = joined.pcm.subarray(at, at + gapMs * 8);
        t.ok(gap.every((v) => v === 0), `${label}: silence before part ${i}`);
        at += gapMs * 8;
      }
      t.same([...joined.pcm.subarray(at, at + p.pcm.length)], [...p.pcm], `${label}: part ${i} copied`);
      at += p.pcm.length;
    });
  }
});

t.test('Prompt.concat copies: the parts are unchanged and the result encodes like any prompt', async (t) => {
  const a = ramp('a', 0, 160);
  const b = new Prompt('b', new Int16Array(160).fill(8000));
  const joined = Prompt.concat('ab', [a, b], 20);
  joined.pcm[0] = 123;
  t.equal(a.pcm[0], 0, 'the part keeps its samples');
  const alaw = joined.encoded('PCMA');
  t.equal(alaw.length, 160 + 160 + 160);
  const back = decode('PCMA', alaw.subarray(320));
  t.ok(back.every((v) => Math.abs(v - 8000) < 300), 'the second part encodes to its level');
  t.ok(decode('PCMA', alaw.subarray(160, 320)).every((v) => Math.abs(v) < 16), 'the gap encodes to silence');
});
