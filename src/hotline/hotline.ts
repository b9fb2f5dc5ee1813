/**
 * The appliance's front door: every out-of-dialog INVITE lands here.
 * - Only sources allowed by pbx.ini may start a call: others get 403 and no
 *   call is placed anywhere (toll fraud).
 * - <XMLnumber>: the waiting queue, then the emergency call.
 * - <XMLnumber>*21 / *21*<ext> / #21: CFU by phone.
 * - Anything else: 404.
 */
import type { CardConfig } from '../config/card.js';
import { isAllowed } from '../config/ip-allow.js';
import type { IncomingInvite } from '../sip/ua-incoming.js';
import { RateLimitedLog } from '../sip/rate-log.js';
import { errText, type Logger } from '../util/log.js';
import { CallerLeg } from './caller-leg.js';
import { handleCfu } from './cfu-call.js';
import { EmergencyCall } from './emergency-call.js';
import { parseDialled } from './feature-code.js';
import type { HotlineServices } from './services.js';
import { waitForProceed } from './waiting-queue.js';

export interface HotlineOptions {
  /** The card as it is now (undefined while it has never been usable). */
  config(): CardConfig | undefined;
  /** Re-read the card now (after we wrote to it). */
  reload(): Promise<void>;
}

export class Hotline {
  private readonly calls = new Set<Promise<void>>();
  private seq = 0;
  /** Refusals are what a scanner triggers at will: at most one line a second, the rest counted. */
  private readonly refusals: RateLimitedLog;

  constructor(
    private readonly svc: HotlineServices,
    private readonly opts: HotlineOptions,
  ) {
    this.refusals = new RateLimitedLog(svc.logger);
  }

  /** Calls in progress (waiting queue, hunt, CFU). */
  get active(): number {
    return this.calls.size;
  }

  onInvite(inv: IncomingInvite): void {
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
    const log = this.svc.logger.child(`call ${++this.seq}`);
    const work =
      dialled.kind === 'emergency' ? this.emergency(inv, config, log) : handleCfu(inv, dialled, config, this.svc, this.opts.reload, log);
    const tracked = work.catch((e: unknown) => log.error(`call failed: ${errText(e)}`));
    this.calls.add(tracked);
    void tracked.finally(() => this.calls.delete(tracked));
  }

  private async emergency(inv: IncomingInvite, config: CardConfig, log: Logger): Promise<void> {
    const leg = await CallerLeg.answer(inv, config, this.svc, log);
    if (!leg) return;
    log.info(`answered ${leg.number}: announcement`);
    const outcome = await waitForProceed(leg, config, this.svc, log);
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
