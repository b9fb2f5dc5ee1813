import t from 'tap';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { loadCard, setCfuTarget } from '../../src/config/card.js';
import { tempCard } from './card-fixture.js';

t.test('the example card loads with zero problems', async (t) => {
  const card = tempCard(t);
  const { config, problems } = await loadCard(card.dir);
  t.same(problems, []);
  if (!config) return t.fail('no config');
  t.equal(config.dir, card.dir);
  t.equal(config.xmlNumber, '799');
  t.equal(config.proceedKey, '1');
  t.equal(config.tries, 3);
  t.equal(config.smsProvider, 'LOG');
  t.equal(config.smsPrefix, '39');
  t.equal(config.cfuName, 'TED_CFU');
  t.equal(config.cfuTarget, undefined, 'blank Target.txt: no CFU');
  t.equal(config.first, '731');
  t.equal(config.timeoutSec, 20);
  t.same([...config.technicians.keys()], ['731', '732', '733']);
  t.same(config.technicians.get('731'), { ext: '731', next: '732', timeoutSec: 20, sms: { number: '3471234567', user: 'tech731', password: 'changeme' } });
  t.same(config.technicians.get('732'), { ext: '732', next: '733', fork: '03477654321', timeoutSec: 30, sms: { number: '3477654321' } });
  t.equal(config.technicians.get('733')?.next, '731', 'the ring loops back');
  t.same(config.pbx.listen, { host: '127.0.0.1', port: 5070 });
  t.same(config.pbx.pbx, { host: '127.0.0.1', port: 5060 });
  t.equal(config.prompts.announcement, join(card.dir, 'announcement.wav'));
  t.equal(config.recordingDir, join(card.dir, '..', 'TED_RECORDING'));
  t.equal(config.ticketDir, join(card.dir, 'Ticket'));
  t.equal(config.outboxDir, join(card.dir, 'Outbox'));
  t.equal(config.acceptKey, undefined, 'blank AcceptKey.txt: any answer connects');
  t.equal(config.acceptSec, 15);
  t.equal(config.rounds, 3);
  t.equal(config.retryPauseSec, 10);
  t.equal(config.messageSec, 120);
  t.equal(config.prompts.digits['#'], join(card.dir, 'digit-hash.wav'));
  t.equal(config.prompts.goodbyeMessage, join(card.dir, 'goodbye-message.wav'));
});

t.test("the mobile forked to is the technician's own (issue 14)", async (t) => {
  const card = tempCard(t);
  const { config } = await loadCard(card.dir);
  for (const tech of config?.technicians.values() ?? []) {
    if (tech.fork && tech.sms) t.equal(tech.fork, `0${tech.sms.number}`, `${tech.ext} forks to its own mobile`);
  }
  t.ok(config?.technicians.get('732')?.fork, 'the example still has a fork');
});

// [card AcceptKey.txt, 731/AcceptKey.txt (undefined = no file), 731's effective key, 732's]
const ACCEPT: [string | undefined, string | undefined, string | undefined, string | undefined][] = [
  [undefined, undefined, undefined, undefined],
  ['', undefined, undefined, undefined],
  ['5', undefined, '5', '5'],
  ['5', '', undefined, '5'],
  ['5', '#', '#', '5'],
  [undefined, '*', '*', undefined],
  ['', '0', '0', undefined],
];

t.test('AcceptKey.txt: the card key, overridden by a technician folder (blank there = none)', async (t) => {
  for (const [root, own, k731, k732] of ACCEPT) {
    const card = tempCard(t);
    if (root === undefined) card.remove('AcceptKey.txt');
    else card.write('AcceptKey.txt', `${root}\r\n`);
    if (own !== undefined) card.write('731/AcceptKey.txt', own);
    const { config, problems } = await loadCard(card.dir);
    const label = `card ${JSON.stringify(root)}, 731 ${JSON.stringify(own)}`;
    t.same(problems, [], label);
    t.equal(config?.acceptKey, root || undefined, `${label}: card key`);
    t.equal(config?.technicians.get('731')?.acceptKey, k731, `${label}: 731`);
    t.equal(config?.technicians.get('732')?.acceptKey, k732, `${label}: 732`);
    t.equal('acceptKey' in (config?.technicians.get('733') ?? {}), k732 !== undefined, `${label}: no acceptKey property when off`);
  }
});

t.test("a wrong technician AcceptKey.txt is one problem and the card's key applies", async (t) => {
  const card = tempCard(t);
  card.write('AcceptKey.txt', '5');
  card.write('731/AcceptKey.txt', '55');
  const { config, problems } = await loadCard(card.dir);
  t.equal(problems.length, 1);
  t.equal(problems[0]?.file, '731/AcceptKey.txt');
  t.match(problems[0]?.message, /"55" is not valid: should hold one key: 0-9, \* or # .*the card's AcceptKey.txt applies/);
  t.equal(config?.technicians.get('731')?.acceptKey, '5');
});

t.test('Rounds.txt blank or missing: no cap', async (t) => {
  const card = tempCard(t);
  card.write('Rounds.txt', ' \r\n');
  t.equal((await loadCard(card.dir)).config?.rounds, undefined);
  t.notOk('rounds' in ((await loadCard(card.dir)).config ?? {}));
  card.remove('Rounds.txt');
  t.equal((await loadCard(card.dir)).config?.rounds, undefined);
  card.write('Rounds.txt', '1');
  t.equal((await loadCard(card.dir)).config?.rounds, 1);
});

t.test('CRLF, BOM, whitespace and file name case are tolerated', async (t) => {
  const card = tempCard(t);
  card.write('XMLnumber.txt', '\uFEFF 799 \r\n');
  card.write('SMSProvider.txt', 'kannel\r\n\r\n');
  card.write('First.txt', '\t732\r\n');
  card.write('731/Next.txt', '\uFEFF733');
  card.write('pbx.ini', readFileSync(join(card.dir, 'pbx.ini'), 'utf8').replace(/\n/g, '\r\n'));
  renameSync(join(card.dir, 'Timeout.txt'), join(card.dir, 'TIMEOUT.TXT'));
  card.write('TIMEOUT.TXT', '45\r\n');
  const { config, problems } = await loadCard(card.dir);
  t.same(problems, []);
  t.equal(config?.xmlNumber, '799');
  t.equal(config?.smsProvider, 'KANNEL');
  t.equal(config?.first, '732');
  t.equal(config?.technicians.get('731')?.next, '733');
  t.equal(config?.timeoutSec, 45);
  t.equal(config?.technicians.get('731')?.timeoutSec, 45, 'default timeout applies to technicians without their own');
});

// [file, content (undefined = delete), expected problem, config still usable]
const BROKEN: [string, string | undefined, RegExp, boolean][] = [
  ['XMLnumber.txt', '', /is blank: should hold an extension/, false],
  ['XMLnumber.txt', undefined, /is missing: should hold an extension/, false],
  ['XMLnumber.txt', '79x', /"79x" is not valid: should hold an extension/, false],
  ['SMSProvider.txt', 'TWILIO', /"TWILIO" is not valid: should hold one of LOG, HTTP, KANNEL, CODEMA/, false],
  ['SMSprefix.txt', '+39', /should hold the national prefix without 0, \+ or 00/, false],
  ['SMSprefix.txt', '0039', /without 0, \+ or 00/, false],
  ['CFU.txt', '../etc', /should hold an object name/, false],
  ['First.txt', '999', /names 999, which is not a technician on the card/, false],
  ['First.txt', '', /is blank: should hold an extension/, false],
  ['Timeout.txt', '2', /should hold seconds to ring .* from 5 to 600/, true],
  ['Tries.txt', '0', /from 1 to 10/, true],
  ['ProceedKey.txt', '12', /one key: 0-9, \* or #/, true],
  ['AcceptKey.txt', 'A', /"A" is not valid: should hold one key: 0-9, \* or #/, true],
  ['AcceptKey.txt', '5 #', /one key: 0-9, \* or #/, true],
  ['AcceptSeconds.txt', '0', /should hold seconds to wait for the accept key \(a whole number from 1 to 120\)/, true],
  ['AcceptSeconds.txt', '2.5', /from 1 to 120/, true],
  ['Rounds.txt', '0', /should hold how many rounds of the chain to ring \(a whole number from 1 to 100\)/, true],
  ['Rounds.txt', 'three', /from 1 to 100/, true],
  ['RetryPause.txt', '-1', /seconds the caller holds before the next round \(a whole number from 1 to 600\)/, true],
  ['MessageSeconds.txt', '3600', /the longest message in seconds \(a whole number from 5 to 600\)/, true],
  ['731/AcceptKey.txt', '12', /one key: 0-9, \* or #/, true],
  ['hold.wav', undefined, /is missing: should be an 8 kHz/, true],
  ['digit-star.wav', 'RIFF', /is not a WAV file/, true],
  ['call-from.wav', undefined, /is missing/, true],
  ['Recording.txt', 'a\u0001b', /should hold a folder path/, false],
  ['731/Next.txt', '999', /names 999, which is not a technician/, true],
  ['731/Next.txt', 'abc', /"abc" is not valid: should hold an extension/, true],
  ['732/Fork.txt', '0347 123', /should hold a number to dial/, true],
  ['732/Timeout.txt', '1000', /from 5 to 600/, true],
  ['733/SMSNumber.txt', '+393479876543', /should hold the mobile number/, true],
  ['TED_CFU/Target.txt', '999', /names 999, which is not a technician/, true],
  ['pbx.ini', '[sip]\nlisten = 127.0.0.1:5070\npbx = 127.0.0.1:5060\n[rtp]\nports = 30001-30999\n', /line 5: \[rtp\] ports .*even/, false],
  ['pbx.ini', undefined, /is missing/, false],
  ['announcement.wav', 'not a wav', /is not a WAV file.*8 kHz mono 16-bit PCM WAV \(sox /, true],
  ['goodbye.wav', undefined, /is missing: should be an 8 kHz/, true],
];

t.test('each broken file gives one problem naming the file', async (t) => {
  for (const [file, content, want, usable] of BROKEN) {
    const card = tempCard(t);
    if (content === undefined) card.remove(file);
    else card.write(file, content);
    const { config, problems } = await loadCard(card.dir);
    const label = `${file} = ${JSON.stringify(content)}`;
    t.equal(problems.length, 1, `${label}: one problem`);
    t.equal(problems[0]?.file, file, `${label}: names the file`);
    t.match(problems[0]?.message, want, label);
    t.equal(config !== undefined, usable, `${label}: usable = ${usable}`);
  }
});

t.test('a broken technician setting drops only that setting', async (t) => {
  const card = tempCard(t);
  card.write('731/Next.txt', '999');
  card.write('732/Timeout.txt', 'soon');
  const { config } = await loadCard(card.dir);
  t.equal(config?.technicians.get('731')?.next, undefined, 'the hunt ends at 731');
  t.equal(config?.technicians.get('731')?.sms?.number, '3471234567', '731 keeps its SMS');
  t.equal(config?.technicians.get('732')?.timeoutSec, 20, '732 falls back to the default timeout');
  t.equal(config?.technicians.get('732')?.fork, '03477654321');
});

t.test('a bad SMS password is reported without its value', async (t) => {
  const card = tempCard(t);
  card.write('731/SMSPassword.txt', 'pa\u0007ss-Secret');
  const { problems } = await loadCard(card.dir);
  t.equal(problems.length, 1);
  t.equal(problems[0]?.file, '731/SMSPassword.txt');
  t.notMatch(JSON.stringify(problems), /Secret/);
});

t.test('technician folders: digits with a marker file; empty digit folders are a warning', async (t) => {
  const card = tempCard(t);
  card.write('734/notes.doc', '');
  card.write('735/SMSNumber.txt', '3470000000');
  card.write('Notes/Next.txt', '731');
  const { config, problems } = await loadCard(card.dir);
  t.same([...(config?.technicians.keys() ?? [])], ['731', '732', '733', '735']);
  t.equal(problems.length, 1);
  t.equal(problems[0]?.file, '734/');
  t.equal(problems[0]?.warning, true);
});

t.test('a provider other than LOG needs SMSprefix.txt', async (t) => {
  const card = tempCard(t);
  card.remove('SMSprefix.txt');
  t.same((await loadCard(card.dir)).problems, [], 'LOG: prefix optional');
  card.write('SMSProvider.txt', 'HTTP');
  const { config, problems } = await loadCard(card.dir);
  t.equal(config, undefined);
  t.match(problems, [{ file: 'SMSprefix.txt', message: /is missing/ }]);
});

t.test('defaults when the optional files are missing', async (t) => {
  const card = tempCard(t);
  const optional = ['SMSProvider.txt', 'Timeout.txt', 'ProceedKey.txt', 'Tries.txt', 'CFU.txt', 'TED_CFU',
    'AcceptKey.txt', 'AcceptSeconds.txt', 'Rounds.txt', 'RetryPause.txt', 'MessageSeconds.txt'];
  for (const f of optional) card.remove(f);
  const { config, problems } = await loadCard(card.dir);
  t.same(problems, []);
  t.equal(config?.smsProvider, 'LOG');
  t.equal(config?.timeoutSec, 20);
  t.equal(config?.proceedKey, '1');
  t.equal(config?.tries, 3);
  t.equal(config?.cfuName, 'TED_CFU');
  t.equal(config?.cfuTarget, undefined);
  t.equal(config?.acceptKey, undefined);
  t.equal(config?.acceptSec, 15);
  t.equal(config?.rounds, undefined);
  t.equal(config?.retryPauseSec, 10);
  t.equal(config?.messageSec, 120);
  card.write('Recording.txt', '/var/rec\n');
  t.equal((await loadCard(card.dir)).config?.recordingDir, '/var/rec');
});

t.test('a missing card folder is one problem', async (t) => {
  const { config, problems } = await loadCard('/nonexistent/ticketline-card');
  t.equal(config, undefined);
  t.equal(problems.length, 1);
  t.match(problems[0]?.message, /cannot be read \(ENOENT\)/);
});

t.test('setCfuTarget writes Target.txt atomically and a reload sees it', async (t) => {
  const card = tempCard(t);
  const { config } = await loadCard(card.dir);
  if (!config) return t.fail('no config');
  await setCfuTarget(config, '733');
  t.equal(readFileSync(join(card.dir, 'TED_CFU', 'Target.txt'), 'utf8'), '733\n');
  t.same(readdirSync(join(card.dir, 'TED_CFU')), ['Target.txt'], 'no temp file left behind');
  const after = await loadCard(card.dir);
  t.equal(after.config?.cfuTarget, '733');
  t.same(after.problems, []);
  await setCfuTarget(config, undefined);
  t.equal(readFileSync(join(card.dir, 'TED_CFU', 'Target.txt'), 'utf8'), '');
  t.equal((await loadCard(card.dir)).config?.cfuTarget, undefined);
  await t.rejects(setCfuTarget(config, '../x'), /not an extension/);
});

t.test('setCfuTarget creates a missing CFU folder', async (t) => {
  const card = tempCard(t);
  card.remove('TED_CFU');
  const { config } = await loadCard(card.dir);
  if (!config) return t.fail('no config');
  await setCfuTarget(config, '732');
  t.equal((await loadCard(card.dir)).config?.cfuTarget, '732');
});

t.test('the card README documents every file of the example card and the optional ones', async (t) => {
  const card = tempCard(t);
  const readme = readFileSync(join(card.dir, 'README.txt'), 'utf8');
  const files = new Set<string>(['Recording.txt', 'ProceedKey.txt', 'Tries.txt', 'Timeout.txt', 'AcceptKey.txt', 'AcceptSeconds.txt',
    'Rounds.txt', 'RetryPause.txt', 'MessageSeconds.txt']);
  for (const e of readdirSync(card.dir, { withFileTypes: true })) {
    if (e.isFile() && e.name !== 'README.txt') files.add(e.name);
    if (e.isDirectory()) for (const f of readdirSync(join(card.dir, e.name))) files.add(f);
  }
  for (const f of files) {
    if (/^digit-.*\.wav$/.test(f)) continue; // one line covers the digit prompts
    t.match(readme, f, `README.txt mentions ${f}`);
  }
  t.match(readme, /digit-0\.wav .*digit-hash\.wav/s, 'README.txt names the digit prompts');
  t.match(readme, /sox .* -r 8000 -c 1 -b 16/, 'README says how to convert a prompt');
});

t.test('an oversized or unreadable file is one problem, never loaded whole', async (t) => {
  const card = tempCard(t);
  card.write('Timeout.txt', `20${' '.repeat(10000)}`);
  card.remove('Tries.txt');
  card.write('Tries.txt/oops.txt', ''); // a folder where a file should be
  const { config, problems } = await loadCard(card.dir);
  t.match(problems, [
    { file: 'Timeout.txt', message: /is larger than 4096 bytes/ },
    { file: 'Tries.txt', message: /cannot be read \(EISDIR\)/ },
  ]);
  t.equal(problems.length, 2);
  t.equal(config?.timeoutSec, 20, 'the default is used');
  card.write('pbx.ini', `; ${'x'.repeat(70000)}\n`);
  t.match((await loadCard(card.dir)).problems.filter((p) => p.file === 'pbx.ini'), [{ message: /is larger than 65536 bytes/ }]);
});

t.test('smsSettingsStamp follows the provider folder, without holding its content', async (t) => {
  const card = tempCard(t);
  t.equal((await loadCard(card.dir)).config?.smsSettingsStamp, undefined, 'LOG has no folder');
  card.write('SMSProvider.txt', 'HTTP');
  card.write('HTTP/URL.txt', 'https://gw.example/send?to={number}&pw=TopSecret');
  const a = (await loadCard(card.dir)).config?.smsSettingsStamp;
  t.match(a, /^[0-9a-f]{16}$/);
  t.equal((await loadCard(card.dir)).config?.smsSettingsStamp, a, 'stable while unchanged');
  card.write('HTTP/URL.txt', 'https://gw.example/send?to={number}&pw=Other');
  const b = (await loadCard(card.dir)).config?.smsSettingsStamp;
  t.not(b, a, 'an edit changes it');
  t.notMatch(JSON.stringify((await loadCard(card.dir)).config), /TopSecret|Other/);
});

t.test('SMS credentials without a mobile number are a warning', async (t) => {
  const card = tempCard(t);
  card.remove('731/SMSNumber.txt');
  const { config, problems } = await loadCard(card.dir);
  t.match(problems, [{ file: '731/SMSNumber.txt', message: /is missing: 731 has SMS credentials but no mobile number/, warning: true }]);
  t.equal(problems.length, 1);
  t.equal(config?.technicians.get('731')?.sms, undefined);
  t.notMatch(JSON.stringify(problems), /changeme/);
});

t.test('the example prompts are short, 8 kHz mono 16-bit, and not silent', async (t) => {
  const card = tempCard(t);
  const { config } = await loadCard(card.dir);
  const { digits, ...whole } = config?.prompts ?? { digits: {} };
  const all: [string, string, number][] = [
    ...Object.entries(whole).map(([n, p]): [string, string, number] => [n, p, /^(pressKey|toAccept|callFrom)$/.test(n) ? 0.25 : 0.5]),
    ...Object.entries(digits).map(([k, p]): [string, string, number] => [`digit ${k}`, p, 0.2]),
  ];
  t.equal(all.length, 11 + 12, 'every prompt, every digit');
  for (const [name, path, min] of all) {
    const buf = readFileSync(path);
    const at = buf.indexOf('data');
    t.ok(at > 0, `${name}: has a data chunk`);
    const size = buf.readUInt32LE(at + 4);
    const seconds = size / 2 / 8000;
    t.ok(seconds > min && seconds < 12, `${name}: ${seconds.toFixed(1)} s`);
    if (min < 0.5) t.ok(seconds < 2, `${name}: a piece joined at run time stays short`);
    let peak = 0;
    for (let i = at + 8; i + 1 < at + 8 + size; i += 2) peak = Math.max(peak, Math.abs(buf.readInt16LE(i)));
    t.ok(peak > 8000, `${name}: audible (peak ${peak})`);
  }
});
