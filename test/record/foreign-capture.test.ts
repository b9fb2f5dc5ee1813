/**
 * pcap2wave on captures from other tools (issue 14): their dummy MACs may be
 * the appliance's role MACs (02:00:00:00:00:01/02), which must not put all
 * audio on one channel. Captures written by this test's own script, by
 * text2pcap and rewritten by tshark; the appliance's own recording beside them.
 * In each case: left and right are the right streams, and sox hears 1 kHz
 * left and 440 Hz right.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/util/log.js';
import { createCallRecorder } from '../../src/record/recorder.js';
import { pcap2wave, type Pcap2WaveResult } from '../../src/record/pcap2wave.js';
import { hasApplianceRoles } from '../../src/record/role-check.js';
import type { UdpDatagram } from '../../src/record/frame-decode.js';
import { dominantFreq, rtpPacket, tempDir, toneG711 } from './helpers.js';
import { syntheticCall } from './synthetic-call.js';

const A = { addr: '10.0.0.1', port: 40000, ssrc: 0x11111111 };
const B = { addr: '10.0.0.2', port: 30000, ssrc: 0x22222222 };
const T0_MS = Date.UTC(2026, 0, 1);
const STREAM_A = `${A.ssrc}@10.0.0.1:40000`;
const STREAM_B = `${B.ssrc}@10.0.0.2:30000`;

interface Pkt {
  fromA: boolean;
  timeMs: number;
  rtp: Buffer;
}

/** Two parties, 3 s: A sends 1 kHz PCMA, B answers with 440 Hz PCMU; A's packet first in each 20 ms. */
function twoParty(): Pkt[] {
  const a = toneG711('PCMA', 1000, 3);
  const b = toneG711('PCMU', 440, 3);
  const out: Pkt[] = [];
  for (let i = 0; i < 150; i++) {
    const slice = (x: Buffer): Buffer => x.subarray(i * 160, i * 160 + 160);
    out.push({ fromA: true, timeMs: T0_MS + i * 20, rtp: rtpPacket(8, 100 + i, 1000 + i * 160, A.ssrc, slice(a)) });
    out.push({ fromA: false, timeMs: T0_MS + i * 20 + 7, rtp: rtpPacket(0, 5000 + i, 90000 + i * 160, B.ssrc, slice(b)) });
  }
  return out;
}

const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');
const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));

/** Ethernet II + IPv4 + UDP around `payload` (the test's own framing, not the appliance's writer). */
function frame(srcMac: string, dstMac: string, from: typeof A, to: typeof A, payload: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip4(from.addr).copy(ip, 12);
  ip4(to.addr).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(from.port, 0);
  udp.writeUInt16BE(to.port, 2);
  udp.writeUInt16BE(8 + payload.length, 4); // checksum 0: none (IPv4 allows it)
  return Buffer.concat([mac(dstMac), mac(srcMac), Buffer.from([0x08, 0x00]), ip, udp, payload]);
}

/** MACs of a packet: [source, destination] for A->B or B->A. */
type MacRule = (fromA: boolean) => [string, string];
const fixed = (src: string, dst: string): MacRule => () => [src, dst];
const perHost = (macA: string, macB: string): MacRule => (fromA) => (fromA ? [macA, macB] : [macB, macA]);

const frames = (rule: MacRule): { timeMs: number; data: Buffer }[] =>
  twoParty().map((p) => {
    const [s, d] = rule(p.fromA);
    return { timeMs: p.timeMs, data: p.fromA ? frame(s, d, A, B, p.rtp) : frame(s, d, B, A, p.rtp) };
  });

/** A classic little-endian µs pcap, written by the test itself. */
function ownPcap(rule: MacRule): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames(rule).map((f) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(f.timeMs / 1000), 0);
    r.writeUInt32LE(Math.round((f.timeMs % 1000) * 1000), 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.data.length, 12);
    return Buffer.concat([r, f.data]);
  });
  return Buffer.concat([head, ...recs]);
}

const hex = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

/** text2pcap from a hex dump: whole Ethernet frames (`rule` given), or its own dummy headers (-D -4 -u). */
function text2pcap(dir: string, name: string, rule: MacRule | 'own headers'): Buffer {
  const txt = join(dir, `${name}.txt`);
  const out = join(dir, `${name}.pcapng`);
  if (rule === 'own headers') {
    writeFileSync(txt, twoParty().map((p) => `${p.fromA ? 'I' : 'O'} ${clock(p.timeMs)} 000000 ${hex(p.rtp)}\n`).join(''));
    execFileSync('text2pcap', ['-q', '-D', '-t', '%H:%M:%S.%f', '-4', `${A.addr},${B.addr}`, '-u', `${A.port},${B.port}`, txt, out], { stdio: 'pipe' });
  } else {
    writeFileSync(txt, frames(rule).map((f) => `${clock(f.timeMs)} 000000 ${hex(f.data)}\n`).join(''));
    execFileSync('text2pcap', ['-q', '-t', '%H:%M:%S.%f', txt, out], { stdio: 'pipe' });
  }
  return readFileSync(out);
}

/** tshark reads `input` and writes it again (pcapng by default, or `-F pcap`). */
function viaTshark(dir: string, name: string, input: Buffer, format?: 'pcap'): Buffer {
  const src = join(dir, `${name}.in`);
  const out = join(dir, `${name}.out`);
  writeFileSync(src, input);
  execFileSync('tshark', ['-r', src, ...(format ? ['-F', format] : []), '-w', out], { stdio: 'pipe' });
  return readFileSync(out);
}

/** Left and right hold the expected streams, and sox hears `freqs` on them. */
function expectChannels(t: Test, dir: string, what: string, r: Pcap2WaveResult, want: { mode: string; left: string[]; right: string[]; freqs: [number, number] }): void {
  t.equal(r.mode, want.mode, `${what}: read by ${want.mode}`);
  t.same(r.left.map((s) => s.stream), want.left, `${what}: left`);
  t.same(r.right.map((s) => s.stream), want.right, `${what}: right`);
  const wav = join(dir, `${what.replace(/\W+/g, '-')}.wav`);
  writeFileSync(wav, r.wav);
  for (const ch of [1, 2] as const) {
    const f = dominantFreq(wav, ch);
    t.ok(Math.abs(f - want.freqs[ch - 1]) < 20, `${what}: channel ${ch} is ${want.freqs[ch - 1]} Hz (sox: ${f})`);
  }
}

const ENDPOINTS = { mode: 'endpoints', left: [STREAM_A], right: [STREAM_B], freqs: [1000, 440] as [number, number] };
const CALLER = '02:00:00:00:00:01';
const TECH = '02:00:00:00:00:02';
const APPL = '02:00:00:00:00:00';

t.test('captures of other tools with the role MACs as dummy addresses: read by endpoints, each side on its channel', async (t) => {
  const dir = tempDir(t);
  const cases: [string, Buffer][] = [
    ['own script, 02:..:01 -> 02:..:02 whatever the direction', ownPcap(fixed(CALLER, TECH))],
    ['own script, 02:..:00 -> 02:..:01 whatever the direction', ownPcap(fixed(APPL, CALLER))],
    ['own script, hosts 02:..:02 and 02:..:00 (no caller)', ownPcap(perHost(TECH, APPL))],
    ['own script, hosts 02:..:01 and 02:..:02 (no appliance)', ownPcap(perHost(CALLER, TECH))],
    ['text2pcap, 02:..:01 -> 02:..:02 frames', text2pcap(dir, 'fixed', fixed(CALLER, TECH))],
    ['text2pcap, its own dummy headers', text2pcap(dir, 'own', 'own headers')],
    ['tshark pcapng of the own script capture', viaTshark(dir, 'ng', ownPcap(fixed(CALLER, TECH)))],
    ['tshark pcap of the text2pcap capture', viaTshark(dir, 'pc', text2pcap(dir, 'fixed2', fixed(CALLER, TECH)), 'pcap')],
  ];
  for (const [what, file] of cases) expectChannels(t, dir, what, pcap2wave(file), ENDPOINTS);
});

t.test('another tool\'s capture that is consistent with the roles (host 02:..:01 talks to host 02:..:00) reads the same either way', async (t) => {
  const dir = tempDir(t);
  expectChannels(t, dir, 'own script, hosts 02:..:01 and 02:..:00', pcap2wave(ownPcap(perHost(CALLER, APPL))), { ...ENDPOINTS, mode: 'roles' });
  expectChannels(t, dir, 'text2pcap, hosts 02:..:01 and 02:..:00', pcap2wave(text2pcap(dir, 'star', perHost(CALLER, APPL))), { ...ENDPOINTS, mode: 'roles' });
});

t.test('the appliance\'s own recording stays read by roles, also after tshark rewrote it as pcapng', async (t) => {
  const dir = tempDir(t);
  const rec = createCallRecorder({ dir, name: 'call.pcap', logger: memoryLogger() });
  for (const p of syntheticCall(T0_MS)) rec.packet(p.role, p.src, p.dst, p.rtp, p.timeMs);
  await rec.close();
  const own = readFileSync(rec.path);
  const want = {
    mode: 'roles',
    left: [`${0x11111111}@127.0.0.1:40000`],
    right: [`${0x22220001}@127.0.0.1:30000`, `${0x22220002}@127.0.0.1:30000`],
    freqs: [1000, 440] as [number, number],
  };
  expectChannels(t, dir, 'appliance recording', pcap2wave(own), want);
  expectChannels(t, dir, 'appliance recording via tshark', pcap2wave(viaTshark(dir, 'rec', own)), want);
});

const dg = (src: string, dst: string, from: string, to: string): UdpDatagram => {
  const [sa, sp] = from.split(':');
  const [da, dp] = to.split(':');
  return { srcAddr: sa, srcPort: Number(sp), dstAddr: da, dstPort: Number(dp), payload: Buffer.alloc(0), srcMac: src.replace(/:/g, ''), dstMac: dst.replace(/:/g, '') };
};

t.test('hasApplianceRoles: the rules as a table', async (t) => {
  const UNKNOWN = '02:00:00:00:00:ff';
  const c = '1.1.1.1:4000';
  const app = '2.2.2.2:3000';
  const leg = '2.2.2.2:3002';
  const tech = '3.3.3.3:5000';
  const rows: [string, UdpDatagram[], boolean][] = [
    ['caller <-> appliance <-> technician', [dg(CALLER, APPL, c, app), dg(APPL, CALLER, app, c), dg(TECH, APPL, tech, leg), dg(APPL, TECH, leg, tech)], true],
    ['a receiver not placed (ff) is a peer', [dg(CALLER, APPL, c, app), dg(APPL, UNKNOWN, app, c), dg(APPL, CALLER, app, c)], true],
    ['one phone both caller and technician (an internal test call)', [dg(CALLER, APPL, c, app), dg(APPL, CALLER, app, c), dg(TECH, APPL, c, leg), dg(APPL, TECH, leg, c)], true],
    ['no caller in the capture', [dg(TECH, APPL, tech, leg), dg(APPL, TECH, leg, tech)], false],
    ['a packet between two peers, not via the appliance', [dg(CALLER, APPL, c, app), dg(CALLER, TECH, c, tech)], false],
    ['fixed dummies: each host sends as the appliance and receives as the caller', [dg(APPL, CALLER, c, app), dg(APPL, CALLER, app, c)], false],
    ['an appliance port also a peer', [dg(CALLER, APPL, c, app), dg(TECH, APPL, app, leg)], false],
    ['another MAC', [dg(CALLER, APPL, c, app), dg('00:11:22:33:44:55', APPL, tech, app)], false],
    ['no link layer MACs', [{ ...dg(CALLER, APPL, c, app), srcMac: undefined, dstMac: undefined }], false],
    ['nothing', [], false],
  ];
  for (const [what, udp, want] of rows) t.equal(hasApplianceRoles(udp), want, what);
});
