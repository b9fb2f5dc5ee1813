import t from 'tap';
import { failCauseOf } from '../../src/hotline/hunt-causes.js';

t.test('final responses map to busy / rejected / unreachable', async (t) => {
  const table: Array<[number, string]> = [
    [486, 'busy'], [600, 'busy'],
    [603, 'rejected'], [403, 'rejected'], [606, 'rejected'], [488, 'rejected'], [401, 'rejected'], [415, 'rejected'], [699, 'rejected'],
    [404, 'unreachable'], [408, 'unreachable'], [410, 'unreachable'], [480, 'unreachable'], [484, 'unreachable'], [604, 'unreachable'],
    [500, 'unreachable'], [503, 'unreachable'], [504, 'unreachable'], [302, 'unreachable'], [0, 'unreachable'], [999, 'unreachable'],
  ];
  for (const [status, cause] of table) t.equal(failCauseOf(status), cause, String(status));
});
