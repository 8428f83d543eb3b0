/** Recall@10 against exact ground truth: SIFT-128 (cosine, l2) and seeded random data (dot). */
import { BUILDS, bothBuildsTest, engine } from '../helpers/engines';
import { readFvecs, readIvecs } from '../helpers/data';
import { randomVectors } from '../helpers/random';
import { bruteForce, recall } from '../helpers/reference';
import type { Engine, VectorIndex } from '../../src/index';

const base = readFvecs('sift128_base.fvecs');
const queries = readFvecs('sift128_query.fvecs');
const allIds = Uint32Array.from({ length: base.count }, (_, i) => i);

function meanRecall(index: VectorIndex, truth: Int32Array, k: number, ef?: number): number {
  let sum = 0;
  for (let q = 0; q < queries.count; q++) {
    const res = index.search(queries.data.subarray(q * 128, (q + 1) * 128), 10, ef ? { ef } : {});
    sum += recall(res.ids, truth.subarray(q * k, q * k + 10));
  }
  return sum / queries.count;
}

describe.each(['cosine', 'l2'] as const)('SIFT-128 %s', (metric) => {
  const truth = readIvecs(`sift128_groundtruth_${metric}.ivecs`);
  const results = new Map<string, Uint32Array>();

  describe.each(BUILDS)('simd %s', (simd) => {
    let e: Engine;
    let index: VectorIndex;
    beforeAll(async () => {
      e = await engine(simd);
      index = e.createIndex({ dim: 128, metric, seed: 7 });
      index.addBatch(allIds, base.data);
    });
    afterAll(() => e.dispose());

    test('holds every vector', () => {
      expect(index.size).toBe(base.count);
    });

    test('recall@10 >= 0.95 at the default ef, >= 0.99 at ef 200', () => {
      expect(meanRecall(index, truth.data, truth.k)).toBeGreaterThanOrEqual(0.95);
      expect(meanRecall(index, truth.data, truth.k, 200)).toBeGreaterThanOrEqual(0.99);
    });

    test('distances are the metric of the returned ids, ascending', () => {
      for (let q = 0; q < 50; q++) {
        const query = queries.data.subarray(q * 128, (q + 1) * 128);
        const res = index.search(query, 10);
        const exact = bruteForce(metric, base.data, res.ids, (id) => id, 128, query, 10);
        const byId = new Map(exact.map((r) => [r.id, r.distance]));
        for (let i = 0; i < res.ids.length; i++) {
          const ref = byId.get(res.ids[i])!;
          expect(Math.abs(res.distances[i] - ref)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref)));
          if (i > 0) expect(res.distances[i]).toBeGreaterThanOrEqual(res.distances[i - 1]);
        }
      }
    });

    test('searchBatch returns what search returns, row by row', () => {
      const n = 40;
      const batch = index.searchBatch(queries.data.subarray(0, n * 128), 10);
      for (let q = 0; q < n; q++) {
        const one = index.search(queries.data.subarray(q * 128, (q + 1) * 128), 10);
        expect(Array.from(batch.ids.subarray(q * 10, q * 10 + 10))).toEqual(Array.from(one.ids));
      }
      results.set(simd, batch.ids);
    });
  });

  bothBuildsTest('SIMD and scalar builds find the same neighbours', () => {
    expect(results.size).toBe(BUILDS.length);
    const a = results.get('on')!;
    const b = results.get('off')!;
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
    // Same seed and graph; only float rounding in the last bits may reorder near-ties.
    expect(same / a.length).toBeGreaterThan(0.98);
  });
});

describe.each(BUILDS)('dot on seeded random data (simd %s)', (simd) => {
  test('recall@10 against a JS brute force >= 0.95 at ef 100', async () => {
    const dim = 32;
    const n = 3000;
    const data = randomVectors(n, dim, 11);
    const qs = randomVectors(100, dim, 12);
    const e = await engine(simd);
    const index = e.createIndex({ dim, metric: 'dot', seed: 3 });
    const ids = Uint32Array.from({ length: n }, (_, i) => i * 3 + 1);
    index.addBatch(ids, data);
    let sum = 0;
    for (let q = 0; q < 100; q++) {
      const query = qs.subarray(q * dim, (q + 1) * dim);
      const truth = bruteForce('dot', data, ids, (id) => (id - 1) / 3, dim, query, 10).map((r) => r.id);
      sum += recall(index.search(query, 10, { ef: 100 }).ids, truth);
    }
    expect(sum / 100).toBeGreaterThanOrEqual(0.95);
    e.dispose();
  });
});

describe.each(BUILDS)('replacing vectors on SIFT-128 (simd %s)', (simd) => {
  test('recall@10 stays >= 0.95 after 30% and then all of the ids take other vectors', async () => {
    const n = 4000;
    const e = await engine(simd);
    const index = e.createIndex({ dim: 128, metric: 'l2', seed: 5 });
    const ids = Uint32Array.from({ length: n }, (_, i) => i);
    index.addBatch(ids, base.data.subarray(0, n * 128));
    const current = new Float32Array(base.data.subarray(0, n * 128));
    for (const replaced of [Math.floor(n * 0.3), n]) {
      // Id i takes the vector of base row n + i (rows the index has never seen).
      const fresh = base.data.subarray(n * 128, (n + replaced) * 128);
      current.set(fresh, 0);
      index.addBatch(ids.subarray(0, replaced), fresh);
      expect(index.size).toBe(n);
      let sum = 0;
      for (let q = 0; q < 100; q++) {
        const query = queries.data.subarray(q * 128, (q + 1) * 128);
        const truth = bruteForce('l2', current, ids, (id) => id, 128, query, 10).map((r) => r.id);
        sum += recall(index.search(query, 10).ids, truth);
      }
      expect(sum / 100).toBeGreaterThanOrEqual(0.95);
    }
    e.dispose();
  });
});
