import t from 'tap';
import { parseMessage } from '../../src/sip/parser.js';
import { displayName, serialize } from '../../src/sip/serializer.js';
import { Headers, type SipMessage, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { formatNameAddr, formatVia, parseNameAddr, parseVia } from '../../src/sip/header-values.js';
import { parseUri } from '../../src/sip/uri.js';
import { loadCorpus } from './corpus/load.js';

function mustParse(buf: Buffer): SipMessage {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(r.error);
  return r.message;
}

/** Everything that carries meaning, Content-Length aside (the serializer recomputes it). */
function meaning(m: SipMessage): unknown {
  const headers = m.headers.entries().filter(([n]) => n !== 'content-length');
  const start = m.type === 'request' ? { method: m.method, uri: m.uri } : { status: m.status, reason: m.reason };
  return { type: m.type, ...start, headers, body: m.body.toString('hex') };
}

t.test('every valid corpus message survives parse -> serialize -> parse unchanged', async (t) => {
  const valid = loadCorpus().filter((f) => f.expect.ok);
  t.ok(valid.length >= 20);
  for (const f of valid) {
    const first = mustParse(f.bytes);
    const wire = serialize(first);
    const second = mustParse(wire);
    t.same(meaning(second), meaning(first), f.name);
    t.equal(second.headers.get('content-length'), String(first.body.length), `${f.name}: Content-Length is the body length`);
    t.equal(serialize(second).toString('latin1'), wire.toString('latin1'), `${f.name}: serializing is stable`);
  }
});

function request(): SipRequest {
  const headers = new Headers()
    .append('via', formatVia({ transport: 'UDP', host: '2001:db8::1', port: 5062, params: new Map([['branch', 'z9hG4bKabc'], ['rport', null]]) }))
    .append('max-forwards', '70')
    .append('from', formatNameAddr({ display: 'Hotline "24/7"', uri: parseUri('sip:hotline@192.0.2.10'), params: new Map([['tag', 'f1']]) }))
    .append('to', formatNameAddr({ uri: parseUri('sip:tech1@pbx.example.net'), params: new Map() }))
    .append('call-id', 'c1@192.0.2.10')
    .append('cseq', '1 MESSAGE')
    .append('www-authenticate', 'Digest realm="r", nonce="a,b"')
    .append('content-type', 'text/plain;charset=UTF-8')
    .append('content-length', '999');
  return { type: 'request', method: 'MESSAGE', uri: parseUri('sip:tech1@pbx.example.net'), headers, body: Buffer.from('Ticket 1 — ok', 'utf8') };
}

t.test('a message built in code is written in the wire form', async (t) => {
  const text = serialize(request()).toString('utf8');
  const lines = text.split('\r\n');
  t.equal(lines[0], 'MESSAGE sip:tech1@pbx.example.net SIP/2.0');
  t.equal(lines[1], 'Via: SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKabc;rport');
  t.equal(lines[3], 'From: "Hotline \\"24/7\\"" <sip:hotline@192.0.2.10>;tag=f1');
  t.equal(lines[5], 'Call-ID: c1@192.0.2.10');
  t.equal(lines[6], 'CSeq: 1 MESSAGE');
  t.equal(lines[7], 'WWW-Authenticate: Digest realm="r", nonce="a,b"');
  t.equal(lines[9], 'Content-Length: 15', 'Content-Length counts UTF-8 bytes and replaces the stale value');
  t.equal(text.match(/Content-Length/g)?.length, 1);
  t.ok(text.endsWith('\r\n\r\nTicket 1 — ok'));
  const back = mustParse(serialize(request()));
  if (back.type !== 'request') throw new Error('not a request');
  t.equal(parseNameAddr(back.headers.get('from') ?? '').display, 'Hotline "24/7"');
  t.equal(parseVia(back.headers.get('via') ?? '').host, '2001:db8::1');
});

t.test('responses: status line, empty body gives Content-Length 0', async (t) => {
  const headers = request().headers.clone().set('to', '<sip:tech1@pbx.example.net>;tag=t9');
  const res: SipResponse = { type: 'response', status: 486, reason: 'Busy Here', headers, body: Buffer.alloc(0) };
  const text = serialize(res).toString();
  t.ok(text.startsWith('SIP/2.0 486 Busy Here\r\n'));
  t.ok(text.endsWith('Content-Length: 0\r\n\r\n'));
  const back = mustParse(serialize(res));
  t.equal(back.type === 'response' ? back.status : 0, 486);
});

t.test('a CR or LF in a value cannot inject a header', async (t) => {
  const r = request();
  r.headers.set('subject', 'hi\r\nVia: SIP/2.0/UDP evil');
  const res: SipResponse = { type: 'response', status: 400, reason: 'Bad\r\nX: y', headers: r.headers, body: Buffer.alloc(0) };
  for (const m of [r, res]) {
    const back = mustParse(serialize(m));
    t.equal(back.headers.getAll('via').length, 1);
    t.equal(back.headers.has('x'), false);
  }
});

t.test('header names get their usual spelling', async (t) => {
  const cases: Record<string, string> = {
    'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'record-route': 'Record-Route',
    via: 'Via', 'max-forwards': 'Max-Forwards', 'x-ticket': 'X-Ticket', rack: 'RAck', 'mime-version': 'MIME-Version',
  };
  for (const [k, v] of Object.entries(cases)) t.equal(displayName(k), v);
});
