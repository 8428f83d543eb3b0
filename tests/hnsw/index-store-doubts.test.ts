/**
 * Index saves in doubt on a versioned store (a conditional manifest write that rejected, its write
 * landing late): the doubt is kept past a next save that fails before its manifest write, and
 * several doubts in a row are kept, so whichever lands the next save carries on from it.
 */
import { Engine, MemoryStore } from '../../src/index';
import { HookedStore } from '../helpers/hooked-store';

const DIM = 4;
let e: Engine;
beforeAll(async () => {
  e = await Engine.create();
});
afterAll(() => e.dispose());

const row = (id: number) => [Math.sin(id), Math.cos(id), Math.sin(id * 0.7), 1];

async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const ix = e.createIndex({ dim: DIM, metric: 'l2', seed: 1 });
  for (let id = 0; id < 30; id++) ix.add(id, row(id));
  await ix.save(store, 'docs');
  ix.dispose();
  return store;
}

test('doubt survives a next save that fails before its manifest write (chunk write fails), then the late write lands', async () => {
  const inner = await seeded();
  const store = new HookedStore(inner);
  const a = await e.openIndex(store, 'docs');
  a.add(1001, row(1001));
  const land = store.rejectNextWrite();
  await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
  // Next save: its chunk write fails (store still holds gen 1, so the doubt is cleared at its first check).
  a.add(1002, row(1002));
  store.hooks.write = async (key, _bytes, real) => {
    store.hooks.write = undefined;
    void key;
    void real;
    throw new Error('chunk write failed');
  };
  await expect(a.save(store, 'docs')).rejects.toThrow(/chunk write failed/);
  expect((await land())?.ok).toBe(true); // the first save's manifest lands now: gen 2 holds 1001
  a.add(1003, row(1003));
  // The promise: the next save finds out which manifest the store holds and carries on.
  await a.save(store, 'docs');
  const ix = await e.openIndex(inner, 'docs');
  expect([1001, 1002, 1003].every((id) => ix.has(id))).toBe(true);
  ix.dispose();
  a.dispose();
});

test('two saves in doubt in a row: the first one lands late', async () => {
  const inner = await seeded();
  const store = new HookedStore(inner);
  const a = await e.openIndex(store, 'docs');
  a.add(2001, row(2001));
  const land1 = store.rejectNextWrite();
  await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
  a.add(2002, row(2002));
  store.rejectNextWrite(); // never lands (the first one does)
  await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
  expect((await land1())?.ok).toBe(true);
  a.add(2003, row(2003));
  await a.save(store, 'docs');
  const ix = await e.openIndex(inner, 'docs');
  expect([2001, 2002, 2003].every((id) => ix.has(id))).toBe(true);
  ix.dispose();
  a.dispose();
});
