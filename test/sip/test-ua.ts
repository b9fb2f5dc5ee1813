/**
 * A tiny UA application for end-to-end tests: our SIP core (imported from
 * src) on a free port of 127.0.0.1, with behaviour each test configures,
 * recording what happened as a list of events.
 */
import type { Endpoint, SipUri } from '../../src/sip/message.js';
import { SipTransport } from '../../src/sip/transport.js';
import { UserAgent, type IncomingInvite, type IncomingRequest } from '../../src/sip/ua.js';
import type { Dialog } from '../../src/sip/dialog.js';
import type { TimerValues } from '../../src/sip/timers.js';
import { memoryLogger } from '../../src/util/log.js';
import { parseUri } from '../../src/sip/uri.js';
import { freePort } from '../lab/ports.js';

export function sdp(tag: string, port = 40000): string {
  return ['v=0', `o=ticketline 1 1 IN IP4 127.0.0.1`, `s=${tag}`, 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 8 101`, 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
}

export interface Behaviour {
  /** What to do with a new INVITE: answer, ring forever, or a final error status. */
  invite?: 'answer' | 'ring' | number;
  /** Ring this long before answering (ms). */
  ringMs?: number;
  /** After the ACK, hang up after this many ms (we send BYE). */
  hangupAfterMs?: number;
  /** Answer for MESSAGE (and other out-of-dialog requests). */
  requestStatus?: number;
  /** SDP answered to a re-INVITE (default: the current local SDP). */
  reinviteSdp?: string;
}

export interface TestUa {
  ua: UserAgent;
  transport: SipTransport;
  port: number;
  endpoint: Endpoint;
  log: ReturnType<typeof memoryLogger>;
  events: string[];
  dialogs: Dialog[];
  behaviour: Behaviour;
  uri(user: string): SipUri;
  /** Resolve when an event matching `re` has been recorded. */
  waitEvent(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestUa(
  behaviour: Behaviour = {},
  opts: { timers?: Partial<TimerValues>; credentials?: (realm: string) => { username: string; password: string } | undefined; maxServerTransactions?: number } = {},
): Promise<TestUa> {
  const port = await freePort();
  const log = memoryLogger();
  const transport = new SipTransport({ host: '127.0.0.1', port, logger: log });
  const ua = new UserAgent({ transport, contactHost: '127.0.0.1', contactPort: port, logger: log, userAgent: 'ticketline-test', timers: opts.timers, credentials: opts.credentials, maxServerTransactions: opts.maxServerTransactions });
  const events: string[] = [];
  const dialogs: Dialog[] = [];
  const waiters: Array<() => void> = [];
  const record = (e: string): void => {
    events.push(e);
    for (const w of waiters.slice()) w();
  };
  const self: TestUa = {
    ua, transport, port, log, events, dialogs, behaviour,
    endpoint: { address: '127.0.0.1', port },
    uri: (user) => parseUri(`sip:${user}@127.0.0.1:${port}`),
    waitEvent(re, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const e = events.find((x) => re.test(x));
          if (e === undefined) return false;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(e);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`no event ${re} within ${timeoutMs} ms; events: ${events.join(' ')}\n${log.lines.slice(-20).join('\n')}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    stop: () => ua.stop(),
  };
  ua.onInvite = (inv) => onInvite(self, inv, record);
  ua.onRequest = (req: IncomingRequest) => {
    record(`request:${req.request.method}:${req.request.body.toString().trim()}`);
    req.respond(self.behaviour.requestStatus ?? 200);
  };
  await ua.start();
  return self;
}

/** Follow a dialog's events into the record. */
export function watchDialog(self: TestUa, d: Dialog, record: (e: string) => void): void {
  self.dialogs.push(d);
  d.on('bye', () => record('bye'));
  d.on('closed', () => record('closed'));
  d.on('info', (body, type) => record(`info:${type}:${body.toString().trim()}`));
  d.on('reinvite', (offer) => {
    record(`reinvite:${/s=(.*)/.exec(offer)?.[1]?.trim() ?? ''}`);
    return self.behaviour.reinviteSdp;
  });
}

function onInvite(self: TestUa, inv: IncomingInvite, record: (e: string) => void): void {
  const b = self.behaviour;
  record('invite');
  inv.on('cancel', () => record('cancel'));
  const what = b.invite ?? 'answer';
  if (typeof what === 'number') return inv.respond(what);
  inv.respond(180);
  if (what === 'ring') return;
  const answer = (): void => {
    inv.accept(sdp('uas-answer')).then(
      (d) => {
        record('ack');
        watchDialog(self, d, record);
        if (b.hangupAfterMs !== undefined) setTimeout(() => void d.bye().then(() => record('bye-sent')), b.hangupAfterMs);
      },
      (e: Error) => record(`accept-failed:${e.message}`),
    );
  };
  if (b.ringMs) setTimeout(answer, b.ringMs);
  else answer();
}
