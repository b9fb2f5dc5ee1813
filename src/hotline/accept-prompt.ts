/**
 * The accept phase of one answered technician leg (issue 10 "Accept key";
 * Asterisk FollowMe, FreeSWITCH group_confirm_key): the leg hears the
 * accept prompt in a loop until its key or until `seconds` pass. Only the
 * key counts: a mobile's voicemail answers but never presses it.
 *
 * Digits come from the leg's MediaEndpoint 'digit' event, whatever carried
 * them (RFC 4733, SIP INFO, in-band). A wrong key is logged and ignored:
 * the prompt goes on, the wait goes on (the deadline does not move).
 *
 * The result: 'accepted' (the key), 'timeout' (no key in time) or
 * 'cancelled' (cancel() was called first: another leg won, the caller hung
 * up, or the leg hung up). It never rejects. In every case the prompt is
 * stopped and the digit listener removed before the result resolves.
 */
import type { MediaEndpoint } from '../media/media-endpoint.js';
import { Prompt, type PlayEnd } from '../media/prompt-player.js';
import type { Logger } from '../util/log.js';

export type AcceptResult = 'accepted' | 'timeout' | 'cancelled';

export interface AcceptKeyOptions {
  endpoint: MediaEndpoint;
  /** Plays on the technician's leg (e.g. TechnicianLeg.play / CallerLeg.play). */
  play: (p: Prompt, loop: boolean) => Promise<PlayEnd>;
  stopPlaying: () => void;
  /** The sentence (spoken.ts acceptPrompt); a pause is added before each repetition. */
  prompt: Prompt;
  /** The one key that accepts: 0-9, * or #. */
  key: string;
  /** AcceptSeconds.txt. */
  seconds: number;
  log: Logger;
}

export interface AcceptWait {
  result: Promise<AcceptResult>;
  /** Stop waiting now (harmless after the result): the result is 'cancelled' unless it was already decided. */
  cancel(): void;
}

/** Silence between two repetitions of the prompt, so that it reads as a sentence said again. */
export const REPEAT_PAUSE_MS = 1000;

export function awaitAcceptKey(opts: AcceptKeyOptions): AcceptWait {
  const { endpoint, key, seconds, log } = opts;
  let settle!: (r: AcceptResult) => void;
  const result = new Promise<AcceptResult>((resolve) => (settle = resolve));
  let done = false;

  const finish = (r: AcceptResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    endpoint.off('digit', onDigit);
    opts.stopPlaying();
    settle(r);
  };

  const onDigit = (d: string): void => {
    if (done) return;
    if (d === key) {
      log.info(`accept key ${d} pressed: the call is accepted`);
      finish('accepted');
    } else {
      log.info(`key ${d} is not the accept key ${key}: ignored, still waiting`);
    }
  };

  const timer = setTimeout(() => {
    log.info(`no accept key ${key} within ${seconds} s`);
    finish('timeout');
  }, seconds * 1000);
  endpoint.on('digit', onDigit);
  const looped = Prompt.concat(opts.prompt.name, [opts.prompt, new Prompt('pause', new Int16Array(REPEAT_PAUSE_MS * 8))]);
  void opts.play(looped, true).then((end) => {
    // 'closed': the leg's media is gone (it hung up); the driver cancels the wait
    if (end === 'closed' && !done) log.debug('accept prompt: the leg closed its media');
  });
  return { result, cancel: () => finish('cancelled') };
}
