/**
 * Prompts from the card's WAV files, decoded once and kept until the file
 * changes (the installer may replace a prompt while the appliance runs).
 * A file that cannot be read is one error line, and the caller hears a
 * short beep instead: a broken prompt must never break an emergency call.
 */
import { statSync } from 'node:fs';
import { Prompt } from '../media/prompt-player.js';
import { errorTone } from '../media/tone.js';
import { errText, type Logger } from '../util/log.js';

export class PromptCache {
  private readonly cache = new Map<string, { stamp: string; prompt: Prompt }>();
  private fallback: Prompt | undefined;

  constructor(private readonly log: Logger) {}

  get(path: string): Prompt {
    let stamp: string;
    try {
      const st = statSync(path);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      return this.broken(path, errText(e));
    }
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp) return hit.prompt;
    try {
      const prompt = Prompt.fromWav(path);
      this.cache.set(path, { stamp, prompt });
      return prompt;
    } catch (e) {
      return this.broken(path, errText(e));
    }
  }

  private broken(path: string, why: string): Prompt {
    this.log.error(`prompt ${path} not playable (${why}): playing a tone instead; it should be an 8 kHz mono 16-bit PCM WAV`);
    this.cache.delete(path);
    return (this.fallback ??= new Prompt('fallback tone', errorTone()));
  }
}
