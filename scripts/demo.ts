/**
 * `npm run demo`: one emergency call through the built appliance on
 * loopback, in about ten seconds. A Kamailio PBX, a technician's phone
 * (SIPp: rings, answers, hangs up), a caller (SIPp: dials 799, presses 1)
 * — then the ticket files, the IM the phone received, the SMS and the
 * recording are printed. Needs the test peers (./scripts/setup.sh).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startAppliance, removeCard } from '../test/lab/appliance.js';
import { startKamailio } from '../test/lab/kamailio.js';
import { stopAll } from '../test/lab/proc.js';
import { caller, imOf, technician } from '../test/hotline/e2e-helpers.js';

async function demo(): Promise<void> {
  const say = (s: string): boolean => process.stdout.write(`${s}\n`);
  const pbx = await startKamailio();
  say(`PBX (Kamailio) on 127.0.0.1:${pbx.port}`);
  const app = await startAppliance({
    pbxPort: pbx.port,
    first: '731',
    technicians: { '731': { next: '732', timeoutSec: 5 }, '732': { next: '731', sms: { number: '3331234567' } } },
  });
  say(`appliance 799 on 127.0.0.1:${app.port}, registered at the PBX; card ${app.app}`);
  try {
    const t731 = await technician(pbx.port, '731', { kind: 'ring' });
    const t732 = await technician(pbx.port, '732', { kind: 'answer', afterMs: 1500, hangupAfterMs: 3000 }, true);
    say('technicians: 731 (does not answer), 732 (answers after 1.5 s, talks 3 s)');
    say('caller 03472619287 dials 799 and presses 1 ...');
    const call = await caller(pbx.port, { digits: '1' });
    await call.result(60000);
    await t731.result(60000);
    const im = imOf(await t732.result(60000));
    say('\nappliance log:');
    for (const l of app.proc.output().split('\n').filter((l) => / call \d+: | notify: | record: /.test(l))) say(`  ${l}`);
    say('\nTicket/ (one zero-length file per hop):');
    for (const f of await app.waitTickets(2)) say(`  ${basename(f)}`);
    say(`\nIM received by 732's phone, from ${im?.from}:\n  ${im?.text}`);
    say(`\nSMS.log:\n  ${app.smsLog().join('\n  ')}`);
    // the temp card goes away: keep the recording in demo-out/
    mkdirSync('demo-out', { recursive: true });
    const kept = app.recordings().map((r) => {
      const to = join('demo-out', basename(r));
      copyFileSync(r, to);
      return to;
    });
    say(`\nrecording (pcap; listen with: node dist/pcap2wave.js FILE.pcap && play FILE.wav):\n  ${kept.join('\n  ')}`);
  } finally {
    await stopAll();
    removeCard(app);
  }
}

demo().catch(async (e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  await stopAll();
  process.exit(1);
});
