/**
 * Technicians: one folder per internal extension in the application folder
 * (DESIGN.md "The card"). A folder counts when its name is digits and it
 * holds Next.txt, Fork.txt, SMSNumber.txt or Timeout.txt.
 */
import { readdir } from 'node:fs/promises';
import { TxtReader, parseDialNumber, parseExtension, parseKey, parseSeconds, parseSmsNumber, quote, type Parsed } from './txt-value.js';

export interface Technician {
  ext: string;
  /** Next hop on no answer (CFNR); undefined ends the hunt here. */
  next?: string;
  /** Number rung in parallel through the PBX, e.g. the mobile. */
  fork?: string;
  timeoutSec: number;
  /**
   * The effective accept key: this technician's own AcceptKey.txt when that
   * file exists (blank there = no key for them), else the card's
   * AcceptKey.txt; undefined = any answer connects (the seed's behaviour).
   */
  acceptKey?: string;
  sms?: { number: string; user?: string; password?: string };
}

const MARKERS = ['next.txt', 'fork.txt', 'smsnumber.txt', 'timeout.txt'];

/** Any non-blank printable value, at most 200 characters (provider credentials). */
function parseCredential(v: string): Parsed<string> {
  return /^[^\x00-\x1f]{1,200}$/.test(v) ? { ok: true, value: v } : { ok: false, should: 'the value the SMS provider gave (one line)' };
}

async function technicianFolders(r: TxtReader, skip: string | undefined): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(r.root, { withFileTypes: true });
  } catch {
    return []; // loadCard reports an unreadable card folder
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !/^[0-9]{1,16}$/.test(e.name) || e.name === skip) continue;
    const names = await r.listing(e.name);
    if (MARKERS.some((m) => names.has(m))) out.push(e.name);
    else r.problem(`${e.name}/`, 'is not a technician: a technician folder should hold Next.txt, Fork.txt or SMSNumber.txt', true);
  }
  return out.sort();
}

/** `<ext>/AcceptKey.txt` wins over the card's when it exists; a wrong value falls back to the card's key. */
async function readAcceptKey(r: TxtReader, ext: string, cardKey: string | undefined): Promise<string | undefined> {
  const own = await r.read(`${ext}/AcceptKey.txt`);
  if (own.kind === 'missing') return cardKey;
  if (own.kind === 'blank') return undefined;
  const key = parseKey(own.value);
  if (key.ok) return key.value;
  r.problem(`${ext}/AcceptKey.txt`, `${quote(own.value)} is not valid: should hold ${key.should} (blank = no key for ${ext}); the card's AcceptKey.txt applies`);
  return cardKey;
}

async function readTechnician(r: TxtReader, ext: string, defaultTimeout: number, cardKey: string | undefined): Promise<Technician> {
  const next = await r.optional<string | undefined>(`${ext}/Next.txt`, parseExtension, undefined);
  const fork = await r.optional<string | undefined>(`${ext}/Fork.txt`, parseDialNumber, undefined);
  const timeoutSec = await r.optional(`${ext}/Timeout.txt`, parseSeconds, defaultTimeout);
  const number = await r.optional<string | undefined>(`${ext}/SMSNumber.txt`, parseSmsNumber, undefined);
  const user = await r.optional<string | undefined>(`${ext}/SMSUser.txt`, parseCredential, undefined);
  const password = await r.optional<string | undefined>(`${ext}/SMSPassword.txt`, parseCredential, undefined, true);
  const acceptKey = await readAcceptKey(r, ext, cardKey);
  const t: Technician = { ext, timeoutSec };
  if (next !== undefined) t.next = next;
  if (fork !== undefined) t.fork = fork;
  if (acceptKey !== undefined) t.acceptKey = acceptKey;
  if (number !== undefined) {
    t.sms = { number };
    if (user !== undefined) t.sms.user = user;
    if (password !== undefined) t.sms.password = password;
  } else if ((user !== undefined || password !== undefined) && (await r.resolve(`${ext}/SMSNumber.txt`)) === undefined) {
    r.problem(`${ext}/SMSNumber.txt`, `is missing: ${ext} has SMS credentials but no mobile number, so gets no SMS`, true);
  }
  return t;
}

/** Every technician on the card; `skip` is the CFU object's folder, `cardKey` the card's AcceptKey.txt. */
export async function readTechnicians(
  r: TxtReader, defaultTimeout: number, skip: string | undefined, cardKey?: string,
): Promise<Map<string, Technician>> {
  const map = new Map<string, Technician>();
  for (const ext of await technicianFolders(r, skip)) map.set(ext, await readTechnician(r, ext, defaultTimeout, cardKey));
  return map;
}

/** Next.txt must name a technician on the card; otherwise the hop is dropped (the hunt ends there). */
export function linkTechnicians(r: TxtReader, technicians: Map<string, Technician>): void {
  for (const t of technicians.values()) {
    if (t.next === undefined || technicians.has(t.next)) continue;
    r.problem(`${t.ext}/Next.txt`, `names ${t.next}, which is not a technician on the card: should name a folder holding Next.txt, Fork.txt or SMSNumber.txt`);
    delete t.next;
  }
}
