/**
 * Outage proof with real processes: Kannel is down, a driver process queues
 * three SMS (they fail: retry) and is killed with SIGKILL; Kannel comes back;
 * a new driver resumes the outbox: the three arrive at the fake SMSC exactly
 * once, in order, and the outbox ends empty. The driver stands in for the
 * appliance until the hotline wires the outbox in.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { kannelPorts, startKannel } from '../lab/kannel.js';
import { start, stopAll, until } from '../lab/proc.js';

const here = dirname(fileURLToPath(import.meta.url));
const USER = { username: 'u731', password: 'Outage-pw-731' };
const ticket = (n: number): string => `12.10.2012_14.0${n}_12.10.2012_14.1${n}_Ticket_${1233 + n}_Caller_03472619287_Called_731`;

t.test('SMS queued while Kannel is down survive a SIGKILL and arrive exactly once, in order', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'tl-outage-'));
  t.teardown(async () => {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  });
  const driver = join(tmp, 'outbox-driver.cjs');
  buildSync({ entryPoints: [join(here, 'outbox-driver.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: driver, logLevel: 'warning' });

  const ports = await kannelPorts();
  const card = join(tmp, 'TicketSMS');
  mkdirSync(join(card, 'KANNEL'), { recursive: true });
  writeFileSync(join(card, 'SMSProvider.txt'), 'KANNEL\n');
  writeFileSync(join(card, 'KANNEL', 'URL.txt'), `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms\n`);
  const outbox = join(card, 'Outbox');
  const queued = () => readdirSync(outbox).filter((n) => n.endsWith('.json'));

  // 1. Kannel down: three SMS are queued and tried in vain, then the process dies hard.
  const sms = [1, 2, 3].map((n) => ({ to: `39347000000${n}`, text: ticket(n), user: USER.username, password: USER.password }));
  const first = start('driver1', process.execPath, [driver, card, JSON.stringify(sms)]);
  await first.waitFor(/EVENT enqueued-all/);
  await first.waitFor(/EVENT retry 0000000001[\s\S]*EVENT retry 0000000001/);
  t.notMatch(first.output(), /EVENT (sent|failed)/, 'nothing sent or given up while Kannel is down');
  first.child.kill('SIGKILL');
  t.equal(await first.exited(), 'SIGKILL');
  t.same(queued(), ['0000000001.json', '0000000002.json', '0000000003.json'], 'all three on the card after the kill');

  // 2. Kannel back behind the same URL; a new process resumes the outbox.
  const kannel = await startKannel({ users: [USER], ports, dir: join(tmp, 'kannel') });
  t.teardown(() => kannel.stop());
  const second = start('driver2', process.execPath, [driver, card]);
  await second.waitFor(/EVENT started 3/);
  await second.waitFor(/EVENT sent 0000000003/, 60000);
  t.same(second.output().match(/EVENT (sent|failed) \d+/g), ['EVENT sent 0000000001', 'EVENT sent 0000000002', 'EVENT sent 0000000003']);
  t.same(queued(), [], 'the outbox ends empty');
  t.same(readdirSync(join(outbox, 'failed')), [], 'nothing failed');

  await until(() => kannel.received().length >= 3, 'three SMS at the fake SMSC', 30000);
  second.child.kill('SIGTERM');
  await second.waitFor(/EVENT stopped/);
  const got = kannel.received();
  t.same(got.map((m) => [m.to, m.text]), sms.map((s) => [s.to, s.text]), 'exactly once each, in order');
  const sentByKannel = readFileSync(join(kannel.dir, 'access.log'), 'utf8').split('\n').filter((l) => l.includes('Sent SMS'));
  t.equal(sentByKannel.length, 3, 'Kannel itself sent three, no duplicates');
  t.notOk(first.output().includes(USER.password) || second.output().includes(USER.password), 'no password in any driver log line');
});
