// SMS outbox on this machine's disk: how long enqueue() takes until the SMS
// is durably on the card (temp file + fsync + rename + folder fsync), and how
// fast a backlog drains through the LOG provider (append + fsync per SMS).
//   node bench/sms-outbox.mjs [count]
// Run it on the real card (FAT32 on CF/SD) for the figures that matter there:
//   TMPDIR=/mnt/card node bench/sms-outbox.mjs
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const count = Number(process.argv[2] ?? 200);
const work = mkdtempSync(join(tmpdir(), 'tl-bench-outbox-'));
const entry = join(work, 'entry.ts');
const out = join(work, 'outbox.mjs');
const here = new URL('..', import.meta.url).pathname;
buildSync({
  stdin: {
    contents: `export { Outbox } from '${here}src/notify/outbox.ts';\nexport { createLogProvider } from '${here}src/notify/sms/log-provider.ts';\nexport { createLogger } from '${here}src/util/log.ts';`,
    resolveDir: here,
    loader: 'ts',
    sourcefile: entry,
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: out,
  logLevel: 'warning',
});
const { Outbox, createLogProvider, createLogger } = await import(pathToFileURL(out).href);

const logger = createLogger({ write: () => undefined }, 'error');
const app = join(work, 'TicketSMS');
let provider; // none at first: everything stays queued while we time enqueue alone
const outbox = new Outbox({ dir: join(app, 'Outbox'), provider: () => provider, logger, backoff: { firstMs: 3_600_000, maxMs: 3_600_000, maxAgeMs: 86_400_000 } });
await outbox.start();

const text = '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732';
const times = [];
for (let i = 0; i < count; i++) {
  const t0 = process.hrtime.bigint();
  await outbox.enqueue({ to: '393471234567', text, user: 'u731', password: 'secret' });
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(2);
console.log(`enqueue (durable) x${count} on ${tmpdir()}: median ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms`);

let sent = 0;
const done = new Promise((resolve) => outbox.on('sent', () => ++sent === count && resolve()));
provider = createLogProvider(app, logger);
const t0 = process.hrtime.bigint();
outbox.retryNow();
await done;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(`drain through LOG provider: ${count} SMS in ${ms.toFixed(0)} ms (${((count * 1000) / ms).toFixed(0)} SMS/s)`);
await outbox.stop();
rmSync(work, { recursive: true, force: true });
