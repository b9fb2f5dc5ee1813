/**
 * The outbox's files on the card: names, content, and the durable write.
 * Content: `{"v":1,"createdAt":ms,"sms":{...}}` or `{..., "im":{ext,from,text}}`.
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
import type { OutboxChannel } from './outbox-channel.js';

export interface OutboxEntry<P> {
  /** Wall-clock ms when enqueued: the max age counts from here. */
  createdAt: number;
  /** The SMS or IM, as its channel stores it (key "sms" or "im" in the file). */
  payload: P;
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

export function serializeEntry<P>(channel: OutboxChannel<P>, e: OutboxEntry<P>): string {
  return `${JSON.stringify({ v: 1, createdAt: e.createdAt, [channel.kind]: channel.toJson(e.payload) })}\n`;
}

/** Parse a file's content; throws a short reason (never the content) when it is not a valid entry. */
export function parseEntry<P>(channel: OutboxChannel<P>, text: string): OutboxEntry<P> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`not valid JSON (${text.length} bytes, truncated?)`);
  }
  const o = raw as ({ v?: unknown; createdAt?: unknown } & Record<string, unknown>) | null;
  if (!o || typeof o !== 'object' || o.v !== 1) throw new Error('not an outbox entry (version 1 expected)');
  if (typeof o.createdAt !== 'number' || !Number.isFinite(o.createdAt)) throw new Error('no valid createdAt');
  const body = o[channel.kind];
  return { createdAt: o.createdAt, payload: channel.fromJson(body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined) };
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
