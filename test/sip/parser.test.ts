import t, { type Test } from 'tap';
import { parseMessage, type ParseResult } from '../../src/sip/parser.js';
import { parseNameAddr, parseVia, parseCSeq } from '../../src/sip/header-values.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message.js';
import { loadCorpus, type Fixture } from './corpus/load.js';

const corpus = loadCorpus();
const byName = new Map(corpus.map((f) => [f.name, f]));

function parsed(name: string): SipMessage {
  const f = byName.get(name);
  if (!f) throw new Error(`no fixture ${name}`);
  const r = parseMessage(f.bytes);
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  return r.message;
}

function req(name: string): SipRequest {
  const m = parsed(name);
  if (m.type !== 'request') throw new Error(`${name} is not a request`);
  return m;
}

function res(name: string): SipResponse {
  const m = parsed(name);
  if (m.type !== 'response') throw new Error(`${name} is not a response`);
  return m;
}

function checkValid(t: Test, f: Fixture, r: ParseResult): void {
  if (!r.ok) {
    t.fail(`${f.name} should parse: ${r.error}`);
    return;
  }
  const m = r.message;
  const e = f.expect;
  t.equal(m.type, e.kind, 'kind');
  if (e.method !== undefined) t.equal(m.type === 'request' ? m.method : undefined, e.method, 'method');
  if (e.status !== undefined) t.equal(m.type === 'response' ? m.status : undefined, e.status, 'status');
  for (const [name, n] of Object.entries(e.counts ?? {})) t.equal(m.headers.getAll(name).length, n, `${name} entries`);
  if (e.bodyLength !== undefined) t.equal(m.body.length, e.bodyLength, 'body length');
}

function checkInvalid(t: Test, f: Fixture, r: ParseResult): void {
  if (r.ok) {
    t.fail(`${f.name} should be rejected`);
    return;
  }
  const e = f.expect;
  t.ok(r.error.toLowerCase().includes((e.error ?? '').toLowerCase()), `error "${r.error}" mentions "${e.error}"`);
  t.ok(r.error.length > 0 && r.error.length < 120 && !/[\r\n]/.test(r.error), 'error fits a reason phrase');
  if (e.request !== undefined) t.equal(r.request !== undefined, e.request, 'request for a 400 answer');
  if (e.answer !== undefined) t.equal(r.status, e.answer, 'suggested status');
  if (r.request) {
    for (const h of ['via', 'from', 'to', 'call-id', 'cseq']) t.ok(r.request.headers.has(h), `400 material has ${h}`);
  }
}

t.test('every corpus message gets its expected outcome', async (t) => {
  t.ok(corpus.length >= 40, `${corpus.length} fixtures`);
  for (const f of corpus) {
    await t.test(`${f.name}: ${f.expect.why}`, async (t) => {
      const r = parseMessage(f.bytes);
      if (f.expect.ok) checkValid(t, f, r);
      else checkInvalid(t, f, r);
    });
  }
});

t.test('the tortuous INVITE yields the right values', async (t) => {
  const m = req('valid-tortuous.sip');
  t.equal(m.uri.params.get('unknownparam'), null);
  const to = parseNameAddr(m.headers.get('to') ?? '');
  t.equal(to.uri.user, 'vivekg');
  t.equal(to.params.get('tag'), '1918181833n', 'blanks around = in a folded header');
  const from = parseNameAddr(m.headers.get('from') ?? '');
  t.equal(from.display, 'J Rosenberg \\"');
  t.equal(from.params.get('tag'), '98asjd8');
  t.equal(m.headers.get('max-forwards'), '0068');
  t.same(parseCSeq(m.headers.get('cseq') ?? ''), { seq: 9, method: 'INVITE' });
  const vias = m.headers.getAll('via').map(parseVia);
  t.same(vias.map((v) => [v.transport, v.host, v.params.get('branch')]), [
    ['UDP', '192.0.2.2', '390skdjuw'],
    ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
    ['UDP', '192.168.255.111', 'z9hG4bK30239'],
  ]);
  t.equal(m.headers.get('subject'), '', 'empty Subject kept');
  t.equal(m.headers.get('newfangledheader'), 'newfangled value continued newfangled value', 'folded lines joined by one space');
  t.equal(m.headers.get('unknownheaderwithunusualvalue'), ';;,,;;,;', 'unknown headers are not split');
  const contact = parseNameAddr(m.headers.get('contact') ?? '');
  t.equal(contact.display, 'Quoted string ""');
  t.equal(contact.params.get('newparam'), 'newvalue');
  t.equal(contact.params.get('secondparam'), null);
  t.equal(contact.params.get('q'), '0.33');
  t.match(m.body.toString(), /^v=0\r\n/);
});

t.test('compact forms become long names', async (t) => {
  const m = req('valid-compact.sip');
  const names = new Set(m.headers.entries().map(([n]) => n));
  for (const n of ['via', 'from', 'to', 'call-id', 'contact', 'supported', 'subject', 'content-type', 'content-encoding', 'event', 'allow-events', 'content-length']) {
    t.ok(names.has(n), n);
  }
  for (const short of ['v', 'f', 't', 'i', 'm', 'k', 's', 'c', 'e', 'o', 'u', 'l']) t.notOk(names.has(short), `no "${short}" left`);
  t.same(m.headers.getAll('supported'), ['timer', '100rel']);
  t.equal(m.body.toString(), 'Ticket 20260001: emergency call from +4930123456\r\n');
});

t.test('escaped URIs and IPv6 references', async (t) => {
  const esc = req('valid-escaped-uri.sip');
  t.equal(esc.uri.user, 'sips:user@example.com');
  const contact = parseNameAddr(esc.headers.get('contact') ?? '');
  t.equal(contact.uri.user, 'caller');
  t.equal(contact.uri.params.get('lr'), null);
  t.equal(contact.uri.params.get('name'), 'value%41');
  t.equal(parseNameAddr(esc.headers.get('from') ?? '').uri.user, 'I have spaces');
  const v6 = req('valid-ipv6.sip');
  t.equal(v6.uri.host, '2001:db8::10');
  t.equal(v6.uri.port, 5070);
  const via = parseVia(v6.headers.get('via') ?? '');
  t.equal(via.host, '2001:db8::9:1');
  t.equal(via.params.get('received'), '2001:db8::9:255');
  t.equal(parseNameAddr(v6.headers.get('contact') ?? '').uri.host, '2001:db8::9:1');
});

t.test('semicolons in a user part inside <> belong to the user', async (t) => {
  const m = req('valid-semicolon-user.sip');
  t.equal(m.uri.user, 'user;par=u@example.net');
  t.equal(m.uri.params.size, 0);
  t.equal(parseNameAddr(m.headers.get('to') ?? '').uri.user, 'user;par=u@example.net');
  t.same(m.headers.getAll('accept'), ['application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag']);
});

t.test('Content-Length governs the body on UDP (RFC 3261 §18.3)', async (t) => {
  t.equal(req('valid-body-longer.sip').body.length, 0, 'the second message in the datagram is dropped');
  t.equal(req('valid-no-content-length.sip').body.toString(), 'ack 20260001');
  const utf8 = req('valid-message-utf8.sip');
  t.equal(utf8.body.toString('utf8'), 'Störung 20260042: Rückruf an +49 30 1234567 — bitte bestätigen\r\n');
  t.equal(parseNameAddr(utf8.headers.get('from') ?? '').display, 'Störungsannahme');
});

t.test('headers with legitimate commas stay whole; Contact * is kept', async (t) => {
  const r = res('valid-auth-commas.sip');
  t.match(r.headers.getAll('www-authenticate')[0], /nonce="a,b,c", qop="auth,auth-int", algorithm=SHA-256$/);
  t.equal(r.headers.get('date'), 'Sat, 13 Nov 2010 23:29:00 GMT');
  const reg = req('valid-contact-star.sip');
  t.equal(reg.headers.get('contact'), '*');
  t.match(reg.headers.get('authorization') ?? '', /nonce="x,y".*cnonce="c"$/);
});

t.test('lists keep their order; display names may hold commas and <>', async (t) => {
  const r = res('valid-response-180.sip');
  t.same(r.headers.getAll('record-route'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.com;lr>']);
  t.equal(parseVia(r.headers.getAll('via')[1]).params.get('branch'), 'z9hG4bKprev');
  t.equal(r.reason, 'Ringing');
  const m = req('valid-lws-display.sip');
  const contacts = m.headers.getAll('contact').map(parseNameAddr);
  t.equal(contacts[0].display, 'A, B "the <boss>"');
  t.equal(contacts[1].uri.params.get('transport'), 'tcp');
  t.equal(contacts[1].params.get('expires'), '60');
  t.equal(contacts[2].uri.user, 'd');
  t.equal(parseNameAddr(m.headers.get('from') ?? '').display, 'caller');
});

t.test('responses: empty and UTF-8 reason phrases', async (t) => {
  t.equal(res('valid-response-noreason.sip').reason, '');
  t.match(res('valid-response-utf8-reason.sip').reason, /^= 2\*\*3 \* 5\*\*2 [^\x00-\x7f]/);
});

t.test('odd but legal: every token character, tel URIs, LF-only lines, RFC 2543 Via', async (t) => {
  const odd = req('valid-unusual-method.sip');
  t.equal(parseCSeq(odd.headers.get('cseq') ?? '').method, odd.method);
  t.equal(odd.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  t.equal(odd.uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  t.equal(parseNameAddr(odd.headers.get('to') ?? '').display, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  const tel = req('valid-tel-uri.sip');
  t.equal(tel.uri.scheme, 'tel');
  t.equal(tel.uri.user, '+1-201-555-0123');
  t.equal(req('valid-lf-only.sip').method, 'BYE');
  t.equal(parseVia(req('valid-rfc2543.sip').headers.get('via') ?? '').params.has('branch'), false);
});

t.test('a broken request with readable essentials comes back for a 400', async (t) => {
  const r = parseMessage(byName.get('bad-cseq-mismatch.sip')!.bytes);
  t.equal(r.ok, false);
  if (r.ok || !r.request) throw new Error('expected 400 material');
  t.equal(r.request.method, 'OPTIONS');
  t.equal(r.request.headers.get('call-id'), 'mismatch01.dj0234sxdfl3');
  t.equal(r.request.headers.get('cseq'), '8 INVITE');
  const nc = parseMessage(byName.get('bad-header-no-colon.sip')!.bytes);
  if (nc.ok || !nc.request) throw new Error('expected 400 material');
  t.equal(nc.request.headers.get('via'), 'SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKnocolon');
  t.equal(nc.request.uri.user, 'user');
  const ltgt = parseMessage(byName.get('bad-ltgt-ruri.sip')!.bytes);
  if (ltgt.ok || !ltgt.request) throw new Error('expected 400 material');
  t.equal(ltgt.request.method, 'INVITE');
});

t.test('responses never come back as 400 material', async (t) => {
  const r = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 10\r\n\r\nshort'));
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.request, undefined);
});

t.test('parseMessage never throws, whatever the bytes', async (t) => {
  const inputs = [Buffer.alloc(0), Buffer.from([0]), Buffer.from('SIP/2.0'), Buffer.from('INVITE'), Buffer.from('\r\n'), Buffer.from(' '), Buffer.from('a b c\r\n:\r\n\r\n')];
  for (const b of inputs) {
    const r = parseMessage(b);
    t.equal(r.ok, false, JSON.stringify(b.toString()));
  }
});

function timed(label: string, buf: Buffer): { r: ParseResult; ms: number } {
  const t0 = process.hrtime.bigint();
  const r = parseMessage(buf);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { r, ms };
}

const HEAD = 'OPTIONS sip:u@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKp\r\nFrom: <sip:a@example.com>;tag=p\r\nTo: <sip:u@example.com>\r\nCall-ID: patho\r\nCSeq: 1 OPTIONS\r\n';

t.test('pathological datagrams are answered in linear time', async (t) => {
  const KB60 = 60 * 1024;
  const cases: Array<[string, Buffer, boolean]> = [
    ['60 KiB of spaces', Buffer.alloc(KB60, ' '), false],
    ['60 KiB of CRLF', Buffer.from('\r\n'.repeat(KB60 / 2)), false],
    ['60 KiB of LF then a space', Buffer.concat([Buffer.alloc(KB60, '\n'), Buffer.from(' ')]), false],
    ['60 KiB of commas in a Via (empty elements dropped)', Buffer.from(HEAD + 'Via: ' + ','.repeat(KB60) + '\r\n\r\n'), true],
    ['60 KiB of commas in a From', Buffer.from(HEAD.replace('From: <sip:a@example.com>;tag=p', 'From: ' + ','.repeat(KB60)) + '\r\n'), false],
    ['60 KiB of commas in a Contact', Buffer.from(HEAD + 'Contact: ' + ','.repeat(KB60) + '\r\n\r\n'), true],
    ['60 KiB of semicolons in a To', Buffer.from(HEAD.replace('To: <sip:u@example.com>', 'To: <sip:x@y>' + ';'.repeat(KB60)) + '\r\n'), false],
    ['10000 headers', Buffer.from(HEAD + 'a:b\r\n'.repeat(10000) + '\r\n'), true],
    ['3700 Via headers', Buffer.from(HEAD + 'v:SIP/2.0/UDP h\r\n'.repeat(3700) + '\r\n'), true],
    ['4600 Via values in one header', Buffer.from(HEAD + 'v:' + 'SIP/2.0/UDP h,'.repeat(4600) + '\r\n\r\n'), true],
    ['10000 folded continuation lines', Buffer.from(HEAD + 'Subject: x\r\n' + ' y\r\n'.repeat(10000) + '\r\n'), true],
    ['nested angle brackets', Buffer.from(HEAD.replace('To: <sip:u@example.com>', 'To: ' + '<'.repeat(20000) + 'sip:u@h' + '>'.repeat(20000)) + '\r\n'), false],
    ['20000 quotes', Buffer.from(HEAD.replace('From: <sip:a@example.com>;tag=p', 'From: ' + '"'.repeat(20001) + ' <sip:a@b>') + '\r\n'), false],
    ['20000 escaped quotes in a display name', Buffer.from(HEAD.replace('From: <sip:a@example.com>;tag=p', 'From: "' + '\\"'.repeat(20000) + '" <sip:a@b>;tag=p') + '\r\n'), true],
    ['a 60 KiB Request-URI', Buffer.from(HEAD.replace('sip:u@example.com SIP', 'sip:' + 'u'.repeat(KB60) + '@example.com SIP') + '\r\n'), true],
    ['60 KiB of colons in a host', Buffer.from(HEAD.replace('sip:u@example.com SIP', 'sip:u@[' + ':'.repeat(KB60) + '] SIP') + '\r\n'), false],
    ['60 KiB of % in a user', Buffer.from(HEAD.replace('sip:u@example.com SIP', 'sip:' + '%'.repeat(KB60) + '@h SIP') + '\r\n'), false],
    ['60 KiB of slashes in a Via', Buffer.from(HEAD + 'Via: SIP' + ' /'.repeat(KB60 / 2) + '\r\n\r\n'), false],
    ['60 KiB header name', Buffer.from(HEAD + 'X'.repeat(KB60) + ': 1\r\n\r\n'), true],
    ['60 KiB of blanks in CSeq', Buffer.from(HEAD.replace('CSeq: 1 OPTIONS', 'CSeq: 1' + ' '.repeat(KB60) + 'OPTIONS') + '\r\n'), true],
  ];
  let worst = 0;
  parseMessage(byName.get('valid-tortuous.sip')!.bytes); // warm the JIT so the first case is not billed for it
  for (const [label, buf, ok] of cases) {
    t.ok(buf.length <= 64 * 1024, `${label} fits the 64 KiB datagram bound`);
    const { r, ms } = timed(label, buf);
    t.equal(r.ok, ok, `${label}: ${r.ok ? 'parsed' : r.error}`);
    t.comment(`${label}: ${ms.toFixed(2)} ms`);
    worst = Math.max(worst, ms);
  }
  t.comment(`worst pathological case: ${worst.toFixed(2)} ms`);
});

t.test('error texts are short printable ASCII even when the input is not', async (t) => {
  const r = parseMessage(Buffer.from(HEAD.replace('sip:u@example.com SIP', '\u00e4\u0000\u00ff:x SIP') + '\r\n'));
  t.equal(r.ok, false);
  if (!r.ok) {
    t.match(r.error, /^bad Request-URI: unsupported URI scheme/);
    t.notMatch(r.error, /[^\x20-\x7e]/);
  }
});
