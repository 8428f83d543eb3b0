/**
 * QTable bad input: every argument error is InvalidArgumentError (E_ARGUMENT) and leaves the
 * table byte-for-byte as it was; a disposed table or engine throws DisposedError. Both builds.
 */
import { DisposedError, InvalidArgumentError, type Engine, type QTable } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';

describe.each(BUILDS)('QTable errors (simd %s)', (simd) => {
  let eng: Engine;
  let q: QTable;
  let before: Uint8Array;

  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());
  beforeEach(() => {
    q = eng.createQTable({ actions: 4, seed: 1 });
    q.batchUpdate({ states: [1, 2, 3], actions: [0, 1, 2], rewards: [1, 2, 3], nextStates: [2, 3, 1] });
    before = q.serialize();
  });
  afterEach(() => {
    expect(Buffer.compare(q.serialize(), before)).toBe(0);
    q.dispose();
  });

  const argumentError = (body: () => unknown) => expectElexError(body, InvalidArgumentError, 'E_ARGUMENT');

  test.each([
    [{ actions: 0 }],
    [{ actions: 1.5 }],
    [{ actions: 65537 }],
    [{ actions: '4' }],
    [{}],
    [{ actions: 2, alpha: -0.1 }],
    [{ actions: 2, alpha: 1.01 }],
    [{ actions: 2, alpha: NaN }],
    [{ actions: 2, gamma: 2 }],
    [{ actions: 2, epsilon: -1 }],
    [{ actions: 2, epsilon: 1.5 }],
    [{ actions: 2, epsilonDecay: 1.1 }],
    [{ actions: 2, epsilonMin: -0.5 }],
    [{ actions: 2, initial: Infinity }],
    [{ actions: 2, initial: 1e39 }],
    [{ actions: 2, seed: -1 }],
    [{ actions: 2, seed: 2 ** 32 }],
    [null],
  ])('createQTable(%j) is refused', (options) => {
    const used = eng.usedBytes;
    argumentError(() => eng.createQTable(options as never));
    expect(eng.usedBytes).toBe(used);
  });

  const badStates = [-1, 2 ** 32, 1.5, NaN, '1', null];
  test.each(badStates)('state %p is refused everywhere', (s) => {
    const state = s as number;
    argumentError(() => q.update(state, 0, 1, 1));
    argumentError(() => q.update(1, 0, 1, state));
    argumentError(() => q.get(state, 0));
    argumentError(() => q.values(state));
    argumentError(() => q.visits(state, 0));
    argumentError(() => q.bestAction(state));
    argumentError(() => q.selectAction(state));
  });

  test.each([-1, 4, 1.5, NaN, '0'])('action %p is refused', (a) => {
    argumentError(() => q.update(1, a as number, 1, 2));
    argumentError(() => q.get(1, a as number));
    argumentError(() => q.visits(1, a as number));
  });

  test.each([NaN, Infinity, -Infinity, 1e39, '1'])('reward %p is refused', (r) => {
    argumentError(() => q.update(1, 0, r as number, 2));
  });

  test('done must be a boolean or 0/1', () => {
    argumentError(() => q.update(1, 0, 1, 2, 'yes' as never));
    argumentError(() => q.update(1, 0, 1, 2, 2 as never));
  });

  test('bad batches are refused whole, even when the bad entry comes last', () => {
    const ok = { states: [1, 9, 10], actions: [0, 1, 2], rewards: [1, 1, 1], nextStates: [2, 2, 2] };
    argumentError(() => q.batchUpdate(null as never));
    argumentError(() => q.batchUpdate({ ...ok, actions: [0, 1] }));
    argumentError(() => q.batchUpdate({ ...ok, rewards: new Float32Array(4) }));
    argumentError(() => q.batchUpdate({ ...ok, nextStates: [2, 2] }));
    argumentError(() => q.batchUpdate({ ...ok, dones: [0, 1] }));
    argumentError(() => q.batchUpdate({ ...ok, dones: [0, 1, 2] }));
    argumentError(() => q.batchUpdate({ ...ok, actions: [0, 1, 4] }));
    argumentError(() => q.batchUpdate({ ...ok, actions: new Uint32Array([0, 1, 4]) }));
    argumentError(() => q.batchUpdate({ ...ok, actions: new Int32Array([0, -1, 1]) }));
    argumentError(() => q.batchUpdate({ ...ok, rewards: new Float32Array([1, 2, NaN]) }));
    argumentError(() => q.batchUpdate({ ...ok, rewards: new Float64Array([1, 2, 1e39]) }));
    argumentError(() => q.batchUpdate({ ...ok, states: new Float64Array([1, 2, 1.5]) }));
    argumentError(() => q.batchUpdate({ ...ok, nextStates: [1, 2, -3] }));
    argumentError(() => q.batchUpdate({ ...ok, states: 'abc' as never }));
  });

  test('merge refuses a disposed other table', () => {
    const other = eng.createQTable({ actions: 4 });
    other.dispose();
    expect(() => q.merge(other, 0.5)).toThrow(DisposedError);
  });
});

describe.each(BUILDS)('QTable disposal (simd %s)', (simd) => {
  test('a disposed table throws DisposedError from every method; dispose is idempotent', async () => {
    const eng = await engine(simd);
    const q = eng.createQTable({ actions: 3 });
    const other = eng.createQTable({ actions: 3 });
    const used = eng.usedBytes;
    q.update(1, 0, 1, 2);
    q.dispose();
    q.dispose();
    const calls: Array<() => unknown> = [
      () => q.size,
      () => q.epsilon,
      () => q.get(1, 0),
      () => q.values(1),
      () => q.visits(1, 0),
      () => q.update(1, 0, 1, 2),
      () => q.batchUpdate({ states: [1], actions: [0], rewards: [0], nextStates: [1] }),
      () => q.bestAction(1),
      () => q.selectAction(1),
      () => q.decayEpsilon(),
      () => q.merge(other, 0.5),
      () => q.serialize(),
    ];
    for (const call of calls) expect(call).toThrow(DisposedError);
    expect(eng.usedBytes).toBeLessThanOrEqual(used);
    eng.dispose();
    expect(() => other.get(1, 0)).toThrow(DisposedError);
    expect(() => eng.createQTable({ actions: 2 })).toThrow(DisposedError);
    other.dispose();
  });
});
