/**
 * ElexStore in real browsers, bundled as a web app would bundle it (esbuild, the browser
 * condition: elex-wasm's browser build, @langchain/langgraph-checkpoint's and @langchain/core's
 * ES modules): memories put and flushed to IndexedDB (a full items record, then a delta) open
 * after a page reload with the same items and answers, equal to what Node computes from the
 * same operations.
 */
import { rmSync } from 'node:fs';
import type { ByteStore } from '../../src/index';
import { ElexStore } from '../../src/langgraph/index';
import { describeEngines, startBrowser, type Browser } from '../helpers/browser';
import { bundleApp } from '../helpers/browser-app';
import { randomVectors } from '../helpers/random';

const DIM = 16;
const N = 200;
const flat = randomVectors(N + 5, DIM, 91);
const vectors = Array.from({ length: N + 5 }, (_, i) => Array.from(flat.subarray(i * DIM, (i + 1) * DIM)));
let root: string;

type Hits = [string, string, number | null][];
interface Work {
  vectors: number[][];
  n: number;
}

beforeAll(async () => {
  root = await bundleApp(
    'elex-lg-browser-',
    `
    import { ElexStore } from 'elex-wasm/langgraph';
    import { IndexedDBStore } from 'elex-wasm';
    window.lg = { ElexStore, IndexedDBStore };
  `,
  );
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * The work both sides run (as text in the page): a store of `w.n` items, 'm<i>' in
 * ['user-a' | 'user-b', 'memories'], embedded by table lookup; `fill` puts them (two flushes
 * when a store is given), `ask` searches ['user-a'] for the 5 rows after them, with a filter.
 */
const WORK = `({
  embeddings(w) {
    const table = (t) => w.vectors[Number(t.slice(1))];
    return { model: 'table-16', embedDocuments: async (ts) => ts.map(table), embedQuery: async (t) => table(t) };
  },
  options(w, extra) {
    return { index: { dims: 16, embeddings: this.embeddings(w), fields: ['text'] }, hnsw: { M: 8, efConstruction: 60 }, budgetBytes: 16 << 20, ...extra };
  },
  async fill(store, w, flush) {
    for (let i = 0; i < w.n; i++) {
      await store.put([i % 3 ? 'user-a' : 'user-b', 'memories'], 'm' + i, { text: 'm' + i, i, odd: i % 2 === 1 });
      if (flush && i === w.n * 0.8) await store.flush();
    }
    await store.delete(['user-a', 'memories'], 'm1');
    if (flush) await store.flush();
  },
  async ask(store, w) {
    const out = [];
    for (let q = w.n; q < w.n + 5; q++)
      out.push((await store.search(['user-a'], { query: 'm' + q, limit: 5, filter: { odd: false } })).map((i) => [i.namespace.join('/'), i.key, i.score ?? null]));
    return out;
  },
})`;

describeEngines('ElexStore over IndexedDB', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine, root);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('put and flush to IndexedDB, reload, open: same items and answers as Node', async () => {
    const ready = () => (window as unknown as { lg?: unknown }).lg !== undefined;
    const page = await browser.open({ path: '/index.html', ready });
    const w: Work = { vectors, n: N };
    type Lg = { ElexStore: typeof ElexStore; IndexedDBStore: new (name: string) => ByteStore };
    const saved = await page.evaluate(
      async ({ w, work }) => {
        const lg = (window as unknown as { lg: Lg }).lg;
        const k = new Function(`return ${work}`)();
        const store = await lg.ElexStore.open(k.options(w, { store: new lg.IndexedDBStore('elex-langgraph') }));
        await k.fill(store, w, true);
        const keys = await new lg.IndexedDBStore('elex-langgraph').keys();
        return {
          records: keys.filter((key: string) => key.startsWith('@langgraph/')).length,
          hits: await k.ask(store, w),
          size: store.size,
        };
      },
      { w, work: WORK },
    );
    expect(saved.records).toBe(2); // a full record and a delta continuing it
    expect(saved.size).toBe(N - 1);

    await page.reload();
    const loaded = await page.evaluate(
      async ({ w, work }) => {
        const lg = (window as unknown as { lg: Lg }).lg;
        const k = new Function(`return ${work}`)();
        const store = await lg.ElexStore.open(k.options(w, { store: new lg.IndexedDBStore('elex-langgraph') }));
        return { size: store.size, hits: await k.ask(store, w), namespaces: await store.listNamespaces() };
      },
      { w, work: WORK },
    );
    expect(loaded.size).toBe(N - 1);
    expect(loaded.hits).toEqual(saved.hits);
    expect(loaded.namespaces).toEqual([
      ['user-a', 'memories'],
      ['user-b', 'memories'],
    ]);
    // Node, the same operations: the same items, scores within float32 rounding.
    const k = new Function(`return ${WORK}`)();
    const node = new ElexStore(k.options(w, {}));
    await k.fill(node, w, false);
    const expected: Hits[] = await k.ask(node, w);
    node.dispose();
    expect(loaded.hits.map((h: Hits) => h.map(([ns, key]) => [ns, key]))).toEqual(
      expected.map((h) => h.map(([ns, key]) => [ns, key])),
    );
    loaded.hits.forEach((h: Hits, q: number) =>
      h.forEach(([, , s], r) => expect(Math.abs(s! - expected[q][r][2]!)).toBeLessThan(1e-5)),
    );
    await page.close();
  });
});
