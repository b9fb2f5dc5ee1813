/**
 * RTP pcaps for SIPp's `play_pcap_audio`, made by the tests with the
 * project's own pcap writer: a key pressed as audio (in-band DTMF, ITU-T
 * Q.23 tone pairs in G.711), and RFC 4733 telephone-events moved to another
 * payload type. SIPp replays the packets with their capture timing and
 * rewrites addresses and ports; the RTP header goes out as written here.
 */
import { readFileSync } from 'node:fs';
import { encode, type G711Law } from '../../src/media/g711.js';
import { buildRtp } from '../../src/media/rtp-packet.js';
import { dtmfTone, renderTone } from '../../src/media/tone.js';
import { decodeUdp } from '../../src/record/frame-decode.js';
import { readCapture } from '../../src/record/pcap-reader.js';
import { pcapGlobalHeader, recordLength, writeRecord } from '../../src/record/pcap-writer.js';

/** 20 ms of 8 kHz audio per packet (a=ptime:20). */
const SAMPLES = 160;
const PT: Record<G711Law, number> = { PCMU: 0, PCMA: 8 };
const ADDR = { src: { address: '127.0.0.1', port: 40000 }, dst: { address: '127.0.0.1', port: 40002 } };

export interface TimedRtp {
  /** Capture time, ms (SIPp only uses the differences). */
  timeMs: number;
  rtp: Uint8Array;
}

/** A classic pcap (Ethernet/IPv4/UDP framing) holding these RTP packets. */
export function rtpPcap(packets: readonly TimedRtp[]): Buffer {
  const size = packets.reduce((n, p) => n + recordLength(p.rtp.length), 0);
  const body = Buffer.alloc(size);
  let off = 0;
  packets.forEach((p, i) => {
    off = writeRecord(body, off, { from: 'caller', to: 'appliance', ...ADDR, timeMs: p.timeMs, ipId: i }, p.rtp);
  });
  return Buffer.concat([pcapGlobalHeader(), body]);
}

export interface InbandOptions {
  law?: G711Law;
  /** Silence before the tone (ms). */
  leadMs?: number;
  /** Tone length (ms). */
  toneMs?: number;
  /** Silence after the tone (ms). */
  tailMs?: number;
}

/** PCM of one key as audio: silence, the Q.23 tone pair, silence. */
export function inbandDigitPcm(digit: string, o: InbandOptions = {}): Int16Array {
  const lead = ((o.leadMs ?? 1000) * 8000) / 1000;
  const tone = dtmfTone(digit, o.toneMs ?? 150);
  const pcm = new Int16Array(lead + tone.length + ((o.tailMs ?? 500) * 8000) / 1000);
  pcm.set(tone, lead);
  return pcm;
}

/** One key pressed in-band, as a stream of 20 ms G.711 packets (one SSRC, marker on the first). */
export function inbandDigitPcap(digit: string, o: InbandOptions = {}): Buffer {
  return audioPcap(inbandDigitPcm(digit, o), o.law ?? 'PCMA');
}

/** A steady tone of `freq` Hz for `seconds`, e.g. a caller speaking a message. */
export function tonePcap(freq: number, seconds: number, law: G711Law = 'PCMA'): Buffer {
  return audioPcap(renderTone([{ freqs: [freq], ms: seconds * 1000 }]), law);
}

/** 8 kHz PCM as a stream of 20 ms G.711 packets (one SSRC, marker on the first). */
function audioPcap(pcm: Int16Array, law: G711Law): Buffer {
  const audio = encode(law, pcm);
  const packets: TimedRtp[] = [];
  for (let i = 0; (i + 1) * SAMPLES <= audio.length; i++) {
    const payload = audio.subarray(i * SAMPLES, (i + 1) * SAMPLES);
    const rtp = buildRtp({ payloadType: PT[law], marker: i === 0, seq: 1000 + i, timestamp: 8000 + i * SAMPLES, ssrc: 0x7e57d7f1, payload });
    packets.push({ timeMs: 1_700_000_000_000 + i * 20, rtp });
  }
  return rtpPcap(packets);
}

/**
 * The RTP packets of a capture (e.g. SIPp's dtmf_2833_1.pcap) with the
 * payload type replaced by `pt` (marker bit kept), capture timing kept.
 */
export function withPayloadType(pcap: Buffer, pt: number): Buffer {
  const cap = readCapture(pcap);
  const packets: TimedRtp[] = [];
  for (const p of cap.packets) {
    const udp = decodeUdp(p.linkType, p.data);
    if (!udp || udp.payload.length < 12 || udp.payload[0] >> 6 !== 2) continue;
    const rtp = Buffer.from(udp.payload);
    rtp[1] = (rtp[1] & 0x80) | (pt & 0x7f);
    packets.push({ timeMs: p.timeUs / 1000, rtp });
  }
  if (packets.length === 0) throw new Error('no RTP packet in the capture');
  return rtpPcap(packets);
}

/** SIPp's own RFC 4733 capture of one key (payload type 101). */
export function sippDtmfPcap(digit: string): Buffer {
  const name = digit === '#' ? 'pound' : digit === '*' ? 'star' : digit;
  return readFileSync(`/usr/share/sip-tester/dtmf_2833_${name}.pcap`);
}
