/**
 * A Kamailio of the test's own (test/lab/kamailio.cfg) on a free UDP port
 * of 127.0.0.1: registrar + record-routing proxy, optionally with digest
 * auth. Stopped by PID with the other processes at teardown.
 */
import { fileURLToPath } from 'node:url';
import { start, until, type Proc } from './proc.js';
import { freePort, udpBound } from './ports.js';

export const KAMAILIO_CFG = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));

export interface Kamailio {
  proc: Proc;
  port: number;
  /** Lines the config logged with xlog (REQ ..., LOOSE ..., AUTH-OK ...). */
  lines(prefix: string): string[];
}

export async function startKamailio(opts: { auth?: boolean; password?: string } = {}): Promise<Kamailio> {
  const port = await freePort();
  const args = ['-DD', '-E', '-m', '32', '-M', '8', '-f', KAMAILIO_CFG, '-A', `LISTEN=udp:127.0.0.1:${port}`];
  if (opts.auth) args.push('-A', 'WITH_AUTH');
  if (opts.password !== undefined) args.push('-A', `PASSWORD="${opts.password}"`);
  const proc = start(`kamailio:${port}`, 'kamailio', args);
  await until(async () => (await udpBound(port)) || proc.child.exitCode !== null, `kamailio on ${port}`, 15000);
  if (proc.child.exitCode !== null) throw new Error(`kamailio exited: ${proc.output().slice(-2000)}`);
  return {
    proc,
    port,
    lines: (prefix) => proc.output().split('\n').filter((l) => l.includes(`: ${prefix} `)),
  };
}
