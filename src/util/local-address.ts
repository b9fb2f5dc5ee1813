import { createSocket } from 'node:dgram';

/**
 * The local address the kernel would use to reach `host` (for Contact and
 * SDP when we listen on 0.0.0.0). A connected UDP socket sends nothing:
 * connect() only picks the route.
 */
export function localAddressFor(host: string, port = 5060): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (addr: string): void => {
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve(addr);
    };
    s.once('error', () => done('127.0.0.1'));
    s.connect(port, host, () => {
      try {
        done(s.address().address);
      } catch {
        done('127.0.0.1');
      }
    });
  });
}
