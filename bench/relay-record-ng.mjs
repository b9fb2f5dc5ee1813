// rtpengine for bench/relay-record.mjs: bencode, an ng control client, and
// the daemon started userspace-only on 127.0.0.1 with pcap recording.
//
// ng protocol (rtpengine's docs, "ng Control Protocol"): one UDP datagram per
// message, "<cookie> <bencoded dictionary>"; the reply carries the same
// cookie. A call is an `offer` (the caller's SDP; the reply is the SDP for
// the callee, i.e. the port the technician sends to) then an `answer` (the
// callee's SDP; the reply is the SDP for the caller).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';

// ------------------------------------------------------------------ bencode
export function bencode(v) {
  if (typeof v === 'number') return Buffer.from(`i${Math.trunc(v)}e`);
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
    return Buffer.concat([Buffer.from(`${b.length}:`), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort(); // bencode: keys sorted as raw strings
    return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(v[k])]), Buffer.from('e')]);
  }
  throw new Error(`bencode: cannot encode ${typeof v}`);
}

/** Decode one bencoded value at `off`; strings come back as UTF-8 text. Returns [value, next offset]. */
export function bdecode(b, off = 0) {
  const c = b[off];
  if (c === 0x69) {
    const end = b.indexOf(0x65, off);
    if (end < 0) throw new Error('bencode: unterminated integer');
    return [Number(b.toString('latin1', off + 1, end)), end + 1];
  }
  if (c === 0x6c || c === 0x64) {
    const list = [];
    let p = off + 1;
    while (b[p] !== 0x65) {
      if (p >= b.length) throw new Error('bencode: unterminated list/dictionary');
      const [x, q] = bdecode(b, p);
      list.push(x);
      p = q;
    }
    if (c === 0x6c) return [list, p + 1];
    const dict = {};
    for (let i = 0; i + 1 < list.length; i += 2) dict[list[i]] = list[i + 1];
    return [dict, p + 1];
  }
  const colon = b.indexOf(0x3a, off);
  const len = Number(b.toString('latin1', off, colon));
  if (colon < 0 || !Number.isInteger(len) || colon + 1 + len > b.length) throw new Error('bencode: bad string');
  return [b.toString('utf8', colon + 1, colon + 1 + len), colon + 1 + len];
}

// --------------------------------------------------------------- ng client
export class NgClient {
  constructor(port) {
    this.port = port;
    this.seq = 0;
    this.pending = new Map();
    this.sock = createSocket('udp4');
    this.sock.on('message', (m) => {
      const sp = m.indexOf(0x20);
      const cookie = m.toString('latin1', 0, sp);
      const p = this.pending.get(cookie);
      if (!p) return;
      this.pending.delete(cookie);
      clearTimeout(p.timer);
      try {
        p.resolve(bdecode(m, sp + 1)[0]);
      } catch (e) {
        p.reject(e);
      }
    });
  }

  /** One request; retried (same cookie, as rtpengine expects) until `timeoutMs`. */
  request(dict, timeoutMs = 5000) {
    const cookie = `${process.pid}_${++this.seq}`;
    const msg = Buffer.concat([Buffer.from(`${cookie} `), bencode(dict)]);
    return new Promise((resolve, reject) => {
      const every = Math.min(500, timeoutMs);
      let tries = 0;
      const again = () => {
        if (tries * every >= timeoutMs) {
          this.pending.delete(cookie);
          reject(new Error(`rtpengine ng ${dict.command}: no reply on 127.0.0.1:${this.port}`));
          return;
        }
        tries++;
        this.sock.send(msg, this.port, '127.0.0.1');
        const p = this.pending.get(cookie);
        if (p) p.timer = setTimeout(again, every);
      };
      this.pending.set(cookie, { resolve, reject, timer: undefined });
      again();
    });
  }

  async command(dict) {
    const r = await this.request(dict);
    if (r.result !== 'ok' && r.result !== 'pong') throw new Error(`rtpengine ng ${dict.command}: ${r.result} ${r['error-reason'] ?? ''}`);
    return r;
  }

  close() {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.sock.close();
  }
}

/** A one-stream PCMA SDP for a load-generator endpoint. */
export function pcmaSdp(port, id) {
  return [
    'v=0',
    `o=- ${id} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 8`,
    'a=rtpmap:8 PCMA/8000',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The audio port of an SDP (its first m=audio line). */
export function sdpAudioPort(sdp) {
  const m = /^m=audio (\d+) /m.exec(sdp ?? '');
  if (!m) throw new Error(`rtpengine returned no m=audio line: ${JSON.stringify(sdp)}`);
  const c = /^c=IN IP4 (\S+)/m.exec(sdp);
  if (c && c[1] !== '127.0.0.1') throw new Error(`rtpengine answered with address ${c[1]}, not loopback`);
  return Number(m[1]);
}

/**
 * Create `calls` recorded calls; genPorts[2i] / [2i+1] = call i's caller /
 * technician. Returns the rtpengine port each endpoint must send to.
 */
export async function createCalls(ng, calls, genPorts, tag) {
  const targets = [];
  for (let i = 0; i < calls; i++) {
    const callId = `bench-${tag}-${i}`;
    const offer = await ng.command({
      command: 'offer',
      'call-id': callId,
      'from-tag': `c${i}`,
      sdp: pcmaSdp(genPorts[2 * i], 2 * i + 1),
      'record call': 'yes',
      flags: ['record call'],
    });
    const toTech = sdpAudioPort(offer.sdp);
    const answer = await ng.command({
      command: 'answer',
      'call-id': callId,
      'from-tag': `c${i}`,
      'to-tag': `t${i}`,
      sdp: pcmaSdp(genPorts[2 * i + 1], 2 * i + 2),
      'record call': 'yes',
    });
    targets.push(sdpAudioPort(answer.sdp), toTech);
  }
  return targets;
}

/**
 * Start rtpengine (userspace only, no config file) and wait until its ng
 * port answers a ping. The caller stops it (kill by PID).
 */
export async function startRtpengine({ ngPort, portMin, portMax, recDir, threads, onExit }) {
  const args = [
    '--config-file=none',
    '--table=-1',
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${ngPort}`,
    `--port-min=${portMin}`,
    `--port-max=${portMax}`,
    '--recording-method=pcap',
    `--recording-dir=${recDir}`,
    `--num-threads=${threads}`,
    '--foreground',
    '--log-stderr',
    '--log-level=5',
    '--timeout=120',
  ];
  // rtpengine 10.5 may crash while it shuts down with calls still up (after
  // the measurement): no 90 MB core file in the working directory for that.
  // `exec` keeps the PID, which the benchmark reads CPU figures from.
  const child = spawn('sh', ['-c', 'ulimit -c 0 && exec rtpengine "$@"', 'rtpengine', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  child.on('exit', (code, sig) => onExit?.(code, sig, stderr));
  const ng = new NgClient(ngPort);
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`rtpengine exited ${child.exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      try {
        await ng.request({ command: 'ping' }, 400);
        break;
      } catch (e) {
        if (i >= 40) throw new Error(`rtpengine did not answer ping within 16 s: ${e.message}; stderr: ${stderr.slice(-500)}`);
      }
    }
  } catch (e) {
    ng.close();
    child.kill('SIGKILL');
    throw e;
  }
  return { child, ng, stderr: () => stderr, args };
}
