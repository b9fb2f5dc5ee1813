/**
 * Child process for the "kill -9 within the first moments" test: starts a
 * recording in the folder given and feeds it packets, flushing often, until
 * the parent kills it (SIGKILL, at a moment the parent varies).
 */
import { createCallRecorder } from '../../src/record/recorder.js';
import { memoryLogger } from '../../src/util/log.js';

const [dir] = process.argv.slice(2);
const rec = createCallRecorder({ dir, name: 'early_Caller_1.pcap', logger: memoryLogger(), flushIntervalMs: 10 });
const caller = { address: '127.0.0.1', port: 40000 };
const app = { address: '127.0.0.1', port: 30000 };
const rtp = Buffer.alloc(172, 0xd5);
rtp[0] = 0x80;
rtp[1] = 8;
let i = 0;
setInterval(() => {
  for (let k = 0; k < 5; k++, i++) {
    rtp.writeUInt16BE(i & 0xffff, 2);
    rtp.writeUInt32BE((i * 160) >>> 0, 4);
    rec.packet('caller', caller, app, rtp, Date.now());
  }
}, 2);
