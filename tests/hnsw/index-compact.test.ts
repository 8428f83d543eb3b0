/**
 * index.compact() (assembly/hnsw/compact.ts): removed nodes are dropped for good, their live
 * neighbours relinked, the live nodes renumbered breadth-first from the entry, the freed slots
 * given back. Checked: the same ids and the same stored vectors; every live id reachable on the
 * graph itself (a plain-JS walk of the snapshot) and through search; recall against exact
 * ground truth on SIFT; memory back to what an index built from the live vectors alone takes;
 * a compact that does not fit changes nothing; a compacted index grows, saves, loads and
 * reopens from a store. Both builds.
 */
import { BudgetExceededError, MemoryStore, type Engine, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { churn, expectAllReachable, unreachedSlots } from '../helpers/graph-walk';
import { digest } from '../helpers/index-store';
import { bruteForce, recall } from '../helpers/reference';
import { randomVectors, rng } from '../helpers/random';
import { readFvecs } from '../helpers/data';
import { fingerprint } from '../helpers/snapshot';
import { fillToBudget } from '../helpers/budget';

const base = readFvecs('sift128_base.fvecs');
const queries = readFvecs('sift128_query.fvecs');
const DIM = base.dim;
const range = (from: number, n: number) => Uint32Array.from({ length: n }, (_, i) => from + i);
const row = (i: number) => base.data.subarray(i * DIM, (i + 1) * DIM);

/** Mean recall@10 of `index` at `ef` over the first `nq` SIFT queries, against exact l2 search over `live` base rows. */
function siftRecall(index: VectorIndex, live: number[], ef: number, nq = 50): number {
  let sum = 0;
  for (let q = 0; q < nq; q++) {
    const query = queries.data.subarray(q * DIM, (q + 1) * DIM);
    const truth = bruteForce('l2', base.data, live, (id) => id, DIM, query, 10).map((t) => t.id);
    sum += recall(index.search(query, 10, { ef }).ids, truth);
  }
  return sum / nq;
}

/** Every live id's stored vector, by id. */
function vectorsOf(index: VectorIndex): Map<number, number[]> {
  return new Map(Array.from(index.ids(), (id) => [id, Array.from(index.get(id)!)]));
}

describe.each(BUILDS)('index.compact() (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test.each([
    ['2-d, 5,000 adds and 40% removes over 300 ids', 2, 5000, 300, 0.4, [1, 2, 3]],
    ['8-d, 3,000 adds and 30% removes over 750 ids', 8, 3000, 750, 0.3, [1, 2]],
    ['16-d, 4,000 adds and 60% removes over 2,000 ids', 16, 4000, 2000, 0.6, [1, 2]],
  ])(
    '%s: the same ids and vectors, no removed slot left, every live id reachable',
    (_name, dim, ops, idSpace, share, seeds) => {
      for (const seed of seeds as number[]) {
        const index = e.createIndex({ dim: dim as number, metric: 'l2', seed });
        const live = churn(index, seed * 31, ops as number, idSpace as number, share as number);
        const vectors = vectorsOf(index);
        const slots = index.capacity;
        index.compact();
        expect(vectorsOf(index)).toEqual(vectors);
        expect(index.size).toBe(live.size);
        expect(index.capacity).toBeLessThanOrEqual(slots);
        expect(unreachedSlots(index)).toEqual([]);
        expectAllReachable(index, live);
        // And it keeps working: more churn, a second compaction.
        churn(index, seed * 37, 500, idSpace as number, share as number, live);
        expectAllReachable(index, live);
        index.compact();
        expectAllReachable(index, live);
        index.dispose();
      }
    },
  );

  test.each(['f16', 'i8'] as const)(
    'quantization %s: the same ids and decoded vectors, every live id reachable, snapshots equal',
    (quantization) => {
      const index = e.createIndex({ dim: 12, metric: 'l2', quantization, seed: 3 });
      const live = churn(index, 71, 3000, 900, 0.4);
      const vectors = vectorsOf(index);
      index.compact();
      expect(index.quantization).toBe(quantization);
      expect(vectorsOf(index)).toEqual(vectors);
      expectAllReachable(index, live);
      expect(digest(e.loadIndex(index.serialize()))).toBe(digest(index));
      churn(index, 72, 300, 900, 0.4, live);
      expectAllReachable(index, live);
      index.dispose();
    },
  );

  test('98% of 5,000 SIFT vectors removed: the memory comes back to what the 100 left need, and answers stay exact', async () => {
    /** Bytes an index of `ids` takes in an engine of its own (after a search, so its scratch exists), and the index. */
    const build = async (ids: number[], removed: number[]) => {
      const own = await engine(simd);
      const empty = own.usedBytes;
      const index = own.createIndex({ dim: DIM, metric: 'l2' });
      const all = [...ids, ...removed].sort((x, y) => x - y);
      index.addBatch(Uint32Array.from(all), Float32Array.from(all.flatMap((id) => Array.from(row(id)))));
      index.search(row(0), 10);
      for (const id of removed) index.remove(id);
      return { own, index, bytes: () => own.usedBytes - empty };
    };
    const live = Array.from({ length: 100 }, (_, i) => i * 50);
    const removed = Array.from(range(0, 5000)).filter((id) => id % 50 !== 0);
    const churned = await build(live, removed);
    const alone = await build(live, []);
    const before = churned.bytes();
    churned.index.compact();
    const after = churned.bytes();
    process.stdout.write(
      `compact: 98% of 5,000 removed: ${before} -> ${after} bytes; the 100 alone ${alone.bytes()}\n`,
    );
    expect(after).toBeLessThanOrEqual(alone.bytes() * 1.1);
    expect(churned.index.capacity).toBeLessThan(200);
    const query = queries.data.subarray(0, DIM);
    const truth = bruteForce('l2', base.data, live, (id) => id, DIM, query, 10).map((t) => t.id);
    expect(Array.from(churned.index.search(query, 10, { ef: 100 }).ids)).toEqual(truth);
    expect(churned.index.search(query, 100, { ef: 100 }).ids.length).toBe(100);
    churned.own.dispose();
    alone.own.dispose();
  });

  test('half of 10,000 SIFT vectors removed: recall@10 after compaction is that of the live vectors built anew (ef 10), at least 0.95 (ef 64)', () => {
    const index = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 100 });
    index.addBatch(range(0, 10000), base.data);
    const next = rng(5);
    const live: number[] = [];
    for (let id = 0; id < 10000; id++) {
      if (next() < 0.5) index.remove(id);
      else live.push(id);
    }
    const anew = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 100 });
    anew.addBatch(Uint32Array.from(live), Float32Array.from(live.flatMap((id) => Array.from(row(id)))));
    const vectors = vectorsOf(index);
    index.compact();
    const [fresh, after] = [anew, index].map((x) => [siftRecall(x, live, 10), siftRecall(x, live, 64)]);
    process.stdout.write(
      `compact: recall@10 at ef 10 / 64, half removed then compacted ${after.map((r) => r.toFixed(3))}, built anew ${fresh.map((r) => r.toFixed(3))}\n`,
    );
    expect(after[0]).toBeGreaterThanOrEqual(fresh[0] - 0.02);
    expect(after[1]).toBeGreaterThanOrEqual(0.95);
    expect(vectorsOf(index)).toEqual(vectors);
    expect(unreachedSlots(index)).toEqual([]);
    index.dispose();
    anew.dispose();
  });

  test('nothing removed: only the order changes (same ids, vectors and recall)', () => {
    const index = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 100 });
    index.addBatch(range(0, 3000), base.data.subarray(0, 3000 * DIM));
    const live = Array.from(range(0, 3000));
    const before = siftRecall(index, live, 32);
    const vectors = vectorsOf(index);
    index.compact();
    expect(vectorsOf(index)).toEqual(vectors);
    expect(siftRecall(index, live, 32)).toBeGreaterThanOrEqual(before - 0.01);
    expect(unreachedSlots(index)).toEqual([]);
    index.dispose();
  });

  test('every id removed: compact leaves an empty index that works like a new one', () => {
    const index = e.createIndex({ dim: 4, metric: 'cosine' });
    index.addBatch(range(0, 500), randomVectors(500, 4, 9));
    index.clear();
    const cleared = e.usedBytes;
    index.addBatch(range(0, 500), randomVectors(500, 4, 9));
    for (let id = 0; id < 500; id++) index.remove(id);
    index.compact();
    expect(index.size).toBe(0);
    expect(index.has(3)).toBe(false);
    expect(e.usedBytes).toBe(cleared);
    index.add(3, [1, 0, 0, 0]);
    expect(Array.from(index.search([1, 0, 0, 0], 1).ids)).toEqual([3]);
    index.dispose();
  });

  test('removed ids are forgotten: adding one again is a new add', () => {
    const index = e.createIndex({ dim: 8, metric: 'l2' });
    index.addBatch(range(0, 300), randomVectors(300, 8, 4));
    index.remove(7);
    index.compact();
    expect(index.has(7)).toBe(false);
    expect(index.get(7)).toBeUndefined();
    index.add(7, randomVectors(1, 8, 5));
    expect(index.size).toBe(300);
    expect(Array.from(index.search(index.get(7)!, 1).ids)).toEqual([7]);
    index.dispose();
  });

  test('a compact that does not fit the budget throws E_BUDGET and changes nothing, memory included', async () => {
    const small = await engine(simd, { budgetBytes: 8 << 20 });
    const index = small.createIndex({ dim: 16, metric: 'l2' });
    fillToBudget(small, index);
    for (let id = 0; id < index.size; id += 3) index.remove(id);
    const probe = () =>
      JSON.stringify([
        small.usedBytes,
        small.reservedBytes,
        index.capacity,
        digest(index),
        fingerprint(index, [0, 1, 2, 999999], [randomVectors(1, 16, 77)]),
      ]);
    const before = probe();
    expectElexError(() => index.compact(), BudgetExceededError, 'E_BUDGET');
    expect(probe()).toBe(before);
    small.dispose();
  });

  test('a compacted index serializes, loads, grows, and saves to a store as a checkpoint that reopens equal', async () => {
    const index = e.createIndex({ dim: 16, metric: 'cosine', seed: 4 });
    const store = new MemoryStore();
    const live = churn(index, 12, 3000, 1500, 0.3);
    await index.save(store, 'c');
    index.compact();
    expect(digest(e.loadIndex(index.serialize()))).toBe(digest(index));
    const saved = await index.save(store, 'c');
    expect(saved.kind).toBe('checkpoint');
    expect(digest(await e.openIndex(store, 'c'))).toBe(digest(index));
    churn(index, 13, 100, 3000, 0.2, live);
    const logged = await index.save(store, 'c', { logShare: 0.5 });
    expect(logged.kind).toBe('log');
    const reopened = await e.openIndex(store, 'c');
    expect(digest(reopened)).toBe(digest(index));
    expect(new Set(reopened.ids())).toEqual(live);
    index.dispose();
  });
});
