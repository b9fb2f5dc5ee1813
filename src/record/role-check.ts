/**
 * Is a capture one of the appliance's own recordings? pcap-writer.ts marks
 * who sent and who received each packet with role MACs (02:00:00:00:00:xx),
 * but those are common dummy addresses: another tool may write them too, and
 * usually the same pair for every packet whatever its direction, which read
 * as roles would put all audio on one channel. So the MACs count as roles
 * only when they say what the role reading assumes (issue 14):
 * 1. every UDP packet goes to or from the appliance: 02:..:00 on exactly one
 *    side, a role MAC (caller, technician, unknown) on the other;
 * 2. each IP endpoint stays on its side, the appliance's or a peer's,
 *    whether it sends or receives (fixed dummy MACs fail here: each host
 *    "sends" as one and "receives" as the other);
 * 3. the caller (02:..:01) takes part.
 * Another tool's capture that passes all three is a star around one host
 * that talks to the 02:..:01 host; the role reading gives that host's audio
 * left and what it heard right, which is what the endpoint reading means.
 * Nothing written by the appliance changes, so its older recordings and
 * every tool that reads them stay as they are.
 */
import type { UdpDatagram } from './frame-decode.js';
import { ROLE_MAC_BYTE, UNKNOWN_MAC_BYTE } from './pcap-writer.js';

const roleMac = (b: number): string => `0200000000${b.toString(16).padStart(2, '0')}`;
export const MAC_APPLIANCE = roleMac(ROLE_MAC_BYTE.appliance);
export const MAC_CALLER = roleMac(ROLE_MAC_BYTE.caller);
export const MAC_TECH = roleMac(ROLE_MAC_BYTE.technician);
/** What the far side of a packet may carry: caller, technician, or a receiver the recorder could not place. */
const PEER_MACS = new Set([MAC_CALLER, MAC_TECH, roleMac(UNKNOWN_MAC_BYTE)]);

/** True when the UDP packets' MACs are the appliance's role MACs, consistently (see above). */
export function hasApplianceRoles(udp: readonly UdpDatagram[]): boolean {
  // which side each endpoint is on: the appliance's, or a peer's (a phone may be caller and technician at once)
  const ours = new Map<string, boolean>();
  const keep = (addr: string, port: number, us: boolean): boolean => {
    const key = `${addr}:${port}`;
    const had = ours.get(key);
    if (had === undefined) ours.set(key, us);
    return had === undefined || had === us;
  };
  let caller = false;
  for (const d of udp) {
    const { srcMac: s, dstMac: r } = d;
    if (s === undefined || r === undefined) return false;
    const fromUs = s === MAC_APPLIANCE && PEER_MACS.has(r);
    const toUs = r === MAC_APPLIANCE && PEER_MACS.has(s);
    if (!fromUs && !toUs) return false;
    if (!keep(d.srcAddr, d.srcPort, fromUs) || !keep(d.dstAddr, d.dstPort, toUs)) return false;
    caller ||= s === MAC_CALLER || r === MAC_CALLER;
  }
  return caller;
}
