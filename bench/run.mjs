// Runs every benchmark in bench/ one after the other and prints their figures.
//   npm run bench            (builds first)
// A benchmark is a bench/*.mjs file; files named <bench>-<part>.mjs are parts
// of <bench> (its child processes, its clients) and are not run on their own.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const files = readdirSync('bench').filter((f) => f.endsWith('.mjs') && f !== 'run.mjs');
const isPart = (f) => files.some((b) => b !== f && f.startsWith(`${b.slice(0, -'.mjs'.length)}-`));
for (const f of files.filter((f) => !isPart(f)).sort()) {
  console.log(`== bench/${f}`);
  const r = spawnSync(process.execPath, [`bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`bench/${f} exited ${r.status}`);
}
