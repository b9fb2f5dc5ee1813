/**
 * 2xx handling outside the INVITE transaction (RFC 3261 §13.2.2.4), driven
 * by a scripted UDP peer: a retransmitted 2xx gets the same ACK again, a
 * 2xx from a second fork (other To tag) is ACKed and hung up with BYE, and
 * only the first one reaches the TU.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { SipTransport } from '../../src/sip/transport.js';
import { UserAgent } from '../../src/sip/ua.js';
import type { Dialog } from '../../src/sip/dialog.js';
import { memoryLogger } from '../../src/util/log.js';
import { parseUri } from '../../src/sip/uri.js';
import { freePort } from '../lab/ports.js';

t.test('a retransmitted 2xx is ACKed again; a second fork is ACKed and BYEd; the TU sees one answer', async (t) => {
  const port = await freePort();
  const transport = new SipTransport({ host: '127.0.0.1', port, logger: memoryLogger() });
  const ua = new UserAgent({ transport, contactHost: '127.0.0.1', contactPort: port, logger: memoryLogger(), timers: { T1: 100, T2: 400, T4: 500, D: 1000 } });
  await ua.start();
  t.teardown(() => ua.stop());
  const peer = createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => peer.close(() => r())));
  const peerPort = peer.address().port;
  const got: string[] = [];
  const waiters: Array<() => void> = [];
  peer.on('message', (m) => {
    got.push(m.toString());
    for (const w of waiters.splice(0)) w();
  });
  /** The n-th datagram matching `re`, waiting up to 10 s for it. */
  const nth = async (re: RegExp, n = 1): Promise<string> => {
    const end = Date.now() + 10000;
    for (;;) {
      const hits = got.filter((g) => re.test(g));
      if (hits.length >= n) return hits[n - 1];
      if (Date.now() > end) throw new Error(`no ${re} #${n}; got:\n${got.join('\n---\n')}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 200);
        waiters.push(() => (clearTimeout(timer), r()));
      });
    }
  };
  const send = (s: string): void => void peer.send(Buffer.from(s), port, '127.0.0.1');

  const target = parseUri(`sip:732@127.0.0.1:${peerPort}`);
  const out = ua.invite({ target, from: { uri: parseUri('sip:799@127.0.0.1'), params: new Map() }, to: { uri: target, params: new Map() }, sdp: 'v=0\r\n' });
  const answers: Dialog[] = [];
  out.on('answered', (d) => answers.push(d));
  const invite = await nth(/^INVITE /);
  const hdr = (name: string): string => new RegExp(`^${name}: .*$`, 'im').exec(invite)![0];
  const ok = (tag: string): string =>
    ['SIP/2.0 200 OK', hdr('Via'), hdr('From'), `${hdr('To')};tag=${tag}`, hdr('Call-ID'), hdr('CSeq'), `Contact: <sip:${tag}@127.0.0.1:${peerPort}>`, 'Content-Type: application/sdp', 'Content-Length: 5', '', 'v=0\r\n'].join('\r\n');

  send(ok('forkA'));
  await nth(/^ACK sip:forkA@/);
  send(ok('forkA')); // retransmission (its transaction is gone)
  await nth(/^ACK sip:forkA@/, 2);
  send(ok('forkB')); // another fork answers too
  await nth(/^ACK sip:forkB@/);
  const bye = await nth(/^BYE sip:forkB@/);
  t.match(bye, /^To: .*tag=forkB/im, 'the BYE is for the second fork');
  t.equal(got.filter((g) => /^BYE sip:forkA@/.test(g)).length, 0, 'the first fork is kept');
  t.equal(answers.length, 1, 'one answer reached the TU');
  t.equal(answers[0].remoteTag, 'forkA');
  const acks = got.filter((g) => /^ACK sip:forkA@/.test(g));
  t.equal(acks[0].replace(/\r\n/g, '\n'), acks[1].replace(/\r\n/g, '\n'), 'the same ACK again (§13.2.2.4)');
});
