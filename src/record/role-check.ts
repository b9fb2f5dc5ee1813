/**
 * Is a capture one of the appliance's own recordings? pcap-writer.ts marks
 * who sent and who received each packet with role MACs (02:00:00:00:00:xx),
 * but those are common dummy addresses: another tool may write them too, and
 * usually the same pair for every packet whatever its direction, which read
 * as roles would put all audio on one channel. So the MACs count as roles
 * only when they say what the role reading assumes (issue 14):
 * 1. every UDP packet goes to or from the appliance: 02:..:00 on exactly one
 *    side, a role MAC (caller, technician, unknown) on the other;
 * 2. each IP endpoint keeps one MAC, whether it sends or receives (fixed
 *    dummy MACs fail here: each side "sends" with one and "receives" with
 *    the other);
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
const MAC_UNKNOWN = roleMac(UNKNOWN_MAC_BYTE);
/** What the far side of a packet may carry. */
const PEER_MACS = new Set([MAC_CALLER, MAC_TECH, MAC_UNKNOWN]);

/** True when the UDP packets' MACs are the appliance's role MACs, consistently (see above). */
export function hasApplianceRoles(udp: readonly UdpDatagram[]): boolean {
  const macOf = new Map<string, string>();
  // an endpoint seen with two MACs is not a role; "unknown" places nobody, so it binds nothing
  const keep = (addr: string, port: number, mac: string): boolean => {
    if (mac === MAC_UNKNOWN) return true;
    const key = `${addr}:${port}`;
    const had = macOf.get(key);
    if (had === undefined) macOf.set(key, mac);
    return had === undefined || had === mac;
  };
  let caller = false;
  for (const d of udp) {
    const { srcMac: s, dstMac: r } = d;
    if (s === undefined || r === undefined) return false;
    const fromUs = s === MAC_APPLIANCE && PEER_MACS.has(r);
    const toUs = r === MAC_APPLIANCE && PEER_MACS.has(s);
    if (!fromUs && !toUs) return false;
    if (!keep(d.srcAddr, d.srcPort, s) || !keep(d.dstAddr, d.dstPort, r)) return false;
    caller ||= s === MAC_CALLER || r === MAC_CALLER;
  }
  return caller;
}
