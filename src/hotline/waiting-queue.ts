/**
 * The waiting queue (seed: "A caller calls a WQ where all the preliminary
 * information is played and he must press a key to proceed"; DESIGN.md §1):
 * play the announcement, wait for the proceed key. The key counts as soon
 * as it is pressed, also while the announcement plays. Another key, or
 * silence after the announcement, plays it again; after `tries`
 * announcements without the key: goodbye and release.
 */
import type { CardConfig } from '../config/card.js';
import type { Logger } from '../util/log.js';
import type { CallerLeg } from './caller-leg.js';
import type { HotlineServices } from './services.js';
import { announcementPrompt } from './spoken.js';

export type QueueOutcome = 'proceed' | 'caller-gone' | 'gave-up';

/** How long we wait for a key after the announcement ended, before playing it again. */
export const SILENCE_AFTER_PROMPT_MS = 5000;

export function waitForProceed(leg: CallerLeg, config: CardConfig, svc: HotlineServices, log: Logger, silenceMs = SILENCE_AFTER_PROMPT_MS): Promise<QueueOutcome> {
  return new Promise((resolve) => {
    let tries = 0;
    let silence: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (o: QueueOutcome): void => {
      if (done) return;
      done = true;
      if (silence) clearTimeout(silence);
      leg.media.off('digit', onDigit);
      resolve(o);
    };

    const announce = (): void => {
      if (done) return;
      if (silence) clearTimeout(silence);
      if (tries >= config.tries) {
        log.info(`no proceed key after ${tries} announcements: goodbye`);
        finish('gave-up');
        return;
      }
      tries++;
      void leg.play(announcementPrompt(config, (p) => svc.prompt(p))).then((end) => {
        // 'stopped' means a key interrupted it: that key decides what happens next
        if (end === 'end' && !done) silence = setTimeout(announce, silenceMs);
      });
    };

    const onDigit = (d: string): void => {
      if (done) return;
      if (d === config.proceedKey) {
        log.info(`proceed key ${d} pressed (announcement ${tries})`);
        leg.stopPlaying();
        finish('proceed');
        return;
      }
      log.info(`key ${d} is not the proceed key ${config.proceedKey}: announcing again`);
      announce();
    };

    leg.media.on('digit', onDigit);
    leg.onHangup(() => finish('caller-gone'));
    announce();
  });
}
