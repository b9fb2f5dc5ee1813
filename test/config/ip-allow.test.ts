import t from 'tap';
import { isAllowed, parseCidr, addressBytes } from '../../src/config/ip-allow.js';

t.test('single addresses match only themselves', async (t) => {
  t.ok(isAllowed('192.168.1.10', ['192.168.1.10']));
  t.notOk(isAllowed('192.168.1.11', ['192.168.1.10']));
  t.ok(isAllowed('10.0.0.5', ['192.168.1.10', '10.0.0.5']), 'any entry of the list');
});

t.test('CIDR blocks match by prefix, edges /0 /8 /31 /32', async (t) => {
  t.ok(isAllowed('10.255.255.255', ['10.0.0.0/8']));
  t.notOk(isAllowed('11.0.0.0', ['10.0.0.0/8']));
  t.ok(isAllowed('192.168.1.0', ['192.168.1.0/24']));
  t.notOk(isAllowed('192.168.2.0', ['192.168.1.0/24']));
  t.ok(isAllowed('8.8.8.8', ['0.0.0.0/0']), '/0 allows every IPv4 address');
  t.ok(isAllowed('1.2.3.4', ['1.2.3.4/32']));
  t.notOk(isAllowed('1.2.3.5', ['1.2.3.4/32']));
  t.ok(isAllowed('1.2.3.5', ['1.2.3.4/31']));
  t.notOk(isAllowed('1.2.3.6', ['1.2.3.4/31']));
  t.ok(isAllowed('172.16.5.1', ['172.16.0.0/12']));
  t.notOk(isAllowed('172.32.0.1', ['172.16.0.0/12']));
  t.ok(isAllowed('10.1.2.3', ['10.1.2.99/24']), 'host bits in the block are ignored');
});

t.test('IPv4-mapped IPv6 sources (dual-stack sockets) are IPv4', async (t) => {
  t.ok(isAllowed('::ffff:127.0.0.1', ['127.0.0.1']));
  t.ok(isAllowed('::ffff:10.1.1.1', ['10.0.0.0/8']));
  t.notOk(isAllowed('::ffff:10.1.1.1', ['::/0']), 'an IPv4 source does not match an IPv6 block');
});

t.test('IPv6 addresses and blocks', async (t) => {
  t.ok(isAllowed('::1', ['::1']));
  t.ok(isAllowed('[::1]', ['::1/128']));
  t.ok(isAllowed('fd00::1234', ['fd00::/8']));
  t.notOk(isAllowed('fe80::1', ['fd00::/8']));
  t.ok(isAllowed('2001:db8:0:0:0:0:0:1', ['2001:db8::/32']));
  t.notOk(isAllowed('::1', ['127.0.0.1']), 'IPv6 loopback is not IPv4 loopback');
  t.same(addressBytes('1::2')?.length, 16);
});

t.test('bad input allows nothing and never throws', async (t) => {
  t.notOk(isAllowed('127.0.0.1', []), 'an empty list allows no one');
  t.notOk(isAllowed('not-an-ip', ['0.0.0.0/0']));
  t.notOk(isAllowed('', ['0.0.0.0/0']));
  t.notOk(isAllowed('127.0.0.1', ['127.0.0.0/33']));
  t.notOk(isAllowed('127.0.0.1', ['127.0.0.256']));
  for (const bad of ['10.0.0.0/33', '10.0.0/8', '1.2.3.4/', 'x', '::1/129', '1.2.3.4/-1', '300.1.1.1']) t.equal(parseCidr(bad), undefined, bad);
  t.same(parseCidr('10.0.0.0/8'), { bytes: [10, 0, 0, 0], prefix: 8 });
  t.same(parseCidr('10.0.0.1'), { bytes: [10, 0, 0, 1], prefix: 32 });
});
