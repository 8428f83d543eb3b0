/**
 * searchBatchAsync on a 2-thread engine (docs/threads.md): every row's ids and distances equal
 * searchBatch's on the same index, unfiltered, with allow-lists and IdSets (on the threads) and
 * with a predicate (on the calling thread); async calls queue and a sync call meanwhile is
 * refused; the fallback to one thread and its reasons; a worker that dies gives EngineBrokenError.
 */
import {
  DimensionMismatchError,
  Engine,
  EngineBrokenError,
  InvalidArgumentError,
  type VectorIndex,
} from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

const DIM = 24;
const N = 3000;
const Q = 400;

async function twoThreads(simd: 'on' | 'off'): Promise<Engine> {
  const engine = await Engine.create({ simd, threads: 2, budgetBytes: 64 * 1024 * 1024 });
  expect(engine.threads).toBe(2);
  expect(engine.threadsFallback).toBeNull();
  return engine;
}

function filled(engine: Engine, metric: 'cosine' | 'l2' = 'cosine'): VectorIndex {
  const index = engine.createIndex({ dim: DIM, metric, M: 8, efConstruction: 64, seed: 5 });
  index.addBatch(
    Array.from({ length: N }, (_, i) => i * 3 + 1),
    randomVectors(N, DIM, 11),
  );
  return index;
}

describe.each(BUILDS)('searchBatchAsync, simd %s', (simd) => {
  let engine: Engine;
  let index: VectorIndex;
  const queries = randomVectors(Q, DIM, 99);

  beforeAll(async () => {
    engine = await twoThreads(simd);
    index = filled(engine);
  });
  afterAll(() => engine.dispose());

  /**
   * searchBatchAsync of `rows` in reverse order against searchBatch of them in order, row by row:
   * a row the threads skipped would not find searchBatch's result for it left in the staging area.
   */
  async function expectRowsReversed(rows: Float32Array, k: number, ef: number): Promise<void> {
    const n = rows.length / DIM;
    const reversed = new Float32Array(rows.length);
    for (let r = 0; r < n; r++) reversed.set(rows.subarray(r * DIM, (r + 1) * DIM), (n - 1 - r) * DIM);
    const want = index.searchBatch(rows, k, { ef });
    const before = engine.runtime.pool!.callsRun;
    const got = await index.searchBatchAsync(reversed, k, { ef });
    expect(engine.runtime.pool!.callsRun).toBeGreaterThan(before); // the worker was given the batch
    for (let r = 0; r < n; r++) {
      const w = n - 1 - r;
      expect(got.counts[r]).toBe(want.counts[w]);
      expect(got.ids.subarray(r * k, (r + 1) * k)).toEqual(want.ids.subarray(w * k, (w + 1) * k));
      expect(got.distances.subarray(r * k, (r + 1) * k)).toEqual(want.distances.subarray(w * k, (w + 1) * k));
    }
  }

  test('every row equals searchBatch, for several k and ef', async () => {
    for (const [k, ef] of [
      [1, 16],
      [10, 40],
      [25, 25],
    ]) {
      await expectRowsReversed(queries, k, ef);
    }
  });

  test('a batch of several staged blocks (over 1,024 rows a thread): every row equals searchBatch', async () => {
    // 5,000 rows: blocks of 2,048 rows on 2 threads, each block's rows shared through the counter anew.
    await expectRowsReversed(randomVectors(5000, DIM, 123), 3, 16);
  });

  test('allow-lists and IdSets run on the threads with searchBatch results and plan', async () => {
    const allowed = Array.from({ length: N }, (_, i) => i * 3 + 1).filter((id) => id % 7 < 3);
    for (const plan of ['auto', 'walk', 'filtered-walk', 'exact'] as const) {
      const want = index.searchBatch(queries, 10, { filter: allowed, plan });
      const got = await index.searchBatchAsync(queries, 10, { filter: allowed, plan });
      expect(got).toEqual(want);
    }
    const set = index.idSet(allowed.slice(0, 200));
    const want = index.searchBatch(queries, 5, { filter: set });
    expect(await index.searchBatchAsync(queries, 5, { filter: set })).toEqual(want);
    expect(want.ids.every((id) => id === 0xffffffff || allowed.includes(id))).toBe(true);
  });

  test("the planner's walk stops for the exact scan on the threads as searchBatch's rows do", async () => {
    // The half of the rows least like row 0 of the queries: its walk meets rejected rows only and
    // stops for the exact scan (docs/vector-index.md#filters); other rows walk on.
    const vectors = randomVectors(N, DIM, 11);
    const q0 = queries.subarray(0, DIM);
    const cos = (r: number): number => {
      let dot = 0;
      let norm = 0;
      for (let c = 0; c < DIM; c++) {
        dot += vectors[r * DIM + c] * q0[c];
        norm += vectors[r * DIM + c] ** 2;
      }
      return dot / Math.sqrt(norm);
    };
    const order = Array.from({ length: N }, (_, r) => r).sort((a, b) => cos(a) - cos(b));
    const allowed = order.slice(0, N / 2).map((r) => r * 3 + 1);
    const rows = queries.subarray(0, 64 * DIM);
    const want = index.searchBatch(rows, 10, { filter: allowed, ef: 16 });
    expect(await index.searchBatchAsync(rows, 10, { filter: allowed, ef: 16 })).toEqual(want);
    expect(index.search(q0, 10, { filter: allowed, ef: 16 }).plan).toBe('exact');
  });

  test('a where filter runs on the threads with searchBatch results; attributes go in through addBatchAsync', async () => {
    const tagged = engine.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 64, seed: 6 });
    const ids = Array.from({ length: 600 }, (_, i) => i);
    await tagged.addBatchAsync(
      ids,
      randomVectors(600, DIM, 12),
      ids.map((i) => ({ group: i % 3 })),
    );
    const want = tagged.searchBatch(queries, 10, { where: { group: 1 } });
    expect(want.ids.every((id) => id === 0xffffffff || id % 3 === 1)).toBe(true);
    expect(await tagged.searchBatchAsync(queries, 10, { where: { group: 1 } })).toEqual(want);
    tagged.dispose();
  });

  test('a predicate filter runs on the calling thread with the same result', async () => {
    const filter = (id: number): boolean => id % 2 === 0;
    const want = index.searchBatch(queries.subarray(0, 50 * DIM), 10, { filter });
    expect(await index.searchBatchAsync(queries.subarray(0, 50 * DIM), 10, { filter })).toEqual(want);
  });

  test('concurrent async calls queue in call order; a sync call meanwhile is refused, changing nothing', async () => {
    const want = index.searchBatch(queries, 10);
    const calls = [index.searchBatchAsync(queries, 10), index.searchBatchAsync(queries, 10)];
    // The first call owns the engine from its first microtask on.
    await Promise.resolve();
    await Promise.resolve();
    expect(() => index.search(queries.subarray(0, DIM), 1)).toThrow(InvalidArgumentError);
    for (const got of await Promise.all(calls)) expect(got).toEqual(want);
    expect(index.searchBatch(queries, 10)).toEqual(want);
  });

  test('bad arguments reject with the errors searchBatch throws', async () => {
    await expect(index.searchBatchAsync(queries.subarray(0, DIM + 1), 1)).rejects.toBeInstanceOf(
      DimensionMismatchError,
    );
    await expect(index.searchBatchAsync(queries, 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(index.searchBatchAsync(queries, 1, { plan: 'exact' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe.each(BUILDS)('threads fallback and failures, simd %s', (simd) => {
  test('one thread asked, or none possible: threads 1 and the reason; strictThreads throws', async () => {
    const one = await Engine.create({ simd });
    expect(one.threads).toBe(1);
    expect(one.threadsFallback).toBeNull();
    one.dispose();
    const saved = globalThis.SharedArrayBuffer;
    // biome-ignore lint/suspicious/noExplicitAny: removing a global to act as a runtime without it
    delete (globalThis as any).SharedArrayBuffer;
    try {
      const fell = await Engine.create({ simd, threads: 4 });
      expect(fell.threads).toBe(1);
      expect(fell.threadsFallback).toBe('no-shared-array-buffer');
      const index = filled(fell);
      const queries = randomVectors(20, DIM, 3);
      expect(await index.searchBatchAsync(queries, 5)).toEqual(index.searchBatch(queries, 5));
      fell.dispose();
      await expect(Engine.create({ simd, threads: 2, strictThreads: true })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    await expect(Engine.create({ simd, threads: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(Engine.create({ simd, threads: 'all' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    const auto = await Engine.create({ simd, threads: 'auto' });
    expect(auto.threads).toBeGreaterThanOrEqual(1);
    auto.dispose();
  });

  test('a worker that dies: the call rejects with EngineBrokenError, and so does every later call', async () => {
    const engine = await twoThreads(simd);
    const index = filled(engine);
    const queries = randomVectors(200, DIM, 4);
    await index.searchBatchAsync(queries, 5);
    engine.runtime.pool!.killWorker(0);
    await expect(index.searchBatchAsync(queries, 5)).rejects.toBeInstanceOf(EngineBrokenError);
    expect(() => index.search(queries.subarray(0, DIM), 1)).toThrow(EngineBrokenError);
    engine.dispose();
  });
});
