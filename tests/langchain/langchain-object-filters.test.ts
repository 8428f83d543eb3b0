/**
 * ElexVectorStore object filters (issue 22 item 4) on real SIFT-128 vectors and the real
 * @langchain/core: `{ parity: 'odd' }` and MongoDB-style operators in similaritySearch*, MMR,
 * retrievers and delete, against float64 brute force over the documents the plain-JS reference
 * evaluator passes (tests/helpers/where-reference.ts); the same answers as the equivalent
 * predicate; bad filters are InvalidArgumentError naming the path; saved and loaded stores
 * (also one saved without attributes) filter the same.
 */
import { Document } from '@langchain/core/documents';
import { ElexVectorStore } from '../../src/langchain/index';
import { InvalidArgumentError, MemoryStore, type Where } from '../../src/index';
import { contents, siftCorpus } from '../helpers/langchain';
import { passes, rng } from '../helpers/where-reference';

const N = 1000;
const corpus = siftCorpus(N, 10);
const metadataOf = (text: string) => corpus.metadatas[Number(text.slice(4))];

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** The k texts nearest to `query` (float64 cosine) whose metadata passes `where`. */
function bruteForce(query: string, k: number, where: Where, texts = corpus.texts): string[] {
  const q = corpus.table.get(query)!;
  return texts
    .filter((t) => passes(metadataOf(t), where))
    .map((t) => ({ t, s: cosine(q, corpus.table.get(t)!) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.t);
}

/** A random filter on the corpus's scalar metadata (i: number, parity: string). */
function randomFilter(next: () => number): Where {
  const i = Math.floor(next() * N);
  const choices: Where[] = [
    { parity: next() < 0.5 ? 'odd' : 'even' },
    { i: { $lt: i } },
    { i: { $gte: i }, parity: { $ne: 'odd' } },
    { $or: [{ i: { $lt: 50 } }, { i: { $in: [i, i + 1, 999] } }] },
    { $not: { parity: 'even' }, i: { $lte: i } },
    { parity: { $nin: ['odd'] }, i: { $exists: true } },
  ];
  return choices[Math.floor(next() * choices.length)];
}

let store: ElexVectorStore;
beforeAll(async () => {
  store = await ElexVectorStore.fromTexts(corpus.texts, corpus.metadatas, corpus.embeddings, { budgetBytes: 64 << 20 });
});
afterAll(() => store?.dispose());

test('object filters: the exact nearest passing documents, as the reference evaluates them', async () => {
  const next = rng(4);
  for (let q = 0; q < 10; q++) {
    const where = randomFilter(next);
    const query = corpus.queryTexts[q];
    const ours = await store.similaritySearch(query, 10, where);
    expect({ where, texts: contents(ours) }).toEqual({ where, texts: bruteForce(query, 10, where) });
    for (const d of ours) expect(d.metadata).toEqual(metadataOf(d.pageContent));
  }
});

test('an object filter gives the same documents as the equivalent predicate', async () => {
  const query = corpus.queryTexts[0];
  const byObject = await store.similaritySearchWithScore(query, 10, { parity: 'odd', i: { $lt: 600 } });
  const byPredicate = await store.similaritySearchWithScore(
    query,
    10,
    (d) => d.metadata.parity === 'odd' && d.metadata.i < 600,
  );
  expect(contents(byObject.map(([d]) => d))).toEqual(contents(byPredicate.map(([d]) => d)));
});

test('MMR and retrievers take object filters', async () => {
  const mmr = await store.maxMarginalRelevanceSearch(corpus.queryTexts[1], {
    k: 5,
    fetchK: 20,
    filter: { parity: 'even' },
  });
  expect(mmr).toHaveLength(5);
  for (const d of mmr) expect(d.metadata.parity).toBe('even');
  const retriever = store.asRetriever({ k: 4, filter: { i: { $gte: 500 } } });
  const docs = await retriever.invoke(corpus.queryTexts[2]);
  expect(contents(docs)).toEqual(bruteForce(corpus.queryTexts[2], 4, { i: { $gte: 500 } }));
});

test('bad filters: InvalidArgumentError naming the path, nothing changed', async () => {
  const q = corpus.queryTexts[0];
  await expect(store.similaritySearch(q, 5, { i: { $gte: 'x' } } as unknown as Where)).rejects.toThrow(
    /where\.i\.\$gte must be a number/,
  );
  await expect(store.similaritySearch(q, 5, { i: { $regex: 'x' } } as unknown as Where)).rejects.toThrow(
    InvalidArgumentError,
  );
  await expect(store.similaritySearch(q, 5, 5 as unknown as Where)).rejects.toThrow(/filter must be a function/);
  await expect(store.delete({ filter: { parity: { $bad: 1 } } as unknown as Where })).rejects.toThrow(
    /unknown operator/,
  );
  await expect(store.delete({} as { ids: string[] })).rejects.toThrow(/delete takes/);
  expect((await store.similaritySearch(q, N)).length).toBe(N);
});

test('metadata that is not a scalar of the field kind is not filterable, and does not fail the add', async () => {
  const metadatas = [{ topic: 'pets', n: 1 }, { topic: 7, n: 'x', nested: { a: 1 }, tags: ['a'] }, { other: null }];
  const vs = await ElexVectorStore.fromDocuments(
    metadatas.map((metadata, i) => new Document({ pageContent: `doc ${i}`, metadata, id: `d${i}` })),
    corpus.embeddings,
  );
  expect(contents(await vs.similaritySearch('query 0', 3, { topic: 'pets' }))).toEqual(['doc 0']);
  // doc 1's topic 7 is not a string: absent to filters, as doc 2's.
  expect(contents(await vs.similaritySearch('query 0', 3, { topic: { $exists: true } }))).toEqual(['doc 0']);
  expect((await vs.similaritySearch('query 0', 3, { topic: { $ne: 'pets' } })).length).toBe(2);
  // An upsert replaces the metadata the filters see.
  await vs.addDocuments([new Document({ pageContent: 'doc 0', metadata: { topic: 'cars' }, id: 'd0' })]);
  expect(contents(await vs.similaritySearch('query 0', 3, { topic: 'pets' }))).toEqual([]);
  expect(contents(await vs.similaritySearch('query 0', 3, { topic: 'cars' }))).toEqual(['doc 0']);
  expect(contents(await vs.similaritySearch('query 0', 3, { n: { $exists: true } }))).toEqual([]);
  vs.dispose();
});

test('a store with declared fields keeps only those as attributes', async () => {
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 50), corpus.embeddings, {
    fields: { parity: 'string' },
  });
  expect(contents(await vs.similaritySearch('query 0', 50, { parity: 'odd' })).length).toBe(25);
  await expect(vs.similaritySearch('query 0', 5, { i: 3 })).rejects.toThrow(/declares no field 'i'/);
  vs.dispose();
});

test('delete({ filter }) removes the documents an object filter or a predicate passes', async () => {
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 200), corpus.embeddings);
  await vs.delete({ filter: { i: { $lt: 50 } } });
  await vs.delete({ filter: (d) => d.metadata.parity === 'odd' && d.metadata.i >= 150 });
  const left = contents(await vs.similaritySearch('query 0', 200));
  const expected = corpus.texts.slice(0, 200).filter((t) => {
    const m = metadataOf(t);
    return m.i >= 50 && !(m.parity === 'odd' && m.i >= 150);
  });
  expect(left.sort()).toEqual(expected.sort());
  vs.dispose();
});

test('a saved store filters the same once loaded; one saved without attributes gets them on load', async () => {
  const where: Where = { parity: 'odd', i: { $gte: 100, $lt: 400 } };
  const query = corpus.queryTexts[3];
  for (const fields of [undefined, {}]) {
    const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 500), corpus.embeddings, { fields });
    const bytes = new MemoryStore();
    await vs.save(bytes, 'docs');
    const loaded = await ElexVectorStore.load(bytes, 'docs', corpus.embeddings);
    expect(contents(await loaded.similaritySearch(query, 10, where))).toEqual(
      bruteForce(query, 10, where, corpus.texts.slice(0, 500)),
    );
    vs.dispose();
    loaded.dispose();
  }
});
