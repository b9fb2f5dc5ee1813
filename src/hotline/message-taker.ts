/**
 * The message phase's recorder (issue 10 "Never release the caller
 * unanswered"): the caller's inbound audio, decoded from G.711 (the law
 * of each packet's payload type as negotiated), kept as an 8 kHz mono
 * 16-bit WAV that any player opens.
 *
 * It ends on the first of:
 * - 'silence': nothing above the speech level for `silenceSec` after the
 *   caller spoke (no packets at all counts as silence), or for `leadSec`
 *   before the caller said anything (time to start talking);
 * - 'limit': `maxSec` of audio (MessageSeconds.txt), by RTP timestamp, or
 *   by the clock should packets stall;
 * - 'stopped': stop() (the caller hung up) or the session closed: what was
 *   said is kept.
 * After silence the long quiet tail is cut (TAIL_MS of it is kept).
 *
 * The WAV is written once, at the end, durably (temp, fsync, rename), so a
 * power cut leaves either no file or the whole message. Nothing said → no
 * file, path null. A card that cannot be written → one error line, path
 * null: `done` never rejects (the call goes on to its goodbye and IM/SMS).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RtpIn, RtpSession } from '../media/rtp-session.js';
import { buildWav } from '../media/wav.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { errText, type Logger } from '../util/log.js';
import { MessageBuffer } from './message-buffer.js';

export type MessageEnd = 'silence' | 'limit' | 'stopped';

export interface MessageResult {
  /** The WAV written, or null: nothing was said, or the card could not be written. */
  path: string | null;
  /** Seconds of audio kept (also when the file could not be written). */
  seconds: number;
  end: MessageEnd;
}

export interface TakeMessageOptions {
  /** The caller's RTP session (observed read-only; the relay and DTMF detection go on). */
  session: RtpSession;
  /** Where the WAV goes (its folder is created when missing). */
  wavPath: string;
  /** MessageSeconds.txt. */
  maxSec: number;
  /** Silence after speech that ends the message (default 5). */
  silenceSec?: number;
  /** Silence before any speech that ends the message (default 2 × silenceSec). */
  leadSec?: number;
  log: Logger;
  /** Monotonic clock in ms (tests). */
  now?: () => number;
}

export interface MessageTaking {
  done: Promise<MessageResult>;
  /** End now and keep what was said (the caller hung up). Harmless after the end. */
  stop(): void;
}

/** Quiet tail kept after the last speech when silence ended the message. */
export const TAIL_MS = 500;
/** How often silence, the clock limit and a closed session are checked. */
const CHECK_MS = 100;

export function takeMessage(opts: TakeMessageOptions): MessageTaking {
  const now = opts.now ?? (() => performance.now());
  const silenceMs = (opts.silenceSec ?? 5) * 1000;
  const leadMs = (opts.leadSec ?? 2 * (opts.silenceSec ?? 5)) * 1000;
  const buffer = new MessageBuffer(Math.max(0, Math.round(opts.maxSec * 8000)));
  const started = now();
  let lastSpeechMs = started;
  let ended: MessageEnd | undefined;
  let settle!: (r: MessageResult) => void;
  const done = new Promise<MessageResult>((resolve) => (settle = resolve));

  const finish = (end: MessageEnd): void => {
    if (ended) return;
    ended = end;
    unobserve();
    clearInterval(check);
    void save(buffer, end, opts).then(settle);
  };

  const onPacket = (p: Readonly<RtpIn>): void => {
    if (p.kind === 'event' || ended) return;
    const { speech, full } = buffer.place(p.kind, p.buf, p.start, p.end, p.timestamp, p.ssrc);
    if (speech) lastSpeechMs = now();
    if (full) finish('limit');
  };

  const unobserve = opts.session.observe(onPacket);
  const check = setInterval(() => {
    if (opts.session.isClosed) return finish('stopped');
    const t = now();
    if (t - started >= opts.maxSec * 1000 + 1000) return finish('limit'); // packets stalled: the clock decides
    if (t - lastSpeechMs >= (buffer.spoke ? silenceMs : leadMs)) finish('silence');
  }, CHECK_MS);
  opts.log.info(`recording the message: at most ${opts.maxSec} s`);
  return { done, stop: () => finish('stopped') };
}

async function save(buffer: MessageBuffer, end: MessageEnd, opts: TakeMessageOptions): Promise<MessageResult> {
  if (!buffer.spoke) {
    opts.log.info(`no message: nothing was said (${end})`);
    return { path: null, seconds: 0, end };
  }
  const keep = end === 'silence' ? buffer.speechEnd + TAIL_MS * 8 : buffer.length;
  const pcm = buffer.samples(keep);
  const seconds = pcm.length / 8000;
  try {
    await mkdir(dirname(opts.wavPath), { recursive: true });
    await writeFileAtomic(opts.wavPath, buildWav(pcm));
  } catch (e) {
    opts.log.error(`the message (${seconds.toFixed(1)} s) could not be written to ${opts.wavPath}: ${errText(e)}`);
    return { path: null, seconds, end };
  }
  opts.log.info(`message of ${seconds.toFixed(1)} s kept in ${opts.wavPath} (${end})`);
  return { path: opts.wavPath, seconds, end };
}
