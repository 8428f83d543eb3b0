/**
 * addBatchAsync on a 2-thread engine (docs/threads.md): pipelined (the default) and reproducible,
 * recall@10 within 0.02 of addBatch's against exact ground truth, every node reachable and every
 * layer-0 list well formed; reproducible, the same graph on 2 and 3 threads; a bad option is
 * InvalidArgumentError; addBatch's graph byte for byte where the call runs serially (one thread; replaced ids);
 * all-or-nothing to E_BUDGET with the index still answering; async calls queue in order; a
 * worker that dies gives EngineBrokenError.
 */
import {
  BudgetExceededError,
  Engine,
  EngineBrokenError,
  InvalidArgumentError,
  type VectorIndex,
} from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { malformedLists, unreachedSlots } from '../helpers/graph-walk';
import { randomVectors } from '../helpers/random';
import { bruteForce, recall } from '../helpers/reference';
import { sameBytes } from '../helpers/snapshot';

const DIM = 16;
const N = 2000;
const OPTIONS = { dim: DIM, metric: 'l2' as const, M: 8, efConstruction: 48, seed: 9 };
const ids = Uint32Array.from({ length: N }, (_, i) => 10 + i * 2);
const data = randomVectors(N, DIM, 21);
const queries = randomVectors(100, DIM, 22);

function recallAt10(index: VectorIndex): number {
  const got = index.searchBatch(queries, 10, { ef: 48 });
  let sum = 0;
  for (let q = 0; q < 100; q++) {
    const truth = bruteForce('l2', data, ids, (id) => (id - 10) / 2, DIM, queries.subarray(q * DIM, (q + 1) * DIM), 10);
    sum += recall(
      got.ids.subarray(q * 10, q * 10 + 10),
      truth.map((t) => t.id),
    );
  }
  return sum / 100;
}

describe.each(BUILDS)('addBatchAsync, simd %s', (simd) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create({ simd, threads: 2, budgetBytes: 64 * 1024 * 1024 });
    expect(engine.threads).toBe(2);
  });
  afterAll(() => engine.dispose());

  test.each([false, true])(
    "reproducible %s: recall within 0.02 of addBatch's, every node reachable, lists well formed",
    async (reproducible) => {
      const serial = engine.createIndex(OPTIONS);
      serial.addBatch(ids, data);
      const want = recallAt10(serial);
      serial.dispose();
      // Pipelined builds depend on timing: a few of them, each checked.
      for (let round = 0; round < (reproducible ? 1 : 3); round++) {
        const parallel = engine.createIndex(OPTIONS);
        const before = engine.runtime.pool!.callsRun;
        await parallel.addBatchAsync(ids, data, undefined, { reproducible });
        expect(engine.runtime.pool!.callsRun).toBeGreaterThan(before); // the worker searched its share
        expect(parallel.size).toBe(N);
        expect(parallel.ids().sort()).toEqual(ids);
        for (const id of [10, 10 + 2 * 1500, 10 + 2 * (N - 1)]) {
          const row = (id - 10) / 2;
          expect(parallel.get(id)).toEqual(data.subarray(row * DIM, (row + 1) * DIM));
        }
        expect(unreachedSlots(parallel)).toEqual([]);
        expect(malformedLists(parallel, 2 * OPTIONS.M)).toEqual([]);
        const got = recallAt10(parallel);
        expect(got).toBeGreaterThan(0.9);
        expect(got).toBeGreaterThanOrEqual(want - 0.02);
        parallel.dispose();
      }
    },
  );

  test('pipelined on 3 threads with small lists (many prunes while others read): reachable, well formed, each row finds itself', async () => {
    const three = await Engine.create({ simd, threads: 3 });
    const small = { dim: 8, metric: 'l2' as const, M: 4, efConstruction: 32, seed: 3 };
    const rows = randomVectors(6000, 8, 31);
    const some = Uint32Array.from({ length: 6000 }, (_, i) => i);
    for (let round = 0; round < 2; round++) {
      const index = three.createIndex(small);
      await index.addBatchAsync(some, rows);
      expect(unreachedSlots(index)).toEqual([]);
      expect(malformedLists(index, 2 * small.M)).toEqual([]);
      const found = index.searchBatch(rows, 1, { ef: 64 });
      expect(found.ids.filter((id, i) => id !== i).length).toBeLessThanOrEqual(6); // exact matches, bar a few misses
      index.dispose();
    }
    three.dispose();
  });

  test('reproducible: the same graph on 2 and 3 threads', async () => {
    const two = engine.createIndex(OPTIONS);
    await two.addBatchAsync(ids, data, undefined, { reproducible: true });
    const three = await Engine.create({ simd, threads: 3 });
    const again = three.createIndex(OPTIONS);
    await again.addBatchAsync(ids, data, undefined, { reproducible: true });
    expect(sameBytes(again.serialize(), two.serialize())).toBe(true);
    three.dispose();
    two.dispose();
  });

  test('a bad option is InvalidArgumentError, nothing added', async () => {
    const index = engine.createIndex(OPTIONS);
    const rows = data.subarray(0, 300 * DIM);
    const some = ids.subarray(0, 300);
    await expect(index.addBatchAsync(some, rows, undefined, { reproducable: true } as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(index.addBatchAsync(some, rows, undefined, { reproducible: 1 } as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(index.addBatchAsync(some, rows, undefined, null as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(index.size).toBe(0);
    index.dispose();
  });

  test("where it runs serially (replaced ids, one thread) it is addBatch's graph byte for byte", async () => {
    const base = engine.createIndex(OPTIONS);
    const twin = engine.createIndex(OPTIONS);
    base.addBatch(ids.subarray(0, 500), data.subarray(0, 500 * DIM));
    twin.addBatch(ids.subarray(0, 500), data.subarray(0, 500 * DIM));
    // ids 400..899: 100 of them replace existing ones.
    const mixed = ids.subarray(400, 900);
    const rows = data.subarray(1000 * DIM, 1500 * DIM);
    await base.addBatchAsync(mixed, rows);
    twin.addBatch(mixed, rows);
    expect(sameBytes(base.serialize(), twin.serialize())).toBe(true);
    const one = await Engine.create({ simd });
    const a = one.createIndex(OPTIONS);
    const b = one.createIndex(OPTIONS);
    await a.addBatchAsync(ids, data);
    b.addBatch(ids, data);
    expect(sameBytes(a.serialize(), b.serialize())).toBe(true);
    one.dispose();
    base.dispose();
    twin.dispose();
  });

  test('async calls queue in call order: a search made after an add sees it', async () => {
    const index = engine.createIndex(OPTIONS);
    const add1 = index.addBatchAsync(ids.subarray(0, 1100), data.subarray(0, 1100 * DIM));
    const search1 = index.searchBatchAsync(queries, 5);
    const add2 = index.addBatchAsync(ids.subarray(1100), data.subarray(1100 * DIM));
    const search2 = index.searchBatchAsync(queries, 5);
    await add1;
    const first = await search1;
    await add2;
    const second = await search2;
    expect(first.ids.every((id) => id < 10 + 2 * 1100)).toBe(true);
    expect(second).toEqual(index.searchBatch(queries, 5));
    expect(index.size).toBe(N);
    index.dispose();
  });

  test('fills to E_BUDGET with the budget held; a refused batch changes nothing and the index answers', async () => {
    const small = await Engine.create({ simd, threads: 2, budgetBytes: 5 * 1024 * 1024 });
    const index = small.createIndex({ ...OPTIONS, dim: 32 });
    const first = randomVectors(2500, 32, 100);
    const before = small.runtime.pool!.callsRun;
    let added = 0;
    let refused: unknown = null;
    let snapshot = index.serialize();
    for (let b = 0; b < 40 && refused === null; b++) {
      try {
        await index.addBatchAsync(
          Uint32Array.from({ length: 2500 }, (_, i) => b * 2500 + i),
          b === 0 ? first : randomVectors(2500, 32, 100 + b),
        );
        added += 2500;
        snapshot = index.serialize();
      } catch (error) {
        refused = error;
      }
      expect(small.usedBytes).toBeLessThanOrEqual(small.budgetBytes);
    }
    expect(refused).toBeInstanceOf(BudgetExceededError);
    expect(small.runtime.pool!.callsRun).toBeGreaterThan(before); // the first batches ran on the threads
    expect(index.size).toBe(added);
    expect(sameBytes(index.serialize(), snapshot)).toBe(true);
    const q = first.subarray(0, 32 * 20);
    const found = await index.searchBatchAsync(q, 1, { ef: 200 });
    expect(found).toEqual(index.searchBatch(q, 1, { ef: 200 }));
    expect(Array.from(found.ids)).toEqual(Array.from({ length: 20 }, (_, i) => i)); // each row finds itself
    small.dispose();
  });

  test('a worker that dies during a build: EngineBrokenError', async () => {
    const doomed = await Engine.create({ simd, threads: 2 });
    const index = doomed.createIndex(OPTIONS);
    index.addBatch(ids.subarray(0, 1100), data.subarray(0, 1100 * DIM));
    const call = index.addBatchAsync(ids.subarray(1100), data.subarray(1100 * DIM));
    doomed.runtime.pool!.killWorker(0);
    await expect(call).rejects.toBeInstanceOf(EngineBrokenError);
    expect(() => index.size).toThrow(EngineBrokenError);
    doomed.dispose();
  });
});
