import t from 'tap';
import { createLogger, errText, escapeControls, memoryLogger, redact } from '../../src/util/log.js';
import { isoTime } from '../../src/util/time-format.js';
import { prng } from '../lab/prng.js';

t.test('isoTime gives what toISOString gives, for years 0000..9999', async (t) => {
  const rnd = prng(20261125);
  const lo = new Date(0).setUTCFullYear(0, 0, 1); // Date.UTC maps years 0..99 to 19xx
  const hi = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  const edges = [0, -1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2026, 10, 25, 0, 0, 0, 7), hi];
  const times = [...edges, ...Array.from({ length: 5000 }, () => Math.floor(lo + rnd() * (hi - lo)))];
  const bad = times.filter((ms) => isoTime(new Date(ms)) !== new Date(ms).toISOString());
  t.same(bad.map((ms) => [isoTime(new Date(ms)), new Date(ms).toISOString()]), []);
});

t.test('a log line: time, level, prefix, one line', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) }, 'info').child('sip').child('call 7');
  log.debug('not shown');
  log.warn('two\r\nlines');
  t.equal(lines.length, 1);
  t.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN sip: call 7: two \| lines\n$/);
});

t.test('redact and errText', async (t) => {
  t.equal(redact('user=a&pass=s3cret&again=s3cret', ['s3cret', '']), 'user=a&pass=***&again=***');
  const e = Object.assign(new Error('open failed'), { code: 'EACCES' });
  t.equal(errText(e), 'EACCES: open failed');
  t.equal(errText(new Error('EEXIST: file already exists')), 'EEXIST: file already exists');
  t.equal(errText('plain'), 'plain');
  const m = memoryLogger();
  m.debug('kept');
  t.match(m.lines[0], / DEBUG kept$/);
});

t.test('control characters from the network never reach the log raw (issue 16)', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) }, 'debug').child('sip');
  log.warn('malformed INVITE sip:7\x1b[2J\x1b]0;owned\x07@x from 127.0.0.2:5060');
  log.info('tab\there, NUL\x00, DEL\x7f, CSI\x9b, LS\u2028, RLO\u202e, ok: äöü € 日本');
  log.info('two\nlines\r\nstill one');
  for (const l of lines) {
    t.equal(l.indexOf('\n'), l.length - 1, 'one line, one final newline');
    t.notMatch(l.slice(0, -1), /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/, 'no raw control character');
  }
  t.match(lines[0], /sip:7\\x1b\[2J\\x1b\]0;owned\\x07@x from/);
  t.match(lines[1], /tab\\x09here, NUL\\x00, DEL\\x7f, CSI\\x9b, LS\\u\{2028\}, RLO\\u\{202e\}, ok: äöü € 日本\n$/);
  t.match(lines[2], /two \| lines \| still one\n$/);
  t.equal(escapeControls('plain text'), 'plain text');
});
