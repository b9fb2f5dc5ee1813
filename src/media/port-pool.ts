/**
 * RTP port pool: even ports from the configured range (pbx.ini `[rtp] ports`,
 * RTP on even ports per RFC 3550 §11; RTCP is not used). A port taken from
 * the pool always goes back: when its socket is closed by the owner, when
 * the bind fails, and when the socket errors. Ports are handed out
 * round-robin, so a just-released port is reused last (stray packets of
 * the previous call do not reach the next one). A port busy in another
 * process (EADDRINUSE) is skipped and retried on later rounds.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../util/log.js';
import { errText } from '../util/log.js';

export class PoolExhaustedError extends Error {
  constructor(min: number, max: number) {
    super(`RTP port pool ${min}-${max} exhausted: every even port is in use`);
    this.name = 'PoolExhaustedError';
  }
}

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
  private readonly used = new Set<number>();
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

  /** Bind a socket on the next free even port; rejects with PoolExhaustedError when none can be bound. */
  async allocate(): Promise<RtpSocket> {
    const tries = this.free.length;
    for (let i = 0; i < tries; i++) {
      const port = this.free.shift();
      if (port === undefined) break;
      this.used.add(port);
      const socket = await this.bind(port);
      if (socket) return this.wrap(socket, port);
      this.release(port);
    }
    throw new PoolExhaustedError(this.min, this.max);
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

  private release(port: number): void {
    if (!this.used.delete(port)) return;
    this.free.push(port);
  }
}
