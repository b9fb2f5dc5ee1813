/**
 * The recording and the time of one emergency call, apart from the hunt so
 * that neither waits for the other:
 * - the file is made at the key press (seed: "recording starts the moment
 *   the key is pressed"), named by the start time and the caller: it needs no
 *   ticket number, so the first INVITE never waits for TicketNR.txt;
 * - once hop 1's number is stored the file is renamed to carry it, and at
 *   the end to carry every ticket number of the call (the technician's SMS
 *   names the last hop, the first hop's ticket is in the log): any of them
 *   finds the recording;
 * - the call's clock (CallClock) stamps hunt events and packets with
 *   monotonic time, and restamps tickets and the final name after a
 *   wall-clock step.
 */
import type { CardConfig } from '../config/card.js';
import type { RtpTap } from '../media/rtp-session.js';
import { recordingName, type CallRecorder, type Role } from '../record/recorder.js';
import { NO_TICKET, type HopClose } from '../tickets/call-tickets.js';
import { sanitizeNumber } from '../tickets/ticket-name.js';
import { CallClock, systemClock, type ClockSource } from '../util/call-clock.js';
import type { Logger } from '../util/log.js';
import type { HotlineServices } from './services.js';

export class CallRecording {
  readonly clock: CallClock;
  private readonly recorder: CallRecorder | undefined;
  private readonly start: Date;
  private readonly caller: string;
  /** Ticket numbers by hop, as they become known. */
  private readonly tickets = new Map<number, number>();
  private closing: Promise<void> | undefined;

  constructor(svc: Pick<HotlineServices, 'recorder' | 'now'>, config: CardConfig, callerNumber: string, log: Logger, time?: ClockSource) {
    const wall: ClockSource = time ?? { wallMs: () => svc.now().getTime(), monoMs: systemClock.monoMs };
    this.clock = new CallClock(wall, (ms) => log.warn(`the wall clock stepped by ${formatStep(ms)} during the call: its tickets use the new time, its recording stays continuous`));
    this.start = this.clock.now();
    // `*` is not allowed in FAT names (as in the ticket files: x)
    this.caller = sanitizeNumber(callerNumber).split('*').join('x');
    this.recorder = svc.recorder(config, recordingName(this.start, [], this.caller));
  }

  /** The call's start (a stamp of its clock). */
  get startedAt(): Date {
    return this.start;
  }

  /** A tap that records one leg's packets, stamped by the call's monotonic clock. */
  tap(peer: Exclude<Role, 'appliance'>): RtpTap {
    return (dir, packet, local, remote) => {
      const r = this.recorder;
      if (!r) return;
      const ms = this.clock.nowMs();
      if (dir === 'in') r.packet(peer, remote, local, packet, ms);
      else r.packet('appliance', local, remote, packet, ms, peer);
    };
  }

  /** A hop's ticket number is known: the first one goes into the file name at once. */
  ticket(hop: number, n: number): void {
    if (n === NO_TICKET || this.closing) return;
    this.tickets.set(hop, n);
    if (hop === 1) void this.recorder?.rename(this.name());
  }

  /** A hop's ticket as the hunt closed it, its stamps on the wall clock as it is now. */
  restamp(c: HopClose): HopClose {
    return { ...c, start: this.clock.restamp(c.start), end: this.clock.restamp(c.end) };
  }

  /** Close the file and give it its final name (every ticket, real start time); idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    const r = this.recorder;
    if (!r) return;
    await r.close();
    await r.rename(this.name());
  }

  private name(): string {
    const nums = [...this.tickets].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
    return this.nameWith(nums);
  }

  /** The recording's name with these ticket numbers (issue 10: the caller's message is named alike). */
  nameWith(tickets: readonly number[]): string {
    return recordingName(this.clock.restamp(this.start), tickets.filter((n) => n !== NO_TICKET), this.caller);
  }
}

function formatStep(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const text = s >= 86400 * 365 ? `${(s / (86400 * 365.25)).toFixed(1)} years` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${s.toFixed(1)} s`;
  return `${ms < 0 ? '-' : '+'}${text}`;
}
