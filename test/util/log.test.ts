import t from 'tap';
import { createLogger, errText, memoryLogger, redact } from '../../src/util/log.js';
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
