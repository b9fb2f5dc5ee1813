/**
 * Loads the parser corpus. Fixtures are text with LF line ends; the loader
 * turns each LF into CRLF (the wire form) and then expands markers for bytes
 * an editor would lose: %%CR%% %%LF%% %%SP%% %%TAB%% %%NUL%% %%ESC%% %%NOTHING%%, and
 * %%LEN%% becomes the byte length of the body after the first empty line.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export interface Expectation {
  ok: boolean;
  /** valid: request or response */
  kind?: 'request' | 'response';
  method?: string;
  status?: number;
  /** valid: number of entries per header name after splitting */
  counts?: Record<string, number>;
  bodyLength?: number;
  /** invalid: substring of the error text */
  error?: string;
  /** invalid: whether a request for a 400 answer comes back */
  request?: boolean;
  /** invalid: the suggested status when not 400 */
  answer?: number;
  why: string;
}

export interface Fixture {
  name: string;
  bytes: Buffer;
  expect: Expectation;
}

const MARKERS: Array<[string, Buffer]> = [
  ['%%CR%%', Buffer.from('\r')],
  ['%%LF%%', Buffer.from('\n')],
  ['%%SP%%', Buffer.from(' ')],
  ['%%TAB%%', Buffer.from('\t')],
  ['%%NUL%%', Buffer.from([0])],
  ['%%ESC%%', Buffer.from([0x1b])],
  ['%%NOTHING%%', Buffer.alloc(0)],
];

function replaceAll(buf: Buffer, marker: string, by: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = buf.indexOf(marker); i >= 0; i = buf.indexOf(marker, from)) {
    parts.push(buf.subarray(from, i), by);
    from = i + marker.length;
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts);
}

export function wireBytes(raw: Buffer): Buffer {
  let buf = replaceAll(raw, '\n', Buffer.from('\r\n'));
  for (const [m, b] of MARKERS) buf = replaceAll(buf, m, b);
  const sep = buf.indexOf('\r\n\r\n');
  const bodyLength = sep < 0 ? 0 : buf.length - sep - 4;
  return replaceAll(buf, '%%LEN%%', Buffer.from(String(bodyLength)));
}

export function loadCorpus(): Fixture[] {
  const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected.json'), 'utf8')) as Record<string, Expectation>;
  const names = readdirSync(CORPUS_DIR).filter((n) => n.endsWith('.sip')).sort();
  return names.map((name) => {
    const expect = expected[name];
    if (!expect) throw new Error(`corpus file ${name} has no entry in expected.json`);
    return { name, bytes: wireBytes(readFileSync(join(CORPUS_DIR, name))), expect };
  });
}
