/**
 * Free ports for end-to-end tests. The OS picks a free port (bind to 0), we
 * close it and hand the number out; a per-process set avoids giving the same
 * number twice to one test file. Ranges for RTP are picked as blocks of
 * even/odd pairs that are all free at the time of the check.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const given = new Set<number>();

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      // a failed bind still leaves an open handle: close it, or the test process never exits
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** True once something has the UDP port bound on 127.0.0.1 (a peer we started is listening). */
export async function udpBound(port: number): Promise<boolean> {
  return !(await udpFree(port));
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** A port free for both UDP and TCP on 127.0.0.1 (SIP peers like baresip bind both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = await osPort();
    if (given.has(p) || p > 60000) continue;
    if ((await udpFree(p)) && (await tcpFree(p))) {
      given.add(p);
      return p;
    }
  }
  throw new Error('no free port found');
}

/** `count` consecutive free ports (UDP and TCP) starting at a port that is a multiple of `align`. */
export async function freeBlock(count: number, align = 2): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const start = 20000 + align * Math.floor((Math.random() * 30000) / align);
    let ok = true;
    for (let p = start; p < start + count && ok; p++) {
      ok = !given.has(p) && (await udpFree(p)) && (await tcpFree(p));
    }
    if (ok) {
      for (let p = start; p < start + count; p++) given.add(p);
      return start;
    }
  }
  throw new Error(`no block of ${count} free ports found`);
}
