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

/** The metadata as object filters see it: each field keeps the kind of its first value met, in `order`. */
function attributeView(metadatas: Record<string, unknown>[]): Record<string, unknown>[] {
  const kinds = new Map<string, string>();
  return metadatas.map((m) => {
    const out: Record<string, unknown> = {};
    for (const [f, v] of Object.entries(m)) {
      if (!['number', 'string', 'boolean'].includes(typeof v)) continue;
      if (!kinds.has(f)) kinds.set(f, typeof v);
      if (kinds.get(f) === typeof v) out[f] = v;
    }
    return out;
  });
}

test("an operand of another kind than its field's stands for the absent value it is, whichever kind came first", async () => {
  // year holds numbers and strings, flag booleans and numbers: the first value added sets the
  // field's kind; values of the other kind are absent to filters, and so are operands of it.
  const next = rng(11);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const yearOf = (): number | string =>
    next() < 0.5 ? 2018 + Math.floor(next() * 6) : `${2018 + Math.floor(next() * 6)}`;
  const flagOf = (): boolean | number => (next() < 0.5 ? next() < 0.5 : Math.floor(next() * 2));
  const operand = (field: string): unknown => (field === 'year' ? yearOf() : flagOf());
  const condition = (): Where => {
    const field = pick(['year', 'flag']);
    const op = pick(['bare', '$eq', '$ne', '$gt', '$lte', '$in', '$nin', '$not', '$exists']);
    if (op === 'bare') return { [field]: operand(field) } as Where;
    if (op === '$gt' || op === '$lte') return { [field]: { [op]: 2018 + Math.floor(next() * 6) } } as Where;
    if (op === '$in' || op === '$nin') return { [field]: { [op]: [operand(field), operand(field)] } } as Where;
    if (op === '$not') {
      const inner = pick(['$eq', '$ne', '$in']);
      return { [field]: { $not: { [inner]: inner === '$in' ? [operand(field)] : operand(field) } } } as Where;
    }
    if (op === '$exists') return { [field]: { $exists: next() < 0.5 } } as Where;
    return { [field]: { [op]: operand(field) } } as Where;
  };
  const randomFilter = (): Where => {
    const r = next();
    if (r < 0.5) return condition();
    if (r < 0.7) return { ...condition(), ...condition() };
    if (r < 0.85) return { $or: [condition(), condition()] };
    return { $not: condition() };
  };
  const n = 80;
  const metadatas = Array.from({ length: n }, () => ({ year: yearOf(), flag: flagOf() }));
  for (const first of [0, 1]) {
    // Both fields' first values of each kind in turn.
    metadatas[0] = first === 0 ? { year: 2020, flag: true } : { year: '2020', flag: 1 };
    const view = attributeView(metadatas);
    const docs = metadatas.map((metadata, i) => new Document({ pageContent: `doc ${i}`, metadata, id: `d${i}` }));
    const vs = await ElexVectorStore.fromDocuments(docs, corpus.embeddings);
    for (let t = 0; t < 150; t++) {
      const where = randomFilter();
      const expected = view.flatMap((a, i) => (passes(a, where) ? [`doc ${i}`] : [])).sort();
      const found = contents(await vs.similaritySearch('query 0', n, where)).sort();
      expect({ where, found }).toEqual({ where, found: expected });
    }
    // delete takes them the same way.
    const where: Where = { year: { $in: [2020, '2021'] } };
    await vs.delete({ filter: where });
    const left = contents(await vs.similaritySearch('query 0', n)).sort();
    expect(left).toEqual(view.flatMap((a, i) => (passes(a, where) ? [] : [`doc ${i}`])).sort());
    vs.dispose();
  }
  // Still refused, whatever the kinds: an operand no attribute could be.
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 5), corpus.embeddings);
  await expect(vs.similaritySearch('query 0', 5, { parity: { $gt: 'x' } } as unknown as Where)).rejects.toThrow(
    /where\.parity\.\$gt must be a number/,
  );
  await expect(vs.similaritySearch('query 0', 5, { i: { $in: [1, null] } } as unknown as Where)).rejects.toThrow(
    /where\.i\.\$in\[1\] must be a finite number/,
  );
  vs.dispose();
});

test('a bad object filter is refused before any document is added, and on an emptied store', async () => {
  const bad = { year: { $gte: 'x' } } as unknown as Where;
  const fresh = new ElexVectorStore(corpus.embeddings, {});
  await expect(fresh.similaritySearch('query 0', 3, bad)).rejects.toThrow(/^where\.year\.\$gte must be a number/);
  await expect(fresh.maxMarginalRelevanceSearch('query 0', { k: 2, filter: bad })).rejects.toThrow(
    InvalidArgumentError,
  );
  await expect(fresh.delete({ filter: bad })).rejects.toThrow(/^where\.year\.\$gte must be a number/);
  expect(await fresh.similaritySearch('query 0', 3, { year: 2020 })).toEqual([]);
  // Declared fields are checked before the index exists too.
  const declared = new ElexVectorStore(corpus.embeddings, { fields: { parity: 'string' } });
  await expect(declared.similaritySearch('query 0', 3, { i: 1 })).rejects.toThrow(/declares no field 'i'/);
  const emptied = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 3), corpus.embeddings);
  await emptied.delete({ ids: ['d0', 'd1', 'd2'] });
  await expect(emptied.similaritySearch('query 0', 3, bad)).rejects.toThrow(/^where\.year\.\$gte must be a number/);
  await expect(emptied.delete({ filter: bad })).rejects.toThrow(/^where\.year\.\$gte must be a number/);
  fresh.dispose();
  declared.dispose();
  emptied.dispose();
});

test('a predicate passes the documents it returns truthy for, as Array.prototype.filter does', async () => {
  const vs = await ElexVectorStore.fromDocuments(corpus.documents.slice(0, 40), corpus.embeddings);
  const truthy = (d: { metadata: Record<string, unknown> }) => (d.metadata.i as number) % 4 && d.metadata.parity;
  const expected = corpus.texts.slice(0, 40).filter((t) => metadataOf(t).i % 4 !== 0);
  expect(contents(await vs.similaritySearch('query 0', 40, truthy as never)).sort()).toEqual(expected.sort());
  await vs.delete({ filter: truthy as never });
  expect(contents(await vs.similaritySearch('query 0', 40)).sort()).toEqual(
    corpus.texts
      .slice(0, 40)
      .filter((t) => metadataOf(t).i % 4 === 0)
      .sort(),
  );
  vs.dispose();
});

test('MMR picks from the fetchK nearest only, so fewer than k come back when fetchK < k', async () => {
  const mmr = await store.maxMarginalRelevanceSearch(corpus.queryTexts[0], { k: 5, fetchK: 2 });
  expect(contents(mmr).sort()).toEqual(contents(await store.similaritySearch(corpus.queryTexts[0], 2)).sort());
});

test('metadata a filter cannot hold (a lone surrogate, __proto__) is kept, absent to object filters, and saves', async () => {
  const metadatas = [
    { title: 'cut \uD83D', n: 1 },
    { title: '\uDE00', n: 2 },
    { title: 'whole \uD83D\uDE00', n: 3 },
    JSON.parse('{"__proto__": "admin", "n": 4}'),
    { 'k\uD83D': 1, n: 5 },
  ];
  const docs = metadatas.map((metadata, i) => new Document({ pageContent: `doc ${i}`, metadata, id: `d${i}` }));
  const vs = await ElexVectorStore.fromDocuments(docs, corpus.embeddings);
  const check = async (s: ElexVectorStore) => {
    for (const d of await s.similaritySearch('query 0', 5))
      expect(d.metadata).toEqual(metadatas[Number(d.pageContent.slice(4))]);
    expect(contents(await s.similaritySearch('query 0', 5, { title: 'whole \uD83D\uDE00' }))).toEqual(['doc 2']);
    expect(contents(await s.similaritySearch('query 0', 5, { title: 'cut \uD83D' }))).toEqual([]);
    expect(contents(await s.similaritySearch('query 0', 5, { title: '\uFFFD' }))).toEqual([]);
    expect(contents(await s.similaritySearch('query 0', 5, { title: { $exists: true } }))).toEqual(['doc 2']);
    expect(contents(await s.similaritySearch('query 0', 5, { n: { $gte: 4 } })).sort()).toEqual(['doc 3', 'doc 4']);
    expect(contents(await s.similaritySearch('query 0', 5, (d) => d.metadata.title === '\uDE00'))).toEqual(['doc 1']);
  };
  await check(vs);
  const bytes = new MemoryStore();
  await vs.save(bytes, 'docs');
  const loaded = await ElexVectorStore.load(bytes, 'docs', corpus.embeddings);
  await check(loaded);
  vs.dispose();
  loaded.dispose();
});
