/**
 * A failed call gives back what it took (issue 10, finding 12): every call that runs out of
 * budget leaves engine.usedBytes, engine.reservedBytes, index.capacity and the objects' answers
 * exactly as they were (reserve, add, addBatch, search, searchBatch, batchUpdate, update,
 * merge, the loaders); and search scratch is sized by what the index can return, min(k, size),
 * not by k.
 */
import { BudgetExceededError, type Engine, type QTable, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { ReferenceQLearner } from '../helpers/qlearner';
import { randomVectors, rng } from '../helpers/random';
import { fingerprint } from '../helpers/snapshot';
import { fillToBudget } from '../helpers/budget';

const MIB = 1 << 20;
const dim = 16;

/** Asserts that `call` throws E_BUDGET and leaves the engine's bytes, the index and `extra` as they were. */
function expectGivesBack(e: Engine, index: VectorIndex, call: () => unknown, extra: () => unknown = () => null): void {
  const probe = () =>
    JSON.stringify([
      e.usedBytes,
      e.reservedBytes,
      index.capacity,
      extra(),
      fingerprint(index, [0, 1, 2, 999999], [randomVectors(1, dim, 77)]),
    ]);
  const before = probe();
  expectElexError(call, BudgetExceededError, 'E_BUDGET');
  expect(probe()).toBe(before);
}

describe.each(BUILDS)('failed calls give back what they took (simd %s)', (simd) => {
  test('a reserve that fails keeps no block it grew, and capacity stays (the issue: reserve(20M) kept 320 MB)', async () => {
    const e = await engine(simd, { budgetBytes: 500 * MIB });
    const index = e.createIndex({ dim: 4, metric: 'l2' });
    index.addBatch(
      Uint32Array.from({ length: 1000 }, (_, i) => i),
      randomVectors(1000, 4, 1),
    );
    for (const n of [20_000_000, 8_000_000, 3_500_000, 3_200_000, 3_000_000, 2_999_000]) {
      const before = [e.usedBytes, e.reservedBytes, index.capacity];
      try {
        index.reserve(n);
        expect(index.capacity).toBeGreaterThanOrEqual(n);
        break;
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        expect([e.usedBytes, e.reservedBytes, index.capacity]).toEqual(before);
      }
    }
    expect(index.search(randomVectors(1, 4, 2), 3).ids.length).toBe(3);
    e.dispose();
  });

  test('search scratch is sized by what the index can return, not by k', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 3, metric: 'l2' });
    index.addBatch([1, 2, 3], [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(index.search([0, 0, 0], 3).ids)).toEqual([1, 2, 3]);
    index.searchBatch([0, 0, 0, 2, 2, 2], 3);
    const used = [e.usedBytes, e.reservedBytes];
    expect(Array.from(index.search([0, 0, 0], 100000, { ef: 100000 }).ids)).toEqual([1, 2, 3]);
    const batch = index.searchBatch([0, 0, 0, 2, 2, 2], 100000);
    expect(Array.from(batch.counts)).toEqual([3, 3]);
    expect(batch.ids.length).toBe(200000);
    expect([e.usedBytes, e.reservedBytes]).toEqual(used);
    e.dispose();
  });

  test('every index call that runs out of budget gives back what it took', async () => {
    const e = await engine(simd, { budgetBytes: 4 * MIB });
    const index = e.createIndex({ dim, metric: 'l2', efConstruction: 32 });
    fillToBudget(e, index);
    const size = index.size;
    expect(size).toBeGreaterThan(2000);
    const q = randomVectors(1, dim, 5);
    expectGivesBack(e, index, () => index.reserve(size * 2));
    expectGivesBack(e, index, () =>
      index.addBatch(
        Uint32Array.from({ length: 3000 }, (_, i) => size + i),
        randomVectors(3000, dim, 9),
      ),
    );
    // Single adds fill the slots the last growth left; the first that needs a new one fails.
    let id = size;
    while (index.capacity > index.size) index.add(id++, randomVectors(1, dim, id));
    expectGivesBack(e, index, () => index.add(id, q));
    expectGivesBack(e, index, () => index.search(q, size, { ef: size }));
    expectGivesBack(e, index, () => index.searchBatch(randomVectors(3000, dim, 10), 50));
    expectGivesBack(e, index, () => index.searchBatch(randomVectors(2, dim, 11), size, { ef: size }));
    expectGivesBack(e, index, () => e.loadIndex(index.serialize()));
    e.dispose();
  });

  test('every Q-learning call that runs out of budget gives back what it took', async () => {
    const e = await engine(simd, { budgetBytes: 2 * MIB });
    const index = e.createIndex({ dim, metric: 'l2' });
    const rows = (q: QTable) => JSON.stringify([q.size, Array.from(q.values(5)), q.visits(5, 1)]);
    const q = e.createQTable({ actions: 4 });
    const other = e.createQTable({ actions: 4 });
    const batch = (first: number, n: number) => ({
      states: Uint32Array.from({ length: n }, (_, i) => first + i),
      actions: new Uint32Array(n).fill(1),
      rewards: new Float32Array(n).fill(1),
      nextStates: new Uint32Array(n).fill(5),
    });
    other.batchUpdate(batch(1_000_000, 5000));
    const bytes = other.serialize();
    for (let first = 0; ; first += 1000) {
      try {
        q.batchUpdate(batch(first, 1000));
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        break;
      }
    }
    fillToBudget(e, index);
    expectGivesBack(
      e,
      index,
      () => q.batchUpdate(batch(2_000_000, 20000)),
      () => rows(q),
    );
    expectGivesBack(
      e,
      index,
      () => q.merge(other, 0.5),
      () => rows(q),
    );
    expectGivesBack(
      e,
      index,
      () => e.loadQTable(bytes),
      () => rows(q),
    );
    let state = 3_000_000;
    for (;;) {
      const before = JSON.stringify([e.usedBytes, e.reservedBytes, rows(q)]);
      try {
        q.update(state++, 0, 1, 5);
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        expect(JSON.stringify([e.usedBytes, e.reservedBytes, rows(q)])).toBe(before);
        break;
      }
    }
    e.dispose();
  });
});

describe.each(BUILDS)('random calls near the budget (simd %s)', (simd) => {
  test('failures give back every byte and change nothing; what succeeded is all there, bit for bit', async () => {
    const e = await engine(simd, { budgetBytes: 3 * MIB });
    const index = e.createIndex({ dim, metric: 'l2', efConstruction: 24 });
    const model = new Map<number, Float32Array>();
    const next = rng(21);
    const tables: QTable[] = [];
    const reference: ReferenceQLearner[] = [];
    let failures = 0;
    for (let step = 0; step < 400; step++) {
      const kind = Math.floor(next() * 7);
      if (kind === 5 && (tables.length < 6 || next() < 0.2)) {
        try {
          tables.push(e.createQTable({ actions: 6 }));
          reference.push(new ReferenceQLearner({ actions: 6 }));
        } catch (error) {
          expect(error).toBeInstanceOf(BudgetExceededError);
        }
      }
      const before = JSON.stringify([
        e.usedBytes,
        e.reservedBytes,
        index.capacity,
        index.size,
        tables.map((t) => t.size),
      ]);
      try {
        if (kind === 0 || kind === 1) {
          const n = 1 + Math.floor(next() * 400);
          const ids = Uint32Array.from({ length: n }, () => Math.floor(next() * 20000));
          const rows = randomVectors(n, dim, step);
          index.addBatch(ids, rows);
          ids.forEach((id, i) => model.set(id, rows.slice(i * dim, (i + 1) * dim)));
        } else if (kind === 2) {
          for (let i = 0; i < 50; i++) {
            const id = Math.floor(next() * 20000);
            if (index.remove(id)) model.delete(id);
          }
        } else if (kind === 3) {
          index.reserve(index.capacity + Math.floor(next() * 20000));
        } else if (kind === 4) {
          const k = 1 + Math.floor(next() * 30000);
          index.searchBatch(randomVectors(1 + Math.floor(next() * 30), dim, step), k, { ef: Math.min(k, 100000) });
        } else if (kind === 5 && tables.length > 0) {
          const t = Math.floor(next() * tables.length);
          const n = 1 + Math.floor(next() * 3000);
          const batch = {
            states: Uint32Array.from({ length: n }, () => Math.floor(next() * 50000)),
            actions: Uint32Array.from({ length: n }, () => Math.floor(next() * 6)),
            rewards: Float32Array.from({ length: n }, () => next() * 2 - 1),
            nextStates: Uint32Array.from({ length: n }, () => Math.floor(next() * 50000)),
          };
          tables[t].batchUpdate(batch);
          for (let i = 0; i < n; i++)
            reference[t].update(batch.states[i], batch.actions[i], batch.rewards[i], batch.nextStates[i]);
        } else if (tables.length >= 2) {
          const a = Math.floor(next() * tables.length);
          const b = (a + 1) % tables.length;
          tables[a].merge(tables[b], 0.5);
          reference[a].merge(reference[b], 0.5);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        expect(
          JSON.stringify([e.usedBytes, e.reservedBytes, index.capacity, index.size, tables.map((t) => t.size)]),
        ).toBe(before);
        failures++;
      }
      expect(e.reservedBytes).toBeLessThanOrEqual(3 * MIB);
    }
    expect(failures).toBeGreaterThan(20);
    expect(index.size).toBe(model.size);
    for (const [id, v] of model) expect(Array.from(index.get(id)!)).toEqual(Array.from(v));
    for (let t = 0; t < tables.length; t++) {
      expect(tables[t].size).toBe(reference[t].rows.size);
      for (const [s, row] of reference[t].rows) expect(Array.from(tables[t].values(s))).toEqual(Array.from(row));
    }
    e.dispose();
  });
});
