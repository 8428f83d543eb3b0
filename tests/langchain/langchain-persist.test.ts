/**
 * ElexVectorStore save/load through byte stores: round trips (MemoryStore, FileStore, a
 * directory), incremental saves, and atomicity: a store that fails at each write of a save in
 * turn, or stops for good there (a crash), leaves a store that loads one whole state, never
 * documents of one save with the index of another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Document } from '@langchain/core/documents';
import { CorruptSnapshotError, FileStore, MemoryStore, StoreError, type ByteStore } from '../../src/index';
import { DOCUMENTS_KEY_PREFIX, ElexVectorStore } from '../../src/langchain/index';
import { contents, siftCorpus } from '../helpers/langchain';

const corpus = siftCorpus(600, 10);
const OPTIONS = { budgetBytes: 32 << 20, M: 8, efConstruction: 64 };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elex-langchain-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a store answers: its documents (by id) and every query's results with scores. */
async function view(vs: ElexVectorStore) {
  const all = await vs.similaritySearch('query 0', Math.max(vs.size, 1));
  const docs = Object.fromEntries(all.map((d) => [d.id, [d.pageContent, d.metadata]]));
  const answers = [];
  for (const q of corpus.queryTexts)
    answers.push((await vs.similaritySearchWithScore(q, 5, (d) => d.metadata.i % 3 !== 0)).map(([d, s]) => [d.id, s]));
  return { size: vs.size, docs, answers };
}

/** State A: the first 400 documents. */
const stateA = () => ElexVectorStore.fromDocuments(corpus.documents.slice(0, 400), corpus.embeddings, OPTIONS);

/** A -> B: 100 more documents, 30 deleted, 10 upserted with new text, metadata and vectors. */
async function toB(vs: ElexVectorStore): Promise<void> {
  const ids = (await vs.similaritySearch('query 1', 400)).map((d) => d.id!).sort();
  await vs.addDocuments(corpus.documents.slice(400, 500));
  await vs.delete({ ids: ids.slice(0, 30) });
  await vs.addDocuments(
    corpus.documents
      .slice(500, 510)
      .map((d) => new Document({ pageContent: d.pageContent, metadata: { ...d.metadata, upserted: true } })),
    { ids: ids.slice(30, 40) },
  );
}

test('save(store, name) and load(store, name, embeddings) round trip; a second save writes a log segment', async () => {
  const store = new MemoryStore();
  const vs = await stateA();
  // B changes a quarter of the documents: a log share of 0.5 keeps that a log segment.
  const first = await vs.save(store, 'kb', { logShare: 0.5 });
  expect(first.kind).toBe('checkpoint');
  const a = await view(vs);
  const loaded = await ElexVectorStore.load(store, 'kb', corpus.embeddings);
  expect(await view(loaded)).toEqual(a);
  await toB(vs);
  const second = await vs.save(store, 'kb', { logShare: 0.5 });
  expect(second).toMatchObject({ kind: 'log', generation: 2 });
  const b = await view(vs);
  expect(b).not.toEqual(a);
  const loadedB = await ElexVectorStore.load(store, 'kb', corpus.embeddings);
  expect(await view(loadedB)).toEqual(b);
  // One documents record is left, the current generation's.
  expect((await store.keys()).filter((k) => k.startsWith(DOCUMENTS_KEY_PREFIX))).toEqual([
    expect.stringMatching(/^@langchain\/kb\/2-[0-9a-f]{8}$/),
  ]);
  // A loaded store keeps working: adds take new keys, and saves continue where it was loaded from.
  await loadedB.addDocuments(corpus.documents.slice(510, 520));
  expect(loadedB.size).toBe(b.size + 10);
  expect((await loadedB.save(store, 'kb')).generation).toBe(3);
  expect(await view(await ElexVectorStore.load(store, 'kb', corpus.embeddings))).toEqual(await view(loadedB));
  for (const s of [vs, loaded, loadedB]) s.dispose();
});

test('a save with nothing changed writes nothing new and the store still loads', async () => {
  const store = new MemoryStore();
  const vs = await stateA();
  await vs.save(store, 'kb');
  const keys = (await store.keys()).sort();
  expect(await vs.save(store, 'kb')).toMatchObject({ kind: 'none', generation: 1 });
  expect((await store.keys()).sort()).toEqual(keys);
  expect(await view(await ElexVectorStore.load(store, 'kb', corpus.embeddings))).toEqual(await view(vs));
  vs.dispose();
});

test('FileStore and the directory form save(directory) / load(directory, embeddings)', async () => {
  const vs = await stateA();
  await vs.save(new FileStore(join(dir, 'files')), 'kb');
  const fromFiles = await ElexVectorStore.load(new FileStore(join(dir, 'files')), 'kb', corpus.embeddings);
  expect(await view(fromFiles)).toEqual(await view(vs));
  await expect(vs.save(join(dir, 'plain'))).resolves.toBeUndefined();
  await toB(vs);
  await vs.save(join(dir, 'plain'));
  const fromDir = await ElexVectorStore.load(join(dir, 'plain'), corpus.embeddings);
  expect(await view(fromDir)).toEqual(await view(vs));
  for (const s of [vs, fromFiles, fromDir]) s.dispose();
});

/** A store over `inner` that fails its `failAt`-th write (0-based); with `crash`, every call from then on. */
class FailingStore implements ByteStore {
  writes = 0;
  down = false;
  constructor(
    readonly inner: MemoryStore,
    private readonly failAt: number,
    private readonly crash: boolean,
  ) {}
  private check(): void {
    if (this.down) throw new Error('store is down');
  }
  async read(key: string) {
    this.check();
    return this.inner.read(key);
  }
  async keys() {
    this.check();
    return this.inner.keys();
  }
  async delete(key: string) {
    this.check();
    return this.inner.delete(key);
  }
  async write(key: string, bytes: Uint8Array) {
    this.check();
    if (this.writes++ === this.failAt) {
      if (this.crash) this.down = true;
      throw new Error(`write ${this.failAt} failed`);
    }
    return this.inner.write(key, bytes);
  }
}

/** Writes a clean second save (A -> B) makes, counted on a store that never fails. */
async function writesOfSecondSave(): Promise<number> {
  const store = new FailingStore(new MemoryStore(), -1, false);
  const vs = await stateA();
  await vs.save(store, 'kb', { chunkBytes: 16384 });
  const before = store.writes;
  await toB(vs);
  await vs.save(store, 'kb', { chunkBytes: 16384, logShare: 0 });
  vs.dispose();
  return store.writes - before;
}

test.each([false, true])(
  'a save that fails (crash %s) at any write leaves the previous save loadable and whole',
  async (crash) => {
    const writes = await writesOfSecondSave();
    expect(writes).toBeGreaterThanOrEqual(3); // documents record, checkpoint chunks, manifest
    const vs = await stateA();
    const a = await view(vs);
    await toB(vs);
    const b = await view(vs);
    vs.dispose();
    for (let n = 0; n < writes; n++) {
      const inner = new MemoryStore();
      const saver = await stateA();
      await saver.save(inner, 'kb', { chunkBytes: 16384 });
      await toB(saver);
      const failing = new FailingStore(inner, n, crash);
      await expect(saver.save(failing, 'kb', { chunkBytes: 16384, logShare: 0 })).rejects.toThrow();
      const loaded = await ElexVectorStore.load(inner, 'kb', corpus.embeddings);
      const got = await view(loaded);
      // Before the index manifest (the last write) lands: A; the manifest write failing: A too.
      expect(got).toEqual(a);
      loaded.dispose();
      // Retried through the store object of the first save, the save lands and B loads.
      if (!crash) {
        await saver.save(inner, 'kb', { chunkBytes: 16384 });
        expect(await view(await ElexVectorStore.load(inner, 'kb', corpus.embeddings))).toEqual(b);
      }
      saver.dispose();
    }
  },
);

test('adds and deletes issued during a save wait for it: the save holds the state at its call', async () => {
  const store = new MemoryStore();
  const vs = await stateA();
  const a = await view(vs);
  const saving = vs.save(store, 'kb');
  const changing = toB(vs);
  await Promise.all([saving, changing]);
  expect(await view(await ElexVectorStore.load(store, 'kb', corpus.embeddings))).toEqual(a);
  await vs.save(store, 'kb');
  expect(await view(await ElexVectorStore.load(store, 'kb', corpus.embeddings))).toEqual(await view(vs));
  vs.dispose();
});

test('a crash after the index commits, before the old records are deleted, loads the new state', async () => {
  const store = new MemoryStore();
  const vs = await stateA();
  await vs.save(store, 'kb');
  const oldRecord = (await store.keys()).find((k) => k.startsWith(DOCUMENTS_KEY_PREFIX))!;
  const oldBytes = (await store.read(oldRecord))!;
  await toB(vs);
  await vs.save(store, 'kb');
  await store.write(oldRecord, oldBytes); // as if the clean-up never ran
  expect(await view(await ElexVectorStore.load(store, 'kb', corpus.embeddings))).toEqual(await view(vs));
  vs.dispose();
});

test('a missing, corrupt or mismatched documents record is CorruptSnapshotError; no store of the name is StoreError', async () => {
  const store = new MemoryStore();
  const vs = await stateA();
  await vs.save(store, 'kb');
  await expect(ElexVectorStore.load(store, 'other', corpus.embeddings)).rejects.toThrow(StoreError);
  const key = (await store.keys()).find((k) => k.startsWith(DOCUMENTS_KEY_PREFIX))!;
  const bytes = (await store.read(key))!;
  const flipped = bytes.slice();
  flipped[40] ^= 1;
  await store.write(key, flipped);
  await expect(ElexVectorStore.load(store, 'kb', corpus.embeddings)).rejects.toThrow(/CRC-32 mismatch/);
  await store.delete(key);
  await expect(ElexVectorStore.load(store, 'kb', corpus.embeddings)).rejects.toThrow(CorruptSnapshotError);
  // A record of the right generation whose documents are not the index's ids.
  const other = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 399), corpus.embeddings, OPTIONS);
  const otherStore = new MemoryStore();
  await other.save(otherStore, 'kb');
  const otherKey = (await otherStore.keys()).find((k) => k.startsWith(DOCUMENTS_KEY_PREFIX))!;
  await store.write(otherKey, (await otherStore.read(otherKey))!);
  await expect(ElexVectorStore.load(store, 'kb', corpus.embeddings)).rejects.toThrow(/other ids than the index/);
  vs.dispose();
  other.dispose();
});

test('saving an empty store without dim is refused; with dim it saves and loads empty', async () => {
  const store = new MemoryStore();
  const empty = new ElexVectorStore(corpus.embeddings, { budgetBytes: 8 << 20 });
  await expect(empty.save(store, 'kb')).rejects.toThrow(/nothing to save/);
  const sized = new ElexVectorStore(corpus.embeddings, { budgetBytes: 8 << 20, dim: 128 });
  await sized.save(store, 'kb');
  const loaded = await ElexVectorStore.load(store, 'kb', corpus.embeddings, { budgetBytes: 8 << 20 });
  expect(loaded.size).toBe(0);
  await loaded.addDocuments(corpus.documents.slice(0, 3));
  expect(contents(await loaded.similaritySearch('doc 2', 1))).toEqual(['doc 2']);
  for (const s of [empty, sized, loaded]) s.dispose();
});
