/**
 * Helpers for the hostile-input end-to-end tests (e2e-robust.test.ts): a
 * Kamailio on a port of our choice (to restart "the same PBX"), a UDP probe
 * that sends raw datagrams to the appliance and collects the answers by
 * Call-ID, and the hostile datagrams themselves (seeded, so a failure
 * reproduces).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, until } from '../lab/proc.js';
import { freePort, udpBound } from '../lab/ports.js';
import { KAMAILIO_CFG, type Kamailio } from '../lab/kamailio.js';

/**
 * The lab's Kamailio (test/lab/kamailio.cfg) on `port` (default: a free one).
 * `maxExpires` caps the registrar's bindings (registrar max_expires), so the
 * appliance refreshes its REGISTER every maxExpires/2 s.
 */
export async function startPbxOn(port?: number, o: { maxExpires?: number } = {}): Promise<Kamailio> {
  const p = port ?? (await freePort());
  const args = ['-DD', '-E', '-m', '32', '-M', '8', '-f', o.maxExpires === undefined ? KAMAILIO_CFG : shortBindingsCfg(o.maxExpires), '-A', `LISTEN=udp:127.0.0.1:${p}`];
  // the port was just given up by the previous Kamailio: wait until nothing holds it
  await until(async () => !(await udpBound(p)), `UDP ${p} free`, 15000);
  const proc = start(`kamailio:${p}`, 'kamailio', args);
  await until(async () => (await udpBound(p)) || proc.child.exitCode !== null, `kamailio on ${p}`, 15000);
  if (proc.child.exitCode !== null) throw new Error(`kamailio exited: ${proc.output().slice(-2000)}`);
  return { proc, port: p, lines: (prefix) => proc.output().split('\n').filter((l) => l.includes(`: ${prefix} `)) };
}

/** The lab config plus a registrar that grants at most `maxExpires` seconds (a temp file; removed at exit). */
function shortBindingsCfg(maxExpires: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-kam-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, `#!KAMAILIO\ninclude_file "${KAMAILIO_CFG}"\nmodparam("registrar", "max_expires", ${maxExpires})\n`);
  return cfg;
}

export { prng } from '../lab/prng.js';

export interface Answer {
  status: number;
  reason: string;
  callId: string;
  text: string;
}

/** A UDP socket on `address` that sends raw datagrams and keeps every SIP response it gets. */
export class UdpProbe {
  readonly answers: Answer[] = [];
  sendErrors = 0;
  private constructor(
    private readonly sock: Socket,
    readonly address: string,
    readonly port: number,
  ) {}

  static open(address = '127.0.0.1'): Promise<UdpProbe> {
    return new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, address, () => {
        s.off('error', reject);
        s.on('error', () => undefined); // ICMP errors while the burst runs are not ours to judge
        const probe = new UdpProbe(s, address, s.address().port);
        s.on('message', (m) => probe.receive(m));
        resolve(probe);
      });
    });
  }

  private receive(m: Buffer): void {
    const text = m.toString('latin1');
    const first = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(text);
    if (!first) return;
    const callId = /^(?:Call-ID|i)\s*:\s*([^\r\n]*)/im.exec(text)?.[1].trim() ?? '';
    this.answers.push({ status: Number(first[1]), reason: first[2], callId, text });
  }

  send(buf: Buffer | string, port: number): Promise<void> {
    return new Promise((resolve) => {
      this.sock.send(typeof buf === 'string' ? Buffer.from(buf) : buf, port, '127.0.0.1', (err) => {
        if (err) this.sendErrors++;
        resolve();
      });
    });
  }

  /** The final answer (>= 200) for `callId` (and the CSeq method, if given), waited for with a generous bound. */
  async final(callId: string, timeoutMs = 10000, method?: string): Promise<Answer> {
    const mine = (x: Answer): boolean => x.callId === callId && x.status >= 200 && (!method || new RegExp(`^CSeq:\\s*\\d+ ${method}\\b`, 'im').test(x.text));
    const a = await until(() => this.answers.find(mine), `an answer for Call-ID ${callId}`, timeoutMs);
    if (!a) throw new Error(`no answer for Call-ID ${callId}`);
    return a;
  }

  /**
   * Send a request and retransmit it every 500 ms (RFC 3261 §17.1.1.2, Timer A, kept flat) until its final
   * answer: a datagram the kernel dropped from a full receive buffer is not the appliance's fault.
   */
  async ask(msg: string, port: number, callId: string, method?: string, timeoutMs = 10000): Promise<Answer> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      await this.send(msg, port);
      const a = await this.final(callId, 500, method).catch(() => undefined);
      if (a) return a;
      if (Date.now() > end) throw new Error(`no final answer for Call-ID ${callId} within ${timeoutMs} ms`);
    }
  }

  close(): void {
    this.sock.close();
  }
}

export interface RequestParts {
  method: string;
  user: string;
  appPort: number;
  probe: UdpProbe;
  callId: string;
  body?: string;
  /** Content-Length as written (default: the body's length). */
  contentLength?: string;
  /** Extra header lines. */
  extra?: string[];
  /** Number of Via headers (the first one is ours, the rest are made up). */
  vias?: number;
}

/**
 * A request as a phone would send it. Content-Length comes right after the
 * Via so that a truncated copy keeps it: a cut INVITE can then never pass
 * for a complete INVITE without SDP (which the appliance would answer).
 */
export function request(o: RequestParts): string {
  const body = o.body ?? '';
  const vias = [`Via: SIP/2.0/UDP ${o.probe.address}:${o.probe.port};branch=z9hG4bK${o.callId.slice(0, 16)};rport`];
  for (let i = 1; i < (o.vias ?? 1); i++) vias.push(`Via: SIP/2.0/UDP 10.${(i >> 8) & 255}.${i & 255}.1:5060;branch=z9hG4bKv${i}`);
  return [
    `${o.method} sip:${o.user}@127.0.0.1:${o.appPort} SIP/2.0`,
    ...vias,
    `Content-Length: ${o.contentLength ?? Buffer.byteLength(body)}`,
    'Max-Forwards: 70',
    `From: <sip:03472619287@${o.probe.address}:${o.probe.port}>;tag=t${o.callId.slice(0, 8)}`,
    `To: <sip:${o.user}@127.0.0.1:${o.appPort}>`,
    `Call-ID: ${o.callId}`,
    `CSeq: 1 ${o.method}`,
    `Contact: <sip:03472619287@${o.probe.address}:${o.probe.port}>`,
    ...(o.extra ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    '',
    body,
  ].join('\r\n');
}

/** A well-formed SDP offer (PCMA + telephone-event) on an RTP port nobody listens to. */
export function sdpOffer(ip = '127.0.0.1', port = 9): string {
  return ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=audio ${port} RTP/AVP 8 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
}

/** SDP bodies that are broken in different ways (each must be refused, never answered 200). */
export const BROKEN_SDP: string[] = [
  'this is not sdp at all',
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n', // no media
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n', // no common codec
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 8\r\n', // port out of range
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n', // no c= line anywhere
  'v=0\r\nm=audio x RTP/AVP 8\r\n',
  `v=0\r\n${'a=x\r\n'.repeat(5000)}`,
];

export type Kind = 'random' | 'truncated-invite' | 'max-size-garbage' | 'max-size-invite' | 'crlf';

/** One datagram of the hostile burst: mostly random bytes and INVITEs cut short, a few of the largest size UDP carries. */
export function hostileDatagram(rnd: () => number, i: number, appPort: number, probe: UdpProbe): { kind: Kind; buf: Buffer } {
  const r = rnd();
  if (i % 500 === 499) {
    // the largest IPv4 UDP payload (65535 - 8 - 20 = 65507 bytes)
    if (r < 0.5) return { kind: 'max-size-garbage', buf: randomBuffer(rnd, 65507) };
    // the pad alone fills the datagram: the cut falls inside it, so the INVITE can never be complete
    const inv = request({ method: 'INVITE', user: '799', appPort, probe, callId: `max${i}`, extra: [`X-Pad: ${'A'.repeat(65507)}`], body: sdpOffer() });
    return { kind: 'max-size-invite', buf: Buffer.from(inv).subarray(0, 65507) };
  }
  if (r < 0.45) return { kind: 'random', buf: randomBuffer(rnd, 1 + Math.floor(rnd() * 1400)) };
  if (r < 0.5) return { kind: 'crlf', buf: Buffer.from('\r\n\r\n') };
  const inv = Buffer.from(request({ method: 'INVITE', user: '799', appPort, probe, callId: `cut${i}`, body: sdpOffer() }));
  // strictly shorter than the whole message: never a complete INVITE
  return { kind: 'truncated-invite', buf: inv.subarray(0, 1 + Math.floor(rnd() * (inv.length - 2))) };
}

function randomBuffer(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Lines the appliance printed after `from` (an earlier length of its output). */
export function linesSince(output: string, from: number): string[] {
  return output.slice(from).split('\n').filter(Boolean);
}

/**
 * ACK or BYE in the dialog a 2xx to our INVITE created (RFC 3261 §12.2.1.1):
 * to the remote target (the 2xx's Contact), From/To with both tags, a new branch.
 */
export function inDialog(method: 'ACK' | 'BYE', ok: Answer, probe: UdpProbe, cseq: number): string {
  const get = (h: string): string => new RegExp(`^${h}\\s*:\\s*([^\\r\\n]*)`, 'im').exec(ok.text)?.[1] ?? '';
  const target = /<([^>]+)>/.exec(get('Contact'))?.[1] ?? 'sip:invalid';
  return [
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${probe.address}:${probe.port};branch=z9hG4bK${method}${cseq}${ok.callId.slice(0, 12)};rport`,
    'Max-Forwards: 70',
    `From: ${get('From')}`,
    `To: ${get('To')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
