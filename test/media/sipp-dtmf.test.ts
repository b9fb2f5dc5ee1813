/**
 * SIPp as the caller's trunk against our SIP core + media engine, directly
 * and through a real Kamailio (registrar + record-routing proxy): its offer
 * is answered with our SDP, and the RFC 2833 pcaps SIPp plays after the ACK
 * are detected as the digits "1" and "#", each once.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { LocalSdp, MediaEndpoint, PortPool, RtpSession, answerOffer, parseSdp, type DigitSource } from '../../src/media/index.js';
import { Registration } from '../../src/sip/registration.js';
import { SipTransport } from '../../src/sip/transport.js';
import { UserAgent } from '../../src/sip/ua.js';
import { parseUri } from '../../src/sip/uri.js';
import { memoryLogger } from '../../src/util/log.js';
import { startKamailio } from '../lab/kamailio.js';
import { freeBlock, freePort } from '../lab/ports.js';
import { stopAll, until } from '../lab/proc.js';
import { sipp } from '../lab/sipp.js';

const SCENARIO = fileURLToPath(new URL('./sipp/uac-dtmf-2833.xml', import.meta.url));
t.teardown(stopAll);

for (const viaKamailio of [false, true]) {
  t.test(`SIPp's RFC 2833 digits ${viaKamailio ? 'through Kamailio' : 'direct'} are detected once each`, async (t) => {
    const log = memoryLogger();
    const sipPort = await freePort();
    const transport = new SipTransport({ host: '127.0.0.1', port: sipPort, logger: log });
    const ua = new UserAgent({ transport, contactHost: '127.0.0.1', contactPort: sipPort, logger: log });
    await ua.start();
    t.teardown(() => ua.stop());
    const base = await freeBlock(2, 2);
    const pool = new PortPool({ min: base, max: base + 1, bindAddress: '127.0.0.1', log });

    let target = `127.0.0.1:${sipPort}`;
    if (viaKamailio) {
      const kPort = (await startKamailio()).port;
      const reg = new Registration({ ua, registrar: parseUri(`sip:127.0.0.1:${kPort}`), aor: parseUri('sip:799@127.0.0.1'), expires: 120, logger: log });
      const ok = new Promise<void>((resolve, reject) => {
        reg.on('registered', () => resolve());
        reg.on('failed', (r) => reject(new Error(`REGISTER failed: ${r}`)));
      });
      reg.start();
      await ok;
      t.teardown(() => reg.stop());
      target = `127.0.0.1:${kPort}`;
    }

    const digits: Array<[string, DigitSource]> = [];
    let offer = '';
    let recordRoute: string | undefined;
    let ep: MediaEndpoint | undefined;
    ua.onInvite = (inv) => {
      offer = inv.sdp;
      recordRoute = inv.request.headers.get('record-route');
      void (async () => {
        const sock = await pool.allocate();
        const ans = answerOffer(inv.sdp, ['PCMA', 'PCMU'], { address: '127.0.0.1', port: sock.port }, new LocalSdp('127.0.0.1'));
        ep = new MediaEndpoint(new RtpSession(sock, ans.media, { log }), log);
        ep.on('digit', (d, s) => digits.push([d, s]));
        const dialog = await inv.accept(ans.sdp);
        dialog.on('bye', () => ep?.close());
      })().catch((e: unknown) => {
        log.error(`test UAS: ${String(e)}`);
        inv.respond(500);
      });
    };

    const media = await freeBlock(4, 2);
    const uac = await sipp({ scenario: SCENARIO, remote: target, service: '799', keys: { te_pt: '101' }, extra: ['-mi', '127.0.0.1', '-mp', String(media)], timeoutS: 60 });
    const r = await uac.result();
    t.equal(r.code, 0, `SIPp call completed (${r.successful} successful)`);
    t.equal(r.successful, 1);
    const o = parseSdp(offer);
    t.equal(o.origin.username, 'trunk', 'the offer is SIPp\'s');
    if (viaKamailio) t.match(recordRoute ?? '', /;lr/, 'the INVITE came through Kamailio (Record-Route)');
    await until(() => ep?.session.isClosed, 'BYE closed the media', 10000);
    t.same(digits, [
      ['1', 'rfc4733'],
      ['#', 'rfc4733'],
    ]);
    t.equal(pool.inUse, 0, 'the RTP port went back to the pool');
  });
}
