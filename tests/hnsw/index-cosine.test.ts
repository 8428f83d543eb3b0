/**
 * Cosine normalisation (issue 10, finding 10): rows and queries are normalised in float64, so
 * vectors far below float32's normal range ([1e-30, 0], subnormals) are stored at unit length,
 * and a vector that is zero once converted to float32 ([1e-50, 0]) is refused with
 * E_INVALID_VECTOR by add, addBatch, search and searchBatch. Both builds store the same bits.
 */
import { InvalidVectorError, type Engine, type VectorIndex } from '../../src/index';
import { BUILDS, bothBuildsTest, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { fingerprint } from '../helpers/snapshot';
import { randomVectors } from '../helpers/random';

const unitLength = (v: Float32Array) => Math.hypot(...Array.from(v));

describe.each(BUILDS)('cosine normalisation (simd %s)', (simd) => {
  let e: Engine;
  let index: VectorIndex;
  beforeEach(async () => {
    e = await engine(simd);
    index = e.createIndex({ dim: 2, metric: 'cosine' });
  });
  afterEach(() => e.dispose());

  test('tiny, subnormal and large rows are stored at unit length and found at distance 0', () => {
    index.add(1, [1e-30, 0]);
    index.addBatch([2, 3], [1e-40, 1e-40, 0, 1e19]);
    index.add(4, [-3e-45, 0]);
    expect(Array.from(index.get(1)!)).toEqual([1, 0]);
    expect(Array.from(index.get(4)!)).toEqual([-1, 0]);
    expect(Array.from(index.get(3)!)).toEqual([0, 1]);
    expect(unitLength(index.get(2)!)).toBeCloseTo(1, 6);
    const near = (q: number[], id: number) => {
      const r = index.search(q, 1);
      expect(Array.from(r.ids)).toEqual([id]);
      expect(Math.abs(r.distances[0])).toBeLessThan(1e-6);
    };
    near([1, 0], 1);
    near([1e-30, 1e-30], 2);
    near([0, 2e-38], 3);
    near([-1, 0], 4);
    expect(index.search([0, 1], 4).distances[3]).toBeCloseTo(1, 6);
    const batch = index.searchBatch([1e-30, 0, 0, 1e-42], 1);
    expect(Array.from(batch.ids)).toEqual([1, 3]);
  });

  test('a row or query that is zero as float32 is E_INVALID_VECTOR, changing nothing', () => {
    index.add(1, [1, 0]);
    const before = fingerprint(index, [1, 2], [new Float32Array([1, 0])]);
    const zero = /zero vector as float32/;
    expectElexError(() => index.add(2, [1e-50, 0]), InvalidVectorError, 'E_INVALID_VECTOR', zero);
    expectElexError(
      () => index.addBatch([2, 3], [1, 1, 0, -1e-46]),
      InvalidVectorError,
      'E_INVALID_VECTOR',
      /row 1 is a zero vector/,
    );
    expectElexError(() => index.search([1e-50, 1e-60], 1), InvalidVectorError, 'E_INVALID_VECTOR', zero);
    expectElexError(
      () => index.searchBatch([1, 0, 1e-50, 0], 1),
      InvalidVectorError,
      'E_INVALID_VECTOR',
      /row 1 is a zero vector/,
    );
    expect(fingerprint(index, [1, 2], [new Float32Array([1, 0])])).toBe(before);
    // Under l2 and dot such rows are ordinary vectors.
    const l2 = e.createIndex({ dim: 2, metric: 'l2' });
    l2.add(1, [1e-50, 0]);
    expect(Array.from(l2.get(1)!)).toEqual([0, 0]);
  });
});

bothBuildsTest('both builds store a cosine row with the same bits', async () => {
  const dim = 37;
  const data = randomVectors(200, dim, 9).map((x, i) => x * 10 ** ((i % 7) - 3));
  const rows = await Promise.all(
    BUILDS.map(async (simd) => {
      const e = await engine(simd);
      const index = e.createIndex({ dim });
      index.addBatch(
        Uint32Array.from({ length: 200 }, (_, i) => i),
        data,
      );
      const all = Array.from({ length: 200 }, (_, i) => Array.from(index.get(i)!));
      e.dispose();
      return all;
    }),
  );
  expect(rows[1]).toEqual(rows[0]);
});
