/**
 * The hotline's front door under a flood (issue 16), with the calls held in
 * the waiting queue by a port pool that never answers: the caps of
 * MaxWaiting.txt and per caller number turn into 486 at once, with one
 * rate-limited line; the idle collection runs once after the burst.
 */
import t, { type Test } from 'tap';
import { loadCard, type CardConfig } from '../../src/config/card.js';
import { Hotline } from '../../src/hotline/hotline.js';
import type { HotlineServices } from '../../src/hotline/services.js';
import type { PortPool } from '../../src/media/port-pool.js';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipRequest } from '../../src/sip/message.js';
import type { IncomingInvite } from '../../src/sip/ua-incoming.js';
import { memoryLogger } from '../../src/util/log.js';
import { tempCard } from '../config/card-fixture.js';

function invite(from: string, statuses: number[], address = '127.0.0.1'): IncomingInvite {
  const raw = [
    'INVITE sip:799@127.0.0.1:5070 SIP/2.0',
    `Via: SIP/2.0/UDP ${address}:5060;branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
    `From: <sip:${from}@${address}>;tag=a`,
    'To: <sip:799@127.0.0.1>',
    `Call-ID: ${Math.random().toString(36).slice(2)}`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const parsed = parseMessage(Buffer.from(raw));
  if (!parsed.ok) throw new Error('test INVITE does not parse');
  return {
    request: parsed.message as SipRequest,
    source: { address, port: 5060 },
    sdp: '',
    respond: (status: number) => statuses.push(status),
    accept: () => new Promise(() => undefined),
  } as unknown as IncomingInvite;
}

async function setup(t: Test, maxWaiting: string, usable = true) {
  const card = tempCard(t);
  card.write('MaxWaiting.txt', maxWaiting);
  const { config } = await loadCard(card.dir);
  if (!config) throw new Error('example card not usable');
  const log = memoryLogger();
  let reserved = 0;
  // a pool whose bind never completes: every admitted call stays in the waiting queue
  const pool = { capacity: 20, get reserved() { return reserved; }, setReserved: (n: number) => (reserved = Math.min(n, 10)), allocate: () => new Promise(() => undefined) } as unknown as PortPool;
  const svc = { pool, logger: log } as unknown as HotlineServices;
  let collected = 0;
  const hotline = new Hotline(svc, { config: (): CardConfig | undefined => (usable ? config : undefined), reload: async () => undefined, idleCollect: { afterMs: 50, run: () => collected++ } });
  return { hotline, log, collected: () => collected, reserved: () => reserved };
}

t.test('calls over MaxWaiting.txt or over 2 per caller number get 486 at once, logged rate-limited', async (t) => {
  const { hotline, log, reserved } = await setup(t, '3\n');
  t.equal(reserved(), 8, 'the example card has a Fork.txt: 2 legs per hop x 4 calls');
  t.match(log.lines.join('\n'), /RTP: 8 of 20 ports reserved .*\(2 leg\(s\) per hop x 4 calls\); at most 3 callers wait for the key, 2 per caller/);
  const statuses: number[] = [];
  hotline.onInvite(invite('0611', statuses));
  hotline.onInvite(invite('0611', statuses));
  hotline.onInvite(invite('0611', statuses));
  t.same(statuses, [486], 'the third call of one number is refused, the first two wait');
  hotline.onInvite(invite('0622', statuses));
  t.equal(hotline.waiting, 3);
  for (let i = 0; i < 20; i++) hotline.onInvite(invite(`07${i}`, statuses));
  t.equal(statuses.length, 21, 'every call over MaxWaiting is refused');
  t.ok(statuses.every((s) => s === 486));
  t.equal(hotline.waiting, 3);
  const lines = log.lines.filter((l) => /refused with 486/.test(l));
  t.equal(lines.length, 1, 'one line for the burst');
  t.match(lines[0], /caller 0611\) refused with 486: 0611 already has 2 calls waiting for the proceed key/);
});

t.test('withheld numbers are held by MaxWaiting only', async (t) => {
  const { hotline } = await setup(t, '4\n');
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) hotline.onInvite(invite('anonymous', statuses));
  t.same(statuses, [486]);
  t.equal(hotline.waiting, 4);
});

t.test('the idle collection runs once after a burst, and not again without INVITEs', async (t) => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const held = await setup(t, '1\n');
  held.hotline.onInvite(invite('0611', []));
  await sleep(200);
  t.equal(held.collected(), 0, 'not while a call is in progress');
  // a card that is not usable: every INVITE is answered 503 at once, no call stays
  const { hotline, collected } = await setup(t, '1\n', false);
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) hotline.onInvite(invite(`07${i}`, statuses));
  t.same(statuses, [503, 503, 503, 503, 503]);
  await sleep(300);
  t.equal(collected(), 1, 'once after the burst');
  await sleep(200);
  t.equal(collected(), 1, 'not again while nothing comes in');
  hotline.onInvite(invite('0611', statuses));
  await sleep(300);
  t.equal(collected(), 2, 'again after the next INVITE');
});
