/**
 * Technician phones for long runs (the kill -9 bench): one UDP socket on
 * 127.0.0.1 registered at the test PBX for several extensions, answering
 * every INVITE as `decide()` says (ring for ever, or answer after a while
 * and hang up after another), and keeping every instant message (MESSAGE)
 * it gets. Unlike a SIPp UAS it has no global time-out and no per-call
 * script, and it notes when each INVITE arrived (for key press -> INVITE).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { registerContact } from './register.js';

export interface PhoneAnswer {
  /** Answer this long after the INVITE; undefined: ring until CANCEL. */
  answerMs?: number;
  /** Hang up (BYE) this long after answering; undefined: wait for the appliance's BYE. */
  hangupMs?: number;
}

export interface Im {
  readonly at: number;
  readonly to: string;
  readonly text: string;
}

interface Dialog {
  invite: Msg;
  from: RemoteInfo;
  tag: string;
  timers: NodeJS.Timeout[];
  answered: boolean;
  done: boolean;
}

interface Msg {
  first: string;
  headers: Array<[string, string]>;
  body: string;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };

function parse(text: string): Msg | null {
  const [head, ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  if (!lines[0]) return null;
  const headers: Array<[string, string]> = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    headers.push([COMPACT[name] ?? name, l.slice(i + 1).trim()]);
  }
  return { first: lines[0], headers, body: rest.join('\r\n\r\n') };
}

const all = (m: Msg, name: string): string[] => m.headers.filter(([n]) => n === name).map(([, v]) => v);
const one = (m: Msg, name: string): string => all(m, name)[0] ?? '';

export class SipPhones {
  /** INVITE arrival times (Date.now()), in order. */
  readonly invites: Array<{ at: number; to: string; callId: string }> = [];
  readonly ims: Im[] = [];
  private readonly dialogs = new Map<string, Dialog>();

  private constructor(
    private readonly sock: Socket,
    readonly port: number,
    private readonly decide: (to: string) => PhoneAnswer,
  ) {
    sock.on('message', (m, r) => this.receive(m.toString('latin1'), r));
  }

  static async open(pbxPort: number, users: string[], decide: (to: string) => PhoneAnswer): Promise<SipPhones> {
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    sock.on('error', () => undefined);
    const phones = new SipPhones(sock, sock.address().port, decide);
    for (const u of users) await registerContact(pbxPort, u, phones.port, 3600);
    return phones;
  }

  close(): void {
    for (const d of this.dialogs.values()) for (const t of d.timers) clearTimeout(t);
    this.sock.close();
  }

  private receive(text: string, r: RemoteInfo): void {
    const m = parse(text);
    if (!m || m.first.startsWith('SIP/2.0')) return; // responses (to our BYE): nothing to do
    const method = m.first.split(' ')[0];
    const callId = one(m, 'call-id');
    const d = this.dialogs.get(callId);
    if (method === 'INVITE') return d ? undefined : this.invite(m, r, callId);
    if (method === 'MESSAGE') {
      this.reply(m, r, 200, 'OK');
      this.ims.push({ at: Date.now(), to: /sip:([^@>;]*)/.exec(m.first)?.[1] ?? '', text: m.body });
      return;
    }
    if (method === 'ACK') return;
    this.reply(m, r, 200, 'OK', d?.tag); // BYE, CANCEL, OPTIONS, ...
    if (!d) return;
    if (method === 'CANCEL' && !d.answered) this.reply(d.invite, d.from, 487, 'Request Terminated', d.tag);
    if (method === 'CANCEL' || method === 'BYE') this.end(d);
  }

  private invite(m: Msg, r: RemoteInfo, callId: string): void {
    const to = /sip:([^@>;]*)/.exec(m.first)?.[1] ?? '';
    this.invites.push({ at: Date.now(), to, callId });
    const d: Dialog = { invite: m, from: r, tag: randomBytes(4).toString('hex'), timers: [], answered: false, done: false };
    this.dialogs.set(callId, d);
    this.reply(m, r, 180, 'Ringing', d.tag);
    const plan = this.decide(to);
    if (plan.answerMs === undefined) return;
    d.timers.push(
      setTimeout(() => {
        if (d.done) return;
        d.answered = true;
        const sdp = `v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${this.port} RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n`;
        this.reply(m, r, 200, 'OK', d.tag, sdp, to);
        if (plan.hangupMs !== undefined) d.timers.push(setTimeout(() => this.bye(d, to), plan.hangupMs));
      }, plan.answerMs),
    );
  }

  private bye(d: Dialog, user: string): void {
    if (d.done) return;
    const m = d.invite;
    const target = /<([^>]*)>/.exec(one(m, 'contact'))?.[1] ?? one(m, 'contact');
    const lines = [
      `BYE ${target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      ...all(m, 'record-route').map((rr) => `Route: ${rr}`),
      `From: ${one(m, 'to')};tag=${d.tag}`,
      `To: ${one(m, 'from')}`,
      `Call-ID: ${one(m, 'call-id')}`,
      'CSeq: 1 BYE',
      `Contact: <sip:${user}@127.0.0.1:${this.port}>`,
      'Max-Forwards: 70',
      'Content-Length: 0',
    ];
    this.sock.send(`${lines.join('\r\n')}\r\n\r\n`, d.from.port, d.from.address);
    this.end(d);
  }

  private end(d: Dialog): void {
    d.done = true;
    for (const t of d.timers) clearTimeout(t);
  }

  private reply(m: Msg, r: RemoteInfo, code: number, reason: string, tag?: string, sdp?: string, user?: string): void {
    const to = one(m, 'to');
    const lines = [
      `SIP/2.0 ${code} ${reason}`,
      ...all(m, 'via').map((v) => `Via: ${v}`),
      ...(code < 300 && m.first.startsWith('INVITE') ? all(m, 'record-route').map((rr) => `Record-Route: ${rr}`) : []),
      `From: ${one(m, 'from')}`,
      `To: ${tag && !/;tag=/.test(to) ? `${to};tag=${tag}` : to}`,
      `Call-ID: ${one(m, 'call-id')}`,
      `CSeq: ${one(m, 'cseq')}`,
      ...(user ? [`Contact: <sip:${user}@127.0.0.1:${this.port}>`] : []),
      ...(sdp ? ['Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp] : ['Content-Length: 0', '', '']),
    ];
    this.sock.send(lines.join('\r\n'), r.port, r.address);
  }
}
