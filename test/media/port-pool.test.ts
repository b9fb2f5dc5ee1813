import t from 'tap';
import { createSocket } from 'node:dgram';
import { PoolExhaustedError, PortPool } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { start, stopAll } from '../lab/proc.js';

t.teardown(stopAll);

t.test('hands out even ports, runs out with a clear error, and takes them back (idempotent close)', async (t) => {
  const base = await freeBlock(6, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 5, bindAddress: '127.0.0.1', log });
  t.equal(pool.capacity, 3);
  const socks = [await pool.allocate(), await pool.allocate(), await pool.allocate()];
  t.same(socks.map((s) => s.port).sort(), [base, base + 2, base + 4]);
  t.equal(pool.inUse, 3);
  await t.rejects(pool.allocate(), PoolExhaustedError);
  await t.rejects(pool.allocate(), { message: new RegExp(`RTP port pool ${base}-${base + 5} exhausted`) });
  socks[1].close();
  socks[1].close();
  t.equal(pool.inUse, 2, 'closing twice returns the port once');
  t.equal(socks[1].closed, true);
  const again = await pool.allocate();
  t.equal(again.port, base + 2);
  for (const s of [...socks, again]) s.close();
  t.equal(pool.inUse, 0);
});

t.test('a port busy in another process is skipped, and retried later', async (t) => {
  const base = await freeBlock(4, 2);
  const holder = start('port-holder', process.execPath, [
    '-e',
    `const s=require('dgram').createSocket('udp4');s.bind(${base},'127.0.0.1',()=>console.log('bound'));setTimeout(()=>{},60000)`,
  ]);
  await holder.waitFor(/bound/);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 3, bindAddress: '127.0.0.1', log });
  const s = await pool.allocate();
  t.equal(s.port, base + 2, 'busy port skipped');
  t.match(log.lines.join('\n'), new RegExp(`RTP port ${base} not usable \\(EADDRINUSE`));
  t.equal(pool.inUse, 1, 'the busy port went back to the pool');
  await t.rejects(pool.allocate(), PoolExhaustedError, 'only port left is still busy');
  await holder.stop();
  const s2 = await pool.allocate();
  t.equal(s2.port, base, 'free again once the other process let it go');
  s.close();
  s2.close();
});

t.test('bind errors return the port: a pool on an address we do not have', async (t) => {
  const base = await freeBlock(4, 2);
  const log = memoryLogger();
  // 192.0.2.1 (TEST-NET-1) is not on this machine: bind fails with EADDRNOTAVAIL, nothing is sent
  const pool = new PortPool({ min: base, max: base + 3, bindAddress: '192.0.2.1', log });
  await t.rejects(pool.allocate(), PoolExhaustedError);
  t.equal(pool.inUse, 0);
  t.equal(pool.capacity, 2);
  t.match(log.lines.join('\n'), /EADDRNOTAVAIL/);
});

t.test('a socket error closes the socket and returns the port', async (t) => {
  const base = await freeBlock(2, 2);
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log: memoryLogger() });
  const s = await pool.allocate();
  s.socket.emit('error', new Error('simulated ICMP failure'));
  t.equal(s.closed, true);
  t.equal(pool.inUse, 0);
  const probe = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind(base, '127.0.0.1', () => resolve());
  });
  t.pass('the port is really released at the OS level');
  probe.close();
});

t.test('bad ranges are refused', async (t) => {
  t.throws(() => new PortPool({ min: 31000, max: 30000, bindAddress: '127.0.0.1', log: memoryLogger() }), /invalid RTP port range/);
  t.throws(() => new PortPool({ min: 80, max: 90, bindAddress: '127.0.0.1', log: memoryLogger() }), /invalid RTP port range/);
});

t.test('ECONNREFUSED (ICMP on a connected socket) does not close the socket', async (t) => {
  const base = await freeBlock(2, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
  const s = await pool.allocate();
  s.socket.emit('error', Object.assign(new Error('recvmsg ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  t.equal(s.closed, false);
  t.equal(pool.inUse, 1);
  t.same(log.lines, []);
  s.close();
  t.equal(pool.inUse, 0);
});

t.test('reserve: waiting callers never take the reserved ports; keyed legs may', async (t) => {
  const base = await freeBlock(12, 2);
  const log = memoryLogger();
  const pool = new PortPool({ min: base, max: base + 11, bindAddress: '127.0.0.1', log });
  t.equal(pool.capacity, 6);
  t.equal(pool.setReserved(2), 2);
  t.equal(pool.reserved, 2);
  const waiting = [];
  for (let i = 0; i < 4; i++) waiting.push(await pool.allocate('waiting'));
  await t.rejects(pool.allocate('waiting'), { name: 'PoolExhaustedError', message: /no port free outside the 2 reserved for calls that pressed the proceed key/ });
  t.equal(pool.inUse, 4, 'the refused allocation held nothing');
  const keyed = [await pool.allocate('keyed'), await pool.allocate('keyed')];
  await t.rejects(pool.allocate('keyed'), /exhausted: every even port is in use/);
  waiting[0].close();
  const w = await pool.allocate('waiting'); // the keyed legs hold the whole reserve: a port freed now is outside it
  keyed[0].close();
  await t.rejects(pool.allocate('waiting'), PoolExhaustedError, 'a port the keyed legs gave back is the reserve again');
  const k = await pool.allocate('keyed');
  for (const s of [...waiting, ...keyed, w, k]) s.close();
  t.equal(pool.inUse, 0);
});

t.test('reserve: concurrent waiting allocations cannot overrun it', async (t) => {
  const base = await freeBlock(12, 2);
  const pool = new PortPool({ min: base, max: base + 11, bindAddress: '127.0.0.1', log: memoryLogger() });
  pool.setReserved(3);
  const got = await Promise.allSettled(Array.from({ length: 6 }, () => pool.allocate('waiting')));
  t.equal(got.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of got) if (r.status === 'fulfilled') r.value.close();
});

t.test('reserve: clamped to half the pool, so the waiting queue always has ports', async (t) => {
  const base = await freeBlock(8, 2);
  const pool = new PortPool({ min: base, max: base + 7, bindAddress: '127.0.0.1', log: memoryLogger() });
  t.equal(pool.setReserved(8), 2);
  t.equal(pool.setReserved(-1), 0);
  t.equal(pool.setReserved(Number.NaN), 0);
  t.equal(pool.setReserved(1), 1);
});
