/**
 * One bounded HTTP(S) request with node builtins: a hard deadline for the
 * whole exchange and a cap on the response body kept, so a slow or chatty
 * gateway can neither hang the outbox nor fill memory.
 */
import type { IncomingMessage } from 'node:http';

export interface HttpReply {
  status: number;
  body: string;
}

export interface HttpOptions {
  method: 'GET' | 'POST';
  body?: string;
  contentType?: string;
  timeoutMs: number;
  /** Bytes of the body kept; the rest is read and dropped. */
  maxBody?: number;
}

export const DEFAULT_TIMEOUT_MS = 15000;

/**
 * Resolves with status and (capped) body; rejects on network error or timeout.
 * node:http/https (and TLS) are loaded on the first SMS, not at start-up: the
 * default LOG provider never needs them, and they cost memory on a small board.
 */
export async function httpExchange(url: URL, opts: HttpOptions): Promise<HttpReply> {
  const send = url.protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
  const maxBody = opts.maxBody ?? 16384;
  const headers: Record<string, string | number> = { 'User-Agent': 'ticketline', Connection: 'close' };
  const payload = opts.body === undefined ? undefined : Buffer.from(opts.body, 'utf8');
  if (payload) {
    headers['Content-Type'] = opts.contentType ?? 'application/x-www-form-urlencoded';
    headers['Content-Length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, reply?: HttpReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(reply as HttpReply);
    };
    const req = send(url, { method: opts.method, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (d: Buffer) => {
        if (kept < maxBody) {
          chunks.push(d.subarray(0, maxBody - kept));
          kept += Math.min(d.length, maxBody - kept);
        }
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish(e));
    });
    const timer = setTimeout(() => {
      const e = new Error(`no complete answer within ${opts.timeoutMs} ms`);
      finish(e);
      req.destroy(e);
    }, opts.timeoutMs);
    req.on('error', (e) => finish(e));
    req.end(payload);
  });
}

/** A short one-line excerpt of a response body for a log line or reason. */
export function excerpt(body: string, max = 120): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
