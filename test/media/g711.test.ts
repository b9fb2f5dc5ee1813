import t from 'tap';
import { encode, decode, encodeSample, ALAW_TO_PCM, ULAW_TO_PCM, ALAW_TO_ULAW, ULAW_TO_ALAW, SILENCE } from '../../src/media/g711.js';

t.test('known G.711 code words decode to the ITU-T values', async (t) => {
  t.equal(ALAW_TO_PCM[0xd5], 8, 'A-law 0xD5 is the smallest positive step');
  t.equal(ALAW_TO_PCM[0x55], -8);
  t.equal(ALAW_TO_PCM[0xaa], 32256, 'A-law max positive');
  t.equal(ULAW_TO_PCM[0xff], 0, 'µ-law 0xFF is zero');
  t.equal(ULAW_TO_PCM[0x80], 32124, 'µ-law max positive');
  t.equal(ULAW_TO_PCM[0x00], -32124);
});

t.test('encode then decode stays within the quantisation step', async (t) => {
  for (const law of ['PCMA', 'PCMU'] as const) {
    let worst = 0;
    for (let s = -32768; s < 32768; s += 7) {
      const back = decode(law, encode(law, Int16Array.of(s)))[0];
      const err = Math.abs(back - s) / Math.max(128, Math.abs(s));
      worst = Math.max(worst, err);
    }
    t.ok(worst < 0.07, `${law} relative error ${worst.toFixed(3)} < 7 %`);
  }
});

t.test('every code word survives decode then encode', async (t) => {
  for (let c = 0; c < 256; c++) {
    t.equal(encodeSample('PCMA', ALAW_TO_PCM[c]), c, `A-law ${c}`);
    const u = encodeSample('PCMU', ULAW_TO_PCM[c]);
    // µ-law has two zeros (0x7F and 0xFF): both decode to 0
    t.equal(ULAW_TO_PCM[u], ULAW_TO_PCM[c], `µ-law ${c}`);
  }
});

t.test('transcoding maps silence to silence', async (t) => {
  t.ok(Math.abs(ULAW_TO_PCM[ALAW_TO_ULAW[SILENCE.PCMA]]) <= 8);
  t.ok(Math.abs(ALAW_TO_PCM[ULAW_TO_ALAW[SILENCE.PCMU]]) <= 8);
});
