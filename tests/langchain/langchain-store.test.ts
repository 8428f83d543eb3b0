/**
 * ElexVectorStore with the real @langchain/core, on real SIFT-128 vectors as embeddings:
 * searches against LangChain's MemoryVectorStore (exact search, @langchain/classic) and a
 * float64 brute force, filters during the walk, delete, upsert, MMR, retrievers, scores.
 */
import { Document } from '@langchain/core/documents';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { ElexVectorStore } from '../../src/langchain/index';
import { contents, overlap, siftCorpus } from '../helpers/langchain';

const N = 2000;
const Q = 40;
const K = 10;
const corpus = siftCorpus(N, Q);
let elex: ElexVectorStore;
let memory: MemoryVectorStore;

/** Float64 cosine similarity. */
function cosine(a: number[], b: number[]): number {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** The k texts nearest to `query` by float64 cosine among the texts accepted by `keep`. */
function bruteForce(query: string, k: number, keep: (i: number) => boolean = () => true): string[] {
  const q = corpus.table.get(query)!;
  return corpus.texts
    .filter((_, i) => keep(i))
    .map((t) => ({ t, s: cosine(q, corpus.table.get(t)!) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.t);
}

beforeAll(async () => {
  elex = await ElexVectorStore.fromTexts(corpus.texts, corpus.metadatas, corpus.embeddings, { budgetBytes: 64 << 20 });
  memory = await MemoryVectorStore.fromTexts(corpus.texts, corpus.metadatas, corpus.embeddings);
});

afterAll(() => elex?.dispose());

test('fromTexts + similaritySearch: the documents exact search returns, with their metadata and ids', async () => {
  let found = 0,
    total = 0;
  for (const query of corpus.queryTexts) {
    const ours = await elex.similaritySearch(query, K);
    const theirs = await memory.similaritySearch(query, K);
    expect(ours).toHaveLength(K);
    expect(contents(theirs)).toEqual(bruteForce(query, K)); // the reference is exact
    found += overlap(contents(ours), contents(theirs)) * K;
    total += K;
    for (const d of ours) {
      const i = Number(d.pageContent.slice(4));
      expect(d.metadata).toEqual(corpus.metadatas[i]);
      expect(d.id).toMatch(/^[0-9a-f-]{36}$/); // fromTexts: random UUIDs
    }
  }
  expect(found / total).toBeGreaterThanOrEqual(0.98);
  expect(elex.size).toBe(N);
});

test('scores are cosine distances, 1 - the similarity MemoryVectorStore reports, nearest first', async () => {
  for (const query of corpus.queryTexts.slice(0, 10)) {
    const ours = await elex.similaritySearchWithScore(query, K);
    const theirs = new Map((await memory.similaritySearchWithScore(query, 50)).map(([d, s]) => [d.pageContent, s]));
    for (let r = 0; r < ours.length; r++) {
      const [doc, score] = ours[r];
      if (r > 0) expect(score).toBeGreaterThanOrEqual(ours[r - 1][1]);
      expect(score).toBeCloseTo(1 - theirs.get(doc.pageContent)!, 5);
    }
  }
});

test('a filter is a predicate on the Document applied during the walk: k results when k pass', async () => {
  const filter = (d: Document) => d.metadata.parity === 'odd' && d.metadata.tags[0] === 'm3'; // 1 in 14
  const keep = (i: number) => i % 2 === 1 && i % 7 === 3;
  let found = 0;
  for (const query of corpus.queryTexts) {
    const ours = await elex.similaritySearch(query, K, filter);
    expect(ours).toHaveLength(K);
    for (const d of ours) expect(filter(d)).toBe(true);
    const theirs = contents(await memory.similaritySearch(query, K, filter));
    expect(theirs).toEqual(bruteForce(query, K, keep));
    found += overlap(contents(ours), theirs);
  }
  expect(found / Q).toBeGreaterThanOrEqual(0.95);
  // Fewer documents pass than k: all of them come back.
  const few = await elex.similaritySearch('query 0', 50, (d) => d.metadata.i < 5);
  expect(contents(few).sort()).toEqual(['doc 0', 'doc 1', 'doc 2', 'doc 3', 'doc 4']);
  expect(await elex.similaritySearch('query 0', 5, () => false)).toEqual([]);
});

test('asRetriever works as for any store: similarity and mmr, with k and a filter', async () => {
  const filter = (d: Document) => d.metadata.parity === 'even';
  const retriever = elex.asRetriever({ k: 4, filter });
  const got = await retriever.invoke('query 3');
  expect(contents(got)).toEqual(contents(await elex.similaritySearch('query 3', 4, filter)));
  const mmr = elex.asRetriever({ k: 4, searchType: 'mmr', searchKwargs: { fetchK: 30, lambda: 0.3 } });
  expect(contents(await mmr.invoke('query 3'))).toEqual(
    contents(await elex.maxMarginalRelevanceSearch('query 3', { k: 4, fetchK: 30, lambda: 0.3 })),
  );
});

test('maxMarginalRelevanceSearch matches MemoryVectorStore and trades relevance for diversity', async () => {
  let same = 0;
  for (const query of corpus.queryTexts.slice(0, 20)) {
    const options = { k: 5, fetchK: 20, lambda: 0.5 };
    const ours = contents(await elex.maxMarginalRelevanceSearch(query, options));
    const theirs = contents(await memory.maxMarginalRelevanceSearch(query, options));
    expect(ours).toHaveLength(5);
    same += overlap(ours, theirs);
  }
  expect(same / 20).toBeGreaterThanOrEqual(0.9);

  // Three near-copies of one vector and two other relevant ones: plain search returns the
  // copies, MMR (lambda 0.3) one copy and the other two.
  const table = new Map<string, number[]>([
    ['a1', [1, 0, 0]],
    ['a2', [1, 0.01, 0]],
    ['a3', [1, 0, 0.01]],
    ['b', [0.6, 0.8, 0]],
    ['c', [0.6, 0, 0.8]],
    ['q', [1, 0.2, 0.2]],
  ]);
  const embeddings = new (corpus.embeddings.constructor as new (t: Map<string, number[]>) => typeof corpus.embeddings)(
    table,
  );
  const small = await ElexVectorStore.fromTexts(['a1', 'a2', 'a3', 'b', 'c'], {}, embeddings, { budgetBytes: 8 << 20 });
  expect(contents(await small.similaritySearch('q', 3)).sort()).toEqual(['a1', 'a2', 'a3']);
  const diverse = contents(await small.maxMarginalRelevanceSearch('q', { k: 3, fetchK: 5, lambda: 0.3 }));
  expect(diverse.filter((t) => t.startsWith('a'))).toHaveLength(1);
  expect(diverse.sort()).toEqual(expect.arrayContaining(['b', 'c']));
  small.dispose();
});

test('delete({ ids }) removes documents for good; an unknown id is a no-op', async () => {
  const vs = await ElexVectorStore.fromTexts(
    corpus.texts.slice(0, 300),
    corpus.metadatas.slice(0, 300),
    corpus.embeddings,
    { budgetBytes: 16 << 20 },
  );
  const top = await vs.similaritySearch('query 5', 5);
  const bytes = vs.documentBytes;
  await vs.delete({ ids: [top[0].id!, top[1].id!, 'no-such-id'] });
  expect(vs.size).toBe(298);
  expect(vs.documentBytes).toBeLessThan(bytes);
  const after = contents(await vs.similaritySearch('query 5', 300));
  expect(after).toHaveLength(298);
  expect(after).not.toContain(top[0].pageContent);
  expect(after).not.toContain(top[1].pageContent);
  expect(after.slice(0, 3)).toEqual(contents(top.slice(2)));
  await vs.delete({ ids: ['no-such-id'] });
  expect(vs.size).toBe(298);
  vs.dispose();
});

test('addDocuments honours options.ids and document ids, returns them, and upserts an existing id', async () => {
  const vs = new ElexVectorStore(corpus.embeddings, { budgetBytes: 16 << 20, metric: 'l2' });
  const docs = corpus.documents.slice(0, 50);
  const ids = await vs.addDocuments(docs, { ids: docs.map((_, i) => `id-${i}`) });
  expect(ids).toEqual(docs.map((_, i) => `id-${i}`));
  expect(await vs.addDocuments([new Document({ pageContent: 'doc 60', metadata: {}, id: 'mine' })])).toEqual(['mine']);
  const [generated] = await vs.addDocuments([new Document({ pageContent: 'doc 61', metadata: {} })]);
  expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(vs.size).toBe(52);
  // Upsert: id-0 now holds doc 70's text and vector; its old vector is gone.
  await vs.addDocuments([new Document({ pageContent: 'doc 70', metadata: { replaced: true } })], { ids: ['id-0'] });
  expect(vs.size).toBe(52);
  const [[hit, score]] = await vs.similaritySearchWithScore('doc 70', 1);
  expect(hit).toMatchObject({ id: 'id-0', pageContent: 'doc 70', metadata: { replaced: true } });
  expect(score).toBe(0); // l2: squared distance, 0 for the same vector
  const [nearOld] = await vs.similaritySearch('doc 0', 1);
  expect(nearOld.pageContent).not.toBe('doc 0');
  vs.dispose();
});

test('l2 scores are squared Euclidean distances', async () => {
  const vs = await ElexVectorStore.fromTexts(corpus.texts.slice(0, 200), {}, corpus.embeddings, {
    budgetBytes: 16 << 20,
    metric: 'l2',
  });
  const q = corpus.table.get('query 1')!;
  for (const [doc, score] of await vs.similaritySearchWithScore('query 1', 5)) {
    const v = corpus.table.get(doc.pageContent)!;
    const d2 = v.reduce((s, x, i) => s + (x - q[i]) ** 2, 0);
    expect(Math.abs(score - d2) / d2).toBeLessThan(1e-5);
  }
  vs.dispose();
});

test('metadata comes back equal and as a copy: changing a result changes nothing stored', async () => {
  const vs = new ElexVectorStore(corpus.embeddings, { budgetBytes: 8 << 20 });
  const metadata = { source: 'a.txt', page: 3, nested: { list: [1, 'two', null, { deep: true }] }, empty: {} };
  await vs.addDocuments([new Document({ pageContent: 'doc 1', metadata })], { ids: ['x'] });
  const [first] = await vs.similaritySearch('doc 1', 1);
  expect(first.metadata).toEqual(metadata);
  first.metadata.page = 99;
  (first.metadata.nested as { list: unknown[] }).list.push('more');
  const [again] = await vs.similaritySearch('doc 1', 1);
  expect(again.metadata).toEqual(metadata);
  vs.dispose();
});

test('documentBytes reports the host memory the documents hold', async () => {
  const vs = new ElexVectorStore(corpus.embeddings, { budgetBytes: 8 << 20 });
  expect(vs.documentBytes).toBe(0);
  await vs.addDocuments([new Document({ pageContent: 'doc 1', metadata: { a: 1 } })], { ids: ['id'] });
  // 2 bytes per UTF-16 unit of id ('id'), text ('doc 1') and metadata JSON ('{"a":1}'), plus 96.
  expect(vs.documentBytes).toBe(2 * (2 + 5 + 7) + 96);
  expect(vs.engine!.usedBytes).toBeGreaterThan(0);
  vs.dispose();
});

test('the quantization option reaches the index, and an i8 store still finds what brute force finds', async () => {
  const vs = await ElexVectorStore.fromTexts(corpus.texts, corpus.metadatas, corpus.embeddings, {
    budgetBytes: 32 << 20,
    quantization: 'i8',
  });
  expect(vs.index!.quantization).toBe('i8');
  let sum = 0;
  for (let q = 0; q < Q; q++) {
    const found = await vs.similaritySearch(`query ${q}`, K);
    sum += overlap(contents(found), bruteForce(`query ${q}`, K));
  }
  expect(sum / Q).toBeGreaterThanOrEqual(0.9);
  vs.dispose();
});
