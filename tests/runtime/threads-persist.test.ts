/**
 * Issue 24's "snapshots and the index store work on a threaded engine exactly as on a
 * single-thread one", both builds: an index built by addBatchAsync on a 2-thread engine
 * serializes and saves to a store; a 1-thread engine and another 2-thread engine load and open
 * it byte for byte, and answer alike (searchBatch on one thread, searchBatchAsync on two). The
 * other way round too: an index of a 1-thread engine, loaded on a 2-thread one. An index opened
 * from a store on a 2-thread engine keeps taking addBatchAsync (on the calling thread: an index
 * saved to a store builds serially, docs/threads.md) and later saves, which reopen as written.
 */
import { Engine, MemoryStore, type VectorIndex } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { sameBytes } from '../helpers/snapshot';

const DIM = 16;
const N = 2400;
const Q = 150;
const OPTIONS = { dim: DIM, metric: 'cosine' as const, M: 8, efConstruction: 48, seed: 9 };
const ids = Array.from({ length: N }, (_, i) => 7 + 3 * i);
const data = randomVectors(N, DIM, 41);
const queries = randomVectors(Q, DIM, 42);

/** Both engines' answers to the queries equal: `a` through searchBatch, `b` through searchBatchAsync when it has threads. */
async function sameAnswers(a: VectorIndex, b: VectorIndex, twoThreads: boolean): Promise<void> {
  const want = a.searchBatch(queries, 10, { ef: 40 });
  const got = twoThreads ? await b.searchBatchAsync(queries, 10, { ef: 40 }) : b.searchBatch(queries, 10, { ef: 40 });
  expect(got.ids).toEqual(want.ids);
  expect(got.distances).toEqual(want.distances);
}

describe.each(BUILDS)('snapshots and stores on a threaded engine, simd %s', (simd) => {
  let one: Engine;
  let two: Engine;
  let other: Engine;
  beforeAll(async () => {
    one = await Engine.create({ simd, threads: 1, budgetBytes: 64 * 1024 * 1024 });
    two = await Engine.create({ simd, threads: 2, budgetBytes: 64 * 1024 * 1024 });
    other = await Engine.create({ simd, threads: 2, budgetBytes: 64 * 1024 * 1024 });
    expect(two.threads).toBe(2);
    expect(other.threads).toBe(2);
  });
  afterAll(() => {
    one.dispose();
    two.dispose();
    other.dispose();
  });

  test('built on the threads: serialize loads byte for byte on one thread and on two, with the same answers', async () => {
    const built = two.createIndex(OPTIONS);
    const calls = two.runtime.pool!.callsRun;
    await built.addBatchAsync(ids, data);
    expect(two.runtime.pool!.callsRun).toBeGreaterThan(calls); // the workers built it
    const bytes = built.serialize();
    const onOne = one.loadIndex(bytes);
    const onTwo = other.loadIndex(bytes);
    expect(sameBytes(onOne.serialize(), bytes)).toBe(true);
    expect(sameBytes(onTwo.serialize(), bytes)).toBe(true);
    await sameAnswers(built, onOne, false);
    await sameAnswers(onOne, onTwo, true);
    await sameAnswers(onOne, built, true);
    for (const ix of [built, onOne, onTwo]) ix.dispose();
  });

  test('built on one thread: loaded on two, searchBatchAsync answers as the original', async () => {
    const built = one.createIndex(OPTIONS);
    built.addBatch(ids, data);
    const loaded = two.loadIndex(built.serialize());
    expect(sameBytes(loaded.serialize(), built.serialize())).toBe(true);
    await sameAnswers(built, loaded, true);
    built.dispose();
    loaded.dispose();
  });

  test('saved from the threads, opened on one thread and on two; added to and saved again, reopened as written', async () => {
    const store = new MemoryStore();
    const built = two.createIndex(OPTIONS);
    const half = N / 2;
    await built.addBatchAsync(ids.slice(0, half), data.subarray(0, half * DIM));
    await built.save(store, 'idx');
    const first = built.serialize();
    const onOne = await one.openIndex(store, 'idx');
    const onTwo = await other.openIndex(store, 'idx');
    expect(sameBytes(onOne.serialize(), first)).toBe(true);
    expect(sameBytes(onTwo.serialize(), first)).toBe(true);
    await sameAnswers(onOne, onTwo, true);
    onOne.dispose();

    // The opened index on the 2-thread engine takes the rest and saves again (a later save
    // writes what changed); both engines reopen what it holds.
    await onTwo.addBatchAsync(ids.slice(half), data.subarray(half * DIM));
    onTwo.remove(ids[3]);
    await onTwo.save(store, 'idx');
    const second = onTwo.serialize();
    expect(onTwo.size).toBe(N - 1);
    const again = await one.openIndex(store, 'idx');
    const againTwo = await two.openIndex(store, 'idx');
    expect(sameBytes(again.serialize(), second)).toBe(true);
    expect(sameBytes(againTwo.serialize(), second)).toBe(true);
    expect(again.has(ids[3])).toBe(false);
    expect(again.get(ids[N - 1])).toBeInstanceOf(Float32Array);
    expect(again.get(ids[N - 1])).toEqual(onTwo.get(ids[N - 1])); // stored normalized (cosine)
    await sameAnswers(again, againTwo, true);
    await sameAnswers(again, onTwo, true);
    for (const ix of [built, onTwo, again, againTwo]) ix.dispose();
  });
});
