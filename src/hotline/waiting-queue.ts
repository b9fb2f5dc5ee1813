/**
 * The waiting queue (seed: "A caller calls a WQ where all the preliminary
 * information is played and he must press a key to proceed"; DESIGN.md §1):
 * play the announcement, wait for the proceed key.
 *
 * The queue forgives (issue 16: a panicking caller pressing 2, 3, 4 was
 * hung up on within two seconds):
 * - the proceed key counts at any moment: while the announcement plays,
 *   in the silence after it, right after any number of wrong keys;
 * - a wrong key never ends the call and never counts as a try: while the
 *   announcement plays it goes on; in the silence after it, it starts
 *   again at once (but not after the last of the `tries` plays: else a
 *   stream of wrong keys, or a stuck key, would hold the line forever);
 * - only COMPLETE plays count: after `tries` complete announcements and
 *   the silence after the last one without the proceed key: goodbye.
 */
import type { CardConfig } from '../config/card.js';
import type { PlayEnd, Prompt } from '../media/index.js';
import type { Logger } from '../util/log.js';
import type { HotlineServices } from './services.js';
import { announcementPrompt } from './spoken.js';

export type QueueOutcome = 'proceed' | 'caller-gone' | 'gave-up';

/** How long we wait for a key after the announcement ended, before playing it again. */
export const SILENCE_AFTER_PROMPT_MS = 5000;

/** What the queue needs of the caller's leg (CallerLeg). */
export interface QueueLeg {
  play(prompt: Prompt): Promise<PlayEnd>;
  stopPlaying(): void;
  media: {
    on(event: 'digit', fn: (d: string) => void): unknown;
    off(event: 'digit', fn: (d: string) => void): unknown;
  };
  onHangup(fn: () => void): void;
}

export function waitForProceed(
  leg: QueueLeg,
  config: CardConfig,
  svc: Pick<HotlineServices, 'prompt'>,
  log: Logger,
  silenceMs = SILENCE_AFTER_PROMPT_MS,
): Promise<QueueOutcome> {
  return new Promise((resolve) => {
    let complete = 0;
    let started = 0;
    let playing = false;
    let silence: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (o: QueueOutcome): void => {
      if (done) return;
      done = true;
      if (silence) clearTimeout(silence);
      leg.media.off('digit', onDigit);
      resolve(o);
    };

    const afterSilence = (): void => {
      silence = undefined;
      if (done) return;
      if (complete >= config.tries) {
        log.info(`no proceed key after ${complete} announcements (complete plays): goodbye`);
        finish('gave-up');
      } else announce();
    };

    const announce = (): void => {
      if (done) return;
      if (silence) clearTimeout(silence);
      silence = undefined;
      playing = true;
      started++;
      void leg.play(announcementPrompt(config, (p) => svc.prompt(p))).then((end) => {
        playing = false;
        // 'stopped' / 'closed': the proceed key or the hang-up decided already
        if (end !== 'end' || done) return;
        complete++;
        silence = setTimeout(afterSilence, silenceMs);
      });
    };

    const onDigit = (d: string): void => {
      if (done) return;
      if (d === config.proceedKey) {
        log.info(`proceed key ${d} pressed (announcement ${started}, ${complete} complete)`);
        leg.stopPlaying();
        finish('proceed');
        return;
      }
      if (playing || complete >= config.tries) {
        log.info(`key ${d} is not the proceed key ${config.proceedKey}: ${playing ? 'the announcement goes on' : 'waiting for it'}`);
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
