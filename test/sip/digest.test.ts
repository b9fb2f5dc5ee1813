import t from 'tap';
import { createHash } from 'node:crypto';
import { chooseChallenge, digestAuthorization, parseChallenge, supportsChallenge } from '../../src/sip/digest.js';
import { SipParseError } from '../../src/sip/header-values.js';

/** Pull one auth-param (quoted or not) out of an Authorization value, for assertions. */
function param(value: string, name: string): string | undefined {
  const m = new RegExp(`[ ,]${name}=("([^"]*)"|[^,]*)`).exec(value);
  if (!m) return undefined;
  return m[2] ?? m[1];
}

t.test('RFC 2617 §3.5 MD5 example gives the published response', async (t) => {
  const challenge = parseChallenge(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
  t.same(challenge, {
    realm: 'testrealm@host.com',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    algorithm: 'MD5',
    qop: ['auth', 'auth-int'],
  });
  const value = digestAuthorization({
    challenge, method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life', nc: 1, cnonce: '0a4f113b',
  });
  t.equal(param(value, 'response'), '6629fae49393a05397450978507c4ef1');
  t.equal(param(value, 'nc'), '00000001');
  t.equal(param(value, 'qop'), 'auth');
  t.equal(param(value, 'cnonce'), '0a4f113b');
  t.equal(param(value, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
  t.equal(param(value, 'username'), 'Mufasa');
  t.ok(value.startsWith('Digest '));
  t.notMatch(value, /Circle Of Life/, 'the password is never in the header');
});

const RFC7616 = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

function rfc7616Challenge(algorithm: string): string {
  return `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=${algorithm}, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`;
}

t.test('RFC 7616 §3.9.1 MD5 and SHA-256 examples give the published responses', async (t) => {
  const expected: Record<string, string> = {
    MD5: '8ca523f5e9506fed4657c9700eebdbec',
    'SHA-256': '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  };
  for (const [alg, response] of Object.entries(expected)) {
    const challenge = parseChallenge(rfc7616Challenge(alg));
    t.same(challenge.qop, ['auth', 'auth-int']);
    const value = digestAuthorization({
      challenge, method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life', nc: 1, cnonce: RFC7616.cnonce,
    });
    t.equal(param(value, 'response'), response, alg);
    t.equal(param(value, 'algorithm'), alg);
  }
});

t.test('SHA-512-256 is FIPS 180-4 SHA-512/256, not the truncated SHA-512 of the RFC 7616 §3.9.2 example', async (t) => {
  // FIPS 180-4 example "abc" pins the primitive used for SHA-512-256.
  t.equal(createHash('sha512-256').update('abc').digest('hex'), '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
  const challenge = parseChallenge(
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS"',
  );
  const value = digestAuthorization({
    challenge, method: 'GET', uri: '/doe.json', username: 'J\u00e4s\u00f8n Doe', password: 'Secret, or not?', nc: 1,
    cnonce: 'NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v',
  });
  const h = (s: string) => createHash('sha512-256').update(s, 'utf8').digest('hex');
  const ha1 = h('J\u00e4s\u00f8n Doe:api@example.org:Secret, or not?');
  const expected = h(`${ha1}:5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK:00000001:NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v:auth:${h('GET:/doe.json')}`);
  t.equal(param(value, 'response'), expected);
  // The RFC printed ae66e67d..., which is SHA-512 cut to 256 bits: a different hash.
  t.not(param(value, 'response'), 'ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd');
});

t.test('without qop the RFC 2069 form is used (no nc, no cnonce)', async (t) => {
  const challenge = parseChallenge('Digest realm="sip.example", nonce="abc"');
  const value = digestAuthorization({ challenge, method: 'REGISTER', uri: 'sip:sip.example', username: 'u', password: 'p', nc: 1, cnonce: 'c' });
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const expected = md5(`${md5('u:sip.example:p')}:abc:${md5('REGISTER:sip:sip.example')}`);
  t.equal(param(value, 'response'), expected);
  t.equal(param(value, 'nc'), undefined);
  t.equal(param(value, 'qop'), undefined);
});

t.test('MD5-sess folds nonce and cnonce into HA1 (RFC 2617 §3.2.2.2)', async (t) => {
  const challenge = parseChallenge('Digest realm="r", nonce="n", algorithm=MD5-sess, qop=auth');
  const value = digestAuthorization({ challenge, method: 'INVITE', uri: 'sip:x@r', username: 'u', password: 'p', nc: 2, cnonce: 'cn' });
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${md5('u:r:p')}:n:cn`);
  t.equal(param(value, 'response'), md5(`${ha1}:n:00000002:cn:auth:${md5('INVITE:sip:x@r')}`));
  t.equal(param(value, 'algorithm'), 'MD5-sess', 'the algorithm is echoed as the server spelt it');
});

t.test('challenge parsing: stale, unquoted values, commas inside quotes, odd spacing', async (t) => {
  const c = parseChallenge('digest  realm="a, b",nonce=xyz ,  stale=TRUE,algorithm=sha-256,qop="auth"');
  t.equal(c.realm, 'a, b');
  t.equal(c.nonce, 'xyz');
  t.equal(c.stale, true);
  t.equal(c.algorithm, 'sha-256');
  t.ok(supportsChallenge(c));
  t.equal(parseChallenge('Digest realm="r", nonce="n", stale=false').stale, false);
  t.equal(parseChallenge('Digest realm="we \\"quote\\"", nonce="n"').realm, 'we "quote"');
});

t.test('bad challenges throw SipParseError with a short reason', async (t) => {
  t.throws(() => parseChallenge('Basic realm="x"'), SipParseError);
  t.throws(() => parseChallenge('Digest nonce="n"'), /without realm/);
  t.throws(() => parseChallenge('Digest realm="r"'), /without nonce/);
  t.throws(() => parseChallenge('Digest realm="r, nonce="n"'), SipParseError);
  t.throws(() => parseChallenge('Digest realm'), SipParseError);
});

t.test('unsupported algorithm or qop is refused, not answered wrongly', async (t) => {
  const c = parseChallenge('Digest realm="r", nonce="n", algorithm=AKAv1-MD5');
  t.notOk(supportsChallenge(c));
  t.throws(() => digestAuthorization({ challenge: c, method: 'REGISTER', uri: 'sip:r', username: 'u', password: 'p', nc: 1, cnonce: 'c' }), /unsupported digest algorithm/);
  const intOnly = parseChallenge('Digest realm="r", nonce="n", qop="auth-int"');
  t.notOk(supportsChallenge(intOnly));
  t.throws(() => digestAuthorization({ challenge: intOnly, method: 'REGISTER', uri: 'sip:r', username: 'u', password: 'p', nc: 1, cnonce: 'c' }), /auth/);
});

t.test('chooseChallenge prefers SHA-256 over MD5 and skips what it cannot use (RFC 8760)', async (t) => {
  t.equal(chooseChallenge([rfc7616Challenge('MD5'), rfc7616Challenge('SHA-256')])?.algorithm, 'SHA-256');
  t.equal(chooseChallenge(['Basic realm="x"', rfc7616Challenge('MD5')])?.algorithm, 'MD5');
  t.equal(chooseChallenge(['Digest realm="r", nonce="n", algorithm=AKAv1-MD5']), undefined);
  t.equal(chooseChallenge([]), undefined);
});

t.test('user names with quotes are escaped in the header', async (t) => {
  const c = parseChallenge('Digest realm="r", nonce="n", qop=auth');
  const v = digestAuthorization({ challenge: c, method: 'MESSAGE', uri: 'sip:r', username: 'a"b', password: 'p', nc: 0x1f, cnonce: 'c' });
  t.match(v, /username="a\\"b"/);
  t.equal(param(v, 'nc'), '0000001f');
});
