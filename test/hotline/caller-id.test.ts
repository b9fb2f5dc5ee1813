/**
 * The caller's number: which header it comes from, and TrunkPrefix.txt put
 * before a number the PBX gave without it (seed: the caller number "contains
 * prefix of the local trunk line", so the IM can be called back).
 */
import t from 'tap';
import { callerNumber, dialableCaller } from '../../src/hotline/caller-id.js';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipRequest } from '../../src/sip/message.js';

const card = (trunkPrefix?: string) => ({
  trunkPrefix,
  xmlNumber: '799',
  technicians: new Map([['731', {} as never], ['732', {} as never]]),
});

// [trunk prefix, number from the PBX, the number the tickets and the IM carry, why]
const TABLE: [string | undefined, string | undefined, string, string][] = [
  ['0', '3472619287', '03472619287', 'the PBX stripped the 0: put back'],
  ['0', '03472619287', '03472619287', 'already carries it: not doubled'],
  ['0', '0049301234567', '0049301234567', 'international with the prefix: kept'],
  ['0', '+393472619287', '+393472619287', 'E.164: dialled as it is'],
  ['0', undefined, 'anonymous', 'withheld: stays anonymous'],
  ['0', '', 'anonymous', 'empty user: anonymous, no lone prefix'],
  ['0', 'anonymous', 'anonymous', 'the word anonymous: no digits, anonymous'],
  ['0', '731', '731', 'a technician on the card (internal test call): kept'],
  ['0', '799', '799', 'the appliance\'s own number: kept'],
  ['0', '733', '0733', 'a short number not on the card is an outside number'],
  ['0', '*31#', '*31#', 'not a plain number: kept'],
  ['0', '34 72-61/92..87', '03472619287', 'sanitized before the prefix'],
  ['9', '0612345678', '90612345678', 'another prefix: put before a number starting with 0'],
  ['00', '0612345678', '000612345678', 'a longer prefix: only the whole of it counts as present'],
  ['0', '1'.repeat(40), '0' + '1'.repeat(31), 'never longer than any number kept (32)'],
  [undefined, '3472619287', '3472619287', 'no TrunkPrefix.txt: kept as it comes'],
  ['', '3472619287', '3472619287', 'blank prefix: kept as it comes'],
];

t.test('dialableCaller: TrunkPrefix.txt before a number that arrives without it', async (t) => {
  for (const [prefix, raw, want, why] of TABLE) {
    t.equal(dialableCaller(raw, card(prefix)), want, `${prefix ?? '(none)'} + ${JSON.stringify(raw)}: ${why}`);
  }
});

const invite = (from: string, pai?: string): SipRequest => {
  const text = [
    'INVITE sip:799@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1',
    `From: ${from};tag=1`,
    'To: <sip:799@127.0.0.1>',
    ...(pai ? [`P-Asserted-Identity: ${pai}`] : []),
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || !('method' in r.message)) throw new Error('not a request');
  return r.message;
};

t.test('callerNumber: P-Asserted-Identity first, then From; the prefix follows', async (t) => {
  t.equal(callerNumber(invite('<sip:3472619287@pbx>')), '3472619287');
  t.equal(callerNumber(invite('<sip:anon@pbx>', '<sip:3472619287@pbx>')), '3472619287');
  t.equal(dialableCaller(callerNumber(invite('"x" <sip:3472619287@pbx>')), card('0')), '03472619287');
});
