/**
 * ElexVectorStore.save over a versioned store with late-landing manifest writes and concurrent
 * writers: the record of a save in doubt stays; the record is written for the generation the
 * index save chose; a save's sweep of stale records spares another writer's save under way.
 */
import { MemoryStore } from '../../src/index';
import { ElexVectorStore } from '../../src/langchain/index';
import { HookedStore } from '../helpers/hooked-store';
import { siftCorpus } from '../helpers/langchain';

const corpus = siftCorpus(60, 2);
const OPTIONS = { budgetBytes: 32 << 20, M: 8, efConstruction: 32 };
const MANIFEST = '@index/kb/manifest';

test('a rejected manifest write that lands late leaves a vector store that loads (its record must stay)', async () => {
  const inner = new MemoryStore();
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 30), corpus.embeddings, OPTIONS);
  await vs.save(inner, 'kb');
  const store = new HookedStore(inner);
  await vs.addDocuments(corpus.documents.slice(30, 40));
  const late = store.rejectNextWrite();
  await expect(vs.save(store, 'kb')).rejects.toThrow(/connection lost/);
  expect((await late())?.ok).toBe(true); // lands over the version it expected
  // Every open returns a committed state: never CorruptSnapshotError.
  let error: unknown;
  try {
    (await ElexVectorStore.load(inner, 'kb', corpus.embeddings)).dispose();
  } catch (e) {
    error = e;
  }
  expect(error).toBeUndefined();
  vs.dispose();
});

test("a late landing between a vector store save's first read and its index save: the commit has its record", async () => {
  const inner = new MemoryStore();
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 30), corpus.embeddings, OPTIONS);
  await vs.save(inner, 'kb');
  const store = new HookedStore(inner);
  await vs.addDocuments(corpus.documents.slice(30, 35));
  const late = store.rejectNextWrite();
  await expect(vs.save(store, 'kb')).rejects.toThrow(/connection lost/);
  await vs.addDocuments(corpus.documents.slice(35, 40));
  // Save 2: the sidecar reads generation 1 and writes a record of 2; the late write lands right
  // after (before the index save's first check), so the index commits generation 3; the record of
  // 3, written after that commit, fails.
  store.hooks.readVersioned = async (key, real) => {
    if (key === MANIFEST) {
      store.hooks.readVersioned = undefined;
      expect((await late())?.ok).toBe(true);
    }
    return real();
  };
  store.hooks.write = async (key, _bytes, real) => {
    if (key.startsWith('@langchain/kb/3-')) throw new Error('record write failed');
    return real();
  };
  await expect(vs.save(store, 'kb')).rejects.toThrow(/record write failed/);
  // The store holds index generation 3 (committed); does it load?
  const loaded = await ElexVectorStore.load(inner, 'kb', corpus.embeddings);
  loaded.dispose();
  vs.dispose();
});

test('a vector store save removing stale records never deletes the record of another writer still saving', async () => {
  const inner = new MemoryStore();
  const seed = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 30), corpus.embeddings, OPTIONS);
  await seed.save(inner, 'kb');
  seed.dispose();
  const mine = new HookedStore(inner);
  const theirs = new HookedStore(inner);
  const a = await ElexVectorStore.load(mine, 'kb', corpus.embeddings);
  await a.addDocuments(corpus.documents.slice(30, 35));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let theirSave: Promise<unknown> | undefined;
  let b: ElexVectorStore | undefined;
  let listings = 0;
  mine.hooks.keys = async (real) => {
    // 1st listing: removeLeftovers of the index save; 2nd: the sidecar's stale records.
    if (++listings === 2) {
      b = await ElexVectorStore.load(theirs, 'kb', corpus.embeddings); // opens a's new generation 2
      await b.addDocuments(corpus.documents.slice(35, 40));
      let reached: () => void = () => undefined;
      const atCommit = new Promise<void>((r) => (reached = r));
      theirs.hooks.writeIfVersion = async (key, _bytes, _expected, realWrite) => {
        if (key === MANIFEST) {
          reached();
          await gate;
        }
        return realWrite();
      };
      theirSave = b.save(theirs, 'kb');
      await atCommit; // b has written its record of generation 3 and its chunks
    }
    return real();
  };
  await a.save(mine, 'kb');
  release();
  expect(await theirSave).toMatchObject({ generation: 3 }); // b's save is acknowledged
  const loaded = await ElexVectorStore.load(inner, 'kb', corpus.embeddings); // CorruptSnapshotError?
  expect(loaded.size).toBe(40);
  loaded.dispose();
  a.dispose();
  b?.dispose();
});
