/**
 * ElexVectorStore's bad input: typed errors, and nothing of a bad batch added (documents, index,
 * or a first batch's dimension).
 */
import { Document } from '@langchain/core/documents';
import {
  BudgetExceededError,
  DimensionMismatchError,
  DisposedError,
  Engine,
  InvalidArgumentError,
  InvalidVectorError,
  MIN_BUDGET_BYTES,
} from '../../src/index';
import { ElexVectorStore } from '../../src/langchain/index';
import { contents, TableEmbeddings } from '../helpers/langchain';

const table = new Map<string, number[]>([
  ['a', [1, 0, 0]],
  ['b', [0, 1, 0]],
  ['c', [0, 0, 1]],
  ['q', [1, 0.1, 0]],
  ['short', [1, 0]],
]);
const embeddings = new TableEmbeddings(table);
const doc = (pageContent: string, metadata: Record<string, unknown> = {}) => new Document({ pageContent, metadata });

/** What a store holds, as searches and its counters see it. */
async function state(vs: ElexVectorStore) {
  return {
    size: vs.size,
    bytes: vs.documentBytes,
    hits: vs.size ? contents(await vs.similaritySearch('q', 10)) : [],
    indexSize: vs.index?.size,
  };
}

test('a vector of the wrong length: DimensionMismatchError, nothing of the batch added', async () => {
  const vs = await ElexVectorStore.fromTexts(['a', 'b'], {}, embeddings, { budgetBytes: 8 << 20 });
  const before = await state(vs);
  await expect(
    vs.addVectors(
      [
        [0, 0, 1],
        [1, 0],
      ],
      [doc('c'), doc('d')],
    ),
  ).rejects.toThrow(DimensionMismatchError);
  await expect(vs.addDocuments([doc('c'), doc('short')])).rejects.toThrow(DimensionMismatchError);
  expect(await state(vs)).toEqual(before);
  vs.dispose();
});

test('a non-finite value: InvalidVectorError, nothing added; a failed first batch fixes no dimension', async () => {
  const vs = new ElexVectorStore(embeddings, { budgetBytes: 8 << 20 });
  await expect(
    vs.addVectors(
      [
        [1, 0],
        [NaN, 1],
      ],
      [doc('x'), doc('y')],
    ),
  ).rejects.toThrow(InvalidVectorError);
  expect(vs.size).toBe(0);
  expect(vs.index).toBeUndefined();
  await vs.addDocuments([doc('a'), doc('b')]); // dimension 3 now
  const before = await state(vs);
  await expect(
    vs.addVectors(
      [
        [0, 0, 1],
        [0, Infinity, 0],
      ],
      [doc('c'), doc('d')],
    ),
  ).rejects.toThrow(InvalidVectorError);
  expect(await state(vs)).toEqual(before);
  vs.dispose();
});

test.each([
  ['a function', { f: () => 1 }, /documents\[1\]\.metadata\.f is a function/],
  ['undefined', { u: undefined }, /metadata\.u is undefined/],
  ['a Date', { when: new Date(0) }, /metadata\.when is a Date/],
  ['NaN', { n: NaN }, /metadata\.n is NaN/],
  ['a BigInt', { big: BigInt(1) }, /metadata\.big is bigint 1/],
  ['a Map deep inside', { list: [1, { m: new Map() }] }, /metadata\.list\[1\]\.m is a Map/],
])(
  'metadata JSON cannot carry (%s): InvalidArgumentError naming where, nothing added or embedded',
  async (_, bad, message) => {
    const vs = await ElexVectorStore.fromTexts(['a'], {}, embeddings, { budgetBytes: 8 << 20 });
    const before = await state(vs);
    const calls = embeddings.calls;
    const error = await vs.addDocuments([doc('b'), doc('c', bad as Record<string, unknown>)]).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(message);
    expect(embeddings.calls).toBe(calls);
    await expect(
      vs.addVectors(
        [
          [0, 1, 0],
          [0, 0, 1],
        ],
        [doc('b'), doc('c', bad as Record<string, unknown>)],
      ),
    ).rejects.toThrow(InvalidArgumentError);
    expect(await state(vs)).toEqual(before);
    vs.dispose();
  },
);

test('a cycle in metadata is refused', async () => {
  const vs = new ElexVectorStore(embeddings, { budgetBytes: 8 << 20 });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  await expect(vs.addVectors([[1, 0, 0]], [doc('a', cyclic)])).rejects.toThrow(/metadata\.self refers back to itself/);
  expect(vs.size).toBe(0);
  vs.dispose();
});

test('bad ids, counts, options, k and filters are InvalidArgumentError', async () => {
  const vs = await ElexVectorStore.fromTexts(['a', 'b'], {}, embeddings, { budgetBytes: 8 << 20 });
  const before = await state(vs);
  await expect(vs.addVectors([[1, 0, 0]], [doc('a'), doc('b')])).rejects.toThrow(InvalidArgumentError);
  await expect(vs.addDocuments([doc('a'), doc('b')], { ids: ['only-one'] })).rejects.toThrow(
    /ids must be an array of 2 strings/,
  );
  await expect(vs.addDocuments([doc('a')], { ids: [''] })).rejects.toThrow(/ids\[0\] must be a non-empty string/);
  await expect(vs.addDocuments([doc('a')], { idz: ['x'] } as never)).rejects.toThrow(
    /unknown option 'idz' \(did you mean 'ids'\?\)/,
  );
  await expect(vs.delete({} as never)).rejects.toThrow(/delete takes \{ ids: string\[\] \}/);
  await expect(vs.similaritySearch('q', 0)).rejects.toThrow(InvalidArgumentError);
  // Checked whatever the store holds (a store of 2 once clamped k to 2 before the check).
  for (const k of [Infinity, '2', 1.5, 100_001, 1e10] as never[]) {
    await expect(vs.similaritySearch('q', k)).rejects.toThrow(/k must be an integer in \[1, 100000\]/);
    await expect(vs.similaritySearchVectorWithScore([1, 0, 0], k)).rejects.toThrow(InvalidArgumentError);
    await expect(vs.maxMarginalRelevanceSearch('q', { k })).rejects.toThrow(InvalidArgumentError);
    await expect(vs.maxMarginalRelevanceSearch('q', { k: 1, fetchK: k })).rejects.toThrow(/fetchK must be/);
  }
  await expect(vs.similaritySearch('q', 1, 'parity = odd' as never)).rejects.toThrow(/filter must be a function/);
  // A filter must answer synchronously: a promise is truthy, so it would have passed everything.
  await expect(vs.similaritySearch('q', 1, (async () => true) as never)).rejects.toThrow(/async function/);
  await expect(vs.similaritySearch('q', 1, (() => Promise.resolve(true)) as never)).rejects.toThrow(
    /returned a promise/,
  );
  // The store and its engine still answer afterwards.
  expect(contents(await vs.similaritySearch('q', 1, (d) => d.pageContent === 'b'))).toEqual(['b']);
  await expect(vs.similaritySearchVectorWithScore([1, 0], 1)).rejects.toThrow(DimensionMismatchError);
  await expect(vs.maxMarginalRelevanceSearch('q', { k: 2, fetchK: 0 })).rejects.toThrow(
    /fetchK must be an integer in \[1, 100000\]/,
  );
  expect(await state(vs)).toEqual(before);
  expect(() => new ElexVectorStore(embeddings, { efSerch: 10 } as never)).toThrow(
    /unknown option 'efSerch' \(did you mean 'efSearch'\?\)/,
  );
  expect(() => new ElexVectorStore(embeddings, { engine: vs.engine, budgetBytes: 1 << 20 })).toThrow(
    /engine or budgetBytes/,
  );
  vs.dispose();
});

test('an error thrown by a filter reaches the caller and the store stays usable', async () => {
  const vs = await ElexVectorStore.fromTexts(['a', 'b', 'c'], {}, embeddings, { budgetBytes: 8 << 20 });
  await expect(
    vs.similaritySearch('q', 2, () => {
      throw new Error('filter broke');
    }),
  ).rejects.toThrow('filter broke');
  expect(contents(await vs.similaritySearch('q', 1))).toEqual(['a']);
  vs.dispose();
});

test('a filter cannot change what is stored: the Documents it sees are frozen', async () => {
  const vs = await ElexVectorStore.fromTexts(
    ['a', 'b'],
    [
      { n: 1, list: [1] },
      { n: 2, list: [2] },
    ],
    embeddings,
    { budgetBytes: 8 << 20 },
  );
  await expect(
    vs.similaritySearch('q', 2, (d) => {
      d.metadata.n = 99;
      return true;
    }),
  ).rejects.toThrow(TypeError);
  await expect(
    vs.similaritySearch('q', 2, (d) => {
      (d.metadata.list as number[]).push(3);
      return true;
    }),
  ).rejects.toThrow(TypeError);
  const hits = await vs.similaritySearch('q', 2, (d) => d.metadata.n === 1);
  expect(hits.map((d) => d.metadata)).toEqual([{ n: 1, list: [1] }]);
  hits[0].metadata.n = 5; // results are the caller's own copies
  expect((await vs.similaritySearch('q', 1))[0].metadata).toEqual({ n: 1, list: [1] });
  vs.dispose();
});

test('the budget: BudgetExceededError with nothing of the batch added', async () => {
  const engine = await Engine.create({ budgetBytes: MIN_BUDGET_BYTES });
  const vs = new ElexVectorStore(embeddings, { engine, dim: 256 });
  const row = (i: number) => Array.from({ length: 256 }, (_, j) => ((i * 31 + j) % 17) - 8 + 0.5);
  await vs.addVectors([row(0), row(1)], [doc('x0'), doc('x1')]);
  const before = { size: vs.size, bytes: vs.documentBytes, used: engine.usedBytes, indexSize: vs.index!.size };
  const many = Array.from({ length: 3000 }, (_, i) => row(i + 2));
  await expect(
    vs.addVectors(
      many,
      many.map((_, i) => doc(`y${i}`)),
    ),
  ).rejects.toThrow(BudgetExceededError);
  expect({ size: vs.size, bytes: vs.documentBytes, used: engine.usedBytes, indexSize: vs.index!.size }).toEqual(before);
  vs.dispose();
  engine.dispose();
});

test('a repeated id in one call: its last document wins', async () => {
  const vs = new ElexVectorStore(embeddings, { budgetBytes: 8 << 20 });
  await vs.addVectors(
    [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    [doc('first'), doc('other'), doc('last')],
    { ids: ['same', 'o', 'same'] },
  );
  expect(vs.size).toBe(2);
  const [hit] = await vs.similaritySearchVectorWithScore([0, 0, 1], 1);
  expect(hit[0]).toMatchObject({ id: 'same', pageContent: 'last' });
  expect(hit[1]).toBeCloseTo(0, 6);
  vs.dispose();
});

test('dispose frees the engine the store created, never one it was given', async () => {
  const own = await ElexVectorStore.fromTexts(['a'], {}, embeddings, { budgetBytes: 4 << 20 });
  const ownEngine = own.engine!;
  own.dispose();
  expect(() => ownEngine.usedBytes).toThrow(DisposedError);
  const engine = await Engine.create({ budgetBytes: 4 << 20 });
  const shared = await ElexVectorStore.fromTexts(['a'], {}, embeddings, { engine });
  shared.dispose();
  expect(engine.usedBytes).toBeGreaterThan(0);
  expect(engine.createIndex({ dim: 2 }).size).toBe(0);
  engine.dispose();
});

test('an empty store answers every search with nothing', async () => {
  const vs = new ElexVectorStore(embeddings, { budgetBytes: 8 << 20 });
  expect(await vs.similaritySearch('q', 3)).toEqual([]);
  expect(await vs.maxMarginalRelevanceSearch('q', { k: 2 })).toEqual([]);
  await vs.delete({ ids: ['nothing'] });
  expect(vs.size).toBe(0);
  vs.dispose();
});
