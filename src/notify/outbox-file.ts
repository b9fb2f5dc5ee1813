/**
 * The outbox's files on the card: names, content, and the durable write.
 *
 * Name: `<10-digit sequence>.json` — sortable, so a resume keeps the order;
 * it never holds the number, text or credentials. Content: the SMS as it was
 * decided at release time, including the technician's provider credentials,
 * because a retry after a restart must send exactly that message even if
 * the technician's folder changed meanwhile. So the file is private (mode
 * 0600 in a 0700 folder) and a password never leaves it except towards the
 * provider.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { syncDir } from '../util/atomic-write.js';
import type { Sms } from './sms/provider.js';

export interface OutboxEntry {
  /** Wall-clock ms when enqueued: the max age counts from here. */
  createdAt: number;
  sms: Sms;
}

const NAME = /^(\d{10})\.json$/;
export const TEMP = /^\..*\.tmp$/;

export function entryName(seq: number): string {
  return `${String(seq).padStart(10, '0')}.json`;
}

/** The sequence number of an outbox file name, or undefined for other files. */
export function entrySeq(name: string): number | undefined {
  const m = NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function idOf(name: string): string {
  return name.replace(/\.json$/, '');
}

export function serializeEntry(e: OutboxEntry): string {
  const sms: Sms = { to: e.sms.to, text: e.sms.text };
  if (e.sms.user !== undefined) sms.user = e.sms.user;
  if (e.sms.password !== undefined) sms.password = e.sms.password;
  return `${JSON.stringify({ v: 1, createdAt: e.createdAt, sms })}\n`;
}

const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/** Parse a file's content; throws a short reason (never the content) when it is not a valid entry. */
export function parseEntry(text: string): OutboxEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`not valid JSON (${text.length} bytes, truncated?)`);
  }
  const o = raw as { v?: unknown; createdAt?: unknown; sms?: Record<string, unknown> } | null;
  if (!o || typeof o !== 'object' || o.v !== 1) throw new Error('not an outbox entry (version 1 expected)');
  if (typeof o.createdAt !== 'number' || !Number.isFinite(o.createdAt)) throw new Error('no valid createdAt');
  const s = o.sms;
  if (!s || typeof s.to !== 'string' || typeof s.text !== 'string' || !optString(s.user) || !optString(s.password)) {
    throw new Error('no valid sms {to, text, user?, password?}');
  }
  const sms: Sms = { to: s.to, text: s.text };
  if (typeof s.user === 'string') sms.user = s.user;
  if (typeof s.password === 'string') sms.password = s.password;
  return { createdAt: o.createdAt, sms };
}

/**
 * Like util/atomic-write's writeFileAtomic, but the file is created 0600 from
 * the first byte (it holds credentials): temp file, fsync, rename, fsync the
 * folder. On any failure (card full) the temp file is removed, so nothing
 * half-written is left behind.
 */
export async function writePrivateAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(dirname(path));
}
