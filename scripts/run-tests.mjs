// Runs the whole tap suite and ends with the plain line CI reads:
// "N passed, N failed", counting the named tests (t.test) of every file.
import { spawn } from 'node:child_process';

const args = ['tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'] });
let passed = 0;
let failed = 0;
let nestedFailed = false; // a named test failed in the current file
let buf = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  buf += d.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    // a named test inside a test file sits one level (4 spaces) below the file
    if (/^ {4}ok \d+ - /.test(line) && !/# SKIP/.test(line)) passed++;
    else if (/^ {4}not ok \d+ - /.test(line) && !/# TODO/.test(line)) {
      failed++;
      nestedFailed = true;
    } else if (/^(not )?ok \d+ - /.test(line)) {
      // a whole file that failed without a failing named test (load error, timeout) counts once
      if (line.startsWith('not ok') && !nestedFailed) failed++;
      nestedFailed = false;
    }
  }
});
child.on('exit', (code) => {
  if (code !== 0 && failed === 0) failed = 1; // tap failed outside a named test (load error, coverage)
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? 1);
});
