import t from 'tap';
import { parseIni } from '../../src/config/ini.js';
import { parsePbxIni, parseHostPort, parsePortRange, parseCodecs } from '../../src/config/pbx-ini.js';

const GOOD = `; comment
# another comment
[sip]
listen   = 0.0.0.0:5060      ; local
pbx      = 192.168.1.10      ; default port
register = yes
username = 799
password = s3cr3t;x
allow    = 192.168.1.10, 10.0.0.0/24
[rtp]
ports    = 30000-30999
codecs   = pcmu, PCMA
`;

t.test('the ini parser reads sections, keys, comments and quoted values', async (t) => {
  const ini = parseIni('\uFEFFtop = 1\r\n[A]\r\nKey = a b ; comment\r\nq = "x ; y"\r\nhash = v#1\r\n[a]\r\nkey = again\r\nbroken line\r\nbad = "open\n');
  t.equal(ini.sections.get('')?.get('top')?.value, '1');
  t.equal(ini.sections.get('a')?.get('key')?.value, 'again', 'sections and keys are case-insensitive; the later wins');
  t.equal(ini.sections.get('a')?.get('q')?.value, 'x ; y');
  t.equal(ini.sections.get('a')?.get('hash')?.value, 'v#1', 'a # inside a value is kept');
  t.same(ini.duplicates.map((d) => d.line), [7]);
  t.same(ini.errors.map((e) => e.line), [8, 9]);
});

t.test('a good pbx.ini gives the config with defaults filled in', async (t) => {
  const { config, problems } = parsePbxIni(GOOD);
  t.same(problems, []);
  t.same(config?.listen, { host: '0.0.0.0', port: 5060 });
  t.same(config?.pbx, { host: '192.168.1.10', port: 5060 });
  t.equal(config?.register, true);
  t.equal(config?.password, 's3cr3t;x', 'a ; without whitespace before it is part of the value');
  t.same(config?.allow, ['192.168.1.10', '10.0.0.0/24']);
  t.same(config?.rtp, { portMin: 30000, portMax: 30999 });
  t.same(config?.codecs, ['PCMU', 'PCMA'], 'preference order kept');
  t.equal(config?.domain, '192.168.1.10');
});

t.test('host:port forms', async (t) => {
  t.same(parseHostPort('[::1]:5070', false), { host: '::1', port: 5070 });
  t.same(parseHostPort('pbx.example.com', true), { host: 'pbx.example.com', port: 5060 });
  t.equal(parseHostPort('pbx.example.com', false), undefined, 'listen needs an address');
  t.equal(parseHostPort('1.2.3.4:0', false), undefined);
  t.equal(parseHostPort('1.2.3.4:65536', false), undefined);
  t.equal(parseHostPort('1.2.3:5060', true), undefined);
  t.equal(parseHostPort('1.2.3.4:50a', true), undefined);
});

t.test('RTP ranges and codecs', async (t) => {
  t.same(parsePortRange('30000-30003'), { portMin: 30000, portMax: 30003 });
  t.match(parsePortRange('30001-30999'), /even/);
  t.match(parsePortRange('30000-30001'), /at least 4/);
  t.match(parsePortRange('31000-30000'), /at least 4/);
  t.match(parsePortRange('100-200'), /1024-65535/);
  t.match(parsePortRange('30000'), /port range/);
  t.match(parseCodecs('PCMA,G729'), /PCMA and\/or PCMU/);
  t.match(parseCodecs('PCMA,pcma'), /each once/);
});

function broken(replace: RegExp, by: string): ReturnType<typeof parsePbxIni> {
  const text = GOOD.replace(replace, by);
  if (text === GOOD) throw new Error(`no change for ${replace}`);
  return parsePbxIni(text);
}

t.test('each broken value is one problem naming the key, and the config is unusable', async (t) => {
  const cases: [RegExp, string, RegExp][] = [
    [/listen .*/, 'listen = 0.0.0.0:99999', /line 4: \[sip\] listen/],
    [/pbx .*/, 'pbx = 192.168.1:5060', /line 5: \[sip\] pbx/],
    [/pbx .*\n/, '', /\[sip\] pbx is missing/],
    [/register = yes/, 'register = sometimes', /\[sip\] register should be yes or no/],
    [/allow .*/, 'allow = 10.0.0.0/33', /\[sip\] allow: "10.0.0.0\/33" should be an IP address or CIDR/],
    [/ports .*/, 'ports = 30001-30999', /\[rtp\] ports .*even/],
    [/ports .*/, 'ports = 5000-5100', /should not include the SIP listen port 5060/],
    [/codecs .*/, 'codecs = G722', /\[rtp\] codecs/],
    [/password .*\n/, '', /\[sip\] password is missing/],
  ];
  for (const [re, by, want] of cases) {
    const { config, problems } = broken(re, by);
    t.equal(config, undefined, `${by || 'removed'}: unusable`);
    t.equal(problems.length, 1, `${by || 'removed'}: one problem`);
    t.match(problems[0]?.message, want);
    t.equal(problems[0]?.file, 'pbx.ini');
  }
});

t.test('unknown keys are warnings naming the key; the config stays usable', async (t) => {
  const { config, problems } = broken(/register = yes/, 'register = yes\nregistrar = 1.2.3.4');
  const more = parsePbxIni(`${GOOD}[media]\nx = 1\n`);
  problems.push(...more.problems);
  t.ok(config);
  t.equal(problems.length, 2);
  t.ok(problems.every((p) => p.warning));
  t.match(problems[0].message, /unknown key "registrar" in \[sip\]/);
  t.match(problems[1].message, /unknown section \[media\]/);
});

t.test('the password never appears in a problem', async (t) => {
  const secret = 'Hunter2-very-secret';
  const texts = [
    GOOD.replace('s3cr3t;x', secret).replace('codecs   = pcmu, PCMA', 'codecs = nope'),
    GOOD.replace(/password .*/, secret), // a password on a line of its own
    GOOD.replace(/password .*/, `passwort = ${secret}`), // misspelled key
    GOOD.replace(/password .*/, `password = "${secret}`), // unterminated quote
  ];
  for (const text of texts) {
    const { problems } = parsePbxIni(text);
    t.ok(problems.length > 0);
    t.notMatch(JSON.stringify(problems), secret);
  }
});

t.test('allow defaults to the PBX address; register = no needs no credentials', async (t) => {
  const { config, problems } = parsePbxIni('[sip]\npbx = 10.1.1.1:5080\n');
  t.same(problems, []);
  t.same(config?.allow, ['10.1.1.1']);
  t.equal(config?.register, false);
  t.same(config?.listen, { host: '0.0.0.0', port: 5060 });
  t.same(config?.rtp, { portMin: 30000, portMax: 30999 });
  const named = parsePbxIni('[sip]\npbx = pbx.local\n');
  t.match(named.problems[0]?.message, /allow is missing/);
});
