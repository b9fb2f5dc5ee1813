/**
 * What the hotline needs from the layers below, as interfaces: main.ts
 * passes the concrete SIP user agent, port pool, ticket counter, recorder
 * factory and notifier (DESIGN.md: hotline -> interfaces of sip, media,
 * record, tickets, notify).
 */
import type { CardConfig } from '../config/card.js';
import type { PortPool } from '../media/port-pool.js';
import type { Prompt } from '../media/prompt-player.js';
import type { Notifier } from '../notify/notifier.js';
import type { CallRecorder } from '../record/recorder.js';
import type { EntryWriter, NumberSource } from '../tickets/call-tickets.js';
import type { Endpoint, NameAddr, SipResponse, SipUri } from '../sip/message.js';
import type { InviteOptions, OutgoingInvite } from '../sip/ua-outgoing.js';
import type { Logger } from '../util/log.js';

/** The part of the SIP user agent the hotline uses. */
export interface SipClient {
  invite(opts: InviteOptions): OutgoingInvite;
  request(opts: { method: string; target: SipUri; via?: Endpoint; from: NameAddr; to: NameAddr; body?: Buffer; contentType?: string; headers?: Array<[string, string]> }): Promise<SipResponse>;
}

export interface HotlineServices {
  sip: SipClient;
  pool: PortPool;
  /** The address we put in SDP c= lines (where the PBX and phones reach our RTP). */
  mediaAddress: string;
  /** A prompt from a WAV file (cached; reloaded when the file changes). */
  prompt(path: string): Prompt;
  /** The durable counter over TicketNR.txt. */
  tickets: NumberSource;
  /** The Ticket/ folder of the card. */
  ticketLog(config: CardConfig): EntryWriter;
  /** A recording in the card's recording folder, its file made at once (see recordingName()). */
  recorder(config: CardConfig, name: string): CallRecorder | undefined;
  notifier: Notifier;
  logger: Logger;
  now(): Date;
}
