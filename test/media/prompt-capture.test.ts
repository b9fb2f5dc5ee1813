/**
 * The prompt as seen on the wire: tshark captures the RTP we send on
 * loopback, its RTP analysis checks the stream, the payload is exported
 * and sox finds the dominant frequency of the 1 kHz prompt.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortPool, Prompt, PromptPlayer, RtpSession, type NegotiatedMedia } from '../../src/media/index.js';
import { memoryLogger } from '../../src/util/log.js';
import { freeBlock } from '../lab/ports.js';
import { start, stopAll } from '../lab/proc.js';
import { udpPeer } from './udp-peer.js';

const dir = mkdtempSync(join(tmpdir(), 'ticketline-capture-'));
t.teardown(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function dominantHz(file: string, type: string): number {
  // sox prints `stat` to stderr
  const r = spawnSync('sox', ['-t', type, '-r', '8000', '-c', '1', file, '-n', 'stat', '-freq'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  return dominantOf(r.stderr);
}

function dominantOf(statOut: string): number {
  let best = 0;
  let bestPower = -1;
  for (const line of statOut.split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.eE+-]+)\s*$/.exec(line);
    if (m && Number(m[2]) > bestPower) {
      bestPower = Number(m[2]);
      best = Number(m[1]);
    }
  }
  return best;
}

for (const codec of ['PCMA', 'PCMU'] as const) {
  t.test(`a 1 kHz prompt sent as ${codec} is captured by tshark as one clean stream and sox hears 1 kHz`, async (t) => {
    const base = await freeBlock(2, 2);
    const log = memoryLogger();
    const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });
    const phone = await udpPeer();
    const pcap = join(dir, `prompt-${codec}.pcap`);
    const COUNT = 75;
    const cap = start('tshark', 'tshark', ['-i', 'lo', '-f', `udp and src port ${base} and dst port ${phone.port}`, '-c', String(COUNT), '-w', pcap]);
    await cap.waitFor(/Capture started|Capturing on/i, 30000);
    const media: NegotiatedMedia = { remote: { address: '127.0.0.1', port: phone.port }, codec, payloadType: codec === 'PCMA' ? 8 : 0, ptime: 20, remoteDirection: 'sendrecv', hold: false };
    const s = new RtpSession(await pool.allocate(), media, { log });
    t.teardown(() => {
      s.close();
      phone.close();
    });
    const wav = join(dir, 'tone1k.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav, 'synth', '1.5', 'sine', '1000', 'vol', '0.5']);
    // looped until tshark has its packets: no race with the capture start-up
    const player = new PromptPlayer(s, Prompt.fromWav(wav), { loop: true }).start();
    const rc = await cap.exited(60000);
    player.stop();
    t.equal(rc, 0, `tshark captured ${COUNT} packets`);

    const streams = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const row = streams.split('\n').find((l) => l.includes(`${phone.port}`));
    t.ok(row, 'tshark sees one RTP stream');
    t.match(row ?? '', new RegExp(`${codec === 'PCMA' ? 'g711A' : 'g711U'}\\s+${COUNT}\\s+0\\s`), `${COUNT} packets, 0 lost`);

    const hex = execFileSync('tshark', ['-r', pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'rtp.payload'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const payload = Buffer.concat(hex.trim().split('\n').map((l) => Buffer.from(l.replace(/[:\s]/g, ''), 'hex')));
    t.equal(payload.length, COUNT * 160);
    const raw = join(dir, `payload.${codec === 'PCMA' ? 'al' : 'ul'}`);
    writeFileSync(raw, payload);
    const hz = dominantHz(raw, codec === 'PCMA' ? 'al' : 'ul');
    t.ok(Math.abs(hz - 1000) < 20, `dominant frequency ${hz} Hz is 1 kHz`);
  });
}
