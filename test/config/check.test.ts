import t from 'tap';
import { checkCard, runCheck } from '../../src/config/check.js';
import { tempCard as exampleCard } from './card-fixture.js';

/** The example card with an Admin/ (the example card has none: its alerts would reach the e2e tests' phones). */
function tempCard(t: Parameters<typeof exampleCard>[0]): ReturnType<typeof exampleCard> {
  const card = exampleCard(t);
  card.write('Admin/Extension.txt', '731\r\n');
  return card;
}

function capture(): { write(s: string): boolean; text(): string } {
  let out = '';
  return { write: (s: string) => ((out += s), true), text: () => out };
}

t.test('check on the example card prints OK and exits 0', async (t) => {
  const card = tempCard(t);
  const out = capture();
  t.equal(await runCheck(['check', card.dir], out), 0);
  t.match(out.text(), /^card .*TicketSMS: OK \(number 799, 3 technician\(s\), hunt 731 -> 732 -> 733 -> 731, .*SMS LOG\)\n$/);
  t.same(await checkCard(card.dir), []);
});

t.test('check on a broken card prints each problem and a summary, exits 1', async (t) => {
  const card = tempCard(t);
  card.write('SMSProvider.txt', 'KANEL\r\n');
  card.write('731/Next.txt', '999');
  card.write('TicketNR.txt', 'twelve');
  const out = capture();
  t.equal(await runCheck([card.dir], out), 1);
  const lines = out.text().trimEnd().split('\n');
  t.same(lines.slice(0, 3), [
    'SMSProvider.txt: "KANEL" is not valid: should hold one of LOG, HTTP, KANNEL, CODEMA',
    '731/Next.txt: names 999, which is not a technician on the card: should name a folder holding Next.txt, Fork.txt or SMSNumber.txt',
    'WARN TicketNR.txt: "twelve" will not be taken by the ticket counter: should hold the next ticket number (a whole number from 1, '
      + 'or blank to start at 1); as it is, numbering restarts at 1',
  ]);
  t.match(lines[3], /^card .*: 2 error\(s\), 0 warning\(s\), 1 WARN; NOT usable/);
  t.equal(lines.length, 4);
});

function techniciansWithoutNext(card: ReturnType<typeof tempCard>): void {
  for (const ext of ['731', '732', '733']) card.remove(`${ext}/Next.txt`);
}

// [what the card holds, the WARN lines expected]
const ADVICE: [string, (card: ReturnType<typeof tempCard>) => void, RegExp[]][] = [
  ['no Next.txt anywhere (a card copied from the original)', techniciansWithoutNext, [
    /^WARN Next.txt: no technician has one, so the hunt rings only 731 — the original took the chain from the PBX's CFNR: write Next.txt in each technician folder$/,
  ]],
  ['no Next.txt, CFU to 733', (card) => (techniciansWithoutNext(card), card.write('TED_CFU/Target.txt', '733')), [/rings only 733 —/]],
  ['CODEMA', (card) => card.write('SMSProvider.txt', 'codema\r\n'), [
    /^WARN SMSProvider.txt: is CODEMA, whose interface is not public: every SMS will go to Outbox\/failed\/; use HTTP/,
  ]],
  ['no Admin/', (card) => card.remove('Admin'), [
    /^WARN Admin\/: is missing: nobody is told when the box cannot take an emergency call .*alerts go only to the log/,
  ]],
  ['TicketNR.txt 0', (card) => card.write('TicketNR.txt', '0'), [/^WARN TicketNR.txt: "0" will not be taken by the ticket counter/]],
  ['TicketNR.txt 12a', (card) => card.write('TicketNR.txt', '12a\r\n'), [/^WARN TicketNR.txt: "12a" will not be taken/]],
  ['TicketNR.txt too large', (card) => card.write('TicketNR.txt', '99999999999999999'), [/^WARN TicketNR.txt: "99999999999999999"/]],
  ['all three', (card) => (techniciansWithoutNext(card), card.write('SMSProvider.txt', 'CODEMA'), card.write('TicketNR.txt', 'x')), [
    /^WARN TicketNR.txt/, /^WARN Next.txt/, /^WARN SMSProvider.txt/,
  ]],
];

t.test('check prints a WARN line for a valid card that will not do what is meant, and still exits 0', async (t) => {
  for (const [label, setup, want] of ADVICE) {
    const card = tempCard(t);
    setup(card);
    const out = capture();
    t.equal(await runCheck([card.dir], out), 0, `${label}: exit code 0`);
    const lines = out.text().trimEnd().split('\n');
    t.equal(lines.length, want.length + 1, `${label}: ${want.length} WARN line(s) and the summary`);
    want.forEach((re, i) => t.match(lines[i], re, `${label}: line ${i + 1}`));
    t.match(lines[lines.length - 1], new RegExp(`^card .*: OK with ${want.length} WARN above \\(number 799`), `${label}: summary`);
    t.ok((await checkCard(card.dir)).every((p) => p.advice === true), `${label}: checkCard marks them as advice`);
  }
});

t.test('a WARN next to an error: the error decides the exit code', async (t) => {
  const card = tempCard(t);
  card.write('SMSProvider.txt', 'CODEMA');
  card.write('Tries.txt', '0');
  const out = capture();
  t.equal(await runCheck([card.dir], out), 1);
  t.match(out.text(), /^Tries.txt: "0" is not valid.*\nWARN SMSProvider.txt: is CODEMA.*\ncard .*: 1 error\(s\), 0 warning\(s\), 1 WARN; usable/s);
});

t.test('check reports a usable card with warnings and still exits 1', async (t) => {
  const card = tempCard(t);
  card.write('pbx.ini', '[sip]\npbx = 127.0.0.1\nregistrar = yes\n');
  const out = capture();
  t.equal(await runCheck([card.dir], out), 1);
  t.match(out.text(), /pbx.ini: warning: line 3: unknown key "registrar"/);
  t.match(out.text(), /0 error\(s\), 1 warning\(s\); usable/);
});

t.test('TicketNR.txt may be blank or a number', async (t) => {
  const card = tempCard(t);
  card.write('TicketNR.txt', '1234\r\n');
  t.same(await checkCard(card.dir), []);
  card.write('TicketNR.txt', '');
  t.same(await checkCard(card.dir), []);
  card.write('TicketNR.txt', '-5');
  t.match(await checkCard(card.dir), [{ file: 'TicketNR.txt', advice: true }]);
});

t.test('check without a folder argument uses the default folder; a missing folder is an error', async (t) => {
  const card = tempCard(t);
  const out = capture();
  t.equal(await runCheck(['check'], out, card.dir), 0);
  const bad = capture();
  t.equal(await runCheck(['/nonexistent/card'], bad), 1);
  t.match(bad.text(), /^\.: the card folder \/nonexistent\/card cannot be read \(ENOENT\)\n/);
});

t.test('check adds the problems of an extra check on a usable card', async (t) => {
  const card = tempCard(t);
  const out = capture();
  const code = await runCheck([card.dir], out, card.dir, (c) => [{ file: `${c.smsProvider}/URL.txt`, message: 'is missing: should hold the URL' }]);
  t.equal(code, 1);
  t.match(out.text(), /^LOG\/URL.txt: is missing: should hold the URL\n/);
});

t.test('Admin/: a folder naming nobody is a warning; a wrong number drops only the SMS; a good one is read', async (t) => {
  const card = tempCard(t);
  card.remove('Admin/Extension.txt');
  card.write('Admin/SMSUser.txt', 'x');
  const out = capture();
  t.equal(await runCheck([card.dir], out), 1);
  t.match(out.text(), /^Admin\/: warning: names nobody: should hold Extension.txt \(IM\) or SMSNumber.txt \(SMS\); alerts go only to the log\nWARN Admin\/: is missing/);
  card.write('Admin/SMSNumber.txt', '+39 333');
  card.write('Admin/Extension.txt', '700');
  t.match(await checkCard(card.dir), [{ file: 'Admin/SMSNumber.txt', message: /is not valid: should hold the mobile number/ }]);
  card.write('Admin/SMSNumber.txt', '3331234567\r\n');
  card.write('Admin/SMSPassword.txt', 'secret');
  const { loadCard } = await import('../../src/config/card.js');
  t.same((await loadCard(card.dir)).config?.admin, { ext: '700', sms: { number: '3331234567', user: 'x', password: 'secret' } });
  t.same(await checkCard(card.dir), []);
});
