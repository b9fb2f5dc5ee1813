/**
 * Sentences joined from the card's prompt pieces (issue 10): the words
 * follow the card instead of being fixed in one recording.
 * - the announcement names ProceedKey.txt: announcement.wav ("... press")
 *   + the digit prompt of the key;
 * - a technician with an accept key hears "Emergency call from" + the
 *   caller's number digit by digit + "Press" + the key + "to accept."
 * `prompt` is the card's prompt cache (HotlineServices.prompt): a missing
 * piece plays as its fallback tone, never breaks the call.
 */
import type { CardConfig } from '../config/card.js';
import { Prompt } from '../media/prompt-player.js';

/** Between two digits of the number. */
export const DIGIT_GAP_MS = 120;
/** Between the parts of a sentence ("Emergency call from" | number | "Press" | key | "to accept."). */
export const PHRASE_GAP_MS = 250;
/** More digits than a phone number has (E.164: 15, plus prefixes) are not spoken: the number comes from the network. */
export const MAX_SPOKEN_DIGITS = 24;

/** The keys of `number` that have a digit prompt (0-9, *, #), in order; '+', spaces, letters are skipped. */
export function spokenKeys(number: string): string[] {
  return [...number].filter((c) => /^[0-9*#]$/.test(c)).slice(0, MAX_SPOKEN_DIGITS);
}

function digit(config: CardConfig, prompt: (path: string) => Prompt, key: string): Prompt[] {
  const path = config.prompts.digits[key];
  return path === undefined ? [] : [prompt(path)];
}

/** The accept prompt for one answered leg (played in a loop by accept-prompt.ts). */
export function acceptPrompt(config: CardConfig, prompt: (path: string) => Prompt, callerNumber: string, key: string): Prompt {
  const number = Prompt.concat('caller number', spokenKeys(callerNumber).flatMap((k) => digit(config, prompt, k)), DIGIT_GAP_MS);
  const parts = [prompt(config.prompts.callFrom)];
  if (number.pcm.length > 0) parts.push(number);
  parts.push(prompt(config.prompts.pressKey), ...digit(config, prompt, key), prompt(config.prompts.toAccept));
  return Prompt.concat(`accept prompt (key ${key})`, parts, PHRASE_GAP_MS);
}

/** Joined announcements, per (announcement, digit) prompt pair: the prompt cache returns the same objects until a file changes. */
const announcements = new WeakMap<Prompt, WeakMap<Prompt, Prompt>>();

/** announcement.wav + the digit prompt of ProceedKey.txt. */
export function announcementPrompt(config: CardConfig, prompt: (path: string) => Prompt): Prompt {
  const head = prompt(config.prompts.announcement);
  const [key] = digit(config, prompt, config.proceedKey);
  if (key === undefined) return head;
  let byKey = announcements.get(head);
  if (!byKey) announcements.set(head, (byKey = new WeakMap()));
  let joined = byKey.get(key);
  if (!joined) byKey.set(key, (joined = Prompt.concat(`announcement (key ${config.proceedKey})`, [head, key], DIGIT_GAP_MS)));
  return joined;
}
