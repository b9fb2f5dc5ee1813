import t from 'tap';
import { parseDtmfInfo } from '../../src/media/index.js';

t.test('application/dtmf-relay: the Signal line, any case and line end', async (t) => {
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=1\r\nDuration=160\r\n'), '1');
  t.equal(parseDtmfInfo('Application/DTMF-Relay; charset=x', 'Duration=250\nsignal = #\n'), '#');
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=*\r\nDuration=100'), '*');
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=11\r\n'), '#', 'event code 11 = #');
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=d\r\n'), 'D');
});

t.test('application/dtmf: a bare digit', async (t) => {
  t.equal(parseDtmfInfo('application/dtmf', '5'), '5');
  t.equal(parseDtmfInfo('application/dtmf', ' 0\r\n'), '0');
  t.equal(parseDtmfInfo('application/dtmf', Buffer.from('*')), '*');
});

t.test('anything else is not a digit', async (t) => {
  t.equal(parseDtmfInfo(undefined, '1'), undefined);
  t.equal(parseDtmfInfo('application/sdp', 'v=0'), undefined);
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Duration=160\r\n'), undefined);
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=X\r\n'), undefined);
  t.equal(parseDtmfInfo('application/dtmf-relay', 'Signal=12345\r\n'), undefined);
  t.equal(parseDtmfInfo('application/dtmf', ''), undefined);
  t.equal(parseDtmfInfo('application/dtmf', '12'), undefined);
  t.equal(parseDtmfInfo('application/dtmf', 'Signal=1\r\n' + 'x'.repeat(2000)), undefined, 'oversized body');
});
