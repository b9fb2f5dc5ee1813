/**
 * SDP offer/answer for G.711 + telephone-event (RFC 3264).
 *
 * - `answerOffer()` : we are the answerer (the caller's INVITE).
 * - `buildOffer()`  : we are the offerer (our INVITEs to technicians).
 * - `parseAnswer()` : learn the remote endpoint and codec from their answer.
 * `LocalSdp` keeps our o= line: one session id, version incremented each
 * time the body we send changes (RFC 3264 §8).
 */
import type { Endpoint } from '../sip/message.js';
import type { G711Law } from './g711.js';
import {
  SdpError,
  mediaAddress,
  mediaDirection,
  parseSdp,
  serializeSdp,
  type Direction,
  type SdpMedia,
  type SessionDescription,
} from './sdp.js';

/** The static payload types of RFC 3551 §6 for our two codecs. */
export const STATIC_PT: Record<G711Law, number> = { PCMU: 0, PCMA: 8 };
export const DEFAULT_PTIME = 20;
export const DEFAULT_TELEPHONE_EVENT_PT = 101;

/** What both sides agreed on for the audio stream. */
export interface NegotiatedMedia {
  /** Where the peer wants RTP (c= + m= port). Port 0 / 0.0.0.0 mean on hold or rejected. */
  remote: Endpoint;
  codec: G711Law;
  /** RTP payload type of the codec on the wire (0 or 8 in practice). */
  payloadType: number;
  /** Payload type of telephone-event, when both support it (the offerer's number). */
  telephoneEventPt?: number;
  /** Packetization interval in ms. */
  ptime: number;
  /** The peer's direction as it wrote it. */
  remoteDirection: Direction;
  /** True when the peer put us on hold (sendonly/inactive or c=0.0.0.0, RFC 3264 §8.4). */
  hold: boolean;
}

export interface AnswerResult {
  media: NegotiatedMedia;
  /** Our answer body. */
  sdp: string;
}

function codecOf(m: SdpMedia, pt: number): string | undefined {
  const rm = m.rtpmap.get(pt);
  if (rm) return rm.clockRate === 8000 && (!rm.channels || rm.channels === 1) ? rm.encoding.toUpperCase() : undefined;
  // static payload types may come without rtpmap (RFC 3551 §6)
  if (pt === 0) return 'PCMU';
  if (pt === 8) return 'PCMA';
  return undefined;
}

function telephoneEventPt(m: SdpMedia): number | undefined {
  for (const f of m.formats) {
    const pt = Number(f);
    const rm = m.rtpmap.get(pt);
    if (rm && rm.encoding.toLowerCase() === 'telephone-event' && rm.clockRate === 8000) return pt;
  }
  return undefined;
}

/** Plain RTP audio only: an SRTP offer (RTP/SAVP) needs keys we do not have, so it is not answerable. */
function isRtpAudio(m: SdpMedia): boolean {
  return m.media === 'audio' && m.port !== 0 && /^RTP\/AVPF?$/i.test(m.proto);
}

function holdOf(dir: Direction, address: string): boolean {
  return dir === 'sendonly' || dir === 'inactive' || address === '0.0.0.0';
}

/** The answer's direction for an offered direction (RFC 3264 §6.1). */
function answerDirection(offered: Direction): Direction {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

export class LocalSdp {
  private version: number;
  private last = '';
  readonly sessionId: string;

  constructor(
    private readonly address: string,
    private readonly username = 'ticketline',
    sessionId?: number,
  ) {
    const id = sessionId ?? Math.floor(Date.now() / 1000);
    this.sessionId = String(id);
    this.version = id;
  }

  /** Serialize `sd` with our o= line; the version goes up when anything else changed. */
  render(sd: Omit<SessionDescription, 'origin'>): string {
    const body = serializeSdp({ ...sd, origin: this.origin(0) });
    if (this.last !== '' && body !== this.last) this.version++;
    this.last = body;
    return serializeSdp({ ...sd, origin: this.origin(this.version) });
  }

  private origin(version: number): SessionDescription['origin'] {
    const addrType = this.address.includes(':') ? 'IP6' : 'IP4';
    return { username: this.username, sessionId: this.sessionId, sessionVersion: String(version), netType: 'IN', addrType, address: this.address };
  }
}

function audioMedia(local: Endpoint, pts: number[], codecs: Array<[number, G711Law]>, tePt: number | undefined, ptime: number, dir: Direction): SdpMedia {
  const m: SdpMedia = { media: 'audio', port: local.port, proto: 'RTP/AVP', formats: pts.map(String), rtpmap: new Map(), fmtp: new Map(), attributes: [], ptime, direction: dir };
  for (const [pt, law] of codecs) m.rtpmap.set(pt, { encoding: law, clockRate: 8000 });
  if (tePt !== undefined) {
    m.rtpmap.set(tePt, { encoding: 'telephone-event', clockRate: 8000 });
    m.fmtp.set(tePt, '0-15');
  }
  return m;
}

/** Pick the first of our preferences that the stream offers; the offerer's payload type is kept. */
function pickCodec(m: SdpMedia, prefs: readonly G711Law[]): [G711Law, number] | undefined {
  for (const law of prefs) {
    for (const f of m.formats) {
      const pt = Number(f);
      if (Number.isInteger(pt) && codecOf(m, pt) === law) return [law, pt];
    }
  }
  return undefined;
}

/**
 * Answer an offer (RFC 3264 §6). Every offered m= line gets a line in the
 * answer; only the first usable audio stream is accepted, the others are
 * rejected with port 0 (§6). Throws SdpError(488) when no codec is common.
 */
export function answerOffer(offer: string | Buffer | SessionDescription, prefs: readonly G711Law[], local: Endpoint, localSdp: LocalSdp): AnswerResult {
  const sd = typeof offer === 'string' || Buffer.isBuffer(offer) ? parseSdp(offer) : offer;
  let chosen: NegotiatedMedia | undefined;
  const media: SdpMedia[] = sd.media.map((m) => {
    const rejected: SdpMedia = { media: m.media, port: 0, proto: m.proto, formats: m.formats.length ? m.formats.slice(0, 1) : ['0'], rtpmap: new Map(), fmtp: new Map(), attributes: [] };
    if (chosen || !isRtpAudio(m)) return rejected;
    const pick = pickCodec(m, prefs);
    const address = mediaAddress(sd, m);
    if (!pick || !address) return rejected;
    const te = telephoneEventPt(m);
    const dir = mediaDirection(sd, m);
    const ptime = m.ptime ?? DEFAULT_PTIME;
    chosen = { remote: { address, port: m.port }, codec: pick[0], payloadType: pick[1], ptime, remoteDirection: dir, hold: holdOf(dir, address) };
    if (te !== undefined) chosen.telephoneEventPt = te;
    const pts = te === undefined ? [pick[1]] : [pick[1], te];
    return audioMedia(local, pts, [[pick[1], pick[0]]], te, ptime, answerDirection(dir));
  });
  if (!chosen) throw new SdpError(`no common audio codec (we support ${prefs.join(',')})`, 488);
  const body = localSdp.render({ sessionName: '-', connection: local.address, media, attributes: [] });
  return { media: chosen, sdp: body };
}

/** Our offer: codecs in configured order, then telephone-event (RFC 4733 §7.1.1). */
export function buildOffer(local: Endpoint, codecs: readonly G711Law[], localSdp: LocalSdp, opts: { telephoneEventPt?: number; ptime?: number; direction?: Direction } = {}): string {
  const te = opts.telephoneEventPt ?? DEFAULT_TELEPHONE_EVENT_PT;
  const pairs: Array<[number, G711Law]> = codecs.map((law) => [STATIC_PT[law], law]);
  const pts = [...pairs.map(([pt]) => pt), te];
  const m = audioMedia(local, pts, pairs, te, opts.ptime ?? DEFAULT_PTIME, opts.direction ?? 'sendrecv');
  return localSdp.render({ sessionName: '-', connection: local.address, media: [m], attributes: [] });
}

/** Read the answer to our offer: the first accepted audio stream and the codec the answerer put first. */
export function parseAnswer(answer: string | Buffer, offered: readonly G711Law[]): NegotiatedMedia {
  const sd = parseSdp(answer);
  const m = sd.media.find((x) => x.media === 'audio' && x.port !== 0);
  if (!m) throw new SdpError('answer accepts no audio stream', 488);
  const address = mediaAddress(sd, m);
  if (!address) throw new SdpError('answer has no IP address in c= for audio (host names are not resolved)', 488);
  let pick: [G711Law, number] | undefined;
  for (const f of m.formats) {
    const pt = Number(f);
    const enc = codecOf(m, pt);
    if ((enc === 'PCMA' || enc === 'PCMU') && offered.includes(enc)) {
      pick = [enc, pt];
      break;
    }
  }
  if (!pick) throw new SdpError(`answer has none of our codecs (${m.formats.join(' ')})`, 488);
  const dir = mediaDirection(sd, m);
  const out: NegotiatedMedia = { remote: { address, port: m.port }, codec: pick[0], payloadType: pick[1], ptime: m.ptime ?? DEFAULT_PTIME, remoteDirection: dir, hold: holdOf(dir, address) };
  const te = telephoneEventPt(m);
  if (te !== undefined) out.telephoneEventPt = te;
  return out;
}
