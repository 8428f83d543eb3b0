/**
 * ElexStore against LangGraph's InMemoryStore (tests/helpers/langgraph.ts): thousands of seeded
 * random operations over nested namespaces, single and batched, each run on both stores. Every
 * get, listNamespaces and filter-only search must be equal (timestamps included: both read one
 * fake Date); a query search must find the reference's items (recall@k over the run >= 0.95, counted on scores:
 * texts repeat, so items tie)
 * with equal scores for the items both return.
 */
import type { Operation, SearchItem } from '@langchain/langgraph-checkpoint';
import { ElexStore } from '../../src/langgraph/index';
import { BUILDS, engine } from '../helpers/engines';
import { HashEmbeddings, ReferenceStore, randomOps, snapshot } from '../helpers/langgraph';

const DIMS = 24;

const itemId = (i: { namespace: string[]; key: string }) => `${i.namespace.join('/')}#${i.key}`;

beforeEach(() => {
  jest.useFakeTimers({
    now: 1_750_000_000_000,
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
});
afterEach(() => jest.useRealTimers());

describe.each(BUILDS)('ElexStore = InMemoryStore (simd %s)', (simd) => {
  test.each([
    ['with an index', true],
    ['without one', false],
  ])(
    '3000 random operations %s',
    async (_, indexed) => {
      const embeddings = new HashEmbeddings(DIMS);
      const index = { dims: DIMS, embeddings, fields: ['text', 'notes[*]'] };
      const reference = new ReferenceStore(indexed ? { index } : undefined);
      const store = new ElexStore({
        ...(indexed ? { index } : {}),
        engine: await engine(simd),
        now: () => Date.now(),
      });
      let queries = 0;
      let expected = 0;
      let found = 0;
      let shared = 0;
      for (const batch of randomOps(indexed ? 1 : 2, 3000)) {
        jest.setSystemTime(Date.now() + 1000);
        const want = snapshot(await reference.batch(batch));
        const got = await store.batch(batch);
        batch.forEach((op, i) => {
          if (!('query' in op) || !op.query || !indexed) {
            expect({ op, result: got[i] }).toEqual({ op, result: want[i] });
            return;
          }
          queries++;
          const theirs = want[i] as SearchItem[];
          const ours = new Map((got[i] as SearchItem[]).map((item) => [itemId(item), item]));
          expect(ours.size).toBe(theirs.length);
          // Recall over scores (texts repeat, so equal scores tie and either item is right).
          expected += theirs.length;
          const mineScores = [...ours.values()].map((item) => item.score ?? -2).sort((a, b) => b - a);
          for (const score of theirs.map((item) => item.score ?? -2).sort((a, b) => b - a)) {
            const at = mineScores.findIndex((s) => Math.abs(s - score) < 1e-5);
            if (at >= 0) {
              found++;
              mineScores.splice(at, 1);
            }
          }
          for (const item of theirs) {
            const mine = ours.get(itemId(item));
            if (mine === undefined) continue;
            if (item.score === undefined) expect(mine.score).toBeUndefined();
            else {
              expect(mine.score).toBeCloseTo(item.score, 4);
              shared++;
            }
            expect({ ...mine, score: 0 }).toEqual({ ...item, score: 0 });
          }
        });
      }
      if (indexed) {
        expect(queries).toBeGreaterThan(200);
        expect(shared).toBeGreaterThan(500);
        expect(found / expected).toBeGreaterThanOrEqual(0.95);
      }
      // The final state, item by item.
      const all = await reference.search([], { limit: 10000 });
      expect(await store.search([], { limit: 10000 })).toEqual(snapshot(all));
      expect(store.size).toBe(all.length);
      store.dispose();
    },
    60_000,
  );
});

describe.each(BUILDS)('ElexStore scoping (simd %s)', (simd) => {
  test("a search under ['user-42'] returns only that user's items, however near the others are", async () => {
    const store = new ElexStore({
      index: { dims: DIMS, embeddings: new HashEmbeddings(DIMS), fields: ['text'] },
      engine: await engine(simd),
    });
    const ops = [];
    for (let i = 0; i < 300; i++)
      ops.push({ namespace: [`user-${i % 50}`, 'memories'], key: `m${i}`, value: { text: `shared text ${i % 10}` } });
    await store.batch(ops);
    for (let t = 0; t < 10; t++) {
      const hits = await store.search(['user-42'], { query: `shared text ${t}`, limit: 10 });
      expect(hits.map((h) => h.key).sort()).toEqual(['m142', 'm192', 'm242', 'm292', 'm42', 'm92']);
      expect(hits.every((h) => h.namespace[0] === 'user-42')).toBe(true);
      if (t === 2) expect(hits[0].score).toBeCloseTo(1, 5); // the user's own texts are all 'shared text 2'
    }
    store.dispose();
  });
});

describe.each(BUILDS)('ElexStore filter allow-lists (simd %s)', (simd) => {
  test('a filter reused across searches is rebuilt when an item changes; filters JSON would merge stay apart', async () => {
    const index = { dims: DIMS, embeddings: new HashEmbeddings(DIMS), fields: ['text'] };
    const store = new ElexStore({ index, engine: await engine(simd) });
    const reference = new ReferenceStore({ index });
    const both = async (ops: Operation[]) => {
      await reference.batch(ops);
      await store.batch(ops);
    };
    await both(
      Array.from({ length: 40 }, (_, i) => ({
        namespace: ['u', `n${i % 4}`],
        key: `k${i}`,
        value: { text: `text ${i}`, n: i % 5, ...(i % 2 ? { odd: true } : {}) },
      })),
    );
    const searches: Record<string, unknown>[] = [
      { n: 2 },
      { odd: undefined },
      { text: undefined },
      { n: Number.NaN },
      { n: null },
      { n: { $gte: 3 } },
      // Values a cache key once encoded as another filter's: undefined was the string
      // '\u0000undefined:undefined', and a symbol dropped out of the key.
      { odd: '\u0000undefined:undefined' },
      { n: 2, odd: Symbol('never') },
      { text: 'sundefined' },
      { n: 'n2' },
    ];
    const compare = async () => {
      for (const filter of searches) {
        const ops: Operation[] = [{ namespacePrefix: ['u'], query: 'text 7', filter, limit: 50 }];
        const [want] = (await reference.batch(ops)) as SearchItem[][];
        const [got] = (await store.batch(ops)) as SearchItem[][];
        expect(got.map((i) => i.key).sort()).toEqual(want.map((i) => i.key).sort());
      }
    };
    await compare();
    await both([
      { namespace: ['u', 'n1'], key: 'k5', value: { text: 'changed', n: 2 } },
      { namespace: ['u', 'n2'], key: 'k2', value: null },
      { namespace: ['u', 'new'], key: 'x', value: { text: 'new', n: 2, odd: true } },
    ]);
    await compare();
    store.dispose();
  });
});
