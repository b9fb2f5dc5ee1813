import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeBlock, freePort } from '../lab/ports.js';
import { start, stopAll, until } from '../lab/proc.js';
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

// ---- Against a real peer: SIPp parses what we serialize, we parse what SIPp sends ----

const SDP = (port: number): Buffer =>
  Buffer.from(`v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`);

interface Wire {
  sock: Socket;
  port: number;
  /** Parse failures and unexpected messages, reported at the end. */
  problems: string[];
}

async function wire(t: Test): Promise<Wire> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  t.teardown(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  return { sock, port: sock.address().port, problems: [] };
}

function workDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'sip-wire-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A response built from a parsed request the way RFC 3261 §8.2.6.2 says: Via, From, To, Call-ID, CSeq copied. */
function answer(req: SipRequest, status: number, reason: string, ourPort: number, mediaPort: number): SipResponse {
  const headers = new Headers();
  for (const v of req.headers.getAll('via')) headers.append('via', v);
  headers.append('from', req.headers.get('from') ?? '');
  const to = parseNameAddr(req.headers.get('to') ?? '');
  if (!to.params.has('tag')) to.params.set('tag', 'wire-totag');
  headers.append('to', formatNameAddr(to));
  headers.append('call-id', req.headers.get('call-id') ?? '');
  headers.append('cseq', req.headers.get('cseq') ?? '');
  let body: Buffer = Buffer.alloc(0);
  if (req.method === 'INVITE') {
    headers.append('contact', `<sip:wire@127.0.0.1:${ourPort}>`);
    headers.append('content-type', 'application/sdp');
    body = SDP(mediaPort);
  }
  return { type: 'response', status, reason, headers, body };
}

t.test('SIPp as UAC: its INVITE, ACK and BYE parse, and it accepts our serialized responses', async (t) => {
  t.teardown(stopAll);
  const w = await wire(t);
  const sippPort = await freePort();
  const media = await freeBlock(4);
  const methods: string[] = [];
  w.sock.on('message', (buf, from) => {
    const r = parseMessage(buf);
    if (!r.ok) {
      w.problems.push(`SIPp sent something we reject: ${r.error}`);
      return;
    }
    const m = r.message;
    if (m.type !== 'request') return;
    const via = parseVia(m.headers.get('via') ?? '');
    if (via.port !== sippPort) w.problems.push(`Via sent-by port ${via.port}, SIPp is on ${sippPort}`);
    if (methods[methods.length - 1] !== m.method) methods.push(m.method); // retransmissions counted once
    if (m.method === 'INVITE' && m.body.length === 0) w.problems.push('INVITE without SDP body');
    if (m.method === 'ACK') return;
    w.sock.send(serialize(answer(m, 200, 'OK', w.port, media + 2)), from.port, from.address);
  });
  const sipp = start('sipp-uac', 'sipp', [
    '-sn', 'uac', `127.0.0.1:${w.port}`, '-i', '127.0.0.1', '-p', String(sippPort), '-mi', '127.0.0.1', '-mp', String(media),
    '-m', '1', '-d', '100', '-nostdin', '-timeout', '60',
  ], { cwd: workDir(t) });
  const code = await sipp.exited(90000);
  t.equal(code, 0, `SIPp finished its call successfully${code === 0 ? '' : `\n${sipp.output().slice(-1500)}`}`);
  t.same(methods, ['INVITE', 'ACK', 'BYE']);
  t.same(w.problems, []);
});

t.test('SIPp as UAS: it answers our serialized INVITE, takes our ACK and BYE', async (t) => {
  t.teardown(stopAll);
  const w = await wire(t);
  const sippPort = await freePort();
  const media = await freeBlock(4);
  const sipp = start('sipp-uas', 'sipp', [
    '-sn', 'uas', '-i', '127.0.0.1', '-p', String(sippPort), '-mi', '127.0.0.1', '-mp', String(media), '-m', '1', '-nostdin', '-timeout', '60',
  ], { cwd: workDir(t) });
  const responses: SipResponse[] = [];
  w.sock.on('message', (buf) => {
    const r = parseMessage(buf);
    if (!r.ok) w.problems.push(`SIPp sent something we reject: ${r.error}`);
    else if (r.message.type === 'response') responses.push(r.message);
  });
  const callId = `wire-${process.pid}@127.0.0.1`;
  const target = parseUri(`sip:service@127.0.0.1:${sippPort}`);
  const base = (branch: string, cseq: string, to: string): Headers =>
    new Headers()
      .append('via', formatVia({ transport: 'UDP', host: '127.0.0.1', port: w.port, params: new Map([['branch', branch]]) }))
      .append('max-forwards', '70')
      .append('from', formatNameAddr({ display: 'Wire test', uri: parseUri(`sip:wire@127.0.0.1:${w.port}`), params: new Map([['tag', 'wire-from']]) }))
      .append('to', to)
      .append('call-id', callId)
      .append('cseq', cseq);
  const send = (m: SipRequest): void => void w.sock.send(serialize(m), sippPort, '127.0.0.1');
  /** Send until a final response for `cseq` arrives (UDP: SIPp may not be listening yet, or a datagram may be lost). */
  const transact = async (m: SipRequest, cseq: string): Promise<SipResponse> => {
    const final = await until(() => {
      const found = responses.find((r) => r.status >= 200 && r.headers.get('cseq') === cseq);
      if (!found) send(m);
      return found;
    }, `final response to ${cseq}`, 60000, 500);
    if (!final) throw new Error(`no final response to ${cseq}`);
    return final;
  };

  const headers = base('z9hG4bK-wire-1', '1 INVITE', `<sip:service@127.0.0.1:${sippPort}>`)
    .append('contact', `<sip:wire@127.0.0.1:${w.port}>`)
    .append('content-type', 'application/sdp');
  const ok = await transact({ type: 'request', method: 'INVITE', uri: target, headers, body: SDP(media + 2) }, '1 INVITE');
  t.equal(ok.status, 200);
  t.match(ok.body.toString(), /^v=0\r\n/m, 'the 200 carries SDP');
  const to = ok.headers.get('to') ?? '';
  t.ok(parseNameAddr(to).params.get('tag'), 'SIPp added a To tag');
  send({ type: 'request', method: 'ACK', uri: target, headers: base('z9hG4bK-wire-2', '1 ACK', to), body: Buffer.alloc(0) });
  const bye = await transact({ type: 'request', method: 'BYE', uri: target, headers: base('z9hG4bK-wire-3', '2 BYE', to), body: Buffer.alloc(0) }, '2 BYE');
  t.equal(bye.status, 200);
  const code = await sipp.exited(60000);
  t.equal(code, 0, `SIPp saw a complete call${code === 0 ? '' : `\n${sipp.output().slice(-1500)}`}`);
  t.same(w.problems, []);
});
