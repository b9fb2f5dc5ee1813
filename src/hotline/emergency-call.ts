/**
 * One emergency call after the proceed key: the B2BUA that drives the hunt
 * state machine (hunt.ts) with real legs, timers, tickets, the recording and
 * the notification. Every command of the machine is carried out here;
 * everything that happens on the network comes back as an event.
 *
 * Ownership: the call owns its caller leg, its technician legs, their RTP
 * ports, the relay, the hop timers and the recorder; `run()` resolves only
 * when all of them are closed (no port, timer or dialog outlives its call).
 */
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
import { initialHunt, step, type Directory, type HuntCommand, type HuntEvent, type HuntState } from './hunt.js';
import type { HotlineServices } from './services.js';
import { REASON_ANSWERED_ELSEWHERE, TechnicianLeg } from './technician-leg.js';

let ringbackPrompt: Prompt | undefined;
/** Rendered on the first emergency call, not at start-up (memory and start time on a small board). */
const RINGBACK = (): Prompt => (ringbackPrompt ??= new Prompt('ringback', ringback()));

export function directoryOf(config: CardConfig): Directory {
  const dir = new Map<string, { next?: string; fork?: string; timeoutSec: number }>();
  for (const [ext, t] of config.technicians) dir.set(ext, { next: t.next, fork: t.fork, timeoutSec: t.timeoutSec });
  return dir;
}

export class EmergencyCall {
  private state: HuntState = initialHunt();
  private readonly directory: Directory;
  private readonly legs = new Map<string, TechnicianLeg>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
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
    const { state, commands } = step(this.state, event, this.directory);
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
        void this.notify(c.hop, c.ext);
        return;
      case 'release':
        this.log.info(`releasing the caller (${c.reason})`);
        this.releasing = this.release(c.reason === 'technician-hung-up');
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

  private async notify(hop: number, ext: string): Promise<void> {
    const closed = await this.tickets.closed(hop);
    if (!closed) {
      this.log.error(`hop ${hop} notified before its ticket was closed: ${ext} is not notified`);
      return;
    }
    const tech = this.config.technicians.get(ext);
    await this.svc.notifier.notify({ ext, sms: tech?.sms }, this.caller.number, closed.text);
  }

  private async release(atOnce: boolean): Promise<void> {
    // seed: the technician hung up -> release at once; no one to reach -> say goodbye first
    if (!atOnce && !this.caller.hasHungUp) await this.caller.play(this.svc.prompt(this.config.prompts.goodbye));
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
