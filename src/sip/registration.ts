/**
 * Registration client (RFC 3261 §10.2): REGISTER an AOR with our Contact,
 * digest auth through the UA, refresh before expiry, re-register after
 * failures with a doubling backoff, un-REGISTER (Expires: 0) on stop.
 * The password stays inside the credential lookup; it is never logged.
 */
import type { Endpoint, SipResponse, SipUri } from './message.js';
import { TypedEmitter } from './emitter.js';
import { StateTimers } from './timers.js';
import { newCallId, newTag } from './ids.js';
import { parseNameAddr } from './header-values.js';
import { cseqOf } from './transaction/common.js';
import type { UserAgent } from './ua.js';
import { formatUri } from './uri.js';
import { errText, type Logger } from '../util/log.js';

export interface RegistrationOptions {
  ua: UserAgent;
  /** Request-URI of the REGISTER (§10.2: the registrar's domain), e.g. sip:pbx.example. */
  registrar: SipUri;
  /** Next hop when it differs from the registrar URI. */
  via?: Endpoint;
  /** The address of record (To and From). */
  aor: SipUri;
  /** Requested binding lifetime in seconds (default 3600). */
  expires?: number;
  logger: Logger;
  /**
   * Refresh at half the granted lifetime, but at least this often (default 30 s): a PBX that
   * restarted with an empty location table is noticed within it. An emergency line must not
   * stay unreachable for half an hour (half of a 1 h binding) after a PBX restart.
   */
  maxRefreshMs?: number;
  /** First retry delay after a failure (default 5 s), doubled up to `maxBackoffMs` (default 5 min). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export type RegistrationStatus = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationEvents {
  registered: (expires: number) => void;
  failed: (reason: string) => void;
  unregistered: () => void;
}

export class Registration extends TypedEmitter<RegistrationEvents> {
  status: RegistrationStatus = 'idle';
  /** Seconds granted by the registrar in the last 200. */
  expires = 0;
  lastError?: string;
  private readonly callId: string;
  private readonly fromTag = newTag();
  private cseq = 1;
  private backoff: number;
  private readonly timers = new StateTimers();
  private readonly log: Logger;
  private inFlight?: Promise<void>;

  constructor(private readonly opts: RegistrationOptions) {
    super();
    this.callId = newCallId(opts.ua.sentBy.host);
    this.backoff = opts.backoffMs ?? 5000;
    this.log = opts.logger.child(`register ${formatUri(opts.aor)}`);
  }

  start(): void {
    if (this.status !== 'idle' && this.status !== 'stopped') return;
    this.status = 'registering';
    this.inFlight = this.register();
  }

  /** Un-REGISTER (Expires: 0) when registered; clears every timer. */
  async stop(): Promise<void> {
    this.status = 'stopped';
    this.timers.clearAll();
    await this.inFlight;
    if (this.expires === 0) return;
    const res = await this.send(0);
    this.expires = 0;
    if (res.status >= 200 && res.status < 300) this.emit('unregistered');
    else this.log.warn(`un-REGISTER answered ${res.status} ${res.reason}`);
  }

  private async register(): Promise<void> {
    let res: SipResponse;
    try {
      res = await this.send(this.opts.expires ?? 3600);
    } catch (e) {
      return this.fail(`REGISTER failed: ${errText(e)}`);
    }
    const ok = res.status >= 200 && res.status < 300;
    if (this.status === 'stopped') {
      // stop() came while this REGISTER was out: remember the binding so stop() removes it.
      if (ok) this.expires = grantedExpires(res, this.opts.ua.sentBy) ?? 1;
      return;
    }
    if (ok) return this.success(res);
    this.fail(`${res.status} ${res.reason}`);
  }

  private send(expires: number): Promise<SipResponse> {
    const ua = this.opts.ua;
    const p = ua.request({
      method: 'REGISTER',
      target: this.opts.registrar,
      via: this.opts.via,
      from: { uri: this.opts.aor, params: new Map() },
      to: { uri: this.opts.aor, params: new Map() },
      headers: [
        ['contact', ua.contact(this.opts.aor.user)],
        ['expires', String(expires)],
      ],
      callId: this.callId,
      fromTag: this.fromTag,
      cseq: this.cseq,
    });
    return p.then((res) => {
      // §10.2.4: the next REGISTER of this Call-ID continues the CSeq (the digest retry may have used more).
      this.cseq = (cseqOf(res)?.seq ?? this.cseq) + 1;
      return res;
    });
  }

  private success(res: SipResponse): void {
    const granted = grantedExpires(res, this.opts.ua.sentBy) ?? this.opts.expires ?? 3600;
    this.expires = granted;
    this.status = 'registered';
    this.backoff = this.opts.backoffMs ?? 5000;
    this.lastError = undefined;
    this.log.info(`registered for ${granted} s`);
    this.emit('registered', granted);
    // Refresh at half the lifetime (at least 1 s, at most maxRefreshMs), well before the binding expires.
    this.timers.start('refresh', Math.max(1000, Math.min((granted * 1000) / 2, this.opts.maxRefreshMs ?? 30_000)), () => {
      this.inFlight = this.register();
    });
  }

  private fail(reason: string): void {
    if (this.status === 'stopped') return;
    this.status = 'failed';
    this.lastError = reason;
    this.log.warn(`registration failed: ${reason}; retry in ${Math.round(this.backoff / 1000)} s`);
    this.emit('failed', reason);
    this.timers.start('retry', this.backoff, () => {
      this.status = 'registering';
      this.inFlight = this.register();
    });
    this.backoff = Math.min(2 * this.backoff, this.opts.maxBackoffMs ?? 300000);
  }
}

/** §10.2.4: our Contact's expires parameter, else the Expires header. */
function grantedExpires(res: SipResponse, sentBy: { host: string; port: number }): number | undefined {
  for (const c of res.headers.getAll('contact')) {
    try {
      const na = parseNameAddr(c);
      if (na.uri.host === sentBy.host && (na.uri.port ?? 5060) === sentBy.port) {
        const e = na.params.get('expires');
        if (e != null && /^\d+$/.test(e)) return Number(e);
      }
    } catch {
      continue; // a contact of someone else we cannot read does not matter
    }
  }
  const h = res.headers.get('expires');
  return h !== undefined && /^\d+$/.test(h.trim()) ? Number(h.trim()) : undefined;
}
