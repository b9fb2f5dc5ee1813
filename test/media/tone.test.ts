import t from 'tap';
import { confirmationBeeps, dtmfTone, errorTone, renderTone, ringback } from '../../src/media/index.js';

/** Frequency from zero crossings over a segment of PCM. */
function freq(pcm: Int16Array, from: number, to: number): number {
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if ((pcm[i - 1] < 0) !== (pcm[i] < 0)) crossings++;
  return (crossings / 2) * (8000 / (to - from));
}

function rms(pcm: Int16Array, from: number, to: number): number {
  let e = 0;
  for (let i = from; i < to; i++) e += pcm[i] * pcm[i];
  return Math.sqrt(e / (to - from));
}

t.test('ringback: 425 Hz 1 s on, 4 s off by default, configurable', async (t) => {
  const rb = ringback();
  t.equal(rb.length, 5 * 8000);
  t.ok(Math.abs(freq(rb, 0, 8000) - 425) < 5, `on part is 425 Hz (${freq(rb, 0, 8000)})`);
  t.equal(rms(rb, 8000, 40000), 0, 'off part is silent');
  const us = ringback({ freq: 440, onMs: 2000, offMs: 4000 });
  t.equal(us.length, 6 * 8000);
  t.ok(Math.abs(freq(us, 0, 16000) - 440) < 5);
});

t.test('tones stay below full scale and have the expected shape', async (t) => {
  const beeps = confirmationBeeps();
  t.equal(beeps.length, (150 + 100 + 150 + 200) * 8);
  t.ok(Math.abs(freq(beeps, 0, 1200) - 880) < 10);
  t.ok(Math.abs(freq(beeps, 2000, 3200) - 1320) < 15);
  const sit = errorTone();
  t.ok(Math.abs(freq(sit, 0, 2640) - 950) < 10);
  t.ok(Math.abs(freq(sit, 5280, 7920) - 1800) < 15);
  const two = renderTone([{ freqs: [697, 1209], ms: 100 }], 0.9);
  t.ok(two.every((v) => Math.abs(v) <= 0.9 * 32767 + 1), 'sum of sines scaled to the level');
  t.equal(dtmfTone('5', 40).length, 320);
  t.throws(() => dtmfTone('x'), /not a DTMF digit/);
});
