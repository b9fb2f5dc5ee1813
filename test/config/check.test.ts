import t from 'tap';
import { checkCard, runCheck } from '../../src/config/check.js';
import { tempCard } from './card-fixture.js';

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
    'TicketNR.txt: "twelve" is not valid: should hold the next ticket number (a whole number, or blank to start at 1)',
  ]);
  t.match(lines[3], /^card .*: 3 error\(s\), 0 warning\(s\); NOT usable/);
  t.equal(lines.length, 4);
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
  card.write('TicketNR.txt', '-5');
  t.match(await checkCard(card.dir), [{ file: 'TicketNR.txt' }]);
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
