import t from 'tap';
import { Notifier } from '../../src/notify/notifier.js';
import { memoryLogger } from '../../src/util/log.js';
import type { Sms } from '../../src/notify/sms/provider.js';

const TEXT = '12.10.2012_14.00_12.10.2012_14.05_Ticket_1234_Caller_03472619287_Called_732';

function setup(opts: { imThrows?: boolean; smsThrows?: boolean } = {}) {
  const ims: Array<[string, string, string]> = [];
  const sms: Sms[] = [];
  const logger = memoryLogger();
  const n = new Notifier({
    enqueueIm: async ({ ext, from, text }) => {
      if (opts.imThrows) throw new Error('the card cannot be written and 200 IM are already kept in memory (the limit)');
      ims.push([ext, from, text]);
      return '0000000001';
    },
    enqueueSms: async (s) => {
      if (opts.smsThrows) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      sms.push(s);
      return '000001';
    },
    smsPrefix: () => '39',
    logger,
  });
  return { n, ims, sms, logger };
}

t.test('the technician gets the IM from the caller number and the SMS at prefix + number', async (t) => {
  const { n, ims, sms } = setup();
  await n.notify({ ext: '732', sms: { number: '3331234567', user: 'u', password: 'p4ss' } }, '03472619287', TEXT);
  t.same(ims, [['732', '03472619287', TEXT]]);
  t.same(sms, [{ to: '393331234567', text: TEXT, user: 'u', password: 'p4ss' }]);
});

t.test('a technician without SMSNumber.txt gets only the IM', async (t) => {
  const { n, ims, sms, logger } = setup();
  await n.notify({ ext: '731' }, '0123', TEXT);
  t.equal(ims.length, 1);
  t.equal(sms.length, 0);
  t.match(logger.lines.join('\n'), /IM only/);
});

t.test('an IM that cannot be queued is one error line and the SMS still goes', async (t) => {
  const { n, sms, logger } = setup({ imThrows: true });
  await n.notify({ ext: '732', sms: { number: '333' } }, '0123', TEXT);
  t.equal(sms.length, 1);
  t.match(logger.lines.join('\n'), /IM to 732 could not be queued: .*limit/);
});

t.test('a card that cannot take the SMS is one error line, never a rejection, never the password', async (t) => {
  const { n, logger } = setup({ smsThrows: true });
  await n.notify({ ext: '732', sms: { number: '333', password: 'Sup3rSecret' } }, '0123', TEXT);
  t.match(logger.lines.join('\n'), /SMS to 732 .* could not be put on the card: ENOSPC/);
  t.notMatch(logger.lines.join('\n'), /Sup3rSecret/);
});
