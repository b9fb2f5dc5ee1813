/**
 * The built appliance (dist/card, made by `node build.mjs`, which `npm test`
 * runs first) on a temp copy of the default card, with pbx.ini pointed at a
 * test PBX on free ports. Helpers read what the appliance leaves on the card.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeClockEnv } from './faketime.js';
import { freeBlock, freePort } from './ports.js';
import { start, until, type Proc } from './proc.js';

export const DIST = resolve(fileURLToPath(new URL('../../dist/', import.meta.url)));

export interface TechnicianSetup {
  next?: string;
  fork?: string;
  timeoutSec?: number;
  sms?: { number: string; user?: string; password?: string };
}

export interface ApplianceOptions {
  /** The PBX the appliance registers at and sends calls to. */
  pbxPort: number;
  /** Register XMLnumber at the PBX (default true). */
  register?: boolean;
  allow?: string;
  /** Replaces the example card's technicians (folders 731, 732, 733). */
  technicians?: Record<string, TechnicianSetup>;
  first?: string;
  timeoutSec?: number;
  /** Extra one-value files in the application folder, e.g. { 'TicketNR.txt': '100' }. */
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** An empty folder to put the card in (e.g. a tmpfs mount) instead of a fresh temp folder. */
  root?: string;
  /** Runs once the card is ready, before the first start (e.g. remount the card read-only). */
  beforeLaunch?: () => void;
  /** A libfaketime offset file (lab/faketime.ts): the appliance's wall clock is moved by it, its monotonic clock is not. */
  clockFile?: string;
  /** The node binary that runs the bundle (default: this one), e.g. an ARM build under qemu (lab/arm-node.ts); start-up then gets 60 s. */
  node?: string;
}

export interface Appliance {
  proc: Proc;
  port: number;
  /** The TicketSMS folder. */
  app: string;
  /** The card root (CF0). */
  cf0: string;
  ticketFiles(): string[];
  /** Wait until the Ticket/ folder holds `n` files; returns them sorted by ticket number. */
  waitTickets(n: number, timeoutMs?: number): Promise<string[]>;
  recordings(): string[];
  smsLog(): string[];
  stop(): Promise<void>;
  /** Start the same card again (after stop or a kill). */
  restart(): Promise<void>;
  /** SIGKILL, as a power cut would: nothing is flushed or unregistered. */
  kill(): Promise<void>;
  /** Files waiting in Outbox/ (SMS not yet accepted by the provider). */
  outbox(): string[];
}

const ticketNo = (f: string): number => Number(/_Ticket_(\d+)_/.exec(f)?.[1] ?? -1);

export async function startAppliance(o: ApplianceOptions): Promise<Appliance> {
  const root = o.root ?? mkdtempSync(join(tmpdir(), 'tl-card-'));
  cpSync(join(DIST, 'card'), root, { recursive: true });
  const cf0 = join(root, 'CF0');
  const app = join(cf0, 'TicketSMS');
  const port = await freePort();
  const rtp = await freeBlock(40, 2);
  writeFileSync(
    join(app, 'pbx.ini'),
    [
      '[sip]',
      `listen = 127.0.0.1:${port}`,
      `pbx = 127.0.0.1:${o.pbxPort}`,
      `register = ${o.register === false ? 'no' : 'yes'}`,
      'username = 799',
      'password = secret',
      `allow = ${o.allow ?? '127.0.0.1'}`,
      '[rtp]',
      `ports = ${rtp}-${rtp + 39}`,
      'codecs = PCMA,PCMU',
      '',
    ].join('\n'),
  );
  if (o.technicians) {
    for (const d of readdirSync(app)) if (/^\d+$/.test(d)) rmSync(join(app, d), { recursive: true });
    for (const [ext, t] of Object.entries(o.technicians)) {
      const dir = join(app, ext);
      mkdirSync(dir);
      if (t.next) writeFileSync(join(dir, 'Next.txt'), `${t.next}\r\n`);
      if (t.fork) writeFileSync(join(dir, 'Fork.txt'), t.fork);
      if (t.timeoutSec) writeFileSync(join(dir, 'Timeout.txt'), String(t.timeoutSec));
      if (t.sms) {
        writeFileSync(join(dir, 'SMSNumber.txt'), t.sms.number);
        if (t.sms.user) writeFileSync(join(dir, 'SMSUser.txt'), t.sms.user);
        if (t.sms.password) writeFileSync(join(dir, 'SMSPassword.txt'), t.sms.password);
      }
      if (!t.next && !t.fork && !t.sms) writeFileSync(join(dir, 'Timeout.txt'), String(t.timeoutSec ?? o.timeoutSec ?? 20));
    }
  }
  if (o.first) writeFileSync(join(app, 'First.txt'), o.first);
  if (o.timeoutSec) writeFileSync(join(app, 'Timeout.txt'), String(o.timeoutSec));
  for (const [f, v] of Object.entries(o.files ?? {})) {
    mkdirSync(dirname(join(app, f)), { recursive: true });
    writeFileSync(join(app, f), v);
  }

  const launch = async (): Promise<Proc> => {
    const bootMs = o.node ? 60000 : 20000; // emulated ARM: start-up takes seconds
    const p = start('appliance', o.node ?? process.execPath, [join(app, 'ticketline.js'), app], { env: { ...process.env, ...(o.clockFile ? fakeClockEnv(o.clockFile) : {}), ...o.env } });
    await p.waitFor(/ ready in /, bootMs);
    if (o.register !== false) await p.waitFor(/registered for \d+ s/, bootMs);
    return p;
  };
  o.beforeLaunch?.();
  let proc = await launch();
  const ticketDir = join(app, 'Ticket');
  const list = (): string[] => (existsSync(ticketDir) ? readdirSync(ticketDir).filter((f) => f.endsWith('.txt')) : []);
  const a: Appliance = {
    get proc() {
      return proc;
    },
    port,
    app,
    cf0,
    ticketFiles: () => list().sort((x, y) => ticketNo(x) - ticketNo(y)),
    async waitTickets(n, timeoutMs = 60000) {
      await until(() => list().length >= n, `${n} ticket file(s) in ${ticketDir} (log:\n${proc.output().slice(-2000)})`, timeoutMs);
      return a.ticketFiles();
    },
    recordings: () => {
      const d = join(cf0, 'TED_RECORDING');
      return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.pcap')).map((f) => join(d, f)) : [];
    },
    smsLog: () => {
      const f = join(app, 'SMS.log');
      return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
    },
    async stop() {
      await proc.stop();
    },
    async restart() {
      await proc.stop();
      proc = await launch();
    },
    async kill() {
      proc.child.kill('SIGKILL');
      await proc.exited();
    },
    outbox: () => {
      const d = join(app, 'Outbox');
      return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')) : [];
    },
  };
  return a;
}

/** Remove a temp card (teardown). */
export function removeCard(a: Appliance): void {
  rmSync(resolve(a.cf0, '..'), { recursive: true, force: true });
}
