/**
 * Child process for the "card fills up mid-call" test: run under
 * `ulimit -f` so that the kernel cuts a write short and then refuses more
 * (EFBIG), the way a full card does. Records 20 s of a call, closes, and
 * prints the recorder's stats and log lines as JSON.
 */
import { memoryLogger } from '../../src/util/log.js';
import { createCallRecorder } from '../../src/record/recorder.js';

// ulimit -f also raises SIGXFSZ, whose default action kills the process; a real
// full card raises no signal (just ENOSPC), so catch it and let the write fail.
process.on('SIGXFSZ', () => undefined);

async function main(): Promise<void> {
  const [dir, name] = process.argv.slice(2);
  const log = memoryLogger();
  const rec = createCallRecorder({ dir, name, logger: log, maxBufferBytes: 5000 });
  const caller = { address: '127.0.0.1', port: 40000 };
  const app = { address: '127.0.0.1', port: 30000 };
  const rtp = Buffer.alloc(172, 0xd5);
  rtp[0] = 0x80;
  rtp[1] = 8;
  let threw = 0;
  for (let i = 0; i < 1000; i++) {
    rtp.writeUInt16BE(i, 2);
    rtp.writeUInt32BE(i * 160, 4);
    try {
      rec.packet(i & 1 ? 'appliance' : 'caller', i & 1 ? app : caller, i & 1 ? caller : app, rtp, 1.7e12 + i * 10);
    } catch {
      threw++;
    }
    if (i % 25 === 0) await rec.flush(); // let writes land between bursts, as the 1 s timer would
  }
  await rec.close();
  process.stdout.write(JSON.stringify({ stats: rec.stats, lines: log.lines, threw, path: rec.path }) + '\n');
}

void main();
