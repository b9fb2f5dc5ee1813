import t from 'tap';
import { loadCard, type CardConfig } from '../../src/config/card.js';
import { Prompt } from '../../src/media/prompt-player.js';
import { PromptCache } from '../../src/hotline/prompts.js';
import { DIGIT_GAP_MS, MAX_SPOKEN_DIGITS, PHRASE_GAP_MS, acceptPrompt, announcementPrompt, spokenKeys } from '../../src/hotline/spoken.js';
import { memoryLogger } from '../../src/util/log.js';
import { tempCard } from '../config/card-fixture.js';

/**
 * Fake pieces: each path becomes a prompt whose every sample is a code for
 * that path (1, 2, 3, ...) and whose length differs, so a joined prompt can
 * be read back as the sequence of pieces and the gaps between them.
 */
function pieces(): { prompt: (path: string) => Prompt; codeOf: Map<string, number> } {
  const codeOf = new Map<string, number>();
  return {
    codeOf,
    prompt: (path) => {
      if (!codeOf.has(path)) codeOf.set(path, codeOf.size + 1);
      const code = codeOf.get(path) ?? 0;
      return new Prompt(path, new Int16Array(80 + code * 8).fill(code * 100));
    },
  };
}

/** The runs of a joined prompt: [sample value, length] each. */
function runs(p: Prompt): [number, number][] {
  const out: [number, number][] = [];
  for (const v of p.pcm) {
    const last = out[out.length - 1];
    if (last && last[0] === v) last[1]++;
    else out.push([v, 1]);
  }
  return out;
}

async function exampleConfig(t: { teardown(fn: () => void): void }): Promise<CardConfig> {
  const { config } = await loadCard(tempCard(t).dir);
  if (!config) throw new Error('the example card does not load');
  return config;
}

t.test('spokenKeys: 0-9, * and # in order; + and other characters skipped; bounded', async (t) => {
  const rows: [string, string[]][] = [
    ['0612345678', [...'0612345678']],
    ['+39 347 123', [...'39347123']],
    ['*21#', ['*', '2', '1', '#']],
    ['anonymous', []],
    ['', []],
    ['1'.repeat(100), Array(MAX_SPOKEN_DIGITS).fill('1')],
  ];
  for (const [number, keys] of rows) t.same(spokenKeys(number), keys, JSON.stringify(number));
});

t.test('acceptPrompt: "Emergency call from" + the number digit by digit + "Press" + key + "to accept."', async (t) => {
  const config = await exampleConfig(t);
  const { prompt, codeOf } = pieces();
  const p = acceptPrompt(config, prompt, '+39 61#', '5');
  const code = (path: string): number => (codeOf.get(path) ?? -1) * 100;
  const len = (path: string): number => 80 + (codeOf.get(path) ?? -1) * 8;
  const d = config.prompts.digits;
  const G = PHRASE_GAP_MS * 8;
  const g = DIGIT_GAP_MS * 8;
  t.same(runs(p), [
    [code(config.prompts.callFrom), len(config.prompts.callFrom)], [0, G],
    [code(d['3']), len(d['3'])], [0, g], [code(d['9']), len(d['9'])], [0, g], [code(d['6']), len(d['6'])], [0, g],
    [code(d['1']), len(d['1'])], [0, g], [code(d['#']), len(d['#'])], [0, G],
    [code(config.prompts.pressKey), len(config.prompts.pressKey)], [0, G],
    [code(d['5']), len(d['5'])], [0, G],
    [code(config.prompts.toAccept), len(config.prompts.toAccept)],
  ]);
  t.match(p.name, /key 5/);
});

t.test('acceptPrompt without a caller number leaves the number out, no double gap', async (t) => {
  const config = await exampleConfig(t);
  const { prompt, codeOf } = pieces();
  const p = acceptPrompt(config, prompt, 'anonymous', '#');
  const order = runs(p).filter(([v]) => v !== 0).map(([v]) => v / 100);
  const path = (code: number): string => [...codeOf].find(([, c]) => c === code)?.[0] ?? '';
  t.same(order.map(path), [config.prompts.callFrom, config.prompts.pressKey, config.prompts.digits['#'], config.prompts.toAccept]);
  t.same(runs(p).filter(([v]) => v === 0).map(([, n]) => n), [PHRASE_GAP_MS * 8, PHRASE_GAP_MS * 8, PHRASE_GAP_MS * 8]);
});

t.test('announcementPrompt: announcement.wav + the digit of ProceedKey.txt, reused while the files are unchanged', async (t) => {
  const config = await exampleConfig(t);
  const { prompt, codeOf } = pieces();
  const cached = new Map<string, Prompt>();
  const once = (path: string): Prompt => cached.get(path) ?? (cached.set(path, prompt(path)), cached.get(path) as Prompt);
  const a = announcementPrompt(config, once);
  const code = (path: string): number => (codeOf.get(path) ?? -1) * 100;
  t.same(runs(a).map(([v]) => v), [code(config.prompts.announcement), 0, code(config.prompts.digits['1'])]);
  t.equal(announcementPrompt(config, once), a, 'the same joined prompt while the pieces are the same');
  const star = announcementPrompt({ ...config, proceedKey: '*' }, once);
  t.equal(runs(star)[2][0], code(config.prompts.digits['*']), 'ProceedKey.txt * names star');
  t.not(star, a);
});

t.test('with the example card WAVs: the lengths add up', async (t) => {
  const config = await exampleConfig(t);
  const cache = new PromptCache(memoryLogger());
  const prompt = (p: string): Prompt => cache.get(p);
  const a = announcementPrompt(config, prompt);
  t.equal(a.pcm.length, prompt(config.prompts.announcement).pcm.length + DIGIT_GAP_MS * 8 + prompt(config.prompts.digits['1']).pcm.length);
  const accept = acceptPrompt(config, prompt, '731', '5');
  const parts = [config.prompts.callFrom, config.prompts.digits['7'], config.prompts.digits['3'], config.prompts.digits['1'],
    config.prompts.pressKey, config.prompts.digits['5'], config.prompts.toAccept].map((p) => prompt(p).pcm.length);
  const gaps = 4 * PHRASE_GAP_MS * 8 + 2 * DIGIT_GAP_MS * 8;
  t.equal(accept.pcm.length, parts.reduce((x, y) => x + y) + gaps);
  t.ok(accept.ms > 2000 && accept.ms < 8000, `the accept prompt is short: ${accept.ms} ms`);
});
