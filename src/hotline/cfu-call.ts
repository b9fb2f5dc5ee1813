/**
 * CFU by phone (DESIGN.md §8; seed: "The selection of the first caller is
 * done by default on a predefined user, but can be modified using the follow
 * me feature"): a technician dials <XMLnumber>*21, *21*<ext> or #21. The new
 * state is written to the card (the CFU object's Target.txt) before the
 * confirmation plays, so what the technician hears is what the next
 * emergency call will do.
 */
import { setCfuTarget, type CardConfig } from '../config/card.js';
import { errText, type Logger } from '../util/log.js';
import { CallerLeg } from './caller-leg.js';
import { fromUser } from './caller-id.js';
import type { Dialled } from './feature-code.js';
import type { HotlineServices } from './services.js';
import type { IncomingInvite } from '../sip/ua-incoming.js';

export async function handleCfu(
  inv: IncomingInvite,
  code: Exclude<Dialled, { kind: 'emergency' }>,
  config: CardConfig,
  svc: HotlineServices,
  reload: () => Promise<void>,
  log: Logger,
): Promise<void> {
  const from = fromUser(inv.request);
  // Only technicians on the card may switch who is in charge.
  if (!from || !config.technicians.has(from)) {
    log.warn(`CFU feature code from ${from ?? 'an unreadable From'} refused: not a technician on the card`);
    inv.respond(403, 'Not A Technician');
    return;
  }
  const target = code.kind === 'cfu-clear' ? undefined : (code.ext ?? from);
  let prompt = code.kind === 'cfu-clear' ? config.prompts.cfuCleared : config.prompts.cfuSet;
  if (target !== undefined && !config.technicians.has(target)) {
    log.warn(`CFU to ${target} by ${from} refused: ${target} is not a technician on the card`);
    prompt = config.prompts.error;
  } else {
    try {
      await setCfuTarget(config, target);
      await reload();
      log.info(target ? `CFU set by ${from}: ${target} is in charge` : `CFU cleared by ${from}: ${config.first} (First.txt) is in charge`);
    } catch (e) {
      log.error(`CFU by ${from} not stored: ${errText(e)}`);
      prompt = config.prompts.error;
    }
  }
  const leg = await CallerLeg.answer(inv, config, svc, log);
  if (!leg) return;
  await leg.play(svc.prompt(prompt));
  await leg.release();
}
