/**
 * Child process for the "kill -9 in the first moments" test: starts a
 * recording in the folder given, feeds it packets, and SIGKILLs itself at
 * the stage named (a real kill -9: nothing is flushed or closed):
 *   created        right after createCallRecorder() (the file is being made)
 *   packets        after the first packets are buffered
 *   file           once the file is on the card (rename() to its own name resolved)
 *   flushed        after two flushes with packets
 *   after:<ms>     at a moment of the parent's choosing
 */
import { createCallRecorder } from '../../src/record/recorder.js';
import { memoryLogger } from '../../src/util/log.js';

const [dir, stage] = process.argv.slice(2);
const die = (): void => {
  process.kill(process.pid, 'SIGKILL');
};
const NAME = 'early_Caller_1.pcap';
const rec = createCallRecorder({ dir, name: NAME, logger: memoryLogger(), flushIntervalMs: 10 });
if (stage === 'created') die();
const caller = { address: '127.0.0.1', port: 40000 };
const app = { address: '127.0.0.1', port: 30000 };
const rtp = Buffer.alloc(172, 0xd5);
rtp[0] = 0x80;
rtp[1] = 8;
let i = 0;
const send = (): void => {
  for (let k = 0; k < 5; k++, i++) {
    rtp.writeUInt16BE(i & 0xffff, 2);
    rtp.writeUInt32BE((i * 160) >>> 0, 4);
    rec.packet('caller', caller, app, rtp, Date.now());
  }
};
send();
if (stage === 'packets') die();
void rec.rename(NAME).then(() => {
  if (stage === 'file') die();
});
setInterval(send, 2);
if (stage === 'flushed') void rec.flush().then(() => rec.flush()).then(die);
if (stage.startsWith('after:')) setTimeout(die, Number(stage.slice(6)));
