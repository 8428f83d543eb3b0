/**
 * searchBatch padding is unambiguous (issue 10, finding 11): the padding id MISSING_ID
 * (0xFFFFFFFF) is refused by add and addBatch, and every row comes with its count of results,
 * so a row's real results are told from padding even where an l2 distance overflows to Infinity.
 */
import { InvalidArgumentError, MISSING_ID } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { fingerprint } from '../helpers/snapshot';

describe.each(BUILDS)('searchBatch counts (simd %s)', (simd) => {
  test('add and addBatch refuse MISSING_ID, changing nothing; has/get/remove just answer', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 2, metric: 'l2' });
    index.addBatch([1, 2], [0, 0, 1, 1]);
    const before = fingerprint(index, [1, 2, MISSING_ID], [new Float32Array([0, 0])]);
    expectElexError(() => index.add(MISSING_ID, [3, 3]), InvalidArgumentError, 'E_ARGUMENT', /0xFFFFFFFF \(MISSING_ID/);
    expectElexError(
      () => index.addBatch([5, MISSING_ID], [3, 3, 4, 4]),
      InvalidArgumentError,
      'E_ARGUMENT',
      /ids\[1\]/,
    );
    expect(fingerprint(index, [1, 2, MISSING_ID], [new Float32Array([0, 0])])).toBe(before);
    expect(index.has(MISSING_ID)).toBe(false);
    expect(index.remove(MISSING_ID)).toBe(false);
    index.add(MISSING_ID - 1, [5, 5]);
    expect(index.has(MISSING_ID - 1)).toBe(true);
    e.dispose();
  });

  test('counts tell results from padding, also where a distance is Infinity', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 2, metric: 'l2' });
    // Each squared norm fits float32, but their squared distance (3.6e19)^2 overflows to Infinity.
    index.addBatch([7, 8], [-1.8e19, 0, 1.8e19, 0]);
    const { ids, distances, counts } = index.searchBatch([-1.8e19, 0, 1.8e19, 0, 1, 1], 4);
    expect(Array.from(counts)).toEqual([2, 2, 2]);
    expect(Array.from(ids.subarray(0, 4))).toEqual([7, 8, MISSING_ID, MISSING_ID]);
    expect(distances[1]).toBe(Infinity);
    expect(distances[2]).toBe(Infinity);
    expect(Array.from(ids.subarray(4, 8))).toEqual([8, 7, MISSING_ID, MISSING_ID]);
    expect(Array.from(distances.subarray(4, 8))).toEqual([0, Infinity, Infinity, Infinity]);
    // A filter that accepts only one id leaves one result per row.
    const filtered = index.searchBatch([-1.8e19, 0, 1.8e19, 0], 3, { filter: (id) => id === 8 });
    expect(Array.from(filtered.counts)).toEqual([1, 1]);
    expect(Array.from(filtered.ids)).toEqual([8, MISSING_ID, MISSING_ID, 8, MISSING_ID, MISSING_ID]);
    // An empty index and an empty batch.
    const empty = e.createIndex({ dim: 2 });
    expect(Array.from(empty.searchBatch([1, 0], 2).counts)).toEqual([0]);
    expect(index.searchBatch([], 2).counts.length).toBe(0);
    e.dispose();
  });
});
