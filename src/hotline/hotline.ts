/**
 * The appliance's front door: every out-of-dialog INVITE lands here.
 * - Only sources allowed by pbx.ini may start a call: others get 403 and no
 *   call is placed anywhere (toll fraud).
 * - <XMLnumber>: the waiting queue, then the emergency call.
 * - <XMLnumber>*21 / *21*<ext> / #21: CFU by phone.
 * - Anything else: 404.
 * - Calls not yet keyed (waiting queue, CFU) are capped (admission.ts):
 *   over a cap, 486 at once. RFC 3261 §21.4.24 486 Busy Here refuses this
 *   one call ("not willing or able to take additional calls"); a 503
 *   (§21.5.4) tells the PBX to send nothing more to us for Retry-After, or
 *   to try another server, which would turn a flood into refusing the real
 *   callers too.
 * - RTP ports are reserved for the technician legs of keyed calls
 *   (port-pool.ts), sized from the card (admission.ts reservedPorts).
 */
import { measureMemory } from 'node:vm';
import type { CardConfig } from '../config/card.js';
import { isAllowed } from '../config/ip-allow.js';
import type { IncomingInvite } from '../sip/ua-incoming.js';
import { RateLimitedLog } from '../sip/rate-log.js';
import { sanitizeNumber, ANONYMOUS } from '../tickets/ticket-name.js';
import { errText, type Logger } from '../util/log.js';
import { Admission, MAX_WAITING_PER_CALLER, reservedPorts, type WaitingSlot } from './admission.js';
import { callerNumber } from './caller-id.js';
import { CallerLeg } from './caller-leg.js';
import { handleCfu } from './cfu-call.js';
import { EmergencyCall } from './emergency-call.js';
import { parseDialled } from './feature-code.js';
import type { HotlineServices } from './services.js';
import { waitForProceed, type QueueOutcome } from './waiting-queue.js';

/** How long no call must be in progress before the heap a burst of calls grew is collected. */
export const IDLE_COLLECT_MS = 10_000;

/**
 * One full garbage collection, asked of V8 when the appliance is idle. An idle
 * process allocates nothing, so V8 never collects, and the heap a flood grew
 * (issue 16: 45 -> 62 MB RSS, the live objects back at their size) would stay
 * committed for good. `vm.measureMemory` with `execution: 'eager'` is the one
 * public API that runs a collection without `--expose-gc` (Node 20).
 */
function collectIdleHeap(): void {
  measureMemory({ mode: 'summary', execution: 'eager' }).catch(() => undefined);
}

export interface HotlineOptions {
  /** The card as it is now (undefined while it has never been usable). */
  config(): CardConfig | undefined;
  /** Re-read the card now (after we wrote to it). */
  reload(): Promise<void>;
  /** Run `run` once no call has been in progress for `afterMs` after some INVITEs (default: one full GC after IDLE_COLLECT_MS). */
  idleCollect?: { afterMs: number; run: () => void };
}

export class Hotline {
  private readonly calls = new Set<Promise<void>>();
  private seq = 0;
  /** Refusals are what a scanner triggers at will: at most one line a second, the rest counted. */
  private readonly refusals: RateLimitedLog;
  /** 486s for a full waiting queue: a flood's own line, not drowned by (nor drowning) the 403s of scanners. */
  private readonly busy: RateLimitedLog;
  /** Waiting callers refused for want of an unreserved RTP port (pbx.ini [rtp] ports small for MaxWaiting.txt). */
  private readonly noPort: RateLimitedLog;
  private readonly admission = new Admission();
  /** The card the port reserve was last sized for. */
  private sizedFor: CardConfig | undefined;
  /** INVITEs since the last idle collection: none, nothing to collect. */
  private invitesSinceIdle = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly svc: HotlineServices,
    private readonly opts: HotlineOptions,
  ) {
    this.refusals = new RateLimitedLog(svc.logger);
    this.busy = new RateLimitedLog(svc.logger);
    this.noPort = new RateLimitedLog(svc.logger);
    this.sizeReserve(opts.config());
  }

  /** Calls that hold a place in the waiting queue (not yet keyed). */
  get waiting(): number {
    return this.admission.count;
  }

  /** Calls in progress (waiting queue, hunt, CFU). */
  get active(): number {
    return this.calls.size;
  }

  onInvite(inv: IncomingInvite): void {
    this.invitesSinceIdle++;
    this.armIdleCollect();
    const src = `${inv.source.address}:${inv.source.port}`;
    const config = this.opts.config();
    if (!config) {
      this.refusals.error(`INVITE from ${src} refused with 503: the card is not usable (see the problems logged above)`);
      inv.respond(503, 'Card Not Usable');
      return;
    }
    if (!isAllowed(inv.source.address, config.pbx.allow)) {
      this.refusals.warn(`INVITE from ${src} refused with 403: not in pbx.ini allow`);
      inv.respond(403, 'Forbidden');
      return;
    }
    const dialled = parseDialled(inv.request.uri.user ?? '', config.xmlNumber);
    if (!dialled) {
      this.refusals.warn(`INVITE for ${inv.request.uri.user ?? '(no user)'} from ${src} refused with 404: not ${config.xmlNumber} or one of its feature codes`);
      inv.respond(404, 'Not Found');
      return;
    }
    this.sizeReserve(config);
    const slot = this.admit(inv, config, src);
    if (!slot) return;
    const log = this.svc.logger.child(`call ${++this.seq}`);
    const work =
      dialled.kind === 'emergency' ? this.emergency(inv, config, log, slot) : handleCfu(inv, dialled, config, this.svc, this.opts.reload, log);
    // the place is given back when the call is keyed (emergency) or, at the latest, over
    const tracked = work.catch((e: unknown) => log.error(`call failed: ${errText(e)}`)).finally(() => slot.leave());
    this.calls.add(tracked);
    void tracked.finally(() => {
      this.calls.delete(tracked);
      this.armIdleCollect();
    });
  }

  /** (Re)start the idle timer: it fires once no call has been in progress for IDLE_COLLECT_MS. */
  private armIdleCollect(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.calls.size > 0 || this.invitesSinceIdle === 0) return;
      this.invitesSinceIdle = 0;
      (this.opts.idleCollect?.run ?? collectIdleHeap)();
    }, this.opts.idleCollect?.afterMs ?? IDLE_COLLECT_MS);
    // never the reason the process stays up
    this.idleTimer.unref();
  }

  /** A place in the waiting queue, or 486 at once (one rate-limited line). */
  private admit(inv: IncomingInvite, config: CardConfig, src: string): WaitingSlot | undefined {
    const raw = sanitizeNumber(callerNumber(inv.request));
    const number = raw === ANONYMOUS ? undefined : raw;
    const r = this.admission.enter(inv.source.address, number, config.maxWaiting);
    if (r.ok) return r;
    const why =
      r.cap === 'total'
        ? `${r.limit} callers already wait for the proceed key (MaxWaiting.txt)`
        : `${number ?? ANONYMOUS} already has ${r.limit} calls waiting for the proceed key`;
    this.busy.warn(`INVITE from ${src} (caller ${number ?? ANONYMOUS}) refused with 486: ${why}`);
    inv.respond(486, 'Busy Here');
    return undefined;
  }

  /** Keep the RTP ports the card's keyed calls need (sized again when the card changes); logs what it reserved. */
  private sizeReserve(config: CardConfig | undefined): void {
    if (!config || config === this.sizedFor) return;
    this.sizedFor = config;
    const want = reservedPorts(config);
    const before = this.svc.pool.reserved;
    const got = this.svc.pool.setReserved(want.ports);
    if (got === before && before !== 0) return;
    const clamp = got < want.ports ? `, cut to half of the pool's ${this.svc.pool.capacity} (pbx.ini [rtp] ports is small)` : '';
    this.svc.logger.info(
      `RTP: ${got} of ${this.svc.pool.capacity} ports reserved for the technician legs of calls that pressed the proceed key ` +
        `(${want.legsPerHop} leg(s) per hop x ${want.calls} calls${clamp}); at most ${config.maxWaiting} callers wait for the key, ${MAX_WAITING_PER_CALLER} per caller`,
    );
  }

  private async emergency(inv: IncomingInvite, config: CardConfig, log: Logger, slot: WaitingSlot): Promise<void> {
    let leg: CallerLeg | undefined;
    let outcome: QueueOutcome | undefined;
    try {
      leg = await CallerLeg.answer(inv, config, this.svc, log, this.noPort);
      if (!leg) return;
      log.info(`answered ${leg.number}: announcement`);
      outcome = await waitForProceed(leg, config, this.svc, log);
    } finally {
      // keyed (or gone): the call no longer counts against MaxWaiting
      slot.leave();
    }
    if (outcome === 'caller-gone') {
      log.info('caller hung up in the waiting queue: no ticket');
      leg.close();
      return;
    }
    if (outcome === 'gave-up') {
      await leg.play(this.svc.prompt(config.prompts.goodbye));
      await leg.release();
      return;
    }
    // The card as it is at the key press: a CFU switched meanwhile counts.
    await new EmergencyCall(leg, this.opts.config() ?? config, this.svc, log).run();
  }
}
