/**
 * ElexVectorStore saves, issue 20 round 3: the directory form continues one log across saves
 * (the second save to a directory writes a log segment, as documented), and
 * save(store, name, { overwrite: true }) replaces a store whose manifest is not valid, as
 * index.save with overwrite does.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptSnapshotError, FileStore, MemoryStore } from '../../src/index';
import { DOCUMENTS_KEY_PREFIX, ElexVectorStore } from '../../src/langchain/index';
import { decodeManifest } from '../../src/hnsw/store/manifest';
import { contents, siftCorpus } from '../helpers/langchain';

const corpus = siftCorpus(300, 3);
const OPTIONS = { budgetBytes: 32 << 20, M: 8, efConstruction: 64 };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elex-langchain-targets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('save(directory) twice: the second save writes a log segment; the directory loads the latest state', async () => {
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 250), corpus.embeddings, OPTIONS);
  const target = join(dir, 'kb');
  await vs.save(target);
  await vs.addDocuments(corpus.documents.slice(250, 260));
  await vs.save(target);
  const key = '@index/langchain/manifest';
  const manifest = decodeManifest((await new FileStore(target).read(key))!, key);
  expect(manifest.stamp.generation).toBe(2);
  expect(manifest.parts.map((p) => p.kind)).toEqual([1, 2]); // a checkpoint and one log segment
  // Ten more saves to the directory: its FileStores are one save target, one log kept.
  for (let i = 0; i < 10; i++) {
    await vs.addDocuments([corpus.documents[260 + i]]);
    await vs.save(target);
  }
  // biome-ignore lint/complexity/useLiteralKeys: a private field, read by the test
  expect(vs['vectorIndex']!.journal.loggedTargets).toBe(1);
  // Twelve directory saves, one FileStore: the directory's write lock has one holder in this
  // process (a FileStore per save kept every one of them alive in the lock registry).
  const locks = (globalThis as Record<symbol, { held: Map<string, { holders: Set<object> }> }>)[
    Symbol.for('elex-wasm.file-store-locks')
  ];
  expect(locks.held.get(realpathSync(target))?.holders.size).toBe(1);
  const loaded = await ElexVectorStore.load(target, corpus.embeddings);
  expect(loaded.size).toBe(270);
  expect(contents(await loaded.similaritySearch('doc 255', 1))).toEqual(['doc 255']);
  for (const s of [vs, loaded]) s.dispose();
});

test('save(store, name, { overwrite: true }) replaces a store whose manifest is corrupt', async () => {
  const store = new MemoryStore();
  const first = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 50), corpus.embeddings, OPTIONS);
  await first.save(store, 'kb');
  const key = '@index/kb/manifest';
  const bytes = (await store.read(key))!;
  bytes[bytes.length - 1] ^= 0xff;
  await store.write(key, bytes);
  await expect(ElexVectorStore.load(store, 'kb', corpus.embeddings)).rejects.toThrow(CorruptSnapshotError);
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(100, 140), corpus.embeddings, OPTIONS);
  await expect(vs.save(store, 'kb')).rejects.toThrow(CorruptSnapshotError);
  await expect(vs.save(store, 'kb', { overwrite: true })).resolves.toMatchObject({ kind: 'checkpoint', generation: 2 }); // above the chunks left
  const loaded = await ElexVectorStore.load(store, 'kb', corpus.embeddings);
  expect(loaded.size).toBe(40);
  expect(contents(await loaded.similaritySearch('doc 120', 1))).toEqual(['doc 120']);
  // One documents record is left, the new save's.
  expect((await store.keys()).filter((k) => k.startsWith(DOCUMENTS_KEY_PREFIX))).toEqual([
    expect.stringMatching(/^@langchain\/kb\/2-/),
  ]);
  for (const s of [first, vs, loaded]) s.dispose();
});
