// Composition root: the only place that wires concrete pieces (DESIGN.md, layers).
// Command line:
//   node ticketline.js [CARD_DIR]          run the appliance (CARD_DIR: the TicketSMS folder;
//                                          default: the folder that holds the bundle)
//   node ticketline.js check [CARD_DIR]    validate a card, print every problem, exit 1 if any
//   node ticketline.js status [CARD_DIR]   the health checks (status.txt) and the last 5 calls; exit 1 if not all well
import { dirname, join, resolve } from 'node:path';
import type { CardConfig } from './config/card.js';
import { runCheck } from './config/check.js';
import { isAllowed } from './config/ip-allow.js';
import { clockProblem } from './health/clock.js';
import { markRunning, markStopped, previousRun } from './health/run-marker.js';
import { runStatus } from './health/status-cmd.js';
import { localStamp } from './health/status-file.js';
import { Watch } from './health/watch.js';
import { CardWatcher } from './config/watcher.js';
import { Hotline } from './hotline/hotline.js';
import { PromptCache } from './hotline/prompts.js';
import type { HotlineServices } from './hotline/services.js';
import { PortPool } from './media/port-pool.js';
import { sendIm } from './notify/im.js';
import { Notifier } from './notify/notifier.js';
import { Outbox } from './notify/outbox.js';
import { imChannel, type Im } from './notify/outbox-channel.js';
import { createProvider, type SmsProvider } from './notify/sms/provider.js';
import { createCallRecorder } from './record/recorder.js';
import { Registration } from './sip/registration.js';
import { SipTransport } from './sip/transport.js';
import { UserAgent } from './sip/ua.js';
import { TicketCounter } from './tickets/counter.js';
import { TicketLog } from './tickets/ticket-log.js';
import { recordingMtime, recoverOpenTickets } from './tickets/recovery.js';
import { probeCard, whenWritable } from './util/card-probe.js';
import { localAddressFor } from './util/local-address.js';
import { createLogger, errText, type Level, type Logger } from './util/log.js';
import { readdir } from 'node:fs/promises';

const VERSION = '0.1.0';

function firstConfig(watcher: CardWatcher, log: Logger): Promise<CardConfig> {
  const now = watcher.current();
  if (now) return Promise.resolve(now);
  log.error('the card is not usable yet (problems above); waiting for it to be fixed');
  return new Promise((res) => watcher.once('change', res));
}

/**
 * SMS provider of the current card, rebuilt when SMSProvider.txt or the
 * provider's own folder (HTTP/, KANNEL/) changes; returns true when it was.
 */
function providerHolder(dir: string, log: Logger): { get(): SmsProvider | undefined; update(c: CardConfig): boolean } {
  let stamp: string | undefined;
  let provider: SmsProvider | undefined;
  return {
    get: () => provider,
    update(c) {
      const now = `${c.smsProvider}|${c.smsSettingsStamp ?? ''}`;
      if (now === stamp) return false;
      stamp = now;
      const r = createProvider(c.smsProvider, dir, log);
      for (const p of r.problems) log.error(`${p.file}: ${p.message}`);
      provider = r.provider;
      return true;
    },
  };
}

function registrationFor(ua: UserAgent, c: CardConfig, log: Logger, watch: Watch): Registration | undefined {
  if (!c.pbx.register) {
    watch.observe('registration', true, 'register = no in pbx.ini');
    return undefined;
  }
  const uri = (user?: string) => ({ scheme: 'sip' as const, user, host: c.pbx.domain, params: new Map(), headers: new Map() });
  const reg = new Registration({ ua, registrar: uri(), via: { address: c.pbx.pbx.host, port: c.pbx.pbx.port }, aor: uri(c.xmlNumber), logger: log });
  // issue 13: not registered for 60 s (the check's grace) = one alert; registered again = one "recovered"
  reg.on('registered', () => watch.observe('registration', true, `registered at ${c.pbx.pbx.host}:${c.pbx.pbx.port}`));
  reg.on('failed', (reason) => watch.observe('registration', false, reason));
  reg.start();
  return reg;
}

/** Issue 13: alerts to Admin/ (IM From the box's own number, SMS to SMSprefix + number) through the durable outboxes. */
function watchFor(cardDir: string, current: () => CardConfig, outbox: Outbox, imOutbox: Outbox<Im>, log: Logger): Watch {
  const watch = new Watch({
    cardDir,
    name: () => `ticketline ${current().xmlNumber}`,
    alert: (text) => {
      const c = current();
      const a = c.admin;
      if (!a) return; // no Admin/: the monitor's log line is all (check WARNs)
      if (a.ext) imOutbox.enqueue({ ext: a.ext, from: c.xmlNumber, text }).catch((e) => log.error(`alert IM to ${a.ext} not queued: ${errText(e)}`));
      if (a.sms) {
        const to = `${c.smsPrefix}${a.sms.number}`;
        outbox.enqueue({ to, text, user: a.sms.user, password: a.sms.password }).catch((e) => log.error(`alert SMS to ${to} not queued: ${errText(e)}`));
      }
    },
    waiting: () => ({ sms: outbox.pending().length, im: imOutbox.pending().length }),
    onWritable: () => (outbox.retryNow(), imOutbox.retryNow()),
    log: log.child('health'),
  });
  // the outbox check: anything in failed/, or a message not accepted for 15 min (seen at its next retry)
  const failedDirs = [join(current().outboxDir, 'failed'), join(current().outboxDir, 'IM', 'failed')];
  const checkOutbox = async (): Promise<void> => {
    const counts = await Promise.all(failedDirs.map((d) => readdir(d).then((n) => n.filter((x) => !x.endsWith('.reason.txt')).length, () => 0)));
    const failed = counts[0] + counts[1];
    const oldest = Math.min(outbox.oldestRetry() ?? Infinity, imOutbox.oldestRetry() ?? Infinity);
    if (failed > 0) watch.observe('outbox', false, `${failed} message(s) in Outbox/failed/ or Outbox/IM/failed/`);
    else if (Number.isFinite(oldest) && Date.now() - oldest >= 15 * 60_000) watch.observe('outbox', false, `a message not accepted since ${localStamp(new Date(oldest))}`);
    else watch.observe('outbox', true, 'delivering');
    watch.changed();
  };
  for (const o of [outbox, imOutbox] as Outbox<unknown>[]) for (const ev of ['queued', 'sent', 'retry', 'failed'] as const) o.on(ev, () => void checkOutbox());
  void checkOutbox();
  return watch;
}

/** Running.txt left by the previous run = it ended without a clean stop: say so (log and Admin/), then mark this run. */
async function reportRestart(cardDir: string, writable: boolean, watch: Watch, log: Logger): Promise<void> {
  const prev = await previousRun(cardDir);
  if (prev.crashed) {
    const about = prev.lastAlive ? ` at about ${localStamp(prev.lastAlive).slice(11, 16)}` : '';
    const text = `${watch.monitor.name()}: started at ${localStamp(watch.started).slice(11, 16)}; previous run ended without a clean stop${about}`;
    watch.monitor.tell(text);
  }
  if (writable) await markRunning(cardDir, watch.started).catch((e) => log.warn(`Running.txt not written: ${errText(e)}`));
}

async function run(cardDir: string, log: Logger): Promise<void> {
  const t0 = performance.now();
  const watcher = new CardWatcher(cardDir, log.child('card'));
  await watcher.start();
  const config = await firstConfig(watcher, log);
  const { listen } = config.pbx;
  const contactHost = listen.host === '0.0.0.0' ? await localAddressFor(config.pbx.pbx.host, config.pbx.pbx.port) : listen.host;

  const transport = new SipTransport({ host: listen.host, port: listen.port, logger: log.child('sip') });
  const ua = new UserAgent({
    transport,
    contactHost,
    contactPort: listen.port,
    userAgent: `ticketline/${VERSION}`,
    // issue 16: no product/version to a source not in pbx.ini allow (as it is now)
    trusted: (address) => {
      const c = watcher.current();
      return c !== undefined && isAllowed(address, c.pbx.allow);
    },
    logger: log.child('sip'),
    // the credentials of the card as it is now (pbx.ini may be edited while running)
    credentials: () => {
      const p = watcher.current()?.pbx;
      return p?.username && p.password ? { username: p.username, password: p.password } : undefined;
    },
  });
  await ua.start();

  // Issue 15: a read-only or full card is degraded, never dead: say so once, then serve from memory.
  const card = await probeCard(cardDir);
  if (!card.writable) {
    log.error(`card ${cardDir} is ${card.why}: running degraded: emergency calls are taken; SMS and IM are kept in memory and written when the card can be written again`);
  }

  const pool = new PortPool({ min: config.pbx.rtp.portMin, max: config.pbx.rtp.portMax, bindAddress: listen.host, log: log.child('rtp') });
  const provider = providerHolder(cardDir, log);
  provider.update(config);
  const current = (): CardConfig => watcher.current() ?? config;
  const outbox = new Outbox({ dir: config.outboxDir, provider: () => provider.get(), logger: log });
  // The IM goes out at once through the PBX (to the address pbx.ini holds now) and waits in Outbox/IM/ until a 2xx.
  const imOutbox = new Outbox<Im>({
    dir: join(config.outboxDir, 'IM'),
    channel: imChannel((ext, from, text) => {
      const p = current().pbx;
      return sendIm(ua, { domain: p.domain, pbx: { address: p.pbx.host, port: p.pbx.port } }, ext, from, text);
    }),
    logger: log,
    sendAtOnce: true,
    backoff: { firstMs: 15_000, maxMs: 600_000, maxAgeMs: 3 * 24 * 3_600_000 },
  });
  await Promise.all([outbox.start(), imOutbox.start()]);
  const watch = watchFor(cardDir, current, outbox, imOutbox, log);
  watch.observe('card', card.writable, card.writable ? 'writable' : (card.why ?? 'not writable'));
  await reportRestart(cardDir, card.writable, watch, log);
  const checkClock = (): void => {
    const wrong = clockProblem(new Date());
    watch.observe('clock', wrong === undefined, wrong ?? 'plausible');
  };
  checkClock();
  // messages that waited on a used read-only card go out as soon as it is writable, not after their backoff
  const stopProbe = card.writable
    ? () => undefined
    : whenWritable(cardDir, 5000, () => {
        log.info(`card ${cardDir} is writable again`);
        watch.observe('card', true, 'writable');
        outbox.retryNow();
        imOutbox.retryNow();
      });
  const prompts = new PromptCache(log.child('prompt'));

  const tickets = new TicketCounter(join(cardDir, 'TicketNR.txt'), log.child('tickets'));
  const svc: HotlineServices = {
    sip: ua,
    pool,
    mediaAddress: contactHost,
    prompt: (p) => prompts.get(p),
    tickets,
    ticketLog: (c) => new TicketLog(c.ticketDir),
    recorder: (c, name) => createCallRecorder({ dir: c.recordingDir, name, logger: log.child('record') }),
    notifier: new Notifier({
      enqueueIm: (im) => imOutbox.enqueue(im),
      enqueueSms: (sms) => outbox.enqueue(sms),
      smsPrefix: () => current().smsPrefix,
      logger: log.child('notify'),
    }),
    logger: log,
    now: () => new Date(),
  };
  // hops open when the box died get their files (and the last one its IM/SMS); the counter is past them before a call comes
  await recoverOpenTickets({
    ticketDir: config.ticketDir,
    log: new TicketLog(config.ticketDir),
    counter: tickets,
    lastAlive: recordingMtime(config.recordingDir),
    notify: (ext, caller, text) => void svc.notifier.notify({ ext, sms: config.technicians.get(ext)?.sms }, caller, text),
    logger: log.child('tickets'),
  });
  const hotline = new Hotline(svc, { config: () => watcher.current(), reload: () => watcher.reload() });
  ua.onInvite = (inv) => {
    hotline.onInvite(inv);
    checkClock(); // after the call is on its way: a Date compare, no card access
  };

  let registration = registrationFor(ua, config, log, watch);
  let regKey = JSON.stringify([config.xmlNumber, config.pbx.register, config.pbx.pbx, config.pbx.domain, config.pbx.username, config.pbx.password]);
  watcher.on('change', (c) => {
    // a fixed SMS setting should not wait for the outbox's backoff (up to an hour)
    if (provider.update(c)) outbox.retryNow();
    if (c.pbx.listen.host !== listen.host || c.pbx.listen.port !== listen.port) log.warn('pbx.ini listen changed: restart the appliance to apply it');
    if (c.pbx.rtp.portMin !== pool.min || c.pbx.rtp.portMax !== pool.max) log.warn('pbx.ini RTP ports changed: restart the appliance to apply it');
    const key = JSON.stringify([c.xmlNumber, c.pbx.register, c.pbx.pbx, c.pbx.domain, c.pbx.username, c.pbx.password]);
    if (key !== regKey) {
      regKey = key;
      const old = registration;
      void (old?.stop() ?? Promise.resolve()).then(() => (registration = registrationFor(ua, c, log, watch)));
    }
  });

  log.info(
    `ticketline ${VERSION} ready in ${(performance.now() - t0).toFixed(0)} ms: SIP udp ${listen.host}:${listen.port} (contact ${contactHost}), ` +
      `number ${config.xmlNumber}, PBX ${config.pbx.pbx.host}:${config.pbx.pbx.port}, RTP ${pool.min}-${pool.max}, card ${cardDir}`,
  );

  let stopping = false;
  const stop = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (${hotline.active} call(s) in progress are ended)`);
    watcher.stop();
    stopProbe();
    // un-REGISTER, but a PBX that is gone must not hold the shutdown for Timer F (32 s)
    await Promise.race([registration?.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    await ua.stop();
    await Promise.all([outbox.stop(), imOutbox.stop()]);
    await watch.stop();
    await markStopped(cardDir); // issue 13: the next start is not reported as a crash
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // The bundle's own folder is the default card (DESIGN.md "Command line").
  const bundleDir = dirname(resolve(process.argv[1] ?? '.'));
  if (argv[0] === 'check') {
    // the SMS provider's own files (HTTP/, KANNEL/) are checked by the provider itself
    const quiet = createLogger({ write: () => undefined }, 'error');
    process.exitCode = await runCheck(argv, process.stdout, bundleDir, (c) => createProvider(c.smsProvider, c.dir, quiet).problems);
    return;
  }
  if (argv[0] === 'status') {
    process.exitCode = await runStatus(argv, process.stdout, bundleDir);
    return;
  }
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('usage: ticketline [CARD_DIR] | ticketline check [CARD_DIR] | ticketline status [CARD_DIR]\n');
    return;
  }
  const level = (process.env.TICKETLINE_LOG ?? 'info') as Level;
  const log = createLogger(process.stdout, ['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info');
  // Bad input must never take the appliance down: log it and keep serving.
  process.on('uncaughtException', (e) => log.error(`uncaught: ${errText(e)} ${e instanceof Error ? (e.stack ?? '') : ''}`));
  process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${errText(e)}`));
  try {
    await run(resolve(argv[0] ?? bundleDir), log);
  } catch (e) {
    log.error(`cannot start: ${errText(e)}`);
    process.exit(1);
  }
}

void main();
