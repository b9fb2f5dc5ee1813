/**
 * Mutated datagrams through the real UDP transport into the UA core
 * (seeded, bounded): whatever the parser lets through, nothing escapes as
 * an exception, the log stays bounded, every transaction drains, and the
 * UA still answers afterwards.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { until } from '../lab/proc.js';
import { startTestUa } from './test-ua.js';
import { prng } from '../lab/prng.js';


function seeds(port: number, peer: number): string[] {
  const base = (method: string, extra = '', body = ''): string =>
    `${method} sip:799@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer};branch=z9hG4bK-BR;rport\r\nFrom: "A" <sip:a@127.0.0.1>;tag=ft\r\nTo: <sip:799@127.0.0.1>${extra}\r\nCall-ID: CID@127.0.0.1\r\nCSeq: 1 ${method}\r\nContact: <sip:a@127.0.0.1:${peer}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n';
  return [
    base('INVITE', '', sdp),
    base('ACK', ';tag=tt'),
    base('BYE', ';tag=tt'),
    base('CANCEL'),
    base('OPTIONS'),
    base('MESSAGE', '', 'hello'),
    base('INFO', ';tag=tt', 'Signal=1'),
    base('REGISTER'),
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-BR\r\nFrom: <sip:799@127.0.0.1>;tag=ft\r\nTo: <sip:a@127.0.0.1>;tag=tt\r\nCall-ID: CID@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:${peer}>\r\nContent-Length: 0\r\n\r\n`,
  ];
}

const NASTY = ['', ';', '<', '>', '"', '\\', ',', ':', '@', ' ', '\t', '\r\n ', '%', '%zz', '[', ']', 'sip:', ';tag=', ';branch=', '0', '-1', '99999999999', '\u00ff', '\x00', 'z9hG4bK', 'INVITE', 'ACK', '*'];

function mutate(msg: string, rnd: () => number): string {
  let s = msg.replace(/BR/g, String(Math.floor(rnd() * 1e9))).replace(/CID/g, String(Math.floor(rnd() * 1e9)));
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const lines = s.split('\r\n');
    const i = Math.floor(rnd() * lines.length);
    const op = Math.floor(rnd() * 6);
    if (op === 0) lines.splice(i, 1);
    else if (op === 1) lines.splice(i, 0, lines[Math.floor(rnd() * lines.length)]);
    else if (op === 2) {
      const p = Math.floor(rnd() * (lines[i].length + 1));
      lines[i] = lines[i].slice(0, p) + NASTY[Math.floor(rnd() * NASTY.length)] + lines[i].slice(p);
    } else if (op === 3) {
      const p = Math.floor(rnd() * (lines[i].length + 1));
      lines[i] = lines[i].slice(0, p);
    } else if (op === 4) lines[i] = lines[i].toLowerCase();
    else {
      const p = Math.floor(rnd() * (lines[i].length + 1));
      lines[i] = lines[i].slice(0, p) + lines[i].slice(p + 1 + Math.floor(rnd() * 5));
    }
    s = lines.join('\r\n');
  }
  return s;
}

t.test('3000 mutated requests and responses: no escape, bounded log, everything drains, UA still answers', async (t) => {
  const ua = await startTestUa({ invite: 486 }, { timers: { T1: 50, T2: 200, T4: 200, D: 400 } });
  t.teardown(() => ua.stop());
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())));
  const peer = sock.address().port;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  t.teardown(() => void process.off('uncaughtException', onUncaught));

  const rnd = prng(0x5eed);
  const base = seeds(ua.port, peer);
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const msg = mutate(base[i % base.length], rnd);
    await new Promise<void>((r) => sock.send(Buffer.from(msg, 'latin1'), ua.port, '127.0.0.1', () => r()));
    // Same process as the UA: let it read what was sent before sending more (no socket-buffer overflow).
    if (i % 25 === 24) await until(() => ua.transport.counters.received >= i + 1, 'UA caught up', 2000, 1).catch(() => undefined);
  }
  await until(() => ua.transport.counters.received >= N * 0.98, 'datagrams received', 20000).catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(ua.transport.counters)} ${ua.log.lines.slice(-5).join(' / ')}`);
  });
  t.same(uncaught, [], 'nothing escaped');
  const c = ua.transport.counters;
  t.comment(`received ${c.received}, malformed ${c.malformed}, 400 sent ${c.badRequestSent}, handler errors ${c.handlerErrors + ua.ua.handlerErrors}, log lines ${ua.log.lines.length}`);
  t.ok(c.malformed > 0 && c.received - c.malformed > 0, 'both rejected and accepted inputs were exercised');
  t.ok(ua.log.lines.length < 600, `log bounded: ${ua.log.lines.length} lines`);
  await until(() => ua.ua.stats.servers === 0 && ua.ua.stats.clients === 0 && ua.ua.stats.dialogs === 0, 'all transactions drained', 20000);

  const reply = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
  sock.send(Buffer.from(seeds(ua.port, peer)[4].replace(/BR/g, 'final').replace(/CID/g, 'final')), ua.port, '127.0.0.1');
  t.match(await reply, /^SIP\/2\.0 200 OK/, 'still answers OPTIONS');
});
