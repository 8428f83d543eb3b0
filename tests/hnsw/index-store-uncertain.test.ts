/**
 * A conditional manifest write answered `{ ok: false, uncertain: true }` (PostgresStore after a
 * lost COMMIT it could not settle) keeps its chunks: it may have landed, and later saves name them.
 */
import { Engine, MemoryStore } from '../../src/index';
import { HookedStore } from '../helpers/hooked-store';

const MANIFEST = '@index/docs/manifest';
let e: Engine;
beforeAll(async () => {
  e = await Engine.create();
});
afterAll(() => e.dispose());

const row = (id: number) => [Math.sin(id), Math.cos(id), Math.sin(id * 0.7), 1];

test('a manifest write that landed but is answered uncertain must not delete its chunks (later saves name them)', async () => {
  const inner = new MemoryStore();
  const seed = e.createIndex({ dim: 4, metric: 'l2', seed: 1 });
  for (let id = 0; id < 30; id++) seed.add(id, row(id));
  await seed.save(inner, 'docs');
  seed.dispose();
  const mine = new HookedStore(inner);
  const a = await e.openIndex(mine, 'docs');
  a.add(1001, row(1001));
  const acked: number[] = [];
  mine.hooks.writeIfVersion = async (key, _bytes, _expected, real) => {
    if (key !== MANIFEST) return real();
    mine.hooks.writeIfVersion = undefined;
    expect((await real()).ok).toBe(true); // the COMMIT landed, its answer was lost
    // Two other processes open (A's generation 2, then 3) and save log segments on top of it.
    for (const id of [2001, 3001]) {
      const s = new HookedStore(inner);
      const ix = await e.openIndex(s, 'docs');
      ix.add(id, row(id));
      await ix.save(s, 'docs');
      acked.push(id);
      ix.dispose();
    }
    // PostgresStore's settle: version neither its own, nor expected, nor a successor of either.
    return { ok: false, version: (await inner.readVersioned(MANIFEST)).version, uncertain: true };
  };
  await expect(a.save(mine, 'docs')).rejects.toThrow();
  expect(acked).toEqual([2001, 3001]);
  const ix = await e.openIndex(inner, 'docs'); // CorruptSnapshotError: chunk of generation 2 missing?
  expect(ix.has(2001) && ix.has(3001)).toBe(true);
  ix.dispose();
  a.dispose();
});
