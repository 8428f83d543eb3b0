/**
 * index.ids() lists exactly the live ids (against a JS model of random adds, replaces and
 * removes, across more slots than one engine call reads); index.clear() drops every id, gives
 * the node memory back, and leaves an index that behaves byte for byte as a new one with the
 * same parameters; a store it was saved to gets a checkpoint, not a log of the old state.
 */
import { MemoryStore } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { rng, randomVectors } from '../helpers/random';

const sorted = (ids: Iterable<number>) => Uint32Array.from(ids).sort();

describe.each(BUILDS)('ids and clear (simd %s)', (simd) => {
  test('ids() lists the live ids after random adds, replaces and removes', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 2, metric: 'l2', efConstruction: 16 });
    const next = rng(3);
    const live = new Set<number>();
    expect(index.ids()).toEqual(new Uint32Array(0));
    for (let step = 0; step < 3000; step++) {
      const id = Math.floor(next() * 800);
      if (next() < 0.3) {
        expect(index.remove(id)).toBe(live.delete(id));
      } else {
        index.add(id, [next(), next()]);
        live.add(id);
      }
    }
    const ids = index.ids();
    expect(ids.length).toBe(index.size);
    expect(sorted(ids)).toEqual(sorted(live));
    e.dispose();
  });

  test('ids() reads every chunk of a large index', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 2, metric: 'l2', efConstruction: 8 });
    const n = 40_000;
    index.addBatch(
      Uint32Array.from({ length: n }, (_, i) => i * 7 + 1),
      randomVectors(n, 2, 5),
    );
    const live = new Set(Array.from({ length: n }, (_, i) => i * 7 + 1));
    for (let i = 0; i < n; i += 3) {
      index.remove(i * 7 + 1);
      live.delete(i * 7 + 1);
    }
    expect(sorted(index.ids())).toEqual(sorted(live));
    e.dispose();
  });

  test('clear() gives the node memory back and leaves an index like a new one', async () => {
    const e = await engine(simd);
    const params = { dim: 16, metric: 'cosine' as const, M: 8, efConstruction: 40, seed: 9 };
    const index = e.createIndex(params);
    const empty = e.usedBytes;
    const data = randomVectors(3000, 16, 7);
    const ids = Uint32Array.from({ length: 3000 }, (_, i) => i + 100);
    index.addBatch(ids, data);
    index.remove(150);
    const full = e.usedBytes;
    index.clear();
    expect(index.size).toBe(0);
    expect(index.ids()).toEqual(new Uint32Array(0));
    expect(index.has(101)).toBe(false);
    expect(index.search(data.subarray(0, 16), 5).ids.length).toBe(0);
    const cleared = e.usedBytes;
    // What is left over the empty index is scratch (search heaps, staging), not nodes.
    expect(cleared - empty).toBeLessThan((full - empty) / 20);
    // Filled and cleared again and again: the same bytes in use (a steady state).
    const cycle = () => {
      index.addBatch(ids, data);
      index.search(data.subarray(0, 16), 5);
      index.clear();
      return e.usedBytes;
    };
    const second = cycle();
    expect(cycle()).toBe(second);
    // The same adds give the same index as a new one with the same parameters, byte for byte.
    index.addBatch(ids.subarray(0, 500), data.subarray(0, 500 * 16));
    const fresh = e.createIndex(params);
    fresh.addBatch(ids.subarray(0, 500), data.subarray(0, 500 * 16));
    expect(Buffer.from(index.serialize()).equals(Buffer.from(fresh.serialize()))).toBe(true);
    e.dispose();
  });

  test('a save after clear() writes a checkpoint: the store opens to the cleared index', async () => {
    const e = await engine(simd);
    const store = new MemoryStore();
    const index = e.createIndex({ dim: 4, metric: 'l2' });
    index.addBatch(Uint32Array.from([1, 2, 3, 4]), randomVectors(4, 4, 1));
    await index.save(store, 'x');
    index.clear();
    index.add(9, [1, 2, 3, 4]);
    const result = await index.save(store, 'x');
    expect(result.kind).toBe('checkpoint');
    const opened = await e.openIndex(store, 'x');
    expect(Array.from(opened.ids())).toEqual([9]);
    expect(Array.from(opened.get(9)!)).toEqual([1, 2, 3, 4]);
    e.dispose();
  });
});
