/** The byte budget: usedBytes never passes it, and a call that would is rejected whole. */
import { BudgetExceededError, Engine } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { fingerprint } from '../helpers/snapshot';

const dim = 64;

describe.each(BUILDS)('budget (simd %s)', (simd) => {
  test('filling a 4 MiB engine ends in E_BUDGET with nothing half-added', async () => {
    const budgetBytes = 4 * 1024 * 1024;
    const e = await Engine.create({ budgetBytes, simd });
    const index = e.createIndex({ dim, metric: 'l2' });
    const batch = 200;
    let next = 0;
    let failure: unknown;
    for (let round = 0; round < 1000 && failure === undefined; round++) {
      const ids = Uint32Array.from({ length: batch }, (_, i) => next + i);
      const data = randomVectors(batch, dim, round);
      const before = fingerprint(index, [0, Math.max(0, next - 1), next], [data.subarray(0, dim)]);
      const sizeBefore = index.size;
      try {
        index.addBatch(ids, data);
        next += batch;
      } catch (error) {
        failure = error;
        expect(index.size).toBe(sizeBefore);
        expect(fingerprint(index, [0, Math.max(0, next - 1), next], [data.subarray(0, dim)])).toBe(before);
      }
      expect(e.usedBytes).toBeLessThanOrEqual(budgetBytes);
    }
    expect(failure).toBeInstanceOf(BudgetExceededError);
    const err = failure as BudgetExceededError;
    expect(err.code).toBe('E_BUDGET');
    expect(err.budgetBytes).toBe(budgetBytes);
    expect(err.requestedBytes).toBeGreaterThan(0);
    expect(err.usedBytes).toBeLessThanOrEqual(budgetBytes);
    expect(err.message).toMatch(/addBatch needs \d+ more bytes, but \d+ of the 4194304-byte budget are in use/);
    expect(next).toBeGreaterThan(1000);
    // Still fully usable: search, remove, and single adds into freed slots.
    const q = randomVectors(1, dim, 999);
    expect(index.search(q, 5).ids.length).toBe(5);
    expect(index.remove(0)).toBe(true);
    index.add(123456, q);
    expect(index.search(q, 1).ids[0]).toBe(123456);
    e.dispose();
  });

  test('growing step by step fits as much as reserving up front (segments are never copied; reserve is a hint)', async () => {
    const budgetBytes = 4 * 1024 * 1024;
    const fill = async (reserve: number) => {
      const e = await Engine.create({ budgetBytes, simd });
      const index = e.createIndex({ dim, metric: 'l2', efConstruction: 20 });
      if (reserve > 0) index.reserve(reserve);
      expect(index.capacity).toBeGreaterThanOrEqual(reserve);
      let n = 0;
      for (;;) {
        try {
          index.addBatch(
            Uint32Array.from({ length: 100 }, (_, i) => n + i),
            randomVectors(100, dim, n),
          );
          n += 100;
        } catch (error) {
          expect(error).toBeInstanceOf(BudgetExceededError);
          break;
        }
      }
      expect(e.reservedBytes).toBeLessThanOrEqual(budgetBytes);
      e.dispose();
      return n;
    };
    const grown = await fill(0);
    const reserved = await fill(grown);
    expect(reserved).toBeGreaterThanOrEqual(grown);
    expect(grown).toBeGreaterThanOrEqual(0.95 * reserved);
    const e = await Engine.create({ budgetBytes, simd });
    const index = e.createIndex({ dim });
    expect(() => index.reserve(2 ** 32 - 1)).toThrow(BudgetExceededError);
    expect(index.capacity).toBe(0);
    expect(() => index.reserve(-1)).toThrow(/capacity must be/);
    e.dispose();
  });

  test('add/remove churn reaches a steady state', async () => {
    const e = await Engine.create({ budgetBytes: 16 * 1024 * 1024, simd });
    const index = e.createIndex({ dim });
    const data = randomVectors(2000, dim, 4);
    const used: number[] = [];
    for (let round = 0; round < 20; round++) {
      const ids = Uint32Array.from({ length: 500 }, (_, i) => round * 500 + i);
      index.addBatch(ids, data.subarray((round % 4) * 500 * dim, ((round % 4) + 1) * 500 * dim));
      for (const id of ids) index.remove(id);
      used.push(e.usedBytes);
    }
    expect(index.size).toBe(0);
    expect(used[19]).toBe(used[5]);
    e.dispose();
  });

  test('an index that cannot be created at all throws E_BUDGET', async () => {
    const e = await Engine.create({ budgetBytes: 1024 * 1024, simd });
    expect(() => e.createIndex({ dim: 65536, efConstruction: 100000 })).toThrow(BudgetExceededError);
    const small = e.createIndex({ dim: 4 });
    small.add(1, [1, 2, 3, 4]);
    expect(small.size).toBe(1);
    e.dispose();
  });
});
