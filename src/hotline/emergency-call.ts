/**
 * One emergency call after the proceed key: the B2BUA that drives the hunt
 * state machine (hunt.ts) with real legs, timers, tickets, the recording and
 * the notification. Every command of the machine is carried out here;
 * everything that happens on the network comes back as an event.
 *
 * Ownership: the call owns its caller leg, its technician legs (and their
 * accept waits), their RTP ports, the relay, the hop and pause timers, the
 * message phase and the recorder; `run()` resolves only when all of them are
 * closed (no port, timer or dialog outlives its call).
 */
import { basename, join } from 'node:path';
import type { CardConfig } from '../config/card.js';
import { Prompt } from '../media/prompt-player.js';
import { Relay } from '../media/relay.js';
import type { RtpSession, RtpTap } from '../media/rtp-session.js';
import { ringback } from '../media/tone.js';
import type { Role } from '../record/recorder.js';
import { CallTickets } from '../tickets/call-tickets.js';
import { errText, type Logger } from '../util/log.js';
import { CallRecording } from './call-recording.js';
import type { CallerLeg } from './caller-leg.js';
import { initialHunt, step, type Directory, type HuntCommand, type HuntEvent, type HuntOptions, type HuntState, type Technician } from './hunt.js';
import { messageWavName, runMessagePhase, type MessagePhase, type MessageResult } from './message-phase.js';
import type { HotlineServices } from './services.js';
import { acceptPrompt } from './spoken.js';
import { REASON_ANSWERED_ELSEWHERE, TechnicianLeg } from './technician-leg.js';

let ringbackPrompt: Prompt | undefined;
/** Rendered on the first emergency call, not at start-up (memory and start time on a small board). */
const RINGBACK = (): Prompt => (ringbackPrompt ??= new Prompt('ringback', ringback()));

export function directoryOf(config: CardConfig): Directory {
  const dir = new Map<string, Technician>();
  for (const [ext, t] of config.technicians) dir.set(ext, { next: t.next, fork: t.fork, timeoutSec: t.timeoutSec, acceptKey: t.acceptKey });
  return dir;
}

export function huntOptionsOf(config: CardConfig): HuntOptions {
  return { acceptSec: config.acceptSec, rounds: config.rounds, retryPauseSec: config.retryPauseSec, messageSec: config.messageSec };
}

export class EmergencyCall {
  private state: HuntState = initialHunt();
  private readonly directory: Directory;
  private readonly options: HuntOptions;
  private readonly legs = new Map<string, TechnicianLeg>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private pauseTimer: NodeJS.Timeout | undefined;
  private message: MessagePhase | undefined;
  private readonly tickets: CallTickets;
  /** Ticket writes still running: the call waits for them before it is over. */
  private readonly pending: Array<Promise<unknown>> = [];
  /** The recording and the call's monotonic clock (made at the key press: run()). */
  private recording!: CallRecording;
  private relay: Relay | undefined;
  /** The leg whose media the caller hears now (early media or bridged). */
  private heard: string | undefined;
  private releasing: Promise<void> | undefined;
  private finishing = false;
  private finished!: () => void;
  private readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly caller: CallerLeg,
    /** The card as it was when the key was pressed: one call, one configuration. */
    private readonly config: CardConfig,
    private readonly svc: HotlineServices,
    private readonly log: Logger,
  ) {
    this.directory = directoryOf(config);
    this.options = huntOptionsOf(config);
    this.tickets = new CallTickets(svc.tickets, svc.ticketLog(config), log, caller.number);
  }

  /** Hunt until the call is over; resolves once everything it owned is closed. */
  async run(): Promise<void> {
    // Recording starts at the key press (seed); neither it nor the ring waits for the card (issue 15):
    // hop 1's number is taken in parallel and reaches the recording's name when stored.
    this.recording = new CallRecording(this.svc, this.config, this.caller.number, this.log);
    const start = this.recording.startedAt;
    const first = this.config.cfuTarget ?? this.config.first;
    this.caller.play(RINGBACK(), true);
    this.caller.setTap(this.tapFor('caller'));
    this.tickets.open(1);
    void this.tickets.number(1).then((n) => this.recording.ticket(1, n));
    this.log.info(`emergency call from ${this.caller.number}: hunting from ${first}${this.config.cfuTarget ? ' (CFU)' : ''}`);
    this.feed({ type: 'start', first, at: start });
    // fires at once if the caller already hung up
    this.caller.onHangup(() => {
      this.log.info('the caller hung up');
      this.feed({ type: 'callerHungUp', at: this.now() });
    });
    await this.done;
  }

  private feed(event: HuntEvent): void {
    const { state, commands } = step(this.state, event, this.directory, this.options);
    this.state = state;
    for (const c of commands) {
      try {
        this.exec(c);
      } catch (e) {
        this.log.error(`hunt command ${c.type} failed: ${errText(e)}`);
      }
    }
    if (state.phase === 'ended') void this.finish();
  }

  private exec(c: HuntCommand): void {
    switch (c.type) {
      case 'openTicket':
        return this.tickets.open(c.hop, c.ext, c.at);
      case 'ring':
        return this.ring(c.leg, c.ext, c.kind === 'fork' ? c.number : c.ext);
      case 'startTimer':
        this.timers.set(c.hop, setTimeout(() => this.feed({ type: 'hopTimeout', hop: c.hop, at: this.now() }), c.seconds * 1000));
        return;
      case 'stopTimer':
        clearTimeout(this.timers.get(c.hop));
        this.timers.delete(c.hop);
        return;
      case 'cancel':
        this.legs.get(c.leg)?.cancel(c.reason === 'answered-elsewhere' ? REASON_ANSWERED_ELSEWHERE : undefined);
        if (this.heard === c.leg) this.hearRingback();
        return;
      case 'confirm':
        return this.confirm(c.leg, c.key, c.seconds);
      case 'hold':
        return this.hold(c.seconds);
      case 'takeMessage':
        return this.takeMessage(c.seconds);
      case 'bridge':
        return this.bridge(c.leg);
      case 'hangup':
        void this.legs.get(c.leg)?.hangup();
        return;
      case 'closeTicket':
        // the stamps on the wall clock as it is now (a step during the call moves both)
        this.pending.push(this.tickets.close(this.recording.restamp(c)).then((t) => this.recording.ticket(t.hop, t.ticket)));
        return;
      case 'notify':
        // not awaited by finish(): a phone slow to answer the MESSAGE must not hold the call (notify never rejects)
        void this.notify(c.hop, c.to, c.message);
        return;
      case 'release':
        if (c.reason === 'no-technician') this.log.error(`no technician to ring: ${this.config.cfuTarget ?? this.config.first} is not on the card; the caller is released`);
        else this.log.info(`releasing the caller (${c.reason})`);
        this.releasing = this.release(c.reason);
        return;
    }
  }

  private ring(id: string, ext: string, target: string): void {
    const leg = new TechnicianLeg(id, ext, target, this.config, this.svc, this.caller.number, this.tapFor('technician'), this.log.child(id));
    this.legs.set(id, leg);
    const at = () => this.now();
    leg.on('ringing', () => this.feed({ type: 'ringing', leg: id, at: at() }));
    leg.on('early', (s) => this.hearEarly(id, s));
    leg.on('answered', () => this.feed({ type: 'answered', leg: id, at: at() }));
    leg.on('failed', (cause, why) => {
      this.log.info(`${target} (${ext}) ${cause}: ${why}`);
      if (this.heard === id) this.hearRingback();
      this.feed({ type: 'failed', leg: id, cause, at: at() });
    });
    leg.on('hungUp', () => this.feed({ type: 'technicianHungUp', leg: id, at: at() }));
    this.log.info(`ringing ${target}${target !== ext ? ` (fork of ${ext})` : ''} as ${id}`);
    void leg.start();
  }

  /** The caller hears this leg's early media (e.g. a mobile network's ringback) instead of ours. */
  private hearEarly(id: string, session: RtpSession): void {
    if (this.heard !== undefined || this.state.phase !== 'hunting') return;
    this.connect(id, session);
  }

  /** Accept key: the leg hears the prompt, the caller keeps hearing ringback (not this leg's audio). */
  private confirm(id: string, key: string, seconds: number): void {
    const leg = this.legs.get(id);
    if (this.heard === id) this.hearRingback();
    if (!leg) return;
    this.log.info(`${id} answered: waiting ${seconds} s for its accept key ${key}`);
    const prompt = acceptPrompt(this.config, (f) => this.svc.prompt(f), this.caller.number, key);
    void leg.confirm(prompt, key, seconds).then((r) => {
      // cancelled: the leg ended (its BYE, our hangup, the call's end) and the hunt already knows
      if (r === 'cancelled' || this.state.phase === 'ended') return;
      this.log.info(`${id}: ${r === 'accepted' ? 'accept key pressed' : 'no accept key in time: not answered'}`);
      this.feed({ type: r === 'accepted' ? 'accepted' : 'notAccepted', leg: id, at: this.now() });
    });
  }

  /** Every leg of the round failed at once: the caller holds, then the next round rings. */
  private hold(seconds: number): void {
    this.log.info(`every technician of this round is busy or unreachable: the caller holds ${seconds} s`);
    this.relay?.stop();
    this.relay = undefined;
    this.heard = undefined;
    void this.caller.play(this.svc.prompt(this.config.prompts.hold), true);
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      void this.caller.play(RINGBACK(), true);
      this.feed({ type: 'pauseOver', at: this.now() });
    }, seconds * 1000);
  }

  /** Nobody answered: the caller may leave a message, kept as a WAV next to the recording. */
  private takeMessage(seconds: number): void {
    this.relay?.stop();
    this.relay = undefined;
    this.heard = undefined;
    this.log.info('nobody could be reached: the message phase');
    const phase = runMessagePhase({
      caller: this.caller,
      prompt: this.svc.prompt(this.config.prompts.message),
      wavPath: () => this.messagePath(),
      seconds,
      log: this.log,
    });
    this.message = phase;
    void phase.done.then((r) => this.feed({ type: 'messageDone', left: r.path !== null, at: this.now() }));
  }

  /** Named like the recording, with every ticket number of the call (all hops are open by now). */
  private async messagePath(): Promise<string> {
    const hops = this.state.hops.map((h) => h.hop);
    const tickets = await Promise.all(hops.map((hop) => this.tickets.number(hop)));
    return join(this.config.recordingDir, messageWavName(this.recording.nameWith(tickets)));
  }

  private bridge(id: string): void {
    const s = this.legs.get(id)?.media;
    if (!s) {
      this.log.error(`${id} answered without usable media: the caller hears nothing from it`);
      return;
    }
    this.log.info(`${id} answered: bridged`);
    this.connect(id, s);
  }

  private connect(id: string, session: RtpSession): void {
    this.caller.stopPlaying();
    this.relay?.stop();
    this.relay = new Relay(this.caller.session, session).start();
    this.heard = id;
  }

  private hearRingback(): void {
    this.relay?.stop();
    this.relay = undefined;
    this.heard = undefined;
    if (this.state.phase === 'hunting') void this.caller.play(RINGBACK(), true);
  }

  private async notify(hop: number, ext: string, message: boolean): Promise<void> {
    const closed = await this.tickets.closed(hop);
    if (!closed) {
      this.log.error(`hop ${hop} notified before its ticket was closed: ${ext} is not notified`);
      return;
    }
    const tech = this.config.technicians.get(ext);
    const left: MessageResult | undefined = message ? await this.message?.done : undefined;
    // issue 10: where a message was left, say so and where (the WAV beside the recording)
    const text = left?.path ? `${closed.text} Message_waiting: ${basename(left.path)}` : closed.text;
    await this.svc.notifier.notify({ ext, sms: tech?.sms }, this.caller.number, text);
  }

  private async release(reason: string): Promise<void> {
    // seed: the technician hung up -> release at once; after a message -> its goodbye first
    if (reason === 'message' && !this.caller.hasHungUp) await this.caller.play(this.svc.prompt(this.config.prompts.goodbyeMessage));
    await this.caller.release();
  }

  private tapFor(peer: Exclude<Role, 'appliance'>): RtpTap {
    return this.recording.tap(peer);
  }

  /** Hunt events are stamped by the call's monotonic clock (a wall-clock step never makes a hop jump). */
  private now(): Date {
    return this.recording.clock.now();
  }

  private async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    if (this.releasing === undefined && !this.caller.hasHungUp) this.releasing = this.caller.release();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    // the caller left during the message: keep what was said, the WAV complete before the notifications name it
    this.message?.stop();
    await this.message?.done;
    this.relay?.stop();
    for (const leg of this.legs.values()) leg.close();
    await this.releasing;
    this.caller.close();
    await Promise.all(this.pending);
    await this.recording.close();
    this.log.info(`emergency call from ${this.caller.number} over (${this.state.outcome ?? 'ended'}); RTP ports in use: ${this.svc.pool.inUse}`);
    this.finished();
  }
}
