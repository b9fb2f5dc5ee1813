/**
 * A plain UDP socket on 127.0.0.1 standing for a phone's RTP port in
 * tests: it sends the datagrams a test builds and keeps what it receives.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseRtp, type RtpPacket } from '../../src/media/index.js';
import { until } from '../lab/proc.js';

export interface UdpPeer {
  socket: Socket;
  port: number;
  received: Array<{ pkt: RtpPacket; from: number; at: number }>;
  send(buf: Buffer, port: number): Promise<void>;
  waitFor(n: number, what?: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function udpPeer(): Promise<UdpPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const received: UdpPeer['received'] = [];
  socket.on('message', (m, r) => {
    const pkt = parseRtp(Buffer.from(m));
    if (pkt) received.push({ pkt, from: r.port, at: performance.now() });
  });
  return {
    socket,
    port: socket.address().port,
    received,
    send: (buf, port) => new Promise((resolve, reject) => socket.send(buf, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    waitFor: (n, what = `${n} packets`, timeoutMs = 10000) => until(() => received.length >= n, what, timeoutMs, 5).then(() => undefined),
    close: () => socket.close(),
  };
}
