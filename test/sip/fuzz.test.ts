/**
 * Bounded, reproducible fuzz run: 20000 mutations of the corpus (seeded
 * PRNG), each fed to parseMessage. Properties: it never throws nor trips its
 * own safety net; errors are short one-line reasons; 400 material really
 * holds readable essentials; anything accepted survives serialize + parse.
 * Time is recorded per call and reported; only a count of very slow calls is
 * checked, with room for GC pauses on a loaded machine.
 */
import t from 'tap';
import { parseMessage } from '../../src/sip/parser.js';
import { serialize } from '../../src/sip/serializer.js';
import { parseCSeq, parseNameAddr, parseVia } from '../../src/sip/header-values.js';
import type { SipMessage } from '../../src/sip/message.js';
import { loadCorpus } from './corpus/load.js';
import { prng } from '../lab/prng.js';

const SEED = Number(process.env.SIP_FUZZ_SEED ?? 0x5eed2026);
const RUNS = Number(process.env.SIP_FUZZ_RUNS ?? 20000);
const SLOW_MS = 50;


const SPECIALS = ['\r', '\n', '\r\n', '\0', '"', ',', ';', '<', '>', ':', ' ', '\t', '\\', '%', '[', ']', '@', '=', '/', '?', '\r\n ', '\u00ff', '\u20ac'];

type Mutation = (b: Buffer, rnd: () => number, pool: Buffer[]) => Buffer;

const pick = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

const MUTATIONS: Array<[string, Mutation]> = [
  ['flip', (b, rnd) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[pick(rnd, c.length)] = pick(rnd, 256);
    return c;
  }],
  ['truncate', (b, rnd) => b.subarray(0, pick(rnd, b.length + 1))],
  ['duplicate', (b, rnd) => {
    const i = pick(rnd, b.length + 1);
    const j = Math.min(b.length, i + pick(rnd, 200));
    return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
  }],
  ['insert', (b, rnd) => {
    const i = pick(rnd, b.length + 1);
    const s = SPECIALS[pick(rnd, SPECIALS.length)].repeat(1 + pick(rnd, rnd() < 0.1 ? 2000 : 3));
    return Buffer.concat([b.subarray(0, i), Buffer.from(s, 'utf8'), b.subarray(i)]);
  }],
  ['delete', (b, rnd) => {
    const i = pick(rnd, b.length + 1);
    return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + pick(rnd, 40)))]);
  }],
  ['repeat-line', (b, rnd) => {
    const lines = b.toString('latin1').split('\r\n');
    const k = pick(rnd, lines.length);
    lines.splice(k, 0, ...Array<string>(1 + pick(rnd, 50)).fill(lines[k]));
    return Buffer.from(lines.join('\r\n'), 'latin1');
  }],
  ['splice', (b, rnd, pool) => {
    const other = pool[pick(rnd, pool.length)];
    return Buffer.concat([b.subarray(0, pick(rnd, b.length + 1)), other.subarray(pick(rnd, other.length + 1))]);
  }],
];

/** Comparable text of a message: Maps as entry lists, Content-Length aside (the serializer recomputes it). */
function meaning(m: SipMessage): string {
  const headers = m.headers.entries().filter(([n]) => n !== 'content-length');
  const start = m.type === 'request' ? { method: m.method, uri: m.uri } : { status: m.status, reason: m.reason };
  return JSON.stringify({ type: m.type, ...start, headers, body: m.body.toString('hex') }, (_k, v: unknown) =>
    v instanceof Map ? [...v.entries()] : v,
  );
}

t.test(`${RUNS} mutated datagrams: no throw, sane errors, accepted ones round-trip`, async (t) => {
  const pool = loadCorpus().map((f) => f.bytes);
  const rnd = prng(SEED);
  const problems: string[] = [];
  const used = new Map<string, number>();
  let accepted = 0;
  let with400 = 0;
  let slow = 0;
  let worst = 0;
  let worstLen = 0;
  const started = process.hrtime.bigint();
  for (let run = 0; run < RUNS && problems.length < 20; run++) {
    let buf = pool[pick(rnd, pool.length)];
    const steps = 1 + pick(rnd, 4);
    for (let s = 0; s < steps; s++) {
      const [name, m] = MUTATIONS[pick(rnd, MUTATIONS.length)];
      used.set(name, (used.get(name) ?? 0) + 1);
      buf = m(buf, rnd, pool);
    }
    if (buf.length > 64 * 1024) buf = buf.subarray(0, 64 * 1024); // the transport drops bigger datagrams
    const t0 = process.hrtime.bigint();
    let r: ReturnType<typeof parseMessage>;
    try {
      r = parseMessage(buf);
    } catch (e) {
      problems.push(`run ${run}: threw ${(e as Error).message}`);
      continue;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > worst) {
      worst = ms;
      worstLen = buf.length;
    }
    if (ms > SLOW_MS) slow++;
    if (r.ok) {
      accepted++;
      const again = parseMessage(serialize(r.message));
      if (!again.ok) problems.push(`run ${run}: accepted, but its serialization is rejected: ${again.error}`);
      else if (meaning(again.message) !== meaning(r.message)) {
        problems.push(`run ${run}: round trip changed ${meaning(r.message).slice(0, 300)} into ${meaning(again.message).slice(0, 300)}`);
      }
      continue;
    }
    if (r.error.startsWith('parser error')) problems.push(`run ${run}: safety net caught ${r.error}`);
    if (r.error.length === 0 || r.error.length > 120 || /[^\x20-\x7e]/.test(r.error)) problems.push(`run ${run}: unusable error ${JSON.stringify(r.error)}`);
    if (r.request) {
      with400++;
      const h = r.request.headers;
      try {
        h.getAll('via').forEach((v) => parseVia(v));
        // From and To are copied back as received (they may be the broken header): present is enough
        if (!h.get('from') || !h.get('to')) throw new Error('no From or To');
        parseCSeq(h.get('cseq') ?? '');
        if (!h.get('call-id')) throw new Error('no Call-ID');
      } catch (e) {
        problems.push(`run ${run}: 400 material unreadable: ${(e as Error).message}`);
      }
    }
  }
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.same(problems, [], 'no property broken');
  t.ok(accepted > RUNS / 20 && accepted < RUNS, `${accepted} accepted, the rest rejected: both paths exercised`);
  t.ok(with400 > 0, `${with400} rejections carried 400 material`);
  t.ok(slow <= RUNS / 200, `${slow} calls over ${SLOW_MS} ms (allowed: GC pauses, at most 0.5 %)`);
  t.comment(`seed ${SEED}, ${RUNS} runs in ${totalMs.toFixed(0)} ms; worst call ${worst.toFixed(2)} ms on ${worstLen} bytes`);
  t.comment(`mutations used: ${[...used].map(([k, v]) => `${k}=${v}`).join(' ')}`);
});
