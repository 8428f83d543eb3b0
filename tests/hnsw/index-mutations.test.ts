/** remove, replace, re-add, slot reuse, filter, k beyond size, empty index: against brute force. */
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce, recall } from '../helpers/reference';
import type { Engine, VectorIndex } from '../../src/index';
import { MISSING_ID } from '../../src/index';

const dim = 16;
const n = 2000;
const data = randomVectors(n + 500, dim, 21);
const row = (i: number) => data.subarray(i * dim, (i + 1) * dim);

describe.each(BUILDS)('index mutations (simd %s)', (simd) => {
  let e: Engine;
  let index: VectorIndex;
  beforeEach(async () => {
    e = await engine(simd);
    index = e.createIndex({ dim, metric: 'l2', seed: 1 });
    index.addBatch(
      Uint32Array.from({ length: n }, (_, i) => i),
      data.subarray(0, n * dim),
    );
  });
  afterEach(() => e.dispose());

  test('an empty index returns empty results', () => {
    const empty = e.createIndex({ dim });
    expect(empty.size).toBe(0);
    const r = empty.search(row(0), 5);
    expect(r.ids.length).toBe(0);
    expect(r.distances.length).toBe(0);
    expect(empty.has(0)).toBe(false);
    expect(empty.get(0)).toBeUndefined();
    expect(empty.remove(0)).toBe(false);
  });

  test('k larger than the index returns what exists; searchBatch pads rows', () => {
    const small = e.createIndex({ dim, metric: 'l2' });
    small.addBatch([10, 20, 30], data.subarray(0, 3 * dim));
    const r = small.search(row(0), 10);
    expect(Array.from(r.ids).sort()).toEqual([10, 20, 30]);
    const b = small.searchBatch(data.subarray(0, 2 * dim), 5);
    expect(b.ids.length).toBe(10);
    expect(Array.from(b.ids.subarray(3, 5))).toEqual([MISSING_ID, MISSING_ID]);
    expect(b.distances[4]).toBe(Infinity);
  });

  test('get returns the stored vector; has follows add and remove', () => {
    expect(Array.from(index.get(5)!)).toEqual(Array.from(row(5)));
    expect(index.has(5)).toBe(true);
    expect(index.remove(5)).toBe(true);
    expect(index.remove(5)).toBe(false);
    expect(index.has(5)).toBe(false);
    expect(index.get(5)).toBeUndefined();
    expect(index.size).toBe(n - 1);
  });

  test('removed ids are never returned, and recall over the rest holds', () => {
    const removed = new Set<number>();
    for (let i = 0; i < n; i += 3) {
      index.remove(i);
      removed.add(i);
    }
    const live = Array.from({ length: n }, (_, i) => i).filter((i) => !removed.has(i));
    let sum = 0;
    for (let q = 0; q < 50; q++) {
      const query = row(n + q);
      const res = index.search(query, 10, { ef: 100 });
      for (const id of res.ids) expect(removed.has(id)).toBe(false);
      sum += recall(
        res.ids,
        bruteForce('l2', data, live, (id) => id, dim, query, 10).map((r) => r.id),
      );
    }
    expect(sum / 50).toBeGreaterThanOrEqual(0.95);
  });

  test('adding an existing id replaces its vector', () => {
    index.add(7, row(n + 1));
    expect(index.size).toBe(n);
    expect(Array.from(index.get(7)!)).toEqual(Array.from(row(n + 1)));
    const r = index.search(row(n + 1), 1);
    expect(r.ids[0]).toBe(7);
    expect(r.distances[0]).toBeCloseTo(0, 5);
    // The old position no longer answers to 7.
    const old = index.search(row(7), 1);
    expect(old.ids[0]).not.toBe(7);
  });

  test('re-adding a removed id revives it; new ids reuse removed slots', () => {
    index.remove(3);
    index.add(3, row(n + 2));
    expect(index.has(3)).toBe(true);
    expect(index.search(row(n + 2), 1).ids[0]).toBe(3);
    const usedBefore = e.usedBytes;
    for (let i = 0; i < 100; i++) index.remove(100 + i);
    for (let i = 0; i < 100; i++) index.add(90000 + i, row(n + 100 + i));
    expect(e.usedBytes).toBe(usedBefore);
    expect(index.size).toBe(n);
    for (let i = 0; i < 100; i++) {
      expect(index.has(100 + i)).toBe(false);
      expect(index.search(row(n + 100 + i), 1).ids[0]).toBe(90000 + i);
    }
  });

  test('a filter restricts results during the walk and matches brute force over the allowed ids', () => {
    const allowed = (id: number) => id % 10 === 3;
    const allowedIds = Array.from({ length: n }, (_, i) => i).filter(allowed);
    let sum = 0;
    for (let q = 0; q < 30; q++) {
      const query = row(n + q);
      const res = index.search(query, 10, { filter: allowed, ef: 100 });
      expect(res.ids.length).toBe(10);
      for (const id of res.ids) expect(allowed(id)).toBe(true);
      sum += recall(
        res.ids,
        bruteForce('l2', data, allowedIds, (id) => id, dim, query, 10).map((r) => r.id),
      );
    }
    expect(sum / 30).toBeGreaterThanOrEqual(0.95);
    const none = index.search(row(0), 5, { filter: () => false });
    expect(none.ids.length).toBe(0);
  });

  test('duplicate ids inside one batch: the later row wins', () => {
    index.addBatch([5000, 5000], data.subarray((n + 3) * dim, (n + 5) * dim));
    expect(Array.from(index.get(5000)!)).toEqual(Array.from(row(n + 4)));
    expect(index.size).toBe(n + 1);
  });
});
