/**
 * Shared set-up for the hotline's end-to-end tests: a Kamailio PBX, SIPp
 * technicians registered there, the built appliance on a temp card, and a
 * SIPp caller dialling 799 through the PBX.
 */
import { freeBlock } from '../lab/ports.js';
import { registerContact } from '../lab/register.js';
import { sipp, type Sipp, type SippResult } from '../lab/sipp.js';
import { callerScenario, scenarioFile, technicianScenario, type CallerScenario, type TechnicianMode } from './scenarios.js';

/** A SIPp technician phone registered at the PBX as `user`; resolves once registered. */
export async function technician(pbxPort: number, user: string, mode: TechnicianMode, im = false, calls = 1): Promise<Sipp> {
  const s = await sipp({
    scenario: scenarioFile(`tech-${user}`, technicianScenario(user, mode, im)),
    calls: calls + (im ? 1 : 0), // the IM is a "call" of its own (its own Call-ID)
    timeoutS: 170,
    extra: ['-mi', '127.0.0.1', '-mp', String(await freeBlock(4, 2))],
  });
  await registerContact(pbxPort, user, s.port);
  return s;
}

/** The caller: dials `service` (default 799) at `port` (the PBX), presses `digits`, then as the scenario says. */
export async function caller(port: number, o: CallerScenario & { service?: string; localIp?: string }): Promise<Sipp> {
  const ip = o.localIp ?? '127.0.0.1';
  return sipp({
    scenario: scenarioFile('caller', callerScenario(o)),
    remote: `127.0.0.1:${port}`,
    service: o.service ?? '799',
    timeoutS: 170,
    extra: ['-i', ip, '-mi', ip, '-mp', String(await freeBlock(4, 2))],
  });
}

/** Milliseconds between the first log lines of the appliance matching `a` and `b`. */
export function msBetween(log: string, a: RegExp, b: RegExp): number {
  const at = (re: RegExp): number => {
    const line = log.split('\n').find((l) => re.test(l));
    if (!line) throw new Error(`no log line matches ${re}`);
    return Date.parse(line.slice(0, 24));
  };
  return at(b) - at(a);
}

/** The text the technician's phone logged for the IM, and whom it came from. */
export function imOf(r: SippResult): { from: string; text: string } | undefined {
  const m = /IM sip:(\S*) (\S+)/.exec(r.logs);
  return m ? { from: m[1], text: m[2] } : undefined;
}

export const outcome = (r: SippResult): string | undefined => /OUTCOME (\S+)/.exec(r.logs)?.[1];
