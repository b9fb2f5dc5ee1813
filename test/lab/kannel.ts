/**
 * A Kannel of the test's own: bearerbox + fake SMSC (fakesmsc from
 * kannel-extras) + smsbox with the sendsms HTTP interface, all on free ports
 * of 127.0.0.1, config generated into a temp folder. Started in the order
 * Kannel needs (bearerbox, then the SMSC connects, then smsbox), each step
 * awaited on bearerbox's status page, never on a fixed sleep; stopped
 * smsbox first, then the SMSC, then bearerbox.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './ports.js';
import { start, until, type Proc } from './proc.js';

export const FAKESMSC = '/usr/lib/kannel/test/fakesmsc';

export interface KannelPorts {
  admin: number;
  smsbox: number;
  smsc: number;
  sendsms: number;
}

export interface SendsmsUser {
  username: string;
  password: string;
}

/** One MT message as fakesmsc printed it: `Got message N: <from to text message>`. */
export interface FakeSms {
  n: number;
  from: string;
  to: string;
  text: string;
}

export interface Kannel {
  readonly dir: string;
  readonly ports: KannelPorts;
  /** e.g. http://127.0.0.1:PORT/cgi-bin/sendsms */
  readonly sendsmsUrl: string;
  /** Every message the fake SMSC received so far, in arrival order. */
  received(): FakeSms[];
  /** Disconnect the fake SMSC (bearerbox and smsbox stay up); resolves when bearerbox sees it gone. */
  stopSmsc(): Promise<void>;
  /** Connect a new fake SMSC; resolves when bearerbox has it online. */
  startSmsc(): Promise<void>;
  /** smsbox, then fakesmsc, then bearerbox; harmless twice. */
  stop(): Promise<void>;
}

export interface KannelOptions {
  users: SendsmsUser[];
  /** Reuse the ports of an earlier instance (a restart behind the same URL). */
  ports?: KannelPorts;
  dir?: string;
}

export function kannelConfig(dir: string, ports: KannelPorts, adminPassword: string, users: SendsmsUser[]): string {
  const core = [
    'group = core',
    `admin-port = ${ports.admin}`,
    'admin-interface = 127.0.0.1',
    `admin-password = ${adminPassword}`,
    'admin-allow-ip = "127.0.0.1"',
    `smsbox-port = ${ports.smsbox}`,
    'smsbox-interface = 127.0.0.1',
    'box-allow-ip = "127.0.0.1"',
    `log-file = "${join(dir, 'bearerbox.log')}"`,
    'log-level = 0',
    `access-log = "${join(dir, 'access.log')}"`,
  ];
  const smsc = ['group = smsc', 'smsc = fake', 'smsc-id = FAKE', `port = ${ports.smsc}`, 'our-host = 127.0.0.1', 'connect-allow-ip = "127.0.0.1"'];
  const smsbox = [
    'group = smsbox',
    'bearerbox-host = 127.0.0.1',
    `sendsms-port = ${ports.sendsms}`,
    'sendsms-interface = 127.0.0.1',
    'global-sender = 12345',
    `log-file = "${join(dir, 'smsbox.log')}"`,
    'log-level = 0',
  ];
  const userGroups = users.map((u) => ['group = sendsms-user', `username = ${u.username}`, `password = ${u.password}`].join('\n'));
  return [core.join('\n'), smsc.join('\n'), smsbox.join('\n'), ...userGroups].join('\n\n') + '\n';
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function getText(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(''));
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(''));
    req.end();
  });
}

export function parseFakesmsc(output: string): FakeSms[] {
  const out: FakeSms[] = [];
  for (const m of output.matchAll(/Got message (\d+): <(\S+) (\S+) text ([^\n]*)>\s*$/gm)) {
    out.push({ n: Number(m[1]), from: m[2], to: m[3], text: m[4] });
  }
  return out;
}

/** Four free ports for a Kannel that is to be started later (or restarted behind the same URL). */
export async function kannelPorts(): Promise<KannelPorts> {
  return { admin: await freePort(), smsbox: await freePort(), smsc: await freePort(), sendsms: await freePort() };
}

export async function startKannel(opts: KannelOptions): Promise<Kannel> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tl-kannel-'));
  mkdirSync(dir, { recursive: true });
  const ports = opts.ports ?? (await kannelPorts());
  const adminPassword = randomBytes(6).toString('hex');
  const conf = join(dir, 'kannel.conf');
  writeFileSync(conf, kannelConfig(dir, ports, adminPassword, opts.users));
  const status = (): Promise<string> => getText(`http://127.0.0.1:${ports.admin}/status.txt?password=${adminPassword}`);
  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    // Kannel's order: smsbox before bearerbox (RECIPES.md §4).
    for (const p of procs.splice(0).reverse()) await p.stop();
  };
  try {
    const bearerbox = start('bearerbox', 'bearerbox', ['-v', '0', conf]);
    procs.push(bearerbox);
    await until(async () => (await tcpOpen(ports.smsc)) && (await status()).includes('SMS:'), 'bearerbox listening', 20000, 100);
    const fakes: Proc[] = [];
    const startSmsc = async (): Promise<void> => {
      const fake = start('fakesmsc', FAKESMSC, ['-H', '127.0.0.1', '-r', String(ports.smsc), '-i', '1', '-m', '0', '999 12345 text unused']);
      fakes.push(fake);
      procs.splice(1, 0, fake); // stopped after smsbox, before bearerbox
      await until(async () => /FAKE\[FAKE\].*online/.test(await status()), 'fake SMSC online at bearerbox', 20000, 100);
    };
    const stopSmsc = async (): Promise<void> => {
      for (const f of fakes) {
        const i = procs.indexOf(f);
        if (i >= 0) procs.splice(i, 1);
        await f.stop();
      }
      await until(async () => !/FAKE\[FAKE\].*online/.test(await status()), 'fake SMSC offline at bearerbox', 20000, 100);
    };
    await startSmsc();
    const smsbox = start('smsbox', 'smsbox', ['-v', '0', conf]);
    procs.push(smsbox);
    await until(async () => (await tcpOpen(ports.sendsms)) && /smsbox:.*on-line|smsbox.*connected/i.test(await status()), 'smsbox ready', 20000, 100);
    return {
      dir,
      ports,
      sendsmsUrl: `http://127.0.0.1:${ports.sendsms}/cgi-bin/sendsms`,
      received: () => fakes.flatMap((f) => parseFakesmsc(f.output())),
      stopSmsc,
      startSmsc,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
