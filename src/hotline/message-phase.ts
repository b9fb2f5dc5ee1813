/**
 * The message phase of an unanswered emergency call (issue 10): the caller
 * hears "Nobody could be reached. Please leave a message after the tone...",
 * a beep, and what the caller says then is kept as a WAV (8 kHz mono) until
 * silence, the limit, the caller's hang-up or `stop()`. The goodbye after it
 * is the driver's (it comes with the release).
 */
import { basename } from 'node:path';
import type { Prompt } from '../media/prompt-player.js';
import { renderTone } from '../media/tone.js';
import { Prompt as PromptOf } from '../media/prompt-player.js';
import type { Logger } from '../util/log.js';
import type { CallerLeg } from './caller-leg.js';
import { takeMessage } from './message-taker.js';

export interface MessageResult {
  /** The WAV, or null when nothing was recorded (the caller said nothing or left before the tone). */
  readonly path: string | null;
  readonly seconds: number;
}

export interface MessagePhase {
  /** Settles once the WAV is complete on the card (or known not to exist); never rejects. */
  readonly done: Promise<MessageResult>;
  stop(): void;
}

let beepPrompt: Prompt | undefined;
/** The tone after which the caller speaks: 1 kHz, 400 ms (rendered once, on the first message phase). */
const BEEP = (): Prompt => (beepPrompt ??= new PromptOf('beep', renderTone([{ freqs: [1000], ms: 400 }, { freqs: [], ms: 100 }])));

export interface MessagePhaseOptions {
  readonly caller: CallerLeg;
  /** The "please leave a message" prompt. */
  readonly prompt: Prompt;
  /** Where the WAV goes; asked after the prompt (the last ticket number may still be on its way to the card). */
  readonly wavPath: () => Promise<string>;
  readonly seconds: number;
  readonly log: Logger;
}

export function runMessagePhase(o: MessagePhaseOptions): MessagePhase {
  let stopped = false;
  let over = false;
  let stopTaker: (() => void) | undefined;
  const run = async (): Promise<MessageResult> => {
    await o.caller.play(o.prompt);
    if (!stopped) await o.caller.play(BEEP());
    const wavPath = await o.wavPath();
    if (stopped || o.caller.hasHungUp) return { path: null, seconds: 0 };
    o.log.info(`recording the caller's message (at most ${o.seconds} s) to ${basename(wavPath)}`);
    const taker = takeMessage({ session: o.caller.session, wavPath, maxSec: o.seconds, log: o.log });
    stopTaker = () => taker.stop();
    const r = await taker.done;
    o.log.info(r.path ? `message of ${r.seconds.toFixed(1)} s kept (${r.end})` : `no message left (${r.end})`);
    return { path: r.path, seconds: r.seconds };
  };
  const done = run()
    .catch((e: unknown) => {
      o.log.error(`the caller's message could not be kept: ${(e as Error).message}`);
      return { path: null, seconds: 0 };
    })
    .finally(() => (over = true));
  return {
    done,
    stop: () => {
      // once over, the caller hears the goodbye: nothing of ours to stop
      if (stopped || over) return;
      stopped = true;
      o.caller.stopPlaying();
      stopTaker?.();
    },
  };
}

/**
 * The message beside the call's recording, named like it (start time, every
 * ticket number of the call, the caller: recording-name.ts) with
 * `_Message.wav` for `.pcap`, so the number in any ticket, IM or SMS of the
 * call finds both: `ls TED_RECORDING/*_1236_*`.
 */
export function messageWavName(recordingName: string): string {
  return `${recordingName.replace(/\.pcap$/, '')}_Message.wav`;
}
