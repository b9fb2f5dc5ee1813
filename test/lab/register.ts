/**
 * Bind `user` at a registrar (the test PBX) to a contact on 127.0.0.1 —
 * for a SIPp UAS, which cannot REGISTER itself and then take a new call.
 * One REGISTER over a throw-away UDP socket, resolved on the 200.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

export function registerContact(pbxPort: number, user: string, contactPort: number, expires = 300): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const callId = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`REGISTER ${user} at 127.0.0.1:${pbxPort}: no 200 within 10 s`));
    }, 10000);
    s.on('message', (m) => {
      const line = m.toString().split('\r\n', 1)[0];
      if (!m.toString().includes(callId)) return;
      if (/^SIP\/2\.0 1\d\d/.test(line)) return;
      clearTimeout(timer);
      s.close();
      if (/^SIP\/2\.0 200/.test(line)) resolve();
      else reject(new Error(`REGISTER ${user}: ${line}`));
    });
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      const msg = [
        `REGISTER sip:127.0.0.1:${pbxPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
        `From: <sip:${user}@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
        `To: <sip:${user}@127.0.0.1>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:${user}@127.0.0.1:${contactPort}>`,
        `Expires: ${expires}`,
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      s.send(msg, pbxPort, '127.0.0.1');
    });
  });
}
