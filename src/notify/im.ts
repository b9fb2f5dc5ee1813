/**
 * The instant message (RFC 3428 MESSAGE, text/plain) to a technician's
 * extension through the PBX. Seed: "In case of IM this number is indicated
 * even as destination, so lifting the receiver will call back" -> From is
 * the caller's number.
 */
import type { Endpoint, NameAddr, SipResponse, SipUri } from '../sip/message.js';

export interface MessageSender {
  request(opts: { method: string; target: SipUri; via?: Endpoint; from: NameAddr; to: NameAddr; body?: Buffer; contentType?: string }): Promise<SipResponse>;
}

export interface ImRoute {
  /** Domain of the PBX (host part of the URIs). */
  domain: string;
  /** Where the MESSAGE goes: the PBX. */
  pbx: Endpoint;
}

const sipUri = (user: string, host: string): SipUri => ({ scheme: 'sip', user, host, params: new Map(), headers: new Map() });

/** Send the IM; resolves with the final status (local 408/503 when the PBX does not answer). */
export async function sendIm(sip: MessageSender, route: ImRoute, ext: string, fromNumber: string, text: string): Promise<number> {
  const res = await sip.request({
    method: 'MESSAGE',
    target: sipUri(ext, route.domain),
    via: route.pbx,
    from: { uri: sipUri(fromNumber, route.domain), params: new Map() },
    to: { uri: sipUri(ext, route.domain), params: new Map() },
    body: Buffer.from(text, 'utf8'),
    contentType: 'text/plain;charset=UTF-8',
  });
  return res.status;
}
