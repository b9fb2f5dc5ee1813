/**
 * A small process standing in for the appliance in the outage proof: it
 * builds the provider named in the card's SMSProvider.txt, runs an Outbox on
 * `<card>/Outbox` with a short backoff, enqueues the SMS given as JSON, and
 * prints one `EVENT <name> <id>` line per outbox event on stdout. It runs
 * until killed (SIGKILL in the test) or SIGTERM (clean stop).
 *
 * usage: node outbox-driver.cjs CARD_DIR '[{"to":"39...","text":"...","user":"...","password":"..."}]'
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../src/util/log.js';
import { Outbox } from '../../src/notify/outbox.js';
import { createProvider, type Sms } from '../../src/notify/sms/provider.js';

async function main(): Promise<void> {
  const [card, json = '[]'] = process.argv.slice(2);
  if (!card) throw new Error('usage: outbox-driver CARD_DIR [SMS_JSON]');
  const logger = createLogger({ write: (l) => process.stderr.write(l) }, 'debug');
  const name = readFileSync(join(card, 'SMSProvider.txt'), 'utf8');
  const { provider, problems } = createProvider(name, card, logger);
  for (const p of problems) logger.error(`${p.file}: ${p.message}`);
  const outbox = new Outbox({
    dir: join(card, 'Outbox'),
    provider: () => provider,
    logger,
    backoff: { firstMs: 200, maxMs: 1000, maxAgeMs: 10 * 60_000 },
  });
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  outbox.on('queued', (id) => say(`EVENT queued ${id}`));
  outbox.on('sent', (id) => say(`EVENT sent ${id}`));
  outbox.on('retry', (id) => say(`EVENT retry ${id}`));
  outbox.on('failed', (id) => say(`EVENT failed ${id}`));
  await outbox.start();
  say(`EVENT started ${outbox.pending().length}`);
  for (const sms of JSON.parse(json) as Sms[]) await outbox.enqueue(sms);
  say('EVENT enqueued-all');
  // Stay up like the appliance would, until told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  process.once('SIGTERM', () => {
    clearInterval(keepAlive);
    void outbox.stop().then(() => say('EVENT stopped'));
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`outbox-driver: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
