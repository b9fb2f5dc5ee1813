/**
 * One-value `.txt` files of the card (DESIGN.md "The card"): each holds one
 * value; surrounding whitespace, CR/LF line ends (the card is edited on
 * Windows too) and a UTF-8 byte order mark are ignored.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** One thing wrong with the card: the file (relative to the card) and what it should hold. */
export interface Problem {
  file: string;
  message: string;
  /** A warning does not stop the value from being used (e.g. an unknown pbx.ini key). */
  warning?: boolean;
  /**
   * A WARN: every value is valid, but the card probably does not do what its
   * owner means (e.g. no technician has Next.txt). `check` prints a WARN
   * line and still exits 0.
   */
  advice?: boolean;
}

/** What a file held: `missing` (no such file), `blank` (empty after trimming) or its value. */
export type TxtValue = { kind: 'missing' } | { kind: 'blank' } | { kind: 'value'; value: string };

/** The result of validating one value: the typed value, or what the file should hold. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; should: string };

const BOM = '\uFEFF';
/** Largest one-value file read. */
export const MAX_TXT = 4096;

/** The value a file's text holds: BOM and surrounding whitespace/CR/LF removed. */
export function cleanTxt(raw: string): string {
  return (raw.startsWith(BOM) ? raw.slice(1) : raw).trim();
}

export function classify(raw: string | undefined): TxtValue {
  if (raw === undefined) return { kind: 'missing' };
  const value = cleanTxt(raw);
  return value === '' ? { kind: 'blank' } : { kind: 'value', value };
}

/** A value quoted in a problem message: bounded and printable, so a binary file can't flood the log. */
export function quote(value: string): string {
  const flat = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(flat.length > 40 ? `${flat.slice(0, 40)}...` : flat);
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(should: string): Parsed<T> => ({ ok: false, should });

/** An internal extension: digits, maybe `*`/`#` as PBXs allow, 1..16 characters. */
export function parseExtension(v: string): Parsed<string> {
  return /^[0-9*#]{1,16}$/.test(v) && /[0-9]/.test(v) ? ok(v) : bad('an extension (digits, e.g. 731)');
}

/** A number to dial at the PBX, e.g. a mobile fork: digits, `*`, `#`, maybe a leading `+`. */
export function parseDialNumber(v: string): Parsed<string> {
  return /^\+?[0-9*#]{1,32}$/.test(v) ? ok(v) : bad('a number to dial at the PBX (digits, e.g. 03471234567)');
}

/** A mobile number for SMS, without the national prefix (SMSprefix.txt adds it). */
export function parseSmsNumber(v: string): Parsed<string> {
  if (!/^[0-9]{3,20}$/.test(v)) return bad('the mobile number for SMS (digits only, e.g. 3471234567)');
  if (v.startsWith('00')) return bad('the mobile number without the international prefix (SMSprefix.txt adds it)');
  return ok(v);
}

/** A whole number within [min, max]. */
export function parseInteger(v: string, min: number, max: number, what: string): Parsed<number> {
  if (!/^[0-9]{1,9}$/.test(v)) return bad(`${what} (a whole number from ${min} to ${max})`);
  const n = Number(v);
  return n >= min && n <= max ? ok(n) : bad(`${what} (a whole number from ${min} to ${max})`);
}

/** A no-answer timeout in seconds (CFNR): long enough to pick up, short enough to hunt on. */
export function parseSeconds(v: string, min = 5, max = 600): Parsed<number> {
  return parseInteger(v, min, max, 'seconds to ring before the next technician');
}

/** The national prefix for SMS numbers, e.g. 39 for Italy: without 0, + or 00. */
export function parseNationalPrefix(v: string): Parsed<string> {
  if (v.startsWith('+') || v.startsWith('0')) return bad('the national prefix without 0, + or 00 (e.g. 39 for Italy)');
  return /^[1-9][0-9]{0,3}$/.test(v) ? ok(v) : bad('the national prefix: 1 to 4 digits (e.g. 39 for Italy)');
}

export const PROVIDERS = ['LOG', 'HTTP', 'KANNEL', 'CODEMA'] as const;
export type SmsProviderName = (typeof PROVIDERS)[number];

/** The SMS provider's name, case-insensitive. */
export function parseProvider(v: string): Parsed<SmsProviderName> {
  const up = v.toUpperCase();
  const found = PROVIDERS.find((p) => p === up);
  return found ? ok(found) : bad(`one of ${PROVIDERS.join(', ')}`);
}

/** A PBX object name (e.g. TED_CFU): also a folder on the card, so no path characters. */
export function parseObjectName(v: string): Parsed<string> {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(v)) return bad('an object name (letters, digits, _ . -; e.g. TED_CFU)');
  if (/^[0-9]+$/.test(v)) return bad('an object name that is not all digits (digit folders are technicians)');
  if (/^(ticket|outbox)$/i.test(v)) return bad('an object name other than Ticket or Outbox');
  return ok(v);
}

/** One DTMF key. */
export function parseKey(v: string): Parsed<string> {
  return /^[0-9*#]$/.test(v) ? ok(v) : bad('one key: 0-9, * or #');
}

/** yes/no, also true/false, on/off, 1/0. */
export function parseYesNo(v: string): Parsed<boolean> {
  const l = v.toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(l)) return ok(true);
  if (['no', 'false', 'off', '0'].includes(l)) return ok(false);
  return bad('yes or no');
}

/**
 * Reads the files of one card load and collects problems. File names are
 * matched case-insensitively (FAT is case-insensitive; an installer copying
 * the card to another file system may write `xmlnumber.TXT`).
 */
export class TxtReader {
  readonly problems: Problem[] = [];
  private readonly listings = new Map<string, Promise<Map<string, string>>>();

  constructor(readonly root: string) {}

  /** The real name of `rel` (relative to the card, `/`-separated), or undefined when missing. */
  async resolve(rel: string): Promise<string | undefined> {
    const parts = rel.split('/');
    let real = '';
    for (const part of parts) {
      const names = await this.listing(real);
      const name = names.get(part.toLowerCase());
      if (name === undefined) return undefined;
      real = real ? `${real}/${name}` : name;
    }
    return real;
  }

  /** Names (lowercase -> real) in a folder of the card; empty when it does not exist. */
  listing(relDir: string): Promise<Map<string, string>> {
    let p = this.listings.get(relDir);
    if (!p) {
      p = readdir(join(this.root, relDir)).then(
        (names) => new Map(names.map((n) => [n.toLowerCase(), n])),
        () => new Map<string, string>(),
      );
      this.listings.set(relDir, p);
    }
    return p;
  }

  /**
   * The text of `rel`, at most `max` bytes (a one-value file is tiny: a huge
   * one is a mistake, not something to load). A file that exists but can't
   * be read, or is too large, is a problem and counts as missing.
   */
  async readText(rel: string, max = MAX_TXT, should = 'one short value'): Promise<string | undefined> {
    const real = await this.resolve(rel);
    if (real === undefined) return undefined;
    try {
      const fh = await open(join(this.root, real), 'r');
      try {
        const buf = Buffer.alloc(max + 1);
        const { bytesRead } = await fh.read(buf, 0, max + 1, 0);
        if (bytesRead > max) {
          this.problem(rel, `is larger than ${max} bytes: should hold ${should}`);
          return undefined;
        }
        return buf.toString('utf8', 0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (e) {
      this.problem(rel, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }

  /** The cleaned content of `rel`. */
  async read(rel: string): Promise<TxtValue> {
    return classify(await this.readText(rel));
  }

  problem(file: string, message: string, warning = false): void {
    this.problems.push(warning ? { file, message, warning } : { file, message });
  }

  /**
   * A value the card must hold. Returns undefined (and records the problem)
   * when it is missing, blank or malformed. `secret` keeps the value out of messages.
   */
  async required<T>(rel: string, parse: (v: string) => Parsed<T>, secret = false): Promise<T | undefined> {
    const got = await this.read(rel);
    if (got.kind !== 'value') {
      const r = parse(''); // no value is valid blank, so this yields what the file should hold
      this.problem(rel, `is ${got.kind}: should hold ${r.ok ? 'a value' : r.should}`);
      return undefined;
    }
    return this.check(rel, got.value, parse, secret);
  }

  /**
   * A value that may be missing or blank (then `fallback`). A malformed value
   * is a problem and also gives `fallback`.
   */
  async optional<T>(rel: string, parse: (v: string) => Parsed<T>, fallback: T, secret = false): Promise<T> {
    const got = await this.read(rel);
    if (got.kind !== 'value') return fallback;
    const v = this.check(rel, got.value, parse, secret);
    return v === undefined ? fallback : v;
  }

  /** Like `optional`, but a malformed value gives undefined (the caller treats it as fatal). */
  async defaulted<T>(rel: string, parse: (v: string) => Parsed<T>, fallback: T): Promise<T | undefined> {
    const got = await this.read(rel);
    if (got.kind !== 'value') return fallback;
    return this.check(rel, got.value, parse, false);
  }

  private check<T>(rel: string, value: string, parse: (v: string) => Parsed<T>, secret: boolean): T | undefined {
    const r = parse(value);
    if (r.ok) return r.value;
    this.problem(rel, `${secret ? 'the value' : quote(value)} is not valid: should hold ${r.should}`);
    return undefined;
  }
}
