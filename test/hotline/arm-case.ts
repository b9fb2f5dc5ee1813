/**
 * The product runs on small ARM boards: the same bundle, on the official
 * Node 20 builds for arm64 and armv7l (armhf) under qemu-user, runs the first
 * end-to-end hunt case against native Kamailio and SIPp phones, and
 * pcap2wave turns that call's recording into the same WAV bytes as on x86.
 * Skips only when the ARM Node is not prepared (scripts/setup-arm.sh).
 * One test file per architecture (e2e-arm64, e2e-armhf): each gets tap's whole per-file timeout.
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../lab/appliance.js';
import { armNode, type ArmArch } from '../lab/arm-node.js';
import { stopAll } from '../lab/proc.js';
import { FIRST_CASE, firstNoAnswerSecondAnswers } from './hunt-first-case.js';

/** Runs dist/pcap2wave.js on `node`; returns the WAV bytes and the report line without the output path. */
async function pcap2wave(node: string, pcap: string, wav: string, mix: boolean): Promise<{ wav: Buffer; line: string }> {
  const args = [join(DIST, 'pcap2wave.js'), pcap, wav, ...(mix ? ['--mix'] : [])];
  const { stdout } = await promisify(execFile)(node, args, { encoding: 'utf8', timeout: 120000 });
  return { wav: readFileSync(wav), line: stdout.replace(wav, 'OUT.wav').trim() };
}

async function sameWavs(t: Test, node: string, pcap: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-arm-wav-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // the emulated runs take seconds each: stereo and --mix side by side
  const runs = await Promise.all(
    [false, true].map(async (mix) => {
      const [x86, arm] = await Promise.all([pcap2wave(process.execPath, pcap, join(dir, `x86-${mix}.wav`), mix), pcap2wave(node, pcap, join(dir, `arm-${mix}.wav`), mix)]);
      return { mix, x86, arm };
    }),
  );
  for (const { mix, x86, arm } of runs) {
    const what = mix ? 'mono mix (--mix)' : 'stereo';
    t.ok(x86.wav.length > 44 + 8000 * 2, `${what}: the call's WAV holds more than a second of audio (${x86.wav.length} bytes)`);
    t.ok(arm.wav.equals(x86.wav), `${what}: ARM WAV byte-identical to x86`);
    t.equal(arm.line, x86.line, `${what}: same report line`);
  }
}

/** The hunt case with the appliance on `arch`, then the pcap2wave comparison on its recording. */
export function armHuntCase(arch: ArmArch): void {
  t.teardown(stopAll);
  const found = armNode(arch);
  const skip = 'missing' in found ? found.missing : false;
  t.test(`${arch}: ${FIRST_CASE}; pcap2wave gives the x86 bytes`, { skip }, async (t) => {
    if (!('node' in found)) return;
    const t0 = Date.now();
    const app = await firstNoAnswerSecondAnswers(t, found.node);
    // the wrapper execs qemu: the appliance's process is the emulator running the ARM build
    const cmdline = readFileSync(`/proc/${app.proc.child.pid}/cmdline`, 'utf8').split('\0');
    t.match(cmdline[0], arch === 'arm64' ? /qemu-aarch64-static$/ : /qemu-arm-static$/, 'the appliance runs under qemu');
    t.ok(cmdline.some((a) => a.endsWith(`node-${arch}/package/bin/node`)), `on the ${arch} Node build`);
    t.comment(`${arch}: appliance ${/ready in \d+ ms/.exec(app.proc.output())?.[0] ?? '?'}`);
    t.comment(`${arch}: hunt case ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const t1 = Date.now();
    await sameWavs(t, found.node, app.recordings()[0]);
    t.comment(`${arch}: pcap2wave comparison ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  });
}
