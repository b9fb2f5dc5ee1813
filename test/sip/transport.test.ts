/**
 * UDP transport (RFC 3261 §18) with a raw UDP socket as the peer: bind
 * errors as one clear rejection, size bound before parsing, 400 with the
 * parse error as reason, dropped garbage logged at a bounded rate,
 * responses routed by received/rport (RFC 3581), handler errors contained.
 */
import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { SipTransport } from '../../src/sip/transport.js';
import { UserAgent } from '../../src/sip/ua.js';
import { memoryLogger } from '../../src/util/log.js';
import { freePort } from '../lab/ports.js';

async function transport(opts: { maxDatagram?: number } = {}): Promise<{ tr: SipTransport; log: ReturnType<typeof memoryLogger>; port: number }> {
  const port = await freePort();
  const log = memoryLogger();
  const tr = new SipTransport({ host: '127.0.0.1', port, logger: log, ...opts });
  await tr.start();
  return { tr, log, port };
}

async function peer(t: Test): Promise<{ sock: Socket; port: number; next: (timeoutMs?: number) => Promise<string> }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())));
  const queue: string[] = [];
  const waiters: Array<(s: string) => void> = [];
  sock.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m.toString());
    else queue.push(m.toString());
  });
  return {
    sock,
    port: sock.address().port,
    next: (timeoutMs = 5000) =>
      new Promise<string>((resolve, reject) => {
        const q = queue.shift();
        if (q !== undefined) return resolve(q);
        const timer = setTimeout(() => reject(new Error('no datagram')), timeoutMs);
        waiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
      }),
  };
}

function send(sock: Socket, port: number, text: string | Buffer): Promise<void> {
  return new Promise((r) => sock.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1', () => r()));
}

t.test('bind to a port in use: start() rejects with one message naming the address', async (t) => {
  const { tr, port } = await transport();
  t.teardown(() => tr.stop());
  const second = new SipTransport({ host: '127.0.0.1', port, logger: memoryLogger() });
  await t.rejects(second.start(), new RegExp(`cannot bind 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  t.notOk(second.running);
});

t.test('bind to an address that is not ours: rejects with EADDRNOTAVAIL', async (t) => {
  const tr = new SipTransport({ host: '192.0.2.1', port: 0, logger: memoryLogger() });
  await t.rejects(tr.start(), /cannot bind 192\.0\.2\.1:0: EADDRNOTAVAIL/);
});

t.test('bind to a bad host name: rejects, never throws', async (t) => {
  const tr = new SipTransport({ host: 'no such host!', port: 0, logger: memoryLogger() });
  await t.rejects(tr.start(), /cannot bind no such host!:0/);
});

t.test('datagrams over the size bound are dropped before parsing and counted', async (t) => {
  const { tr, log, port } = await transport({ maxDatagram: 1000 });
  t.teardown(() => tr.stop());
  let got = 0;
  tr.onMessage = () => got++;
  const p = await peer(t);
  await send(p.sock, port, Buffer.alloc(5000, 0x41));
  await send(p.sock, port, `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKok\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
  await t.resolves(new Promise<void>((r) => (tr.onMessage = () => (got++, r()))));
  t.equal(tr.counters.oversize, 1);
  t.equal(got, 1, 'only the small one reached the UA');
  t.ok(log.lines.some((l) => /dropped datagram of 5000 bytes/.test(l)));
});

t.test('malformed request: 400 with the parse error as reason, routed to the source', async (t) => {
  const { tr, port } = await transport();
  t.teardown(() => tr.stop());
  const p = await peer(t);
  await send(p.sock, port, `INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKbad\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\nMax-Forwards: banana\r\nContent-Length: 0\r\n\r\n`);
  const res = await p.next();
  t.match(res, /^SIP\/2\.0 400 Bad Request \(.+\)\r\n/);
  t.match(res, /Call-ID: y/i);
  t.equal(tr.counters.badRequestSent, 1);
});

t.test('garbage is dropped with one log line per second at most, counted, never answered', async (t) => {
  const { tr, log, port } = await transport();
  t.teardown(() => tr.stop());
  const p = await peer(t);
  for (let i = 0; i < 50; i++) await send(p.sock, port, `\x00\x01garbage ${i} \xff`);
  await send(p.sock, port, '\r\n\r\n'); // keep-alive: silently ignored
  await new Promise<void>((resolve) => {
    const check = (): void => (tr.counters.received >= 51 ? resolve() : void setTimeout(check, 10));
    check();
  });
  t.equal(tr.counters.malformed, 50);
  t.equal(log.lines.filter((l) => /dropped unparsable/.test(l)).length, 1, 'one line for the burst');
  await t.rejects(p.next(300), /no datagram/, 'nothing sent back');
});

t.test('responses go to received/rport (RFC 3581), not to the Via sent-by', async (t) => {
  const { tr, port } = await transport();
  const log = memoryLogger();
  const ua = new UserAgent({ transport: tr, contactHost: '127.0.0.1', contactPort: port, logger: log });
  await ua.start();
  t.teardown(() => ua.stop());
  const p = await peer(t);
  await send(p.sock, port, `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.9:9;branch=z9hG4bKrport;rport\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: r\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
  const res = await p.next();
  t.match(res, /^SIP\/2\.0 200 OK/);
  t.match(res, new RegExp(`Via: SIP/2\\.0/UDP 10\\.9\\.9\\.9:9;branch=z9hG4bKrport;rport=${p.port};received=127\\.0\\.0\\.1`, 'i'));
  t.match(res, /Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE/i);
});

t.test('a handler that throws is logged and the transport keeps working', async (t) => {
  const { tr, log, port } = await transport();
  t.teardown(() => tr.stop());
  let calls = 0;
  tr.onMessage = () => {
    calls++;
    throw new Error('boom');
  };
  const p = await peer(t);
  const msg = `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKx\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: z\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
  await send(p.sock, port, msg);
  await send(p.sock, port, msg);
  await new Promise<void>((resolve) => {
    const check = (): void => (calls >= 2 ? resolve() : void setTimeout(check, 10));
    check();
  });
  t.equal(tr.counters.handlerErrors, 2);
  t.ok(log.lines.some((l) => /ERROR .*boom/.test(l)));
});

t.test('a response with more than one Via is discarded (§8.1.3.3); the proper one completes the request', async (t) => {
  const { tr, port } = await transport();
  const ua = new UserAgent({ transport: tr, contactHost: '127.0.0.1', contactPort: port, logger: memoryLogger() });
  await ua.start();
  t.teardown(() => ua.stop());
  const p = await peer(t);
  const target = { scheme: 'sip' as const, user: 'x', host: '127.0.0.1', port: p.port, params: new Map(), headers: new Map() };
  const pending = ua.request({ method: 'MESSAGE', target, from: { uri: target, params: new Map() }, to: { uri: target, params: new Map() }, body: Buffer.from('hi'), contentType: 'text/plain' });
  const req = await p.next();
  const keep = (name: string): string => req.split('\r\n').filter((l) => l.toLowerCase().startsWith(name)).join('\r\n');
  const head = [keep('via:'), keep('from:'), `${keep('to:')};tag=p`, keep('call-id:'), keep('cseq:'), 'Content-Length: 0', '', ''].join('\r\n');
  // our Via on top plus one more: it would match our transaction, but it was not meant for us
  await send(p.sock, port, `SIP/2.0 200 Wrong\r\n${head.replace(/^(via:[^\r]*)/im, '$1\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy')}`);
  await send(p.sock, port, `SIP/2.0 200 Right\r\n${head}`);
  const res = await pending;
  t.equal(res.reason, 'Right');
});

t.test('a TU handler that throws on INVITE: 500 sent, nothing kept, UA keeps working', async (t) => {
  const { tr, port } = await transport();
  const log = memoryLogger();
  const ua = new UserAgent({ transport: tr, contactHost: '127.0.0.1', contactPort: port, logger: log });
  ua.onInvite = () => {
    throw new Error('tu bug');
  };
  await ua.start();
  t.teardown(() => ua.stop());
  const p = await peer(t);
  await send(p.sock, port, `INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${p.port};branch=z9hG4bKtu\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: tu\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
  t.match(await p.next(), /^SIP\/2\.0 500 /);
  t.equal(ua.stats.incoming, 0);
  t.ok(log.lines.some((l) => /handler for INVITE failed: tu bug/.test(l)));
});

t.test('issue 16: a control character in From gets a 400 naming From over a running UA; an unreadable CSeq is dropped', async (t) => {
  const { tr, port, log } = await transport();
  const ua = new UserAgent({ transport: tr, contactHost: '127.0.0.1', contactPort: port, logger: memoryLogger() });
  let invites = 0;
  ua.onInvite = () => invites++;
  await ua.start();
  t.teardown(() => ua.stop());
  const p = await peer(t);
  const invite = (from: string, cseq: string, branch: string): string =>
    `INVITE sip:7000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${p.port};branch=${branch};rport\r\nMax-Forwards: 70\r\nFrom: ${from}\r\nTo: <sip:7000@127.0.0.1>\r\nCall-ID: ctl-${branch}\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`;
  await send(p.sock, port, invite('<sip:40\x1b[31m55@127.0.0.1>;tag=ctl', '1 INVITE', 'z9hG4bKctl1'));
  const res = await p.next();
  t.match(res, /^SIP\/2\.0 400 Bad Request \(bad From header[^\r\n]*\)\r\n/, 'the reason names the broken header');
  t.match(res, /Call-ID: ctl-z9hG4bKctl1\r\n/);
  t.match(res, /CSeq: 1 INVITE\r\n/);
  t.match(res, /From: <sip:40\x1b\[31m55@127\.0\.0\.1>;tag=ctl\r\n/, 'From copied back as received (§8.2.6.2)');
  t.match(res, /Via: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bKctl1;rport=\d+/);
  t.equal(invites, 0, 'the TU never saw it');
  await send(p.sock, port, invite('<sip:4055@127.0.0.1>;tag=ok', 'one INVITE', 'z9hG4bKctl2'));
  await t.rejects(p.next(500), /no datagram/, 'no CSeq that can be read: nothing to answer with');
  t.equal(tr.counters.malformed, 2);
  t.equal(tr.counters.badRequestSent, 1);
  t.ok(log.lines.some((l) => /dropped malformed INVITE from 127\.0\.0\.1:\d+: bad From header/.test(l)), 'the 400 is logged');
});

t.test('issue 16: no product/version to a stranger: OPTIONS and a refused INVITE from an untrusted source carry no Server header', async (t) => {
  const { tr, port } = await transport();
  const ua = new UserAgent({ transport: tr, contactHost: '127.0.0.1', contactPort: port, logger: memoryLogger(), userAgent: 'ticketline/9.9.9', trusted: (a) => a === '127.0.0.1' });
  ua.onInvite = (inv) => inv.respond(403);
  await ua.start();
  t.teardown(() => ua.stop());
  const friend = await peer(t);
  const stranger = createSocket('udp4');
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', () => r()));
  t.teardown(() => stranger.close());
  const fromStranger = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 5000);
      stranger.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      stranger.send(Buffer.from(text), port, '127.0.0.1');
    });
  const req = (method: string, ip: string, p: number, n: number): string =>
    `${method} sip:7000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${ip}:${p};branch=z9hG4bKsv${n}\r\nMax-Forwards: 70\r\nFrom: <sip:100@${ip}>;tag=sv${n}\r\nTo: <sip:7000@127.0.0.1>\r\nCall-ID: sv${n}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
  const sp = stranger.address().port;
  const options = await fromStranger(req('OPTIONS', '127.0.0.2', sp, 1));
  t.match(options, /^SIP\/2\.0 200 OK\r\n/, 'answered (a scanner learns nothing from silence either)');
  t.notMatch(options, /ticketline|9\.9\.9|^(Server|User-Agent):/im, 'no product, no version');
  const invite = await fromStranger(req('INVITE', '127.0.0.2', sp, 2));
  t.match(invite, /^SIP\/2\.0 403 /);
  t.notMatch(invite, /ticketline|^Server:/im);
  const bogus = await fromStranger(req('SUBSCRIBE', '127.0.0.2', sp, 3));
  t.match(bogus, /^SIP\/2\.0 405 /);
  t.notMatch(bogus, /ticketline|^Server:/im);
  await send(friend.sock, port, req('OPTIONS', '127.0.0.1', friend.port, 4));
  t.match(await friend.next(), /\r\nServer: ticketline\/9\.9\.9\r\n/, 'a source we serve still sees who answers');
});
