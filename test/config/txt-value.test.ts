import t from 'tap';
import {
  cleanTxt, classify, quote, parseExtension, parseDialNumber, parseSmsNumber, parseSeconds, parseNationalPrefix, parseTrunkPrefix,
  parseProvider, parseObjectName, parseKey, parseYesNo,
} from '../../src/config/txt-value.js';

t.test('a value survives BOM, CR/LF and surrounding whitespace', async (t) => {
  t.equal(cleanTxt('\uFEFF799\r\n'), '799');
  t.equal(cleanTxt('  731 \t\r\n\r\n'), '731');
  t.equal(cleanTxt('\r\n'), '');
  t.same(classify(undefined), { kind: 'missing' });
  t.same(classify('\uFEFF \r\n'), { kind: 'blank' });
  t.same(classify('\uFEFFLOG\r\n'), { kind: 'value', value: 'LOG' });
});

t.test('quoted values are bounded and printable', async (t) => {
  t.equal(quote('ab\u0000c'), '"ab?c"');
  t.equal(quote('x'.repeat(100)).length, 45);
});

t.test('extensions are digits with maybe * and #, bounded', async (t) => {
  t.ok(parseExtension('731').ok);
  t.ok(parseExtension('*21').ok);
  t.notOk(parseExtension('73a').ok);
  t.notOk(parseExtension('**').ok, 'needs a digit');
  t.notOk(parseExtension('1'.repeat(17)).ok);
  t.notOk(parseExtension('').ok);
});

t.test('numbers: fork may have a leading +, SMS numbers are plain digits without 00', async (t) => {
  t.ok(parseDialNumber('03471234567').ok);
  t.ok(parseDialNumber('+393471234567').ok);
  t.notOk(parseDialNumber('347 123').ok);
  t.notOk(parseDialNumber('34+7').ok);
  t.ok(parseSmsNumber('3471234567').ok);
  t.notOk(parseSmsNumber('+393471234567').ok);
  t.notOk(parseSmsNumber('00393471234567').ok);
});

t.test('seconds are bounded whole numbers', async (t) => {
  t.same(parseSeconds('20'), { ok: true, value: 20 });
  t.same(parseSeconds('5'), { ok: true, value: 5 });
  t.same(parseSeconds('600'), { ok: true, value: 600 });
  for (const v of ['4', '601', '-1', '2.5', 'twenty', '1e3']) t.notOk(parseSeconds(v).ok, v);
});

t.test('the national prefix refuses 0, + and 00 with a clear reason', async (t) => {
  t.same(parseNationalPrefix('39'), { ok: true, value: '39' });
  t.ok(parseNationalPrefix('1').ok);
  for (const v of ['039', '+39', '0039']) {
    const r = parseNationalPrefix(v);
    t.notOk(r.ok, v);
    if (!r.ok) t.match(r.should, /without 0, \+ or 00/);
  }
  t.notOk(parseNationalPrefix('39a').ok);
  t.notOk(parseNationalPrefix('12345').ok);
});

t.test('the trunk prefix is 1 to 6 digits, a leading 0 included', async (t) => {
  for (const v of ['0', '9', '00', '012345']) t.same(parseTrunkPrefix(v), { ok: true, value: v }, v);
  for (const v of ['+39', '0 0', '1234567', 'O', '*0']) {
    const r = parseTrunkPrefix(v);
    t.notOk(r.ok, v);
    if (!r.ok) t.match(r.should, /trunk prefix: the digits the PBX dials before an outside number, 1 to 6 digits/);
  }
});

t.test('providers are case-insensitive, unknown ones are refused', async (t) => {
  t.same(parseProvider('log'), { ok: true, value: 'LOG' });
  t.same(parseProvider('Kannel'), { ok: true, value: 'KANNEL' });
  t.same(parseProvider('CODEMA'), { ok: true, value: 'CODEMA' });
  t.same(parseProvider('http'), { ok: true, value: 'HTTP' });
  const r = parseProvider('SMSGLOBAL');
  t.notOk(r.ok);
  if (!r.ok) t.match(r.should, /LOG, HTTP, KANNEL, CODEMA/);
});

t.test('object names are folder-safe and not technician-like', async (t) => {
  t.ok(parseObjectName('TED_CFU').ok);
  t.ok(parseObjectName('cfu-1.x').ok);
  for (const v of ['../x', 'a/b', '.hidden', '731', 'Ticket', 'outbox', 'a b']) t.notOk(parseObjectName(v).ok, v);
});

t.test('keys and yes/no', async (t) => {
  t.ok(parseKey('1').ok);
  t.ok(parseKey('#').ok);
  t.notOk(parseKey('12').ok);
  t.same(parseYesNo('Yes'), { ok: true, value: true });
  t.same(parseYesNo('off'), { ok: true, value: false });
  t.notOk(parseYesNo('maybe').ok);
});
