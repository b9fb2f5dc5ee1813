/**
 * One line per event, to stdout (journald takes it). Never a password:
 * callers pass secrets through `redact()` or not at all.
 *
 * Values from the network (a Request-URI, a From header, a reason phrase)
 * reach log lines from many places; the logger is the one place that sees
 * every line, so it escapes the whole line there (issue 16): a control
 * character (C0, DEL, C1 such as the 8-bit CSI) becomes `\xNN`, a Unicode
 * line separator or bidirectional override becomes `\u{NNNN}`. A raw
 * control character can then neither drive a terminal that shows the log
 * nor forge a second line in it. CR/LF runs are first flattened to " | "
 * (a multi-line message of our own stays readable on one line).
 */
import { isoTime } from './time-format.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** A logger whose lines carry a fixed prefix, e.g. the component or call id. */
  child(prefix: string): Logger;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSink {
  write(line: string): void;
}

export function createLogger(sink: LogSink, minLevel: Level = 'info', prefix = ''): Logger {
  const emit = (level: Level, msg: string): void => {
    if (ORDER[level] < ORDER[minLevel]) return;
    // Keep one event on one line: a multi-line message would split in journald.
    const flat = msg.replace(/[\r\n]+/g, ' | ');
    sink.write(`${escapeControls(`${isoTime(new Date())} ${level.toUpperCase()} ${prefix}${flat}`)}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (p) => createLogger(sink, minLevel, `${prefix}${p}: `),
  };
}

/** C0 (but LF, flattened before), DEL, C1; U+2028/2029 line separators; bidi embeddings, overrides, isolates. */
const UNSAFE_CLASS = '[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]';
const HAS_UNSAFE = new RegExp(UNSAFE_CLASS);
const UNSAFE = new RegExp(UNSAFE_CLASS, 'g');

/** `text` with every character of UNSAFE shown as `\xNN` (below U+0100) or `\u{NNNN}`. */
export function escapeControls(text: string): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/** A logger that keeps lines in memory: for tests of code that logs. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l.trimEnd()) }, 'debug');
  return Object.assign(log, { lines });
}

/** Replace every occurrence of each secret in `text` by `***`. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** The message of an unknown thrown value, for a log line. */
export function errText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  // Node's system errors already start with their code ("EEXIST: file already exists, ...")
  return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
}
