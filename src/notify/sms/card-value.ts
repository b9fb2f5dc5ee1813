/**
 * One-value `.txt` files of a provider's folder on the card (DESIGN.md:
 * surrounding whitespace and a trailing newline are ignored).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errText } from '../../util/log.js';
import type { ConfigProblem } from './provider.js';

export type CardValue = { value?: string; problem?: ConfigProblem };

/**
 * Read `file` (relative to `appDir`, e.g. `HTTP/URL.txt`). A missing or blank
 * required file is a problem saying what it should hold; a missing optional
 * file is simply no value.
 */
export function readCardValue(appDir: string, file: string, shouldHold: string, required: boolean): CardValue {
  let raw: string;
  try {
    raw = readFileSync(join(appDir, file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      return required ? { problem: { file, message: `missing: should hold ${shouldHold}` } } : {};
    }
    return { problem: { file, message: `cannot read (${errText(e)}): should hold ${shouldHold}` } };
  }
  const value = raw.replace(/^\uFEFF/, '').trim();
  if (value === '') return required ? { problem: { file, message: `empty: should hold ${shouldHold}` } } : {};
  return { value };
}

/** A URL (after placeholders are filled with harmless values) that Node can request. */
export function checkHttpUrl(file: string, url: string): ConfigProblem | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { file, message: 'not a valid URL: should hold an http:// or https:// address' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { file, message: `unsupported scheme ${parsed.protocol}: should hold an http:// or https:// address` };
  }
  return undefined;
}
