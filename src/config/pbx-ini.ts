/**
 * pbx.ini (DESIGN.md "The card"): how the appliance reaches the PBX. The
 * password is never quoted in a problem or a log line.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseIni, type Ini, type IniEntry } from './ini.js';
import { parseCidr } from './ip-allow.js';
import { parseYesNo, type Problem } from './txt-value.js';

export { isAllowed } from './ip-allow.js';

export interface HostPort {
  host: string;
  port: number;
}

export type Codec = 'PCMA' | 'PCMU';

export interface PbxConfig {
  /** Local UDP address:port for SIP. */
  listen: HostPort;
  /** Where calls to technicians and MESSAGEs go. */
  pbx: HostPort;
  /** Register XMLnumber at the PBX with digest auth. */
  register: boolean;
  username?: string;
  password?: string;
  /** Domain of our address-of-record; default: the pbx host. */
  domain: string;
  /** Digest realm to answer; undefined: whatever the PBX asks. */
  realm?: string;
  /** Who may send INVITEs: addresses and CIDR blocks (see isAllowed). */
  allow: readonly string[];
  rtp: { portMin: number; portMax: number };
  /** Preference order. */
  codecs: readonly Codec[];
}

export const PBX_INI = 'pbx.ini';
const DEFAULT_SIP_PORT = 5060;
const KNOWN: Record<string, readonly string[]> = {
  sip: ['listen', 'pbx', 'register', 'username', 'password', 'allow', 'domain', 'realm'],
  rtp: ['ports', 'codecs'],
};

/** `host:port`, `host` (default port), `[v6]:port`. Host must be an IP address unless `names` allows host names. */
export function parseHostPort(v: string, names: boolean): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::([0-9]{1,5}))?$/.exec(v.trim());
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? DEFAULT_SIP_PORT : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return isIPv6(host) ? { host, port } : undefined;
  if (isIPv4(host)) return { host, port };
  if (/^[0-9.]+$/.test(host)) return undefined; // looks like an address, but is not one
  return names && /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
    ? { host, port }
    : undefined;
}

/** `30000-30999`: even start (RTP on even ports, RFC 3550 §11), at least 4 ports, above 1023. */
export function parsePortRange(v: string): { portMin: number; portMax: number } | string {
  const m = /^([0-9]{1,5})\s*-\s*([0-9]{1,5})$/.exec(v.trim());
  const should = 'should be a port range like 30000-30999';
  if (!m) return should;
  const [portMin, portMax] = [Number(m[1]), Number(m[2])];
  if (portMin < 1024 || portMax > 65535) return `${should}, within 1024-65535`;
  if (portMin % 2 !== 0) return `${should}, starting on an even port (RTP uses even ports)`;
  if (portMax - portMin + 1 < 4) return `${should}, with at least 4 ports (start below end)`;
  return { portMin, portMax };
}

export function parseCodecs(v: string): Codec[] | string {
  const list = v.split(',').map((c) => c.trim().toUpperCase());
  const should = 'should be PCMA and/or PCMU, comma separated, in order of preference';
  if (list.some((c) => c !== 'PCMA' && c !== 'PCMU')) return should;
  if (new Set(list).size !== list.length) return `${should} (each once)`;
  return list as Codec[];
}

type Section = Map<string, IniEntry>;
type Report = (line: number | undefined, message: string) => void;

/** A key's entry, unless missing or empty. */
function get(sec: Section, key: string): IniEntry | undefined {
  const e = sec.get(key);
  return e && e.value !== '' ? e : undefined;
}

/** Parse and validate pbx.ini's text. `config` is undefined when it has an error (warnings keep it). */
export function parsePbxIni(text: string, file = PBX_INI): { config?: PbxConfig; problems: Problem[] } {
  const ini = parseIni(text);
  const problems: Problem[] = [];
  const err: Report = (line, message) => {
    problems.push({ file, message: line ? `line ${line}: ${message}` : message });
  };
  for (const e of ini.errors) err(e.line, e.message);
  unknownKeys(ini, (line, message) => problems.push({ file, message: `line ${line}: ${message}`, warning: true }));
  const sip = readSip(ini.sections.get('sip') ?? new Map(), err);
  const rtp = readRtp(ini.sections.get('rtp') ?? new Map(), sip?.listen, err);
  if (problems.some((p) => !p.warning) || !sip || !rtp) return { problems };
  return { config: { ...sip, ...rtp }, problems };
}

/** [sip]: every value checked, each problem reported; undefined when one is wrong. */
function readSip(sip: Section, err: Report): Omit<PbxConfig, 'rtp' | 'codecs'> | undefined {
  const listenE = get(sip, 'listen');
  const listen = listenE ? parseHostPort(listenE.value, false) : { host: '0.0.0.0', port: DEFAULT_SIP_PORT };
  if (!listen) err(listenE?.line, '[sip] listen should be a local IP address:port, e.g. 0.0.0.0:5060');

  const pbxE = get(sip, 'pbx');
  const pbx = pbxE ? parseHostPort(pbxE.value, true) : undefined;
  if (!pbxE) err(undefined, '[sip] pbx is missing: should be the PBX address:port, e.g. 192.168.1.10:5060');
  else if (!pbx) err(pbxE.line, '[sip] pbx should be the PBX address:port (port 1-65535), e.g. 192.168.1.10:5060');

  const regE = get(sip, 'register');
  const reg = regE ? parseYesNo(regE.value) : { ok: true as const, value: false };
  if (!reg.ok) err(regE?.line, '[sip] register should be yes or no');
  const register = reg.ok && reg.value;
  const username = get(sip, 'username')?.value;
  const password = get(sip, 'password')?.value;
  if (register && !username) err(undefined, '[sip] username is missing: register = yes needs the user name at the PBX');
  if (register && !password) err(undefined, '[sip] password is missing: register = yes needs the password at the PBX');

  // allow: default is the PBX alone (when given as an address): safe against toll fraud.
  const allowE = get(sip, 'allow');
  const allow = allowE ? allowE.value.split(',').map((a) => a.trim()) : pbx && isIpLiteral(pbx.host) ? [pbx.host] : [];
  for (const a of allow) if (!parseCidr(a)) err(allowE?.line, `[sip] allow: "${a.slice(0, 50)}" should be an IP address or CIDR block (e.g. 192.168.1.0/24)`);
  if (!allowE && allow.length === 0) err(undefined, '[sip] allow is missing: should list who may send INVITEs (addresses or CIDR)');

  if (!listen || !pbx || !reg.ok) return undefined;
  const domain = get(sip, 'domain')?.value ?? pbx.host;
  const realm = get(sip, 'realm')?.value;
  return { listen, pbx, register, username, password, domain, realm, allow };
}

/** [rtp]: port range (not overlapping the SIP port) and codecs; undefined when one is wrong. */
function readRtp(rtp: Section, listen: HostPort | undefined, err: Report): Pick<PbxConfig, 'rtp' | 'codecs'> | undefined {
  const portsE = get(rtp, 'ports');
  const ports = portsE ? parsePortRange(portsE.value) : { portMin: 30000, portMax: 30999 };
  if (typeof ports === 'string') err(portsE?.line, `[rtp] ports ${ports}`);
  else if (listen && listen.port >= ports.portMin && listen.port <= ports.portMax) err(portsE?.line, `[rtp] ports should not include the SIP listen port ${listen.port}`);

  const codecsE = get(rtp, 'codecs');
  const codecs = codecsE ? parseCodecs(codecsE.value) : (['PCMA', 'PCMU'] as Codec[]);
  if (typeof codecs === 'string') err(codecsE?.line, `[rtp] codecs ${codecs}`);
  return typeof ports === 'string' || typeof codecs === 'string' ? undefined : { rtp: ports, codecs };
}

function isIpLiteral(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

function unknownKeys(ini: Ini, warn: (line: number, message: string) => void): void {
  for (const [section, entries] of ini.sections) {
    const known = KNOWN[section];
    for (const [key, e] of entries) {
      if (!known) warn(e.line, section ? `unknown section [${section}] (known: [sip], [rtp]): ${key} is ignored` : `${key} is outside a section ([sip] or [rtp]): ignored`);
      else if (!known.includes(key)) warn(e.line, `unknown key "${key}" in [${section}] is ignored (known: ${known.join(', ')})`);
    }
  }
  for (const d of ini.duplicates) warn(d.line, `${d.key} is set twice in [${d.section}]: this later one counts`);
}
