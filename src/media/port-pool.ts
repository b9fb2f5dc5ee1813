/**
 * RTP port pool: even ports from the configured range (pbx.ini `[rtp] ports`,
 * RTP on even ports per RFC 3550 §11; RTCP is not used). A port taken from
 * the pool always goes back: when its socket is closed by the owner, when
 * the bind fails, and when the socket errors. Ports are handed out
 * round-robin, so a just-released port is reused last (stray packets of
 * the previous call do not reach the next one). A port busy in another
 * process (EADDRINUSE) is skipped and retried on later rounds.
 *
 * Reserve (issue 16): `reserved` ports of the pool are for 'keyed' use, the
 * technician legs of callers who pressed the proceed key. Keyed legs take
 * any free port, and the ports they hold count against the reserve first; a
 * caller still in the waiting queue ('waiting') gets a port only while more
 * are free than the part of the reserve not yet held by keyed legs. So a
 * flood of callers who never press a key cannot leave a keyed emergency
 * call without a port to ring its technicians.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../util/log.js';
import { errText } from '../util/log.js';

export class PoolExhaustedError extends Error {
  constructor(min: number, max: number, reserved = 0) {
    super(
      reserved > 0
        ? `RTP port pool ${min}-${max}: no port free outside the ${reserved} reserved for calls that pressed the proceed key`
        : `RTP port pool ${min}-${max} exhausted: every even port is in use`,
    );
    this.name = 'PoolExhaustedError';
  }
}

/**
 * Who asks for a port: 'waiting' is a caller who has not pressed the proceed
 * key (may not take the reserve); 'keyed' is a leg of a call that has (may).
 */
export type PortUse = 'waiting' | 'keyed';

/** A bound UDP socket on a pool port. `close()` is idempotent and returns the port. */
export interface RtpSocket {
  readonly socket: Socket;
  readonly port: number;
  readonly address: string;
  readonly closed: boolean;
  close(): void;
}

export interface PortPoolOptions {
  min: number;
  max: number;
  /** Address to bind (the appliance's media address, or 0.0.0.0). */
  bindAddress: string;
  log: Logger;
}

export class PortPool {
  private readonly free: number[] = [];
  /** Port -> what it was taken for. */
  private readonly used = new Map<number, PortUse>();
  private keyedInUse = 0;
  private reserve = 0;
  readonly min: number;
  readonly max: number;

  constructor(private readonly opts: PortPoolOptions) {
    const min = opts.min % 2 === 0 ? opts.min : opts.min + 1;
    if (!Number.isInteger(min) || !Number.isInteger(opts.max) || min < 1024 || opts.max > 65535 || min > opts.max) {
      throw new Error(`invalid RTP port range ${opts.min}-${opts.max}: expected even ports within 1024-65535, e.g. 30000-30999`);
    }
    this.min = min;
    this.max = opts.max;
    for (let p = min; p <= opts.max; p += 2) this.free.push(p);
  }

  /** Ports handed out and not yet returned. */
  get inUse(): number {
    return this.used.size;
  }

  get capacity(): number {
    return this.free.length + this.used.size;
  }

  /** Ports kept back for 'keyed' use. */
  get reserved(): number {
    return this.reserve;
  }

  /**
   * Keep `n` free ports for 'keyed' use (clamped to 0..capacity/2, so the
   * waiting queue always has ports too); returns the number actually reserved.
   */
  setReserved(n: number): number {
    const max = Math.floor(this.capacity / 2);
    this.reserve = Number.isFinite(n) ? Math.max(0, Math.min(max, Math.floor(n))) : 0;
    return this.reserve;
  }

  /**
   * Bind a socket on the next free even port; rejects with PoolExhaustedError
   * when none can be bound, or for 'waiting' use when only the reserve is left.
   */
  async allocate(use: PortUse = 'keyed'): Promise<RtpSocket> {
    const keep = use === 'waiting' ? Math.max(0, this.reserve - this.keyedInUse) : 0;
    if (this.free.length <= keep) throw new PoolExhaustedError(this.min, this.max, keep);
    const tries = this.free.length;
    for (let i = 0; i < tries && this.free.length > keep; i++) {
      const port = this.free.shift();
      if (port === undefined) break;
      this.take(port, use);
      const socket = await this.bind(port);
      if (socket) return this.wrap(socket, port);
      this.release(port);
    }
    throw new PoolExhaustedError(this.min, this.max, keep);
  }

  private bind(port: number): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const s = createSocket({ type: 'udp4', reuseAddr: false });
      const onError = (e: Error): void => {
        this.opts.log.warn(`RTP port ${port} not usable (${errText(e)}), trying the next one`);
        try {
          s.close();
        } catch {
          // already closed by the failed bind: nothing to release
        }
        resolve(undefined);
      };
      s.once('error', onError);
      s.bind(port, this.opts.bindAddress, () => {
        s.off('error', onError);
        resolve(s);
      });
    });
  }

  private wrap(socket: Socket, port: number): RtpSocket {
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      try {
        socket.close();
      } catch (e) {
        this.opts.log.debug(`RTP port ${port}: close: ${errText(e)}`);
      }
      this.release(port);
    };
    socket.on('error', (e) => {
      // A connected socket (rtp-session.ts) reports the peer's ICMP port
      // unreachable on the next receive: the phone may open its port later.
      if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
      this.opts.log.error(`RTP port ${port}: socket error, closing: ${errText(e)}`);
      close();
    });
    return {
      socket,
      port,
      address: this.opts.bindAddress,
      get closed() {
        return closed;
      },
      close,
    };
  }

  private take(port: number, use: PortUse): void {
    this.used.set(port, use);
    if (use === 'keyed') this.keyedInUse++;
  }

  private release(port: number): void {
    const use = this.used.get(port);
    if (use === undefined) return;
    this.used.delete(port);
    if (use === 'keyed') this.keyedInUse--;
    this.free.push(port);
  }
}
