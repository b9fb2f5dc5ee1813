// Build: one bundle per command (no native code, node builtins only), then
// the default card with the bundle inside, ready to copy onto a CF/SD card.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs', // a card has no package.json: Node treats a bare .js as CommonJS
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // src/health/clock.ts: a wall clock before the build cannot be right (no RTC, no NTP yet)
  define: { TICKETLINE_BUILD_TIME: JSON.stringify(new Date().toISOString()) },
};

// Fail the build if anything but a node builtin would be required at run time.
const onlyBuiltins = {
  name: 'only-builtins',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (builtinModules.includes(name)) return { path: args.path, external: true };
      return undefined;
    });
  },
};

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
writeFileSync('dist/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');

const entries = [
  ['src/main.ts', 'dist/ticketline.js'],
  ['scripts/pcap2wave.ts', 'dist/pcap2wave.js'],
];
for (const [entry, outfile] of entries) {
  if (!existsSync(entry)) continue;
  await build({ ...common, entryPoints: [entry], outfile, banner: { js: '#!/usr/bin/env node' }, plugins: [onlyBuiltins] });
}

// The default card: flash-layout/ with the bundles in the application folder.
cpSync('flash-layout', 'dist/card', { recursive: true });
const app = 'dist/card/CF0/TicketSMS';
for (const [, outfile] of entries) if (existsSync(outfile)) copyFileSync(outfile, `${app}/${outfile.slice('dist/'.length)}`);
console.log(`built ${entries.filter(([e]) => existsSync(e)).map(([, o]) => o).join(', ')} and dist/card/`);
