/**
 * DTMF as RTP telephone-event (RFC 4733 §2.3).
 *
 * Payload: event (8 bits) | E (end) R | volume (6) | duration (16).
 * All packets of one event carry the same RTP timestamp (the event's
 * start, §2.5.1.1); the end packet is sent three times (§2.5.1.4).
 *
 * The receiver reports each event once, as soon as its first packet
 * arrives (the caller's key counts at once): a packet whose timestamp
 * (and SSRC) was not seen recently starts a new event, whether it is a
 * start, a continuation (start packets lost) or an end packet (all lost
 * but the end). Duplicates, retransmitted ends and late packets of an
 * event already reported are ignored.
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
const REMEMBER = 16;

export class Rfc4733Receiver {
  private readonly seen: string[] = [];

  /** Feed one telephone-event payload; returns the digit when this packet starts a new event. */
  onPacket(buf: Uint8Array, start: number, end: number, timestamp: number, ssrc: number): string | undefined {
    const ev = parseTelephoneEvent(buf, start, end);
    if (!ev) return undefined;
    const digit = eventToDigit(ev.event);
    if (digit === undefined) return undefined;
    const key = `${ssrc}:${timestamp}:${ev.event}`;
    if (this.seen.includes(key)) return undefined;
    this.seen.push(key);
    if (this.seen.length > REMEMBER) this.seen.shift();
    return digit;
  }
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
