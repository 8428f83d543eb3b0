/**
 * An overwrite where the manifest is not valid writes above the generations of the chunks left
 * under the name, so the next clean save removes every key its manifest does not name.
 */
import { Engine, MemoryStore } from '../../src/index';

let e: Engine;
beforeAll(async () => {
  e = await Engine.create();
});
afterAll(() => e.dispose());
const row = (id: number) => [Math.sin(id), Math.cos(id), Math.sin(id * 0.7), 1];
const MANIFEST = '@index/docs/manifest';

test('a clean overwrite save removes every key its manifest does not name', async () => {
  const store = new MemoryStore();
  const ix = e.createIndex({ dim: 4, metric: 'l2', seed: 1 });
  for (let g = 0; g < 5; g++) {
    ix.add(g, row(g));
    await ix.save(store, 'docs', { logShare: 0 });
  }
  await store.write(MANIFEST, new Uint8Array([1, 2, 3])); // the manifest gets damaged
  const fresh = e.createIndex({ dim: 4, metric: 'l2', seed: 2 });
  fresh.add(7, row(7));
  // Written anew above the chunks left there (generation 5), so the next clean save removes them.
  expect(await fresh.save(store, 'docs', { overwrite: true })).toMatchObject({ generation: 6 });
  fresh.add(8, row(8));
  await fresh.save(store, 'docs'); // and another clean save
  const keys = (await store.keys()).filter((k) => k.startsWith('@index/docs/')).sort();
  expect(keys.filter((k) => k.startsWith('@index/docs/5-'))).toEqual([]);
  ix.dispose();
  fresh.dispose();
});
