import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import type { CardConfig } from '../../src/config/card.js';
import { CallRecording } from '../../src/hotline/call-recording.js';
import { createCallRecorder } from '../../src/record/recorder.js';
import { readCapture } from '../../src/record/pcap-reader.js';
import { memoryLogger } from '../../src/util/log.js';
import { rtpPacket, tempDir } from '../record/helpers.js';

const YEARS_56 = Date.UTC(2026, 11, 7, 18, 25, 0);
const local = (ms: number): string => {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}.${p(d.getMinutes())}.${p(d.getSeconds())}`;
};

function setup(t: { teardown(fn: () => void): void }) {
  const dir = tempDir(t);
  const log = memoryLogger();
  const c = { wall: 0, mono: 100 };
  const svc = { recorder: (_: CardConfig, name: string) => createCallRecorder({ dir, name, logger: log }), now: () => new Date(c.wall) };
  const rec = new CallRecording(svc, {} as CardConfig, '+39*0612', log, { wallMs: () => c.wall, monoMs: () => c.mono });
  return { dir, log, c, rec };
}

t.test('made at once by time and caller, renamed to the first ticket, at the end to every ticket on the real time', async (t) => {
  const { dir, log, c, rec } = setup(t);
  const tap = rec.tap('caller');
  const caller = { address: '127.0.0.1', port: 40000 };
  const mine = { address: '127.0.0.1', port: 30000 };
  const send = (i: number): void => tap('in', rtpPacket(8, i, i * 160, 1, Buffer.alloc(160, 0xd5)), mine, caller, 123456789);
  const hopStart = rec.clock.now();
  for (let i = 0; i < 50; i++, c.wall += 20, c.mono += 20) send(i);
  rec.ticket(1, 41);
  c.wall += YEARS_56; // NTP sets the clock
  for (let i = 50; i < 100; i++, c.wall += 20, c.mono += 20) send(i);
  rec.ticket(2, 0); // a hop whose number could not be stored: not in the name
  rec.ticket(3, 43);
  const closed = rec.restamp({ hop: 3, ext: '731', start: hopStart, end: rec.clock.now(), final: true });
  t.equal(closed.start.getTime(), YEARS_56, 'the hop start on the new time');
  t.equal(closed.end.getTime() - closed.start.getTime(), 2000, 'the hop keeps its monotonic length');
  await rec.close();
  await rec.close();
  t.same(readdirSync(dir), [`${local(YEARS_56)}_Ticket_41_43_Caller_+39x0612.pcap`], 'one file: real start, every stored ticket, * as x');
  const cap = readCapture(readFileSync(`${dir}/${readdirSync(dir)[0]}`));
  t.equal(cap.packets.length, 100);
  const times = cap.packets.map((p) => p.timeUs / 1000);
  t.same([times[0], times[99]], [0, 1980], "packet times: the call's monotonic clock from the key press, not the tap's");
  t.ok(log.lines.some((l) => /WARN the wall clock stepped by \+56\.\d years during the call/.test(l)));
  t.ok(log.lines.some((l) => /_Caller_\+39x0612\.pcap renamed to 1970-01-01_\d\d\.\d\d\.00_Ticket_41_Caller_\+39x0612\.pcap/.test(l)), 'the first ticket named at once, on the time then');
});

t.test('a ticket number known after close() is not taken in', async (t) => {
  const { dir, rec } = setup(t);
  await rec.close();
  rec.ticket(1, 9);
  t.same(readdirSync(dir).length, 1);
  t.match(readdirSync(dir)[0], /_Caller_\+39x0612\.pcap$/);
});
