/**
 * Child process for the multi-process counter test: takes N ticket numbers
 * from the counter file given on the command line, prints one per line, then
 * "done". Bundled by the test with esbuild and run by plain node.
 */
import { TicketCounter } from '../../src/tickets/counter.js';
import { createLogger } from '../../src/util/log.js';

const [path, countText] = process.argv.slice(2);
const log = createLogger({ write: (l) => process.stderr.write(l) }, 'warn');
const counter = new TicketCounter(path, log);
const got = await Promise.all(Array.from({ length: Number(countText) }, () => counter.take()));
process.stdout.write(`${got.join('\n')}\ndone\n`);
