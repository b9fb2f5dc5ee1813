/**
 * Places RTP audio on one channel's timeline (8 kHz samples).
 *
 * Within a stream (one SSRC from one source) the RTP timestamp gives the
 * position (RFC 3550 §5.1: it counts sampling instants), so lost packets
 * leave silence and reordered packets land where they belong; duplicates
 * (same sequence number) are ignored. Across streams (a new hunt hop, the
 * appliance switching from ringback to relayed audio) the arrival time
 * places each stream. A timestamp jump that disagrees with the arrival time
 * by more than RESYNC (or MARKER_RESYNC on a marked packet) starts a new
 * segment anchored on arrival again.
 */

export const RATE = 8000;
/** Disagreement between RTP time and arrival time that forces a re-anchor (samples). */
const RESYNC = RATE; // 1 s: far beyond jitter and reordering, far below a hold or a source switch
/**
 * The same with the marker bit set (RFC 3551 §4.1: first packet of a talkspurt;
 * relays set it when they switch sources under one SSRC): 60 ms is enough.
 */
const MARKER_RESYNC = RATE * 0.06;

export interface AudioPacket {
  timeUs: number;
  /** Stream identity: SSRC and source endpoint. */
  stream: string;
  seq: number;
  timestamp: number;
  marker: boolean;
  law: 'PCMA' | 'PCMU';
  payload: Buffer;
}

export interface PlacedAudio {
  /** Sample position relative to the capture's first packet (may be slightly negative). */
  pos: number;
  law: 'PCMA' | 'PCMU';
  payload: Buffer;
}

export interface StreamStats {
  stream: string;
  law: 'PCMA' | 'PCMU';
  packets: number;
  duplicates: number;
  /** Sequence numbers missing between the first and last (RFC 3550 §6.4.1 "cumulative lost"). */
  lost: number;
}

interface Member {
  p: AudioPacket;
  /** Timestamp relative to the segment anchor, in samples. */
  rel: number;
  /** Arrival relative to the capture start, in samples. */
  arrival: number;
}

/** Place the packets of one channel; `t0Us` is the capture's first packet time. */
export function placeChannel(packets: AudioPacket[], t0Us: number): { placed: PlacedAudio[]; stats: StreamStats[] } {
  const byStream = new Map<string, AudioPacket[]>();
  for (const p of packets) {
    let list = byStream.get(p.stream);
    if (!list) byStream.set(p.stream, (list = []));
    list.push(p);
  }
  const placed: PlacedAudio[] = [];
  const stats: StreamStats[] = [];
  for (const [stream, list] of byStream) {
    const st: StreamStats = { stream, law: list[0].law, packets: 0, duplicates: 0, lost: 0 };
    for (const seg of segments(list, t0Us, st)) placeSegment(seg, placed);
    stats.push(st);
  }
  return { placed, stats };
}

/** Split a stream (in arrival order) where RTP time and arrival time part ways; drop duplicates. */
function segments(list: AudioPacket[], t0Us: number, st: StreamStats): Member[][] {
  const out: Member[][] = [];
  const seen = new Set<number>();
  let cur: Member[] = [];
  let anchorTs = 0;
  let anchorArrival = 0;
  let maxExt = -1;
  let minExt = Infinity;
  for (const p of list) {
    // RFC 3550 Appendix A.1: extend the 16-bit sequence number across wraps;
    // the extended value closest to the highest seen so far also places reordered packets
    const ext = maxExt < 0 ? p.seq : maxExt + ((((p.seq - (maxExt & 0xffff) + 0x8000) & 0xffff) - 0x8000));
    if (seen.has(ext)) {
      st.duplicates++;
      continue;
    }
    seen.add(ext);
    st.packets++;
    maxExt = Math.max(maxExt, ext);
    minExt = Math.min(minExt, ext);
    const arrival = ((p.timeUs - t0Us) * RATE) / 1e6;
    const apart = Math.abs(anchorArrival + ((p.timestamp - anchorTs) | 0) - arrival);
    if (cur.length === 0 || apart > RESYNC || (p.marker && apart > MARKER_RESYNC)) {
      if (cur.length) out.push(cur);
      cur = [];
      anchorTs = p.timestamp;
      anchorArrival = arrival;
    }
    cur.push({ p, rel: (p.timestamp - anchorTs) | 0, arrival });
  }
  if (cur.length) out.push(cur);
  st.lost = Math.max(0, maxExt - minExt + 1 - st.packets);
  return out;
}

/**
 * The segment's offset is the median of (arrival - RTP offset): jitter moves
 * it by the median delay only (a few ms), and a few reordered or delayed
 * packets cannot drag the whole segment (as a minimum or the first packet would).
 */
function placeSegment(seg: Member[], placed: PlacedAudio[]): void {
  const d = Float64Array.from(seg, (m) => m.arrival - m.rel).sort();
  const base = Math.round(d[(d.length - 1) >> 1]);
  for (const m of seg) placed.push({ pos: base + m.rel, law: m.p.law, payload: m.p.payload });
}
