import t from 'tap';
import { formatUri, parseUri, uriEquals, SipParseError } from '../../src/sip/uri.js';
import {
  formatNameAddr, formatParams, formatVia, parseCSeq, parseNameAddr, parseParams, parseVia, splitHeaderList,
} from '../../src/sip/header-values.js';

t.test('a full SIP URI is split into its parts', async (t) => {
  const u = parseUri('sips:alice:secret@Atlanta.example.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  t.equal(u.scheme, 'sips');
  t.equal(u.user, 'alice');
  t.equal(u.password, 'secret');
  t.equal(u.host, 'Atlanta.example.com');
  t.equal(u.port, 5061);
  t.same([...u.params], [['transport', 'tcp'], ['lr', null], ['maddr', '239.255.255.1']]);
  t.same([...u.headers], [['subject', 'project x'], ['priority', 'urgent']]);
});

t.test('URIs without user, port or params', async (t) => {
  const u = parseUri('sip:pbx.example.net');
  t.equal(u.user, undefined);
  t.equal(u.port, undefined);
  t.equal(u.params.size, 0);
  t.equal(formatUri(u), 'sip:pbx.example.net');
  t.equal(parseUri('SIP:Bob@h').scheme, 'sip', 'scheme is case-insensitive');
});

t.test('IPv6 references keep no brackets inside and get them back when formatted', async (t) => {
  const u = parseUri('sip:user@[2001:db8::10]:5070;transport=udp');
  t.equal(u.host, '2001:db8::10');
  t.equal(u.port, 5070);
  t.equal(formatUri(u), 'sip:user@[2001:db8::10]:5070;transport=udp');
  t.equal(parseUri('sip:[::1]').host, '::1');
  t.equal(parseUri('sip:[::ffff:192.0.2.1]:5060').host, '::ffff:192.0.2.1');
});

t.test('escapes are undone on parse and redone only where needed on format', async (t) => {
  const u = parseUri('sip:%61lice%20smith@example.com');
  t.equal(u.user, 'alice smith');
  t.equal(formatUri(u), 'sip:alice%20smith@example.com');
  t.equal(parseUri('sip:null-%00-null@example.com').user, 'null-\u0000-null');
  t.equal(parseUri('sip:%C3%A4rger@example.com').user, '\u00e4rger', 'escaped UTF-8 octets decode');
  t.equal(formatUri({ scheme: 'sip', user: 'a@b;c', host: 'h', params: new Map(), headers: new Map() }), 'sip:a%40b;c@h',
    "'@' is escaped in the user, ';' may stay (user-unreserved)");
  t.equal(parseUri('sip:user;par=u%40example.net@example.com').user, 'user;par=u@example.net');
});

t.test('tel URIs keep the number in user', async (t) => {
  const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  t.equal(u.scheme, 'tel');
  t.equal(u.user, '+1-201-555-0123');
  t.equal(u.params.get('phone-context'), 'example.com');
  t.equal(formatUri(u), 'tel:+1-201-555-0123;phone-context=example.com');
});

t.test('bad URIs throw SipParseError with a short reason', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['example.com', /scheme/],
    ['http://example.com', /unsupported URI scheme/],
    ['sip:', /host/],
    ['sip:@example.com', /empty user/],
    ['sip:user@', /host/],
    ['sip:user@exa mple.com', /host/],
    ['sip:user@example.com:99999', /port/],
    ['sip:user@example.com:', /port/],
    ['sip:user@example.com:50a', /port/],
    ['sip:user@[2001:db8::1', /IPv6/],
    ['sip:user@[2001:db8::1]x', /IPv6/],
    ['sip:user@[zz::1]', /IPv6/],
    ['sip:us%zzer@example.com', /escape/],
    ['sip:us%4@h', /escape/],
    ['sip:user@example.com;;lr', /parameter/],
    ['sip:user@example.com?', /header/],
    ['sip:us er@example.com', /user/],
    ['tel:', /tel/],
  ];
  for (const [text, why] of bad) {
    t.throws(() => parseUri(text), SipParseError, text);
    t.throws(() => parseUri(text), why, text);
  }
});

t.test('URI comparison follows RFC 3261 §19.1.4 examples', async (t) => {
  const same: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
  ];
  const different: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:bob@biloxi.com', 'sips:bob@biloxi.com'],
    ['sip:bob:pw@biloxi.com', 'sip:bob@biloxi.com'],
  ];
  for (const [a, b] of same) {
    t.ok(uriEquals(parseUri(a), parseUri(b)), `${a} == ${b}`);
    t.ok(uriEquals(parseUri(b), parseUri(a)), `${b} == ${a}`);
  }
  for (const [a, b] of different) {
    t.notOk(uriEquals(parseUri(a), parseUri(b)), `${a} != ${b}`);
    t.notOk(uriEquals(parseUri(b), parseUri(a)), `${b} != ${a}`);
  }
});

t.test('format then parse gives an equal URI for odd users and params', async (t) => {
  const texts = [
    'sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn\'t-it)@example.com',
    'sip:%00%00@host5.example.com',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'sips:[2001:db8::1]:5061;maddr=[2001:db8::2]',
    'sip:x@h?Route=%3Csip:example.com%3E',
  ];
  for (const text of texts) {
    const u = parseUri(text);
    const back = parseUri(formatUri(u));
    t.same(back, u, text);
    t.ok(uriEquals(back, u), text);
  }
});

t.test('name-addr: quoted, token and bare forms; header params after the addr-spec', async (t) => {
  const a = parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8');
  t.equal(a.display, 'J Rosenberg \\"');
  t.equal(a.params.get('tag'), '98asjd8');
  const b = parseNameAddr('Technician  Two <sip:tech2@pbx>;tag=x');
  t.equal(b.display, 'Technician Two');
  const c = parseNameAddr('sip:bob@biloxi.example.com;tag=a48s');
  t.equal(c.uri.params.size, 0, 'the ;tag of an addr-spec belongs to the header (RFC 3261 §20.10)');
  t.equal(c.params.get('tag'), 'a48s');
  const d = parseNameAddr('caller<sip:caller@example.com>;tag=323');
  t.equal(d.display, 'caller');
  const e = parseNameAddr('<sip:a@b;lr>;+sip.instance="<urn:uuid:0001>";expires=60');
  t.equal(e.uri.params.get('lr'), null);
  t.equal(e.params.get('+sip.instance'), '"<urn:uuid:0001>"', 'quoted values keep their quotes');
  t.equal(formatNameAddr(e), '<sip:a@b;lr>;+sip.instance="<urn:uuid:0001>";expires=60');
  t.equal(formatNameAddr(a), '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8');
  const f = parseNameAddr('sip:a@b;+sip.instance="<urn:uuid:1>";reg-id=1');
  t.equal(f.display, undefined, 'a quoted <...> in an addr-spec param is no name-addr');
  t.equal(f.uri.host, 'b');
  t.equal(f.params.get('+sip.instance'), '"<urn:uuid:1>"');
  t.equal(parseUri('sip:pbx_1.example.net').host, 'pbx_1.example.net', "'_' in a host name is tolerated");
  t.same(parseNameAddr(formatNameAddr(b)), b);
  t.same(parseNameAddr(formatNameAddr(c)), c);
});

t.test('bad name-addrs throw', async (t) => {
  for (const text of ['"unterminated <sip:a@b>', '<sip:a@b', 'sip:a @b', '', '"x" sip:a@b', 'a,b <sip:a@b>', '<sip:a@b>;=x', '<sip:a@b>;tag="x']) {
    t.throws(() => parseNameAddr(text), SipParseError, JSON.stringify(text));
  }
});

t.test('Via: blanks around slashes and colon, IPv6, flags', async (t) => {
  const v = parseVia('SIP  /   2.0 /UDP    192.0.2.2 : 5062 ;rport;branch=390skdjuw');
  t.equal(v.transport, 'UDP');
  t.equal(v.host, '192.0.2.2');
  t.equal(v.port, 5062);
  t.equal(v.params.get('rport'), null);
  t.equal(v.params.get('branch'), '390skdjuw');
  t.equal(formatVia(v), 'SIP/2.0/UDP 192.0.2.2:5062;rport;branch=390skdjuw');
  const w = parseVia('SIP/2.0/udp [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=2001:db8::9:255');
  t.equal(w.transport, 'UDP');
  t.equal(w.host, '2001:db8::9:1');
  t.equal(w.params.get('received'), '2001:db8::9:255');
  t.equal(formatVia(w), 'SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=2001:db8::9:255');
  t.same(parseVia(formatVia(w)), w);
  for (const bad of ['SIP/2.0/UDP', 'SIP/2.0 UDP host', 'SIP/3.0/UDP host', 'HTTP/2.0/UDP h', 'SIP/2.0/UDP ho st', 'SIP/2.0/UDP host:0x1', 'SIP/2.0/UDP host;branch="x']) {
    t.throws(() => parseVia(bad), SipParseError, bad);
  }
});

t.test('CSeq: number below 2**31 and a method token', async (t) => {
  t.same(parseCSeq('0009\r\n  INVITE'.replace('\r\n', ' ')), { seq: 9, method: 'INVITE' });
  t.same(parseCSeq(' 2147483647 ACK '), { seq: 2147483647, method: 'ACK' });
  for (const bad of ['2147483648 INVITE', '36893488147419103232 REGISTER', 'INVITE', '1', '1INVITE', '-1 BYE', '1 IN VITE', '1 <x>']) {
    t.throws(() => parseCSeq(bad), SipParseError, bad);
  }
});

t.test('params and lists', async (t) => {
  const p = parseParams(' ; Tag = abc ;lr; q=0.5;x="a;b,c"');
  t.same([...p], [['tag', 'abc'], ['lr', null], ['q', '0.5'], ['x', '"a;b,c"']]);
  t.equal(formatParams(p), ';tag=abc;lr;q=0.5;x="a;b,c"');
  t.same([...parseParams('')], []);
  t.throws(() => parseParams('tag=x'), SipParseError);
  t.throws(() => parseParams(';tag=a b'), SipParseError);
  t.same(splitHeaderList('"A, B" <sip:a@b>;q=1, <sip:c@d;x=1,2>,sip:e@f,, '), ['"A, B" <sip:a@b>;q=1', '<sip:c@d;x=1,2>', 'sip:e@f']);
  t.same(splitHeaderList('"a \\" , b", c'), ['"a \\" , b"', 'c'], 'an escaped quote does not end the string');
  t.throws(() => splitHeaderList('"open, b'), SipParseError);
});
