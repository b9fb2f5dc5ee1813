import t from 'tap';
import { parseDialled } from '../../src/hotline/feature-code.js';

const cases: Array<[string, ReturnType<typeof parseDialled>]> = [
  ['799', { kind: 'emergency' }],
  ['799*21', { kind: 'cfu-set' }],
  ['799*21#', { kind: 'cfu-set' }],
  ['799*21*732', { kind: 'cfu-set', ext: '732' }],
  ['799*21*732#', { kind: 'cfu-set', ext: '732' }],
  ['799#21', { kind: 'cfu-clear' }],
  ['799#21#', { kind: 'cfu-clear' }],
  ['7991', undefined],
  ['798', undefined],
  ['799*22', undefined],
  ['799*21*', undefined],
  ['799*21*7a2', undefined],
  ['', undefined],
];

t.test('dialled numbers map to the emergency call or a CFU feature code', async (t) => {
  for (const [user, want] of cases) t.same(parseDialled(user, '799'), want, JSON.stringify(user));
});
