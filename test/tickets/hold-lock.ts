/**
 * Child process for the lock tests: takes the lock given on the command line,
 * prints "held", and keeps it until it is killed. Bundled by the test with
 * esbuild and run by plain node.
 */
import { withFileLock } from '../../src/tickets/file-lock.js';
import { createLogger } from '../../src/util/log.js';

const [path] = process.argv.slice(2);
const log = createLogger({ write: (l) => process.stderr.write(l) }, 'warn');
await withFileLock(path, () => {
  process.stdout.write('held\n');
  return new Promise<never>(() => setInterval(() => undefined, 60_000));
}, log);
