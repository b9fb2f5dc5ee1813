/**
 * A headless baresip phone for end-to-end tests: config generated into a
 * temp dir (free ports, loopback only, G.711, audio from a WAV file, what
 * it receives dumped to WAV by the sndfile module), controlled through
 * ctrl_tcp (JSON in netstrings). Stop it with `stop()` or stopAll().
 *
 * Gotchas (baresip 1.0.0): it binds the SIP port and the port above it
 * (TLS), so both must be free; the call hangs up when the audio source
 * file ends; the received audio is written as `dump-*-dec.wav` in the
 * phone's `rec/` directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeBlock, freePort } from './ports.js';
import { start, type Proc } from './proc.js';

export interface BaresipEvent {
  event?: boolean;
  response?: boolean;
  type?: string;
  ok?: boolean;
  data?: string;
  param?: string;
  token?: string;
  [k: string]: unknown;
}

export interface BaresipOptions {
  /** Account user, e.g. "731". */
  user: string;
  /** 8 kHz mono 16-bit WAV sent as the phone's microphone (longer than the call). */
  audioFile: string;
  /** Registrar / outbound proxy host:port; without it the phone does not register. */
  registrar?: string;
  /** Codec order, default "PCMU,PCMA". */
  codecs?: string;
  /** 'auto' answers incoming calls at once (default 'manual'). */
  answerMode?: 'auto' | 'manual';
}

export class BaresipCtrl {
  readonly events: BaresipEvent[] = [];
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private seq = 0;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {
      // the phone went away; pending waits time out with their own message
    });
  }

  static connect(port: number): Promise<BaresipCtrl> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new BaresipCtrl(s)));
      s.once('error', reject);
    });
  }

  /** Send a command (menu long command without the slash) and wait for its response. */
  async command(command: string, params?: string, timeoutMs = 10000): Promise<BaresipEvent> {
    const token = `t${++this.seq}`;
    const body = Buffer.from(JSON.stringify(params === undefined ? { command, token } : { command, params, token }));
    this.sock.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    return this.waitFor((e) => e.response === true && e.token === token, `response to ${command}`, timeoutMs);
  }

  /** Wait for an event of `type` (already received or later). */
  waitEvent(type: string, timeoutMs = 20000): Promise<BaresipEvent> {
    return this.waitFor((e) => e.event === true && e.type === type, `event ${type}`, timeoutMs);
  }

  waitFor(match: (e: BaresipEvent) => boolean, what: string, timeoutMs: number): Promise<BaresipEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const e = this.events.find(match);
        if (!e) return false;
        cleanup();
        resolve(e);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`baresip: timed out waiting for ${what}; events: ${this.events.map((e) => e.type ?? e.token).join(',')}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      if (!check()) this.waiters.push(waiter);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buf.subarray(0, colon).toString());
      if (!Number.isInteger(len) || this.buf.length < colon + 1 + len + 1) return;
      const json = this.buf.subarray(colon + 1, colon + 1 + len).toString();
      this.buf = this.buf.subarray(colon + 1 + len + 1);
      try {
        this.events.push(JSON.parse(json) as BaresipEvent);
      } catch {
        this.events.push({ type: 'UNPARSABLE', data: json });
      }
      for (const w of this.waiters.slice()) w();
    }
  }
}

export interface BaresipPhone {
  proc: Proc;
  dir: string;
  sipPort: number;
  ctrl: BaresipCtrl;
  /** WAV files of the audio the phone received (one per call). */
  receivedWavs(): string[];
  stop(): Promise<void>;
}

export async function startBaresip(o: BaresipOptions): Promise<BaresipPhone> {
  const dir = mkdtempSync(join(tmpdir(), `baresip-${o.user}-`));
  const rec = join(dir, 'rec');
  mkdirSync(rec);
  const sipPort = await freeBlock(2, 2);
  const ctrlPort = await freePort();
  const rtpBase = await freeBlock(20, 2);
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'call_local_timeout 120',
    'audio_player alsa,null',
    'audio_alert alsa,null',
    `audio_source aufile,${o.audioFile}`,
    'ausrc_srate 8000',
    'auplay_srate 8000',
    'ausrc_channels 1',
    'auplay_channels 1',
    `rtp_ports ${rtpBase}-${rtpBase + 19}`,
    'rtcp_mux no',
    'jitter_buffer_delay 5-10',
    'net_interface 127.0.0.1',
    'dns_server 127.0.0.1:53',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aufile.so',
    'module alsa.so',
    'module sndfile.so',
    'module_tmp uuid.so',
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    `snd_path ${rec}`,
    'statmode_default off',
    'ringback_disabled yes',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config'), config);
  const reg = o.registrar ? `sip:${o.user}@${o.registrar};transport=udp` : `sip:${o.user}@127.0.0.1:${sipPort};transport=udp`;
  const regint = o.registrar ? 300 : 0;
  writeFileSync(join(dir, 'accounts'), `<${reg}>;auth_pass=secret;answermode=${o.answerMode ?? 'manual'};audio_codecs=${o.codecs ?? 'PCMU,PCMA'};regint=${regint};ptime=20\n`);
  const proc = start(`baresip-${o.user}`, 'baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await proc.waitFor(/baresip is ready/, 20000);
  const ctrl = await BaresipCtrl.connect(ctrlPort);
  return {
    proc,
    dir,
    sipPort,
    ctrl,
    receivedWavs: () =>
      readdirSync(rec)
        .filter((f) => f.endsWith('-dec.wav'))
        .map((f) => join(rec, f)),
    stop: async () => {
      ctrl.close();
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
