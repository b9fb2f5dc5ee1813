/**
 * Per-call recorder: one pcap file per emergency call, fed from the RTP
 * packet taps of the caller leg and the technician legs.
 *
 * The card (CF/SD) has few write IOPS, so packets are framed straight into
 * memory chunks and written in few large writes: one writev() per flush,
 * every `flushIntervalMs` (1 s) or when `maxBufferBytes` (64 KiB) are
 * buffered, followed by fdatasync(). Records are always whole, so the file
 * is a valid pcap after every flush: a power cut loses at most the last
 * interval, never the file.
 *
 * Valid from its first moment: the file is made as `<name>.part`, gets its
 * pcap global header, is fdatasync'ed and only then renamed to its name (and
 * the folder synced): a `.pcap` on the card always opens, even after a kill
 * -9 a millisecond after the key press (it may hold no packet yet). Packets
 * that arrive meanwhile wait in memory, bounded by maxQueuedBytes.
 * rename() gives the file a new name while it is written (the first ticket
 * number becomes known after the key press; the call's last at its end).
 *
 * Honest counts: stats.packets is what the file holds (records whose write
 * and fdatasync succeeded), stats.dropped everything accepted or offered
 * that never got there, stats.buffered what is still in memory.
 *
 * A full or failing card (ENOSPC, EIO, EROFS, ...) stops this recording with
 * one log line naming the file and the cause; the file is cut back to its
 * last whole record when possible. packet() never throws: the call goes on.
 */
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Endpoint } from '../sip/message.js';
import { errText, type Logger } from '../util/log.js';
import { syncDir } from '../util/atomic-write.js';
import { FlowFrame, MAX_UDP_PAYLOAD, pcapGlobalHeader, type Role } from './pcap-writer.js';

export type { Role } from './pcap-writer.js';
export { defaultRecordingDir, MAX_NAMED_TICKETS, recordingName } from './recording-name.js';

export interface CallRecorderOptions {
  /** Recording folder (created if missing), e.g. CF0/TED_RECORDING. */
  dir: string;
  /** File name, see recordingName(). */
  name: string;
  logger: Logger;
  /** Flush at least this often while packets are buffered (default 1000 ms). */
  flushIntervalMs?: number;
  /** Flush as soon as this many bytes are buffered (default 64 KiB). */
  maxBufferBytes?: number;
  /** fdatasync after each flush so a power cut loses at most one interval (default true). */
  fsync?: boolean;
  /** Bytes allowed to wait for a slow card before packets are dropped (default 16 x maxBufferBytes). */
  maxQueuedBytes?: number;
}

export interface RecorderStats {
  /** Packets in the file: written and synced. */
  packets: number;
  /** Packets accepted and still in memory (or being written). */
  buffered: number;
  /** Bytes written to the file so far (header included). */
  bytesWritten: number;
  /** writev() calls made. */
  writes: number;
  /** Packets not recorded: oversized, card too slow, lost in a failed write, or after a failure. */
  dropped: number;
  /** Why the recording stopped early, if it did. */
  failure: string | undefined;
}

export interface CallRecorder {
  /** The file; gains a `_2`, `_3`... suffix if a recording of that name already exists (never overwritten). */
  readonly path: string;
  /**
   * Record one RTP packet. `role` = who SENT it; `to` = who receives it,
   * when the caller knows (otherwise packets sent by the appliance are
   * matched against the endpoints the caller and technicians send from).
   * `timeMs` = arrival/send time, ms since the epoch (fractions allowed).
   * Copies `rtp` once, never throws.
   */
  packet(role: Role, src: Endpoint, dst: Endpoint, rtp: Uint8Array, timeMs: number, to?: Role): void;
  /**
   * Rename the file (same folder; a `_2`... suffix if the name is taken),
   * also after close(). Never rejects: a refused rename is one warning and
   * the recording keeps its name. Resolves once done.
   */
  rename(name: string): Promise<void>;
  /** Write what is buffered now (resolves when it is on the card). */
  flush(): Promise<void>;
  /** Flush and close the file; idempotent, never rejects. */
  close(): Promise<void>;
  readonly stats: Readonly<RecorderStats>;
}

const CHUNK_BYTES = 16 * 1024;
const MAX_FLOWS = 8;

/**
 * Chunks shared by all recorders: a chunk goes back here once the write that
 * carried it is done, so a recording makes no garbage per flush (at 300
 * calls the 16 KiB chunks were ~14 MB/s of external memory, and RSS swung
 * by ~90 MB between V8's collections). Bounded: a burst of calls leaves at
 * most MAX_SPARE chunks behind.
 */
const spare: Buffer[] = [];
const MAX_SPARE = 512;

function takeChunk(bytes: number): Buffer {
  return (bytes === CHUNK_BYTES ? spare.pop() : undefined) ?? Buffer.allocUnsafe(bytes);
}

function giveBack(chunks: Buffer[]): void {
  for (const c of chunks) if (c.length === CHUNK_BYTES && spare.length < MAX_SPARE) spare.push(c);
}

export function createCallRecorder(opts: CallRecorderOptions): CallRecorder {
  return new PcapCallRecorder(opts);
}

class PcapCallRecorder implements CallRecorder {
  path: string;
  readonly stats: RecorderStats = { packets: 0, buffered: 0, bytesWritten: 0, writes: 0, dropped: 0, failure: undefined };
  private readonly log: Logger;
  private readonly maxBuffer: number;
  private readonly maxQueued: number;
  private readonly fsync: boolean;
  /** False once closed or failed: packet() then only counts. */
  private accepting = true;
  private chunk: Buffer;
  private off = 0;
  /** Filled parts of the chunks since the last flush, and the whole chunks they live in (returned after the write). */
  private full: Buffer[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Packets in the chunks since the last flush. */
  private bufferedPackets = 0;
  private queued = 0;
  /** File size after the last fully written flush: always the end of a whole record. */
  private committed = 0;
  private slowWarned = false;
  private ipId = 0;
  private readonly dir: string;
  private readonly fh: Promise<FileHandle | undefined>;
  private queue: Promise<void> = Promise.resolve();
  /** Renames, in order, each after the file exists. */
  private renames: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Where the caller and technicians send from: the appliance's packets to those endpoints go to them. */
  private readonly senders = new Map<string, Role>();
  private readonly lastSender: Record<Role, { address: string; port: number }> = {
    caller: { address: '', port: -1 },
    technician: { address: '', port: -1 },
    appliance: { address: '', port: -1 },
  };
  private lastDst = { address: '', port: -1 };
  private lastTo: Role | undefined;
  /** The flows seen so far (a bridged call has four: each leg, each way). */
  private readonly flows: FlowFrame[] = [];
  private flowsMade = 0;

  constructor(opts: CallRecorderOptions) {
    this.path = join(opts.dir, opts.name);
    this.log = opts.logger;
    this.maxBuffer = Math.max(4096, opts.maxBufferBytes ?? 64 * 1024);
    this.maxQueued = opts.maxQueuedBytes ?? 16 * this.maxBuffer;
    this.fsync = opts.fsync ?? true;
    this.chunk = this.newChunk(0);
    this.dir = opts.dir;
    this.fh = this.openFile(opts.dir);
    this.timer = setInterval(() => {
      if (this.buffered > 0) void this.flush();
    }, Math.max(10, opts.flushIntervalMs ?? 1000));
    this.timer.unref();
  }

  private async openFile(dir: string): Promise<FileHandle | undefined> {
    let fh: FileHandle | undefined;
    try {
      await mkdir(dir, { recursive: true });
      const made = await this.openUnique();
      fh = made.fh;
      // The header on the card before the name is: a .pcap never exists without it
      const header = pcapGlobalHeader();
      await fh.write(header); // at the file position: the writev()s follow it
      if (this.fsync) await fh.datasync();
      this.stats.bytesWritten = this.committed = header.length;
      if (made.part) await rename(made.part, this.path);
      // The new name must survive a power cut too (best effort: FAT may refuse).
      await syncDir(dir).catch((e: unknown) => this.log.debug(`recording folder ${dir} not synced: ${errText(e)}`));
      this.log.info(`recording ${this.path}`);
      return fh;
    } catch (e) {
      this.fail(e);
      await fh?.close().catch(() => undefined);
      return undefined;
    }
  }

  /**
   * Never overwrite a recording: it may be the proof of an answer time. The
   * `.part` is opened exclusively, so two recordings of one name in the same
   * second (two calls from one number) get apart before either is renamed.
   */
  private async openUnique(): Promise<{ fh: FileHandle; part: string | undefined }> {
    const base = this.path;
    for (let n = 2; ; n++) {
      const st = await stat(this.path).catch(() => undefined);
      // Something that is not a file (a device: how the tests fake a full card) is written into
      if (st && !st.isFile()) return { fh: await open(this.path, 'w'), part: undefined };
      if (!st) {
        try {
          return { fh: await open(`${this.path}.part`, 'wx', 0o644), part: `${this.path}.part` };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      if (n > 99) throw new Error(`no free name for ${base} (up to _99 taken)`);
      this.path = withSuffix(base, n);
    }
  }

  rename(name: string): Promise<void> {
    this.renames = this.renames.then(() => this.renameNow(name));
    return this.renames;
  }

  private async renameNow(name: string): Promise<void> {
    if (!(await this.fh)) return; // never made: nothing to rename
    const base = join(this.dir, name);
    if (base === this.path) return;
    try {
      let to = base;
      for (let n = 2; await exists(to); n++) {
        if (n > 99) throw new Error('up to _99 taken');
        to = withSuffix(base, n);
      }
      await rename(this.path, to);
      await syncDir(this.dir).catch((e: unknown) => this.log.debug(`recording folder ${this.dir} not synced: ${errText(e)}`));
      this.log.info(`recording ${this.path} renamed to ${name === basename(to) ? name : basename(to)}`);
      this.path = to;
    } catch (e) {
      this.log.warn(`recording ${this.path}: not renamed to ${name}: ${errText(e)}`);
    }
  }

  packet(role: Role, src: Endpoint, dst: Endpoint, rtp: Uint8Array, timeMs: number, to?: Role): void {
    if (!this.accepting) {
      this.stats.dropped++;
      return;
    }
    try {
      this.record(role, src, dst, rtp, timeMs, to);
    } catch (e) {
      // Bad arguments from a tap must not end the call: log and stop recording.
      this.fail(e);
    }
  }

  private record(role: Role, src: Endpoint, dst: Endpoint, rtp: Uint8Array, timeMs: number, to?: Role): void {
    const len = rtp.length;
    if (len === 0 || len > MAX_UDP_PAYLOAD || this.queued > this.maxQueued) {
      this.dropSlow(len);
      return;
    }
    const f = this.flow(role, to ?? this.receiverOf(role, src, dst), src, dst);
    const need = f.recordLength(len);
    if (this.chunk.length - this.off < need) {
      if (this.off > 0) this.full.push(this.chunk.subarray(0, this.off));
      this.chunk = this.newChunk(need);
      this.off = 0;
    }
    this.off = f.write(this.chunk, this.off, timeMs, this.ipId++, rtp);
    this.buffered += need;
    this.bufferedPackets++;
    this.stats.buffered++;
    if (this.buffered >= this.maxBuffer) void this.flush();
  }

  /** The frame of a flow, built on its first packet; at most MAX_FLOWS kept (a hunt adds two flows per technician leg). */
  private flow(from: Role, to: Role | undefined, src: Endpoint, dst: Endpoint): FlowFrame {
    const flows = this.flows;
    for (let i = 0; i < flows.length; i++) if (flows[i].is(from, to, src, dst)) return flows[i];
    const f = new FlowFrame(from, to, { address: src.address, port: src.port }, { address: dst.address, port: dst.port });
    if (flows.length < MAX_FLOWS) flows.push(f);
    else flows[this.flowsMade % MAX_FLOWS] = f; // the oldest goes
    this.flowsMade++;
    return f;
  }

  /** Who receives a packet: the appliance for leg-sent packets, else whoever sends from `dst`. */
  private receiverOf(role: Role, src: Endpoint, dst: Endpoint): Role | undefined {
    if (role !== 'appliance') {
      this.learnSender(role, src);
      return 'appliance';
    }
    // Taps hand a fresh endpoint object per packet: compare contents, build no string
    const last = this.lastDst;
    if (dst.port === last.port && dst.address === last.address) return this.lastTo;
    this.lastTo = this.senders.get(`${dst.address}:${dst.port}`);
    this.lastDst = { address: dst.address, port: dst.port };
    return this.lastTo;
  }

  private learnSender(role: Role, src: Endpoint): void {
    const last = this.lastSender[role];
    if (src.port === last.port && src.address === last.address) return;
    this.lastSender[role] = { address: src.address, port: src.port };
    const key = `${src.address}:${src.port}`;
    if (this.senders.get(key) === role || this.senders.size >= 64) return;
    this.senders.set(key, role);
    this.lastDst = { address: '', port: -1 }; // a cached "unknown" may now be known
  }

  private dropSlow(len: number): void {
    this.stats.dropped++;
    if (len > 0 && len <= MAX_UDP_PAYLOAD && !this.slowWarned) {
      this.slowWarned = true;
      this.log.warn(`recording ${this.path}: card too slow, ${this.queued} bytes waiting: dropping packets until it catches up`);
    }
  }

  /** A chunk with room for `need` bytes, kept in `chunks` until the write that carries it is done. */
  private newChunk(need: number): Buffer {
    const c = takeChunk(Math.max(need, Math.min(CHUNK_BYTES, this.maxBuffer)));
    this.chunks.push(c);
    return c;
  }

  flush(): Promise<void> {
    if (this.stats.failure !== undefined || this.buffered === 0) return this.queue;
    const bufs = this.full;
    if (this.off > 0) bufs.push(this.chunk.subarray(0, this.off));
    const chunks = this.chunks;
    this.full = [];
    this.chunks = [];
    // a fresh chunk: the current one belongs to this write now
    this.chunk = this.newChunk(0);
    this.off = 0;
    const bytes = this.buffered;
    const packets = this.bufferedPackets;
    this.buffered = 0;
    this.bufferedPackets = 0;
    this.queued += bytes;
    this.queue = this.queue.then(() => this.write(bufs, bytes, packets)).finally(() => giveBack(chunks));
    return this.queue;
  }

  private async write(bufs: Buffer[], bytes: number, packets: number): Promise<void> {
    const fh = await this.fh;
    this.queued -= bytes;
    this.stats.buffered -= packets;
    if (!fh || this.stats.failure !== undefined) {
      this.stats.dropped += packets;
      return;
    }
    if (this.queued <= this.maxQueued / 2) this.slowWarned = false;
    try {
      let left = bufs;
      let todo = bytes;
      while (todo > 0) {
        const { bytesWritten } = await fh.writev(left);
        this.stats.writes++;
        if (bytesWritten <= 0) throw new Error('write made no progress');
        todo -= bytesWritten;
        this.stats.bytesWritten += bytesWritten;
        if (todo > 0) left = skipBytes(left, bytesWritten);
      }
      if (this.fsync) await fh.datasync();
      this.committed = this.stats.bytesWritten;
      this.stats.packets += packets;
    } catch (e) {
      this.stats.dropped += packets;
      await this.failWrite(fh, e);
    }
  }

  /** Cut a partly written flush off, so the file ends on a whole record and stays a valid pcap. */
  private async failWrite(fh: FileHandle, e: unknown): Promise<void> {
    this.fail(e);
    const good = this.committed;
    if (this.stats.bytesWritten === good) return;
    try {
      await fh.truncate(good);
      this.stats.bytesWritten = good;
    } catch (te) {
      this.log.debug(`recording ${this.path}: could not cut back to ${good} bytes: ${errText(te)}`);
    }
  }

  private fail(e: unknown): void {
    if (this.stats.failure !== undefined) return;
    this.accepting = false;
    this.stats.failure = errText(e);
    clearInterval(this.timer);
    this.full = [];
    giveBack(this.chunks); // not in a write: flush() moved those out
    this.chunks = [];
    this.buffered = 0;
    this.stats.dropped += this.bufferedPackets;
    this.stats.buffered -= this.bufferedPackets;
    this.bufferedPackets = 0;
    this.log.error(`recording ${this.path} stopped: ${this.stats.failure} (the call goes on; ${this.stats.packets} packets were on the card before)`);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.accepting = false; // packets after close() are counted as dropped, never half-written
    clearInterval(this.timer);
    await this.flush();
    giveBack(this.chunks); // the fresh chunk the last flush took, never written into
    this.chunks = [];
    const fh = await this.fh;
    if (!fh) return;
    try {
      await fh.close();
    } catch (e) {
      this.log.warn(`recording ${this.path}: close failed: ${errText(e)}`);
    }
    await this.renames;
    const s = this.stats;
    // the count is what the file holds; what never got there is counted apart
    const how = s.failure ? ` after a failure (${s.failure})` : '';
    this.log.info(`recording ${this.path} closed${how}: ${s.packets} packets in the file, ${s.bytesWritten} bytes, ${s.dropped} dropped`);
  }
}

/** `a/b.pcap` -> `a/b_2.pcap` */
function withSuffix(path: string, n: number): string {
  return path.replace(/(\.pcap)?$/, `_${n}$1`);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** The buffers after the first `n` bytes (after a short write). */
function skipBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
