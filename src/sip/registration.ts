/**
 * Registration client (RFC 3261 §10.2): REGISTER an AOR with our Contact,
 * digest auth through the UA, refresh before expiry, re-register after
 * failures, un-REGISTER (Expires: 0) on stop. The password stays inside the
 * credential lookup; it is never logged.
 *
 * Reachable, not only registered: an emergency line must be reachable again
 * within seconds of its PBX being back.
 * - A refused REGISTER (a response) is retried with a doubling backoff, but
 *   never more than 30 s apart. A REGISTER nobody answered already took
 *   Timer F (32 s, retransmitting every T2 = 4 s): it is retried after the
 *   first backoff step (5 s) again and again, so a PBX that comes back is
 *   found by the next retransmission or retry, within ~5 s.
 * - While registered, an OPTIONS to our own AOR through the PBX (the path a
 *   caller's INVITE takes) probes every `probeMs` (10 s). A PBX that restarted
 *   with an empty location table answers 404 (or 480/410/604): we register
 *   again at once instead of waiting for the refresh. The probe reaches us
 *   when the PBX routes our number, and our UA answers it 200.
 */
import type { Endpoint, SipResponse, SipUri } from './message.js';
import { TypedEmitter } from './emitter.js';
import { StateTimers } from './timers.js';
import { newCallId, newTag } from './ids.js';
import { parseNameAddr } from './header-values.js';
import { cseqOf } from './transaction/common.js';
import type { UserAgent } from './ua.js';
import { formatUri } from './uri.js';
import { uriEndpoint } from './request-builder.js';
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
  /** First retry delay after a failure (default 5 s), doubled after each refusal up to `maxBackoffMs` (default 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** While registered, probe our own AOR through the PBX this often (default 10 s; 0 = never). */
  probeMs?: number;
}

/** Answers to the probe that say the PBX does not route our number (any more). */
const NOT_ROUTED = new Set([404, 410, 480, 604]);
const DEFAULT_BACKOFF_MS = 5000;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_PROBE_MS = 10_000;

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
  private probing = false;
  /** A REGISTER is out: the probe neither overlaps it nor sends a second one. */
  private sending = false;

  constructor(private readonly opts: RegistrationOptions) {
    super();
    this.callId = newCallId(opts.ua.sentBy.host);
    this.backoff = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
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
    this.sending = true;
    try {
      res = await this.send(this.opts.expires ?? 3600);
    } catch (e) {
      return this.fail(`REGISTER failed: ${errText(e)}`, false);
    } finally {
      this.sending = false;
    }
    const ok = res.status >= 200 && res.status < 300;
    if (this.status === 'stopped') {
      // stop() came while this REGISTER was out: remember the binding so stop() removes it.
      if (ok) this.expires = grantedExpires(res, this.opts.ua.sentBy) ?? 1;
      return;
    }
    if (ok) return this.success(res);
    this.fail(`${res.status} ${res.reason}`, !unanswered(res));
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
    this.backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.lastError = undefined;
    this.log.info(`registered for ${granted} s`);
    this.emit('registered', granted);
    // Refresh at half the lifetime (at least 1 s, at most maxRefreshMs), well before the binding expires.
    this.timers.start('refresh', Math.max(1000, Math.min((granted * 1000) / 2, this.opts.maxRefreshMs ?? 30_000)), () => {
      this.inFlight = this.register();
    });
    const probeMs = this.opts.probeMs ?? DEFAULT_PROBE_MS;
    if (probeMs > 0) this.timers.start('probe', probeMs, () => void this.probe(probeMs));
  }

  /** OPTIONS to our own AOR through the PBX; a "not routed" answer registers again at once. */
  private async probe(probeMs: number): Promise<void> {
    if (this.status !== 'registered' || this.probing) return;
    const again = (): void => this.timers.start('probe', probeMs, () => void this.probe(probeMs));
    // a refresh is out: its answer says as much as the probe would
    if (this.sending) return again();
    this.probing = true;
    let res: SipResponse;
    try {
      const aor = { uri: this.opts.aor, params: new Map() };
      // through the PBX (the registrar, or the next hop towards it): the path a caller's INVITE takes
      const via = this.opts.via ?? uriEndpoint(this.opts.registrar);
      res = await this.opts.ua.request({ method: 'OPTIONS', target: this.opts.aor, via, from: aor, to: aor });
    } finally {
      this.probing = false;
    }
    if (this.status !== 'registered') return; // failed or stopped meanwhile: success() probes again
    if (this.sending) return again();
    if (NOT_ROUTED.has(res.status) || unanswered(res)) {
      const why = unanswered(res) ? 'no answer from the PBX' : `the PBX does not route ${formatUri(this.opts.aor)} (OPTIONS answered ${res.status} ${res.reason})`;
      this.log.warn(`${why}: registering again now`);
      this.timers.clear('refresh');
      this.status = 'registering';
      this.inFlight = this.register();
      return;
    }
    again();
  }

  /** `answered`: the registrar refused (back off more each time); else nobody answered (Timer F already paced it). */
  private fail(reason: string, answered: boolean): void {
    if (this.status === 'stopped') return;
    this.status = 'failed';
    this.lastError = reason;
    const first = this.opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    const delay = answered ? this.backoff : first;
    this.log.warn(`registration failed: ${reason}; retry in ${Math.round(delay / 1000)} s`);
    this.emit('failed', reason);
    this.timers.start('retry', delay, () => {
      this.status = 'registering';
      this.inFlight = this.register();
    });
    if (answered) this.backoff = Math.min(2 * this.backoff, this.opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
  }
}

/** §8.1.3.1: the UA synthesizes 408 on a timeout and 503 "(local: ...)" on a transport error: nobody answered. */
function unanswered(res: SipResponse): boolean {
  return res.status === 408 || (res.status === 503 && res.reason.includes('(local:'));
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
