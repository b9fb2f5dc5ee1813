/**
 * DTMF as RTP telephone-event (RFC 4733 §2.3).
 *
 * Payload: event (8 bits) | E (end) R | volume (6) | duration (16).
 * All packets of one event carry the same RTP timestamp (the event's
 * start, §2.5.1.1); the end packet is sent three times (§2.5.1.4).
 *
 * The receiver's rule (issue 16: random RTP events, or one that flips its
 * code every packet, counted as keys and hung a caller up). An event is
 * identified by SSRC and RTP timestamp (§2.5.1.1); it counts as one key,
 * once, when it is confirmed:
 * - its first packet seen is not an end packet (§2.5.1.2: the sender
 *   starts with a packet without E; an E-only event counts not: with all
 *   its packets but the end lost, the caller presses again, and the
 *   waiting queue forgives);
 * - a second packet of the same event confirms it: an end packet with a
 *   duration not below the last one, or a continuation whose duration
 *   grew (§2.5.1.3: the duration grows, a duplicate proves nothing);
 *   with 20 ms packets the key counts 20 ms after it began;
 * - plausible: event code 0-15, volume at most MAX_VOLUME (-40 dBm0:
 *   quieter is below what DTMF receivers accept, ITU-T Q.24), the first
 *   packet's duration at most MAX_FIRST (1 s: start packets come at
 *   once), and the duration never grows by more than MAX_STEP (1 s)
 *   from one packet to the next;
 * - another event code on the same event or a jump spoils the event: it
 *   never counts (nor do its later packets); a packet with a shorter
 *   duration (reordered, late) or a duplicate is ignored.
 * Duplicates, retransmitted ends and late packets of an event already
 * reported are ignored (the last REMEMBER events are kept).
 */

export const TELEPHONE_EVENT_PAYLOAD_LEN = 4;
const EVENT_CHARS = '0123456789*#ABCD';

/** The character for event code 0-15, undefined for others (flash, tones). */
export function eventToDigit(event: number): string | undefined {
  return event >= 0 && event < 16 ? EVENT_CHARS[event] : undefined;
}

export function digitToEvent(digit: string): number {
  const i = EVENT_CHARS.indexOf(digit.toUpperCase());
  if (i < 0 || digit.length !== 1) throw new Error(`not a DTMF digit: "${digit}"`);
  return i;
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** In timestamp units (1/8 ms). */
  duration: number;
}

export function parseTelephoneEvent(buf: Uint8Array, start = 0, end = buf.length): TelephoneEvent | undefined {
  if (end - start < TELEPHONE_EVENT_PAYLOAD_LEN) return undefined;
  return {
    event: buf[start],
    end: (buf[start + 1] & 0x80) !== 0,
    volume: buf[start + 1] & 0x3f,
    duration: (buf[start + 2] << 8) | buf[start + 3],
  };
}

export function buildTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event & 0xff;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(e.duration & 0xffff, 2);
  return b;
}

/** How many recent events are remembered to recognise their late or repeated packets. */
const REMEMBER = 32;
/** Quietest plausible key: -40 dBm0 (the field is the level below 0 dBm0). */
export const MAX_VOLUME = 40;
/** Largest duration (timestamp units, 8 kHz) of the first packet seen of an event: 1 s. */
export const MAX_FIRST = 8000;
/** Largest growth of the duration from one packet to the next: 1 s. */
export const MAX_STEP = 8000;

interface EventState {
  ssrc: number;
  timestamp: number;
  event: number;
  duration: number;
  /** 'counting': waiting for the confirming packet; 'done': reported or spoilt, later packets are ignored. */
  state: 'counting' | 'done';
}

export class Rfc4733Receiver {
  private readonly events: EventState[] = [];

  /** Feed one telephone-event payload; returns the digit when this packet confirms a new event (see the rule above). */
  onPacket(buf: Uint8Array, start: number, end: number, timestamp: number, ssrc: number): string | undefined {
    const ev = parseTelephoneEvent(buf, start, end);
    if (!ev) return undefined;
    const known = this.find(ssrc, timestamp);
    if (!known) {
      this.remember({ ssrc, timestamp, event: ev.event, duration: ev.duration, state: plausibleStart(ev) ? 'counting' : 'done' });
      return undefined;
    }
    if (known.state === 'done') return undefined;
    known.state = 'done';
    if (!confirms(known, ev)) return undefined;
    return eventToDigit(ev.event);
  }

  private find(ssrc: number, timestamp: number): EventState | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      if (e.timestamp === timestamp && e.ssrc === ssrc) return e;
    }
    return undefined;
  }

  private remember(e: EventState): void {
    this.events.push(e);
    if (this.events.length > REMEMBER) this.events.shift();
  }
}

/** The first packet seen of an event may start a key: no E bit, a DTMF code, plausible volume and duration. */
function plausibleStart(ev: TelephoneEvent): boolean {
  return !ev.end && eventToDigit(ev.event) !== undefined && ev.volume <= MAX_VOLUME && ev.duration <= MAX_FIRST;
}

/**
 * Whether `ev` (a later packet of a counting event) confirms it. A
 * duplicate (same duration, no E) or an older packet (shorter) neither
 * confirms nor spoils: the state is restored to 'counting'.
 */
function confirms(known: EventState, ev: TelephoneEvent): boolean {
  if (ev.event !== known.event || ev.volume > MAX_VOLUME) return false;
  const growth = ev.duration - known.duration;
  if (growth > MAX_STEP) return false;
  if (growth < 0 || (growth === 0 && !ev.end)) {
    known.state = 'counting';
    return false;
  }
  return true;
}

/**
 * The payloads a sender emits for one digit (§2.5.1): one packet every
 * `ptime` ms with growing duration, then the end packet three times.
 * All share the event's start timestamp.
 */
export function telephoneEventPayloads(digit: string, durationMs: number, ptime = 20, volume = 10): Buffer[] {
  const event = digitToEvent(digit);
  const out: Buffer[] = [];
  const step = ptime * 8;
  const total = Math.max(step, Math.round(durationMs * 8));
  for (let d = step; d < total; d += step) out.push(buildTelephoneEvent({ event, end: false, volume, duration: d }));
  for (let i = 0; i < 3; i++) out.push(buildTelephoneEvent({ event, end: true, volume, duration: total }));
  return out;
}
