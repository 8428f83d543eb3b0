/**
 * Bad allow-lists (issue 22, item 5): a typed InvalidArgumentError naming the entry (filter[3]),
 * and a list that does not fit the budget: BudgetExceededError. Either way nothing changes:
 * usedBytes, reservedBytes and the index's answers are as before.
 */
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { randomVectors } from '../helpers/random';
import { fillToBudget } from '../helpers/budget';
import { BudgetExceededError, InvalidArgumentError, type Engine, type VectorIndex } from '../../src/index';

const dim = 8;

describe.each(BUILDS)('simd %s', (simd) => {
  let e: Engine;
  let index: VectorIndex;
  const query = randomVectors(1, dim, 2);
  const probe = () =>
    JSON.stringify([e.usedBytes, e.reservedBytes, index.size, Array.from(index.search(query, 5).ids)]);
  beforeEach(async () => {
    e = await engine(simd, { budgetBytes: 2 * 2 ** 20 });
    index = e.createIndex({ dim, metric: 'l2', seed: 1 });
    index.addBatch(
      Uint32Array.from({ length: 300 }, (_, i) => i),
      randomVectors(300, dim, 1),
    );
    // Warm: the allow bitset and the filter's staging exist, so a failed call has nothing to free.
    index.search(query, 5, { filter: [1, 2, 3] });
  });
  afterEach(() => e.dispose());

  test.each([
    [[1, 2, 3, 1.5], /filter\[3\] must be an integer in \[0, 4294967295\], got 1\.5/],
    [[1, -1], /filter\[1\] must be an integer.*got -1/],
    [[2 ** 32], /filter\[0\] must be an integer.*got 4294967296/],
    [[0, 0, NaN], /filter\[2\].*got NaN/],
    [[0, '1'], /filter\[1\].*got string/],
    [[0, null], /filter\[1\].*got null/],
    [[Infinity], /filter\[0\].*got Infinity/],
  ])('%p: InvalidArgumentError naming the entry, nothing changed', (list, message) => {
    const before = probe();
    for (const call of [
      () => index.search(query, 5, { filter: list as number[] }),
      () => index.searchBatch(query, 5, { filter: list as number[] }),
      () => index.idSet(list as number[]),
    ]) {
      const error = expectElexError(call, InvalidArgumentError, 'E_ARGUMENT');
      // idSet names its argument 'ids'.
      expect(error.message.replace(/^ids/, 'filter')).toMatch(message);
    }
    expect(probe()).toBe(before);
  });

  test('wrong types: InvalidArgumentError, nothing changed', () => {
    const before = probe();
    for (const bad of [5, 'ids', {}, null, new Int32Array([1]), new Float64Array([1]), new Set([1])]) {
      expectElexError(
        () => index.search(query, 5, { filter: bad as never }),
        InvalidArgumentError,
        'E_ARGUMENT',
        /filter must be a function, an IdSet/,
      );
    }
    expectElexError(
      () => index.search(query, 5, { plan: 'exact' }),
      InvalidArgumentError,
      'E_ARGUMENT',
      /needs an allow-list/,
    );
    for (const plan of ['fast', null]) {
      expectElexError(
        () => index.search(query, 5, { filter: [1], plan: plan as never }),
        InvalidArgumentError,
        'E_ARGUMENT',
        /plan must be one of/,
      );
    }
    expect(probe()).toBe(before);
  });

  test('a list that does not fit the budget: BudgetExceededError, nothing changed', () => {
    const before = probe();
    const huge = new Uint32Array(1 << 20).map((_, i) => i); // 4 MiB staged, in a 2 MiB engine
    expectElexError(() => index.search(query, 5, { filter: huge }), BudgetExceededError, 'E_BUDGET');
    expectElexError(() => index.searchBatch(query, 5, { filter: huge }), BudgetExceededError, 'E_BUDGET');
    expectElexError(() => index.search(query, 5, { filter: index.idSet(huge) }), BudgetExceededError, 'E_BUDGET');
    expect(probe()).toBe(before);
    // And the engine still filters.
    expect(Array.from(index.search(query, 5, { filter: [7] }).ids)).toEqual([7]);
  });

  test('the first filtered search of a full engine (no room for the list or the bitset): nothing changed', async () => {
    const full = await engine(simd, { budgetBytes: 2 * 2 ** 20 });
    const big = full.createIndex({ dim, metric: 'l2', seed: 1 });
    fillToBudget(full, big);
    const state = () =>
      JSON.stringify([full.usedBytes, full.reservedBytes, big.size, Array.from(big.search(query, 5).ids)]);
    const before = state();
    const list = Uint32Array.from({ length: 1000 }, (_, i) => i);
    expectElexError(() => big.search(query, 5, { filter: list }), BudgetExceededError, 'E_BUDGET');
    expectElexError(() => big.searchBatch(query, 5, { filter: list }), BudgetExceededError, 'E_BUDGET');
    expect(state()).toBe(before);
    // The predicate filter needs no more memory and still runs.
    expect(big.search(query, 3, { filter: (id) => id < 1000 }).ids.length).toBe(3);
    full.dispose();
  });
});
