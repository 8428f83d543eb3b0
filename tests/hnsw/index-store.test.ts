/**
 * Index stores, round trips: an index saved to a MemoryStore or a FileStore (checkpoint, then a
 * log segment) and opened again has the same ids and vectors (against a plain-JS model), answers
 * SIFT queries exactly as the original, keeps its efSearch, and grows the same graph from the
 * same later adds (serialize() bytes equal); both builds. Also: names of any shape round-trip
 * through FileStore, indexes and an agent cache share one store, conflicting saves are E_STORE,
 * concurrent saves of one index run one at a time.
 */
import { join } from 'node:path';
import { Engine, FileStore, MemoryStore, StoreError, type ByteStore, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { readFvecs } from '../helpers/data';
import { QTABLE, agentState, work } from '../helpers/agents';
import { rng } from '../helpers/random';
import {
  CountingStore,
  cleanTempDirs,
  digest,
  expectModel,
  expectSameAnswers,
  randomOps,
  tempDir,
  type Model,
} from '../helpers/index-store';

afterAll(cleanTempDirs);

const DIM = 128;
const base = readFvecs('sift128_base.fvecs');
const queries = readFvecs('sift128_query.fvecs').data.subarray(0, 100 * DIM);
const rows = (from: number, to: number) => base.data.subarray(from * DIM, to * DIM);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const STORES: Array<[string, () => ByteStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['FileStore', () => new FileStore(join(tempDir(), 'memory'))],
];

/** 2,000 SIFT vectors, some removed and replaced, efSearch 80; its plain-JS model. */
function build(e: Engine): { index: VectorIndex; model: Model } {
  const index = e.createIndex({ dim: DIM, metric: 'l2', seed: 11, efConstruction: 100 });
  const model: Model = new Map();
  index.addBatch(range(0, 2000), rows(0, 2000));
  for (let i = 0; i < 2000; i++) model.set(i, rows(i, i + 1).slice());
  for (let i = 0; i < 2000; i += 37) expect(index.remove(i)).toBe(model.delete(i));
  for (let i = 5; i < 2000; i += 53) {
    index.add(i, rows(4000 + i, 4001 + i));
    model.set(i, rows(4000 + i, 4001 + i).slice());
  }
  index.efSearch = 80;
  return { index, model };
}

describe.each(BUILDS)('simd %s', (simd) => {
  test.each(STORES)('%s: open == saved (ids, vectors, answers, efSearch, later growth)', async (_kind, make) => {
    const e = await engine(simd);
    const { index, model } = build(e);
    const store = make();
    const first = await index.save(store, 'docs', { chunkBytes: 256 * 1024 });
    expect(first).toMatchObject({ generation: 1, kind: 'checkpoint' });
    // More changes, then a second save: a log segment on top of the checkpoint.
    index.addBatch(range(2000, 2100), rows(2000, 2100));
    for (let i = 2000; i < 2100; i++) model.set(i, rows(i, i + 1).slice());
    for (let i = 1; i < 2100; i += 101) expect(index.remove(i)).toBe(model.delete(i));
    index.efSearch = 90;
    expect(await index.save(store, 'docs', { chunkBytes: 256 * 1024 })).toMatchObject({ generation: 2, kind: 'log' });

    const again = await e.openIndex(store, 'docs');
    expectModel(again, model, 2100);
    expect(again.efSearch).toBe(90);
    expect(digest(again)).toBe(digest(index));
    expectSameAnswers(index, again, queries, 10);
    // Same later growth: the same adds give the same graph, byte for byte.
    for (const ix of [index, again]) {
      ix.addBatch(range(2100, 2400), rows(2100, 2400));
      ix.remove(2200);
      ix.add(7, rows(9000, 9001));
    }
    expect(digest(again)).toBe(digest(index));
    expectSameAnswers(index, again, queries, 10);
    // The reopened index saves incrementally too, and a third open sees it.
    expect(await again.save(store, 'docs')).toMatchObject({ generation: 3, kind: 'log' });
    const third = await e.openIndex(store, 'docs');
    expect(digest(third)).toBe(digest(index));
    e.dispose();
  });

  test('saves through several FileStore objects of one directory continue each other; a fresh engine opens the result', async () => {
    const dir = join(tempDir(), 'common');
    const e1 = await engine(simd);
    const { index, model } = build(e1);
    await index.save(new FileStore(dir), 'docs');
    randomOps(index, model, 5, 60, 2500);
    // Another store object over the same directory is the same save target: the log continues.
    const other = new FileStore(dir);
    expect(await index.save(other, 'docs')).toMatchObject({ generation: 2, kind: 'log' });
    randomOps(index, model, 6, 60, 2500);
    expect(await index.save(other, 'docs')).toMatchObject({ generation: 3, kind: 'log' });
    const e2 = await engine(simd);
    const again = await e2.openIndex(new FileStore(dir), 'docs');
    expectModel(again, model, 2500);
    expect(digest(again)).toBe(digest(index));
    e1.dispose();
    e2.dispose();
  });
});

test("names of any shape round-trip through FileStore and never see each other's keys", async () => {
  const e = await Engine.create();
  const store = new FileStore(join(tempDir(), 'names'));
  const names = ['a', 'a/b', 'a%2Fb', 'x:y', '100%', 'ünï cödé', '..', '@index/a', 'manifest', 'n'.repeat(40)];
  const indexes = names.map((_, i) => {
    const ix = e.createIndex({ dim: 4, metric: 'l2', seed: i });
    ix.addBatch(
      range(0, 20 + i),
      Float32Array.from({ length: (20 + i) * 4 }, (_, j) => Math.sin(j + i)),
    );
    return ix;
  });
  for (const [i, name] of names.entries()) await indexes[i].save(store, name);
  // A second round: every name now holds a log on its checkpoint, and each save's cleanup
  // removed only its own name's leftovers.
  for (const [i, name] of names.entries()) {
    indexes[i].remove(3);
    await indexes[i].save(store, name);
  }
  for (const [i, name] of names.entries()) expect(digest(await e.openIndex(store, name))).toBe(digest(indexes[i]));
  expect((await store.keys()).every((k) => k.startsWith('@index/'))).toBe(true);
  e.dispose();
});

test('indexes and an agent cache share one store: no key of one is touched by the others', async () => {
  const e = await Engine.create();
  const store = new FileStore(join(tempDir(), 'common'));
  const cache = e.createAgentCache({ store, maxAgents: 2, qtable: QTABLE, trajectoryCapacity: 10 });
  const next = rng(3);
  const states = new Map<string, string>();
  const a = e.createIndex({ dim: 8, metric: 'l2' });
  const b = e.createIndex({ dim: 8, metric: 'cosine' });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5; i++) {
      const id = `agent-${i}`;
      await cache.use(id, (ag) => work(ag, next));
      states.set(id, await cache.use(id, agentState));
    }
    a.addBatch(
      range(round * 50, round * 50 + 50),
      Float32Array.from({ length: 400 }, () => next() - 0.5),
    );
    b.addBatch(
      range(round * 30, round * 30 + 30),
      Float32Array.from({ length: 240 }, () => next() - 0.5),
    );
    await a.save(store, 'a');
    await b.save(store, 'b');
  }
  await cache.close();
  const cache2 = e.createAgentCache({ store, maxAgents: 2, qtable: QTABLE, trajectoryCapacity: 10 });
  for (const [id, state] of states) expect(await cache2.use(id, agentState)).toBe(state);
  expect(digest(await e.openIndex(store, 'a'))).toBe(digest(a));
  expect(digest(await e.openIndex(store, 'b'))).toBe(digest(b));
  e.dispose();
});

test('two indexes opened from one name, both saved: the second save is E_STORE naming the conflict', async () => {
  const e = await Engine.create();
  const store = new MemoryStore();
  const original = e.createIndex({ dim: 4, metric: 'l2' });
  original.addBatch(
    range(0, 50),
    Float32Array.from({ length: 200 }, (_, i) => Math.cos(i)),
  );
  await original.save(store, 'docs');
  const x = await e.openIndex(store, 'docs');
  const y = await e.openIndex(store, 'docs');
  x.add(100, [1, 2, 3, 4]);
  y.add(200, [4, 3, 2, 1]);
  await x.save(store, 'docs');
  const conflict = await y.save(store, 'docs').catch((error: unknown) => error);
  expect(conflict).toBeInstanceOf(StoreError);
  expect((conflict as StoreError).code).toBe('E_STORE');
  expect((conflict as Error).message).toMatch(
    /index 'docs': conflicting saves: the store holds generation 2.*generation 1/,
  );
  // The original saved at generation 1 too: also refused. The store still holds x's state.
  await expect(original.save(store, 'docs')).rejects.toMatchObject({ code: 'E_STORE' });
  expect(digest(await e.openIndex(store, 'docs'))).toBe(digest(x));
  // A new index under a taken name is refused, unless it overwrites; then x is the stale one.
  const fresh = e.createIndex({ dim: 4, metric: 'l2' });
  fresh.add(1, [1, 1, 1, 1]);
  await expect(fresh.save(store, 'docs')).rejects.toThrow(/already holds an index under this name/);
  expect(await fresh.save(store, 'docs', { overwrite: true })).toMatchObject({ generation: 3, kind: 'checkpoint' });
  x.add(101, [1, 0, 0, 0]);
  await expect(x.save(store, 'docs')).rejects.toMatchObject({ code: 'E_STORE' });
  expect(digest(await e.openIndex(store, 'docs'))).toBe(digest(fresh));
  // y may overwrite deliberately, and from then on saves incrementally.
  await y.save(store, 'docs', { overwrite: true });
  y.remove(200);
  expect(await y.save(store, 'docs')).toMatchObject({ generation: 5, kind: 'log' });
  expect(digest(await e.openIndex(store, 'docs'))).toBe(digest(y));
  // Removed from under it: refused, and overwrite writes it anew.
  for (const key of await store.keys()) await store.delete(key);
  y.add(300, [0, 1, 0, 0]);
  await expect(y.save(store, 'docs')).rejects.toThrow(/no longer holds/);
  expect(await y.save(store, 'docs', { overwrite: true })).toMatchObject({ generation: 1, kind: 'checkpoint' });
  e.dispose();
});

test('concurrent saves of one index run one at a time, in call order, and the last state is what opens', async () => {
  const e = await Engine.create();
  let inFlight = 0;
  let most = 0;
  const inner = new MemoryStore();
  const store: ByteStore = {
    read: (k) => inner.read(k),
    keys: () => inner.keys(),
    delete: (k) => inner.delete(k),
    async write(k, bytes) {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      await inner.write(k, bytes);
      inFlight--;
    },
  };
  const counted = new CountingStore(store);
  const index = e.createIndex({ dim: 8, metric: 'l2' });
  const model: Model = new Map();
  const saves: Promise<{ generation: number; kind: string }>[] = [];
  index.addBatch(
    range(0, 300),
    Float32Array.from({ length: 2400 }, (_, i) => Math.sin(i)),
  );
  for (let i = 0; i < 300; i++) model.set(i, index.get(i)!);
  for (let round = 0; round < 6; round++) {
    randomOps(index, model, 100 + round, 20, 300);
    saves.push(index.save(counted, 'docs', { chunkBytes: 1024 }));
  }
  const results = await Promise.all(saves);
  expect(most).toBe(1);
  // The first save took the state at its call; the second, queued, the state after every
  // change (all made before any save finished); the rest had nothing left to write.
  expect(results.map((r) => r.kind)).toEqual(['checkpoint', 'log', 'none', 'none', 'none', 'none']);
  expect(results.map((r) => r.generation)).toEqual([1, 2, 2, 2, 2, 2]);
  const again = await e.openIndex(counted, 'docs');
  expectModel(again, model, 300);
  expect(digest(again)).toBe(digest(index));
  e.dispose();
});
