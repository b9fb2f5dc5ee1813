/**
 * Media engine: SDP, RTP, relay, prompts, tones, DTMF.
 *
 * SDP (RFC 4566 / RFC 3264)
 *   parseSdp(body): SessionDescription            throws SdpError(status 400)
 *   answerOffer(offer, prefs: G711Law[], local: Endpoint, localSdp: LocalSdp): { media: NegotiatedMedia, sdp: string }
 *                                                  throws SdpError(status 488) when no codec is common
 *   buildOffer(local, codecs, localSdp, { telephoneEventPt?, ptime?, direction? }): string
 *   parseAnswer(body, offeredCodecs): NegotiatedMedia   throws SdpError(488)
 *   new LocalSdp(ourAddress)                       one per dialog: keeps o= id, bumps the version on change
 *
 * RTP
 *   new PortPool({ min, max, bindAddress, log }); await pool.allocate(): RtpSocket (close() returns the port)
 *   new RtpSession(rtpSocket, media: NegotiatedMedia, { log, tap?, latchAnyAddress? })
 *     (latching: the SDP endpoint always wins, see rtp-session.ts)
 *     .setMedia(media) (re-INVITE) .setTap(tap) .observe(fn) .remote .latched .canSend .close()
 *     .stats { received, sent, dropped, strangers, lastReceivedMs } (lastReceivedMs: for an RTP inactivity timeout)
 *     tap: (dir: 'in'|'out', packet: Buffer, local: Endpoint, remote: Endpoint, timeMs: number) => void
 *          (the buffer is valid only during the call: copy what you keep)
 *   new Relay(sessionA, sessionB).start() / .stop()   bridge with transcoding and seamless leg switch;
 *     one relay per session at a time (a newer one takes over); stop a player on a session before
 *     relaying to it (both would send)
 *   parseRtp(buf): RtpPacket | undefined; buildRtp({...}): Buffer
 *
 * Prompts and tones
 *   Prompt.fromWav(file) (throws WavError naming the file), new Prompt(name, pcm)
 *   new PromptPlayer(session, prompt, { loop? }).start(); .stop(); on('done', reason)
 *   ringback({ freq, onMs, offMs }), confirmationBeeps(), errorTone(), dtmfTone(digit, ms): Int16Array PCM
 *
 * DTMF
 *   new MediaEndpoint(session, log) / await MediaEndpoint.open(pool, media, opts): on('digit', (d, source))
 *     .onInfo(contentType, body) for SIP INFO; in-band detection on by default (.setInband(false)
 *     once digits are no longer wanted: it costs a few µs per packet), off by itself once the leg
 *     sent RFC 4733 events
 *   Rfc4733Receiver, telephoneEventPayloads(digit, ms), parseDtmfInfo(type, body), GoertzelDetector
 */
export * from './sdp.js';
export * from './offer-answer.js';
export * from './rtp-packet.js';
export * from './rtp-stream.js';
export * from './port-pool.js';
export * from './rtp-session.js';
export * from './relay.js';
export * from './wav.js';
export * from './tone.js';
export * from './prompt-player.js';
export * from './media-endpoint.js';
export * from './dtmf/rfc4733.js';
export * from './dtmf/info.js';
export * from './dtmf/goertzel.js';
export type { G711Law } from './g711.js';
