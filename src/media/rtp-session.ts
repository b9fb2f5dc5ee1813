/**
 * One RTP endpoint (one leg): a pool socket, the peer learnt from SDP,
 * symmetric RTP, one outgoing stream.
 *
 * Receiving: a datagram is accepted when it is valid RTP (rtp-packet.ts)
 * with a negotiated payload type (PCMA/PCMU/telephone-event) and passes
 * the latching rule. Symmetric RTP (RFC 4961 spirit): we send to the
 * source we latched to, and drop the others. The rule (issue 16: a
 * stranger that speaks first must not take the leg over):
 * 1. a packet from exactly the SDP address:port always wins: it latches
 *    (or re-latches) to the SDP endpoint, for the rest of the session;
 * 2. another port on the SDP address is latched only while nothing has
 *    come from the SDP endpoint itself, and is replaced as soon as the
 *    SDP endpoint speaks (rule 1). Reason: a phone behind NAT sends from
 *    a port its SDP does not name, and never from the one it names;
 * 3. any other address is dropped (unless `latchAnyAddress`, where the
 *    first valid source latches like rule 2, or the SDP names a host or
 *    0.0.0.0, which cannot be compared).
 * Dropped packets from a valid RTP source not latched are counted as
 * `strangers` and reported when the session closes (those we see: see
 * connect() below).
 * The socket is connect()ed only once latched to the SDP endpoint itself:
 * the kernel then drops the others (they are no longer counted), and a
 * send needs no per-packet address lookup (Node defers every send to an
 * address by one tick). Connected to a NAT port instead, the kernel would
 * hide the SDP endpoint from rule 1. Accepted packets go to the tap,
 * then to the observers (read-only: DTMF detectors), then to the one
 * forwarder (the relay, which may rewrite the buffer in place).
 *
 * The tap sees every packet received and sent; the buffer is only valid
 * during the call (the relay rewrites it afterwards): copy what you keep.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from '../sip/message.js';
import type { Logger } from '../util/log.js';
import type { G711Law } from './g711.js';
import type { NegotiatedMedia } from './offer-answer.js';
import type { RtpSocket } from './port-pool.js';
import { RTP_HEADER_LEN, payloadEnd, payloadStart, rtpBounds, writeRtpHeader } from './rtp-packet.js';
import { RtpStream } from './rtp-stream.js';

export type RtpTap = (dir: 'in' | 'out', packet: Buffer, local: Endpoint, remote: Endpoint, timeMs: number) => void;

/** One received packet, described without copying; the object is reused for every packet. */
export interface RtpIn {
  buf: Buffer;
  /** Payload offset and end (padding excluded) in `buf`. */
  start: number;
  end: number;
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** 'event' = telephone-event (RFC 4733); otherwise the G.711 law of the payload. */
  kind: G711Law | 'event';
}

export type RtpObserver = (p: Readonly<RtpIn>) => void;

export interface RtpSessionStats {
  received: number;
  sent: number;
  /** Not RTP, unknown payload type, or from a source other than the latched one. */
  dropped: number;
  /** Of `dropped`: valid RTP from a source the latching rule refused (see the file comment). */
  strangers: number;
  /** Monotonic time (ms) of the last accepted packet, 0 before the first: for an RTP inactivity timeout. */
  lastReceivedMs: number;
}

export interface RtpSessionOptions {
  log: Logger;
  tap?: RtpTap;
  /** Latch to the first valid packet from any address (peer behind NAT); default: only from the SDP address. */
  latchAnyAddress?: boolean;
  /** Monotonic clock in ms, for the outgoing timestamps. */
  now?: () => number;
}

const PT_PCMU = 0;
const PT_PCMA = 8;

export class RtpSession {
  readonly local: Endpoint;
  readonly stream: RtpStream;
  readonly stats: RtpSessionStats = { received: 0, sent: 0, dropped: 0, strangers: 0, lastReceivedMs: 0 };
  private readonly now: () => number;
  private media: NegotiatedMedia;
  private latchedTo: Endpoint | undefined;
  /** A packet came from exactly the SDP endpoint (rule 1): no other port is latched any more. */
  private sdpHeard = false;
  /** The last stranger, for the close line (two fields: no object per dropped packet). */
  private strangerAddress = '';
  private strangerPort = 0;
  private readonly observers: RtpObserver[] = [];
  private forwarder: RtpObserver | undefined;
  private tap: RtpTap | undefined;
  private readonly info: RtpIn;
  private closed = false;
  /** The socket's connect() state; `connectedTo` is the endpoint once connected. */
  private connecting = false;
  private connectedTo: Endpoint | undefined;

  constructor(
    private readonly sock: RtpSocket,
    media: NegotiatedMedia,
    private readonly opts: RtpSessionOptions,
  ) {
    this.local = { address: sock.address, port: sock.port };
    this.media = media;
    this.tap = opts.tap;
    this.now = opts.now ?? (() => performance.now());
    this.stream = new RtpStream(this.now);
    this.info = { buf: Buffer.alloc(0), start: 0, end: 0, payloadType: 0, marker: false, seq: 0, timestamp: 0, ssrc: 0, kind: 'PCMA' };
    sock.socket.on('message', (buf, rinfo) => this.onMessage(buf, rinfo.address, rinfo.port));
  }

  get negotiated(): Readonly<NegotiatedMedia> {
    return this.media;
  }

  /** Where we send: the latched source, else the SDP endpoint. */
  get remote(): Endpoint {
    return this.latchedTo ?? this.media.remote;
  }

  get latched(): boolean {
    return this.latchedTo !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** New SDP for this leg (re-INVITE, or the answer to our offer). A new remote address drops the latch. */
  setMedia(media: NegotiatedMedia): void {
    const old = this.media.remote;
    this.media = media;
    if (old.address === media.remote.address && old.port === media.remote.port) return;
    this.latchedTo = undefined;
    this.sdpHeard = false;
    this.disconnect();
  }

  setTap(tap: RtpTap | undefined): void {
    this.tap = tap;
  }

  /** Add a read-only observer of accepted packets; returns its removal. */
  observe(fn: RtpObserver): () => void {
    this.observers.push(fn);
    return () => {
      const i = this.observers.indexOf(fn);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** The one consumer allowed to modify packets (the relay); called after the observers. */
  setForwarder(fn: RtpObserver | undefined): void {
    this.forwarder = fn;
  }

  /** Remove `fn` if it is still the forwarder (a newer relay on this session stays). */
  clearForwarder(fn: RtpObserver): void {
    if (this.forwarder === fn) this.forwarder = undefined;
  }

  /** True when the peer wants our audio now (not on hold, known address). */
  get canSend(): boolean {
    const r = this.remote;
    const dir = this.media.remoteDirection;
    return !this.closed && r.port !== 0 && r.address !== '0.0.0.0' && dir !== 'sendonly' && dir !== 'inactive';
  }

  /**
   * Send `buf[start..end)` as payload; `buf` must have 12 writable bytes
   * before `start` (the header is written there, in place).
   * `sourceKey/srcSeq/srcTs` identify the feeding stream (see rtp-stream.ts).
   */
  sendInPlace(buf: Buffer, start: number, end: number, payloadType: number, marker: boolean, sourceKey: number, srcSeq: number, srcTs: number): void {
    if (!this.canSend || start < RTP_HEADER_LEN) return;
    const s = this.stream;
    s.next(sourceKey, srcSeq, srcTs);
    const h = start - RTP_HEADER_LEN;
    writeRtpHeader(buf, payloadType, marker || s.switched, s.outSeq, s.outTs, s.ssrc, h);
    const r = this.remote;
    this.stats.sent++;
    if (this.tap) this.tap('out', h === 0 && end === buf.length ? buf : buf.subarray(h, end), this.local, r, Date.now());
    // No callback: it would cost a tick per packet, and a lost RTP packet
    // is not worth a log line (the far end's silence shows in the recording).
    if (this.connectedTo === r) this.sock.socket.send(buf, h, end - h);
    else this.sock.socket.send(buf, h, end - h, r.port, r.address);
  }

  /** Send an audio or event payload (copied) of our own generator. */
  sendPayload(payload: Uint8Array, payloadType: number, marker: boolean, sourceKey: number, srcSeq: number, srcTs: number): void {
    if (!this.canSend) return;
    const buf = Buffer.allocUnsafe(RTP_HEADER_LEN + payload.length);
    buf.set(payload, RTP_HEADER_LEN);
    this.sendInPlace(buf, RTP_HEADER_LEN, buf.length, payloadType, marker, sourceKey, srcSeq, srcTs);
  }

  /** The payload type to use for a law on this leg. */
  payloadTypeOf(law: G711Law): number {
    if (law === this.media.codec) return this.media.payloadType;
    return law === 'PCMA' ? PT_PCMA : PT_PCMU;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const st = this.stats;
    const last = st.strangers > 0 ? ` (last ${this.strangerAddress}:${this.strangerPort})` : '';
    const line = `RTP ${this.local.port} closed: ${st.received} received, ${st.sent} sent, ${st.dropped} dropped, ${st.strangers} from strangers${last}`;
    if (st.strangers > 0) this.opts.log.info(line);
    else this.opts.log.debug(line);
    this.observers.length = 0;
    this.forwarder = undefined;
    this.sock.socket.removeAllListeners('message');
    this.sock.close();
  }

  private classify(pt: number): G711Law | 'event' | undefined {
    const m = this.media;
    if (pt === m.payloadType) return m.codec;
    if (m.telephoneEventPt !== undefined && pt === m.telephoneEventPt) return 'event';
    if (pt === PT_PCMA) return 'PCMA';
    if (pt === PT_PCMU) return 'PCMU';
    return undefined; // comfort noise, video, anything not negotiated
  }

  /** The latching rule of the file comment; true when the packet is accepted. */
  private accept(address: string, port: number): boolean {
    const sdp = this.media.remote;
    if (port === sdp.port && address === sdp.address) {
      const l = this.latchedTo;
      if (l && l.port === port && l.address === address) return true;
      this.latch({ address, port }, l);
      this.sdpHeard = true;
      this.connect(this.latchedTo!);
      return true;
    }
    const l = this.latchedTo;
    if (l) return l.port === port && l.address === address;
    if (this.sdpHeard) return false;
    // a host name in c= (rare) cannot be compared: take the first valid packet
    if (this.opts.latchAnyAddress || sdp.address === '0.0.0.0' || address === sdp.address || isIP(sdp.address) === 0) {
      this.latch({ address, port }, undefined);
      return true;
    }
    return false;
  }

  private latch(to: Endpoint, from: Endpoint | undefined): void {
    const sdp = this.media.remote;
    this.latchedTo = to;
    if (from) {
      // a NAT port was latched (rule 2): back to an unconnected socket before the new connect
      this.opts.log.info(`RTP ${this.local.port} re-latched from ${from.address}:${from.port} to the SDP endpoint ${to.address}:${to.port}`);
      this.disconnect();
    } else this.opts.log.debug(`RTP latched to ${to.address}:${to.port} (SDP said ${sdp.address}:${sdp.port})`);
  }

  /** connect() the socket to the latched SDP endpoint (asynchronous in Node: sends go by address until it is done). */
  private connect(to: Endpoint): void {
    if (this.connecting || this.connectedTo) return;
    this.connecting = true;
    try {
      this.sock.socket.connect(to.port, to.address, () => {
        this.connecting = false;
        if (this.closed) return;
        this.connectedTo = to;
        if (this.latchedTo === to) return;
        // the latch moved on while connecting (re-INVITE): start over, connecting only to the SDP endpoint
        this.disconnect();
        const l = this.latchedTo;
        if (l && l.port === this.media.remote.port && l.address === this.media.remote.address) this.connect(l);
      });
    } catch (e) {
      this.connecting = false;
      this.opts.log.debug(`RTP socket ${this.local.port}: connect to ${to.address}:${to.port}: ${(e as Error).message}; sending by address`);
    }
  }

  /** Back to an unconnected socket, so that the next latch can take any source again. */
  private disconnect(): void {
    if (this.closed || this.connecting || !this.connectedTo) return;
    this.connectedTo = undefined;
    try {
      this.sock.socket.disconnect();
    } catch (e) {
      this.opts.log.debug(`RTP socket ${this.local.port}: disconnect: ${(e as Error).message}`);
    }
  }

  private onMessage(buf: Buffer, address: string, port: number): void {
    if (this.closed) return;
    const bounds = rtpBounds(buf, buf.length);
    const kind = bounds < 0 ? undefined : this.classify(buf[1] & 0x7f);
    if (kind === undefined) {
      this.stats.dropped++;
      return;
    }
    if (!this.accept(address, port)) {
      this.stats.dropped++;
      this.stats.strangers++;
      this.strangerAddress = address;
      this.strangerPort = port;
      return;
    }
    this.stats.received++;
    this.stats.lastReceivedMs = this.now();
    if (this.tap) this.tap('in', buf, this.local, this.latchedTo ?? { address, port }, Date.now());
    const p = this.info;
    p.buf = buf;
    p.start = payloadStart(bounds);
    p.end = payloadEnd(bounds);
    p.payloadType = buf[1] & 0x7f;
    p.marker = (buf[1] & 0x80) !== 0;
    p.seq = (buf[2] << 8) | buf[3];
    p.timestamp = buf.readUInt32BE(4);
    p.ssrc = buf.readUInt32BE(8);
    p.kind = kind;
    for (let i = 0; i < this.observers.length; i++) this.observers[i](p);
    if (this.forwarder) this.forwarder(p);
  }
}
