// kill -9 at random moments during emergency calls (issue 15): the built bundle
// (dist/, run `node build.mjs` first) on a temp card with Kamailio, SIPp callers
// and technician phones; each cycle places a call, SIGKILLs the appliance at a
// seeded random moment and starts it again on the same card. Prints duplicate
// numbers, numbers without a ticket file, open journals left, pcaps pcap2wave
// cannot read, IM/SMS lost for the _END tickets, and key press -> first INVITE
// (p50/p99) on the first call after each restart.
//   node bench/kill9.mjs [cycles=500] [seed=1]
// Exit code 1 if a number is duplicated or has no file. The logic is
// test/lab/kill9.ts (also run with 10 cycles by test/tickets/e2e-kill9.test.ts).
const cycles = Number(process.argv[2] ?? 500);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isInteger(cycles) || cycles < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: node bench/kill9.mjs [cycles=500] [seed=1]\n');
  process.exit(2);
}
// the lab helpers are TypeScript: load them through tap's TypeScript loader
await import('../node_modules/@tapjs/typescript/dist/esm/import.mjs');
const { runKill9, formatReport } = await import('../test/lab/kill9.ts');
const t0 = Date.now();
const report = await runKill9({ cycles, seed, progress: (l) => process.stderr.write(`${l}\n`) });
console.log(`kill9: ${cycles} cycles, seed ${seed}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(formatReport(report));
process.exit(report.duplicates.length || report.withoutFile.length ? 1 : 0);
