/**
 * LangGraph stores, format compatibility: tests/fixtures/langgraph-store-v1/ is a FileStore
 * directory holding the ElexStore 'golden' as the first release of the format flushed it three
 * times (a full EXLM items record and two deltas, beside the index's checkpoint and log
 * segments; 40 filler items make the full record big enough for deltas), and expected.json what it must open to: every item in order (values, timestamps),
 * the namespaces, the provenance, and query answers (keys, scores). Every later version must
 * open it to exactly that, and keep writing to it. ELEX_WRITE_GOLDEN=langgraph-store-v1
 * rewrites the directory (never do that for a released version: write a new one).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore } from '../../src/index';
import { ElexStore, ITEMS_KEY_PREFIX } from '../../src/langgraph/index';
import { BUILDS, engine } from '../helpers/engines';
import { cleanTempDirs, tempDir } from '../helpers/index-store';
import { HashEmbeddings } from '../helpers/langgraph';

const DIR = join(__dirname, '..', 'fixtures', 'langgraph-store-v1');
const NAME = 'golden';
const QUERIES = ['green tea', 'rome trip', 'code review'];
const T0 = 1_700_000_000_000;

const index = () => ({ dims: 8, embeddings: new HashEmbeddings(8, 'golden-hash'), fields: ['text'] });

/** What a store shows: its items in order, namespaces, provenance, query answers. */
async function view(store: ElexStore) {
  const items = (await store.search([], { limit: 1000 })).map((i) => ({
    namespace: i.namespace,
    key: i.key,
    value: i.value,
    createdAt: i.createdAt.getTime(),
    updatedAt: i.updatedAt.getTime(),
  }));
  const answers = [];
  for (const query of QUERIES)
    answers.push(
      (await store.search(['u'], { query, limit: 4 })).map((i) => [
        i.key,
        i.score === undefined ? null : +i.score.toFixed(5),
      ]),
    );
  return { items, namespaces: await store.listNamespaces(), provenance: store.provenance, answers };
}

afterAll(cleanTempDirs);

if (process.env.ELEX_WRITE_GOLDEN === 'langgraph-store-v1') {
  test('writes tests/fixtures/langgraph-store-v1', async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    let time = T0;
    const store = new ElexStore({ index: index(), store: new FileStore(DIR), name: NAME, now: () => time });
    for (let i = 0; i < 40; i++) await store.put(['filler'], `f${i}`, { text: `filler ${i} ${'z'.repeat(i)}` });
    const texts = ['green tea', 'black coffee', 'rome trip', 'paris trip', 'code review', 'unit tests'];
    for (const [i, text] of texts.entries()) {
      time += 1000;
      await store.put(['u', i % 2 ? 'b' : 'a'], `k${i}`, { text, i, tags: [`t${i % 3}`] });
    }
    await store.put(['u', 'a'], 'quiet', { text: 'not embedded' }, false);
    await store.put(['u', 'c'], 'notes', { text: 'x', notes: ['first note', 'second note'] }, ['notes[*]']);
    await store.put(['v'], 'ttl', { text: 'lives a day' }, undefined, { ttl: 60 * 24 * 365 * 100 });
    await store.flush();
    time += 1000;
    await store.put(['u', 'a'], 'k0', { text: 'green tea with honey', i: 0 });
    await store.delete(['u', 'b'], 'k1');
    await store.put(['u', 'd'], 'k9', { text: 'review of code' });
    await store.flush();
    time += 1000;
    await store.delete(['u', 'c'], 'notes');
    await store.put(['u', 'c'], 'notes', { text: 'y', notes: ['third note'] }, ['notes[*]']);
    await store.put(['u', 'b'], 'k1', { text: 'black coffee again' });
    await store.flush();
    expect((await new FileStore(DIR).keys()).filter((k) => k.startsWith(ITEMS_KEY_PREFIX))).toHaveLength(3);
    writeFileSync(join(DIR, 'expected.json'), `${JSON.stringify(await view(store), null, 1)}\n`);
    store.dispose();
  });
}

describe.each(BUILDS)('tests/fixtures/langgraph-store-v1 (simd %s)', (simd) => {
  test('opens to exactly what it held, and keeps writing', async () => {
    const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
    const dir = join(tempDir('elex-langgraph-golden-'), 'store');
    cpSync(DIR, dir, { recursive: true });
    const e = await engine(simd);
    const now = () => T0 + 10_000;
    const options = { index: index(), engine: e, store: new FileStore(dir), name: NAME, now };
    const store = await ElexStore.open(options);
    expect(await view(store)).toEqual(expected);
    await store.put(['u', 'a'], 'later', { text: 'green tea again' });
    await store.stop();
    store.dispose();
    const again = await ElexStore.open(options);
    expect((await again.get(['u', 'a'], 'later'))!.value).toEqual({ text: 'green tea again' });
    expect(again.size).toBe(expected.items.length + 1);
    again.dispose();
    e.dispose();
  });
});
