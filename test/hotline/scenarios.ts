/**
 * SIPp scenarios for the hotline's end-to-end tests, generated with the
 * timings inlined (SIPp cannot take pause lengths from the command line
 * except the single `-d`). Callers dial the appliance through the PBX and
 * send RFC 4733 DTMF from SIPp's own pcaps; technicians (registered at the
 * PBX by the test) handle the one INVITE the way the test wants.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n`;
/** Our SDP offer/answer; `te` is the telephone-event payload type offered, null for none (PCMA/PCMU only). */
const sdp = (te: number | null = 101): string => `v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 0${te === null ? '' : ` ${te}`}
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
${te === null ? '' : `a=rtpmap:${te} telephone-event/8000\na=fmtp:${te} 0-16\n`}a=ptime:20
a=sendrecv`;
const SDP = sdp();

const ok200 = (extra = '') => `<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
${extra}Content-Length: 0
]]></send>`;

const dtmfFile = (d: string): string => `/usr/share/sip-tester/dtmf_2833_${d === '#' ? 'pound' : d === '*' ? 'star' : d}.pcap`;

export interface CallerScenario {
  /** Digits sent after the answer, one every 600 ms (RFC 4733 from SIPp's pcaps). */
  digits: string;
  /** The call must be refused with this status instead of answered (the scenario then ends). */
  expectRefused?: number;
  /** Wait before the first digit (ms). */
  firstDigitMs?: number;
  /** Hang up this long after the last digit; undefined: wait for the appliance's BYE. */
  hangupAfterMs?: number;
  /** Caller number in From. */
  from?: string;
  /** Stream this audio file (a pcap of RTP) after the digits, e.g. a tone. */
  audioPcap?: string;
  /**
   * How the digits go out (default 'rfc4733'): played from a pcap of RTP
   * ('rfc4733' and 'inband': see digitPcap), or as SIP INFO in the dialog
   * with an application/dtmf-relay (`Signal=1`, `Duration=160`) or an
   * application/dtmf (bare digit) body, each answered 200.
   */
  dtmfMode?: 'rfc4733' | 'inband' | 'info-dtmf-relay' | 'info-dtmf';
  /** The pcap played for a digit (default: SIPp's RFC 4733 capture, payload type 101; required for 'inband'). */
  digitPcap?: (digit: string) => string;
  /** telephone-event payload type offered in the SDP (default 101); null offers none. */
  telephoneEvent?: number | null;
  /** Pause after each digit (ms, default 600); a played pcap must fit in it. */
  digitGapMs?: number;
}

/**
 * A request of the caller inside its dialog (route set and To tag from the
 * 200): ACK, INFO, BYE. Retransmitted until answered, except the ACK.
 */
function callerRequest(method: 'ACK' | 'INFO' | 'BYE', from: string, cseq: number, body?: { type: string; text: string }): string {
  return `<send${method === 'ACK' ? '' : ' retrans="500"'}><![CDATA[
${method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: "caller" <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: ${cseq} ${method}
Contact: <sip:${from}@[local_ip]:[local_port]>
Max-Forwards: 70
${body ? `Content-Type: ${body.type}\nContent-Length: [len]\n\n${body.text}` : 'Content-Length: 0'}
]]></send>`;
}

/** The end of a call the appliance releases: its BYE, our 200. */
const RELEASED_BY_APPLIANCE = `<recv request="BYE" timeout="180000"/>
  ${ok200()}
  <nop><action><log message="OUTCOME released-by-appliance"/></action></nop>`;

/** One SIP INFO in the caller's dialog carrying `digit`, CSeq `cseq`, then its 200. */
function infoDigit(digit: string, from: string, cseq: number, type: 'application/dtmf-relay' | 'application/dtmf'): string {
  const text = type === 'application/dtmf' ? digit : `Signal=${digit}\nDuration=160`; // SIPp sends the lines CRLF-terminated
  return `${callerRequest('INFO', from, cseq, { type, text })}
  <recv response="200"/>`;
}

/** The scenario lines that press `o.digits`, and the CSeq the next request (BYE) takes. */
function pressDigits(o: CallerScenario, from: string): { xml: string; nextCseq: number } {
  const mode = o.dtmfMode ?? 'rfc4733';
  const gap = `<pause milliseconds="${o.digitGapMs ?? 600}"/>`;
  if (mode === 'info-dtmf-relay' || mode === 'info-dtmf') {
    const type = mode === 'info-dtmf' ? 'application/dtmf' : 'application/dtmf-relay';
    const xml = [...o.digits].map((d, i) => `${infoDigit(d, from, 2 + i, type)}\n  ${gap}`).join('\n  ');
    return { xml, nextCseq: 2 + o.digits.length };
  }
  if (mode === 'inband' && !o.digitPcap) throw new Error('dtmfMode inband needs digitPcap');
  const file = o.digitPcap ?? dtmfFile;
  const xml = [...o.digits].map((d) => `<nop><action><exec play_pcap_audio="${file(d)}"/></action></nop>\n  ${gap}`).join('\n  ');
  return { xml, nextCseq: 2 };
}

export function callerScenario(o: CallerScenario): string {
  const from = o.from ?? '03472619287';
  const { xml: digits, nextCseq } = pressDigits(o, from);
  const audio = o.audioPcap ? `<nop><action><exec play_pcap_audio="${o.audioPcap}"/></action></nop>` : '';
  const end =
    o.hangupAfterMs === undefined
      ? RELEASED_BY_APPLIANCE
      : `<pause milliseconds="${o.hangupAfterMs}"/>
  ${callerRequest('BYE', from, nextCseq)}
  <recv response="200"/>
  <nop><action><log message="OUTCOME caller-hung-up"/></action></nop>`;
  return `${HEAD}<scenario name="hotline caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:${from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${sdp(o.telephoneEvent === undefined ? 101 : o.telephoneEvent)}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  ${o.expectRefused ? `<recv response="${o.expectRefused}" next="refused"/>` : ''}
  <recv response="200" rtd="true" rrs="true"/>
  ${callerRequest('ACK', from, 1)}
  <pause milliseconds="${o.firstDigitMs ?? 1000}"/>
  ${digits}
  ${audio}
  ${end}
  ${
    o.expectRefused
      ? `<nop next="done"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "caller" <sip:${from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <nop><action><log message="OUTCOME refused-${o.expectRefused}"/></action></nop>
  <label id="done"/>`
      : ''
  }
</scenario>
`;
}

export type TechnicianMode =
  /** `sdp`: the answer's SDP instead of ours (null: a 200 OK without a body), for phones that answer what we cannot use. */
  | {
      kind: 'answer';
      afterMs: number;
      hangupAfterMs?: number;
      sdp?: string | null;
      /** Keys pressed after the ACK (RFC 4733 from SIPp's pcaps, one every 600 ms, the first after `keysAfterMs`, default 1000): an accept key. */
      keys?: string;
      keysAfterMs?: number;
    }
  | { kind: 'busy' }
  | { kind: 'ring' };

/**
 * The instant message the appliance sends at release comes with a Call-ID of
 * its own, so SIPp runs it as a second "call" of the same scenario: the
 * scenario starts with an optional MESSAGE that jumps to the `im` label.
 */
const RECEIVE_IM = `<label id="im"/>
  ${ok200()}
  <nop><action><log message="IM [$imfrom] [$imtext]"/></action></nop>`;
const MAYBE_IM = `<recv request="MESSAGE" optional="true" next="im">
    <action><ereg regexp=".+" search_in="body" assign_to="imtext"/><ereg regexp="sip:[^@>]*" search_in="hdr" header="From:" assign_to="imfrom"/></action>
  </recv>`;

/** A technician phone (desk or mobile) on SIPp: one INVITE, then (with `im`) the MESSAGE. Registered by the test (register.ts). */
export function technicianScenario(user: string, mode: TechnicianMode, im = false): string {
  const ringing = `<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
]]></send>`;
  // The 487 answers the INVITE, so it carries the INVITE's Via headers (all of them: the PBX's and the caller's).
  const cancelled = `<label id="cancelled"/>
  ${ok200()}
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[$vias]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseqnum] INVITE
Content-Length: 0
]]></send>
  <recv request="ACK"/>
  <nop><action><log message="OUTCOME cancelled"/></action></nop>`;
  // SIPp refuses variables that are set but never used: capture only what the mode needs.
  const byeFromUs = mode.kind === 'answer' && mode.hangupAfterMs !== undefined;
  const saveInvite = `<action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseqnum"/>
      <ereg regexp="Via: [[:print:]]*([[:cntrl:]]+Via: [[:print:]]*)*" search_in="msg" assign_to="vias"/>${
        byeFromUs
          ? `
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/>
      <ereg regexp=".*" search_in="hdr" header="Call-ID:" assign_to="callid"/>`
          : ''
      }
    </action>`;
  const keys =
    mode.kind === 'answer' && mode.keys
      ? `<pause milliseconds="${mode.keysAfterMs ?? 1000}"/>
  ${[...mode.keys].map((d) => `<nop><action><exec play_pcap_audio="${dtmfFile(d)}"/></action></nop>\n  <pause milliseconds="600"/>`).join('\n  ')}
  <nop><action><log message="KEYS ${mode.keys}"/></action></nop>`
      : '';
  let body: string;
  if (mode.kind === 'busy') {
    body = `<recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <recv request="ACK"/>
  <nop><action><log message="OUTCOME busy"/></action></nop>`;
  } else if (mode.kind === 'ring') {
    body = `<recv request="INVITE">
    ${saveInvite}
  </recv>
  ${ringing}
  <recv request="CANCEL" timeout="180000">
    <action><ereg regexp=".*" search_in="hdr" header="Reason:" assign_to="reason" check_it="false"/></action>
  </recv>
  <nop><action><log message="CANCEL-REASON [$reason]"/></action></nop>
  ${cancelled}`;
  } else {
    // An answer the appliance cannot use gets its BYE right after the ACK:
    // through the PBX's parallel workers the BYE may even arrive first.
    const released = mode.sdp !== undefined
      ? `<recv request="ACK" optional="true" next="acked"/>
  <recv request="BYE" next="bye-first"/>
  <label id="acked"/>
  <recv request="BYE" timeout="180000"/>
  ${ok200()}
  <nop next="released"/>
  <label id="bye-first"/>
  ${ok200()}
  <recv request="ACK"/>
  <label id="released"/>
  <nop><action><log message="OUTCOME released-by-appliance"/></action></nop>`
      : `<recv request="ACK"/>
  <nop><action><log message="ANSWERED ${user}"/></action></nop>
  ${keys}
  ${RELEASED_BY_APPLIANCE}`;
    const after =
      mode.hangupAfterMs === undefined
        ? released
        : `<recv request="ACK"/>
  <nop><action><log message="ANSWERED ${user}"/></action></nop>
  ${keys}
  <pause milliseconds="${mode.hangupAfterMs}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: [$to];tag=[pid]SIPpTag01[call_number]
To: [$from]
Call-ID: [$callid]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
  <nop><action><log message="OUTCOME technician-hung-up"/></action></nop>`;
    body = `<recv request="INVITE" rrs="true">
    ${saveInvite}
  </recv>
  ${ringing}
  <recv request="CANCEL" timeout="${mode.afterMs}" ontimeout="answer" next="cancelled"/>
  ${cancelled}
  <nop next="end"/>
  <label id="answer"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:${user}@[local_ip]:[local_port];transport=[transport]>
${mode.sdp === null ? 'Content-Length: 0' : `Content-Type: application/sdp\nContent-Length: [len]\n\n${mode.sdp ?? SDP}`}
]]></send>
  ${after}`;
  }
  return `${HEAD}<scenario name="technician ${user} ${mode.kind}">
  ${im ? MAYBE_IM : ''}
  ${body}
  <nop next="end"/>
  ${im ? RECEIVE_IM : ''}
  <label id="end"/>
</scenario>
`;
}

/** Write a scenario to a temp file and return its path. */
export function scenarioFile(name: string, xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tl-sipp-'));
  const p = join(dir, `${name}.xml`);
  writeFileSync(p, xml);
  return p;
}

/**
 * One call of a flood (issue 16): dials, never presses a key, hangs up
 * `holdMs` after the answer; a call refused (486, 503, or the 500 a proxy
 * makes of a 503, RFC 3261 §16.7 step 6) is ACKed (the ACK of a non-2xx
 * carries the INVITE's Via, §17.1.1.3) and counted in SIPp's screen under
 * its status. `from` may hold SIPp keywords ([call_number]: one number a call).
 */
export function floodCallerScenario(o: { from: string; holdMs: number }): string {
  const refused = (status: number): string => `<recv response="${status}" optional="true" next="refused"/>`;
  return `${HEAD}<scenario name="flood caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "flood" <sip:${o.from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:${o.from}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  ${refused(486)}
  ${refused(500)}
  ${refused(503)}
  <recv response="200" rrs="true"/>
  ${callerRequest('ACK', o.from, 1)}
  <pause milliseconds="${o.holdMs}"/>
  ${callerRequest('BYE', o.from, 2)}
  <recv response="200"/>
  <nop next="done"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "flood" <sip:${o.from}@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
  <label id="done"/>
</scenario>
`;
}
