// Runs every benchmark in bench/ one after the other and prints their figures.
//   npm run bench            (builds first)
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

for (const f of readdirSync('bench').filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').sort()) {
  console.log(`== bench/${f}`);
  const r = spawnSync(process.execPath, [`bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`bench/${f} exited ${r.status}`);
}
