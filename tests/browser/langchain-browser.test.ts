/**
 * ElexVectorStore in real browsers, bundled as a web app would bundle it (esbuild, the browser
 * condition: elex-wasm's browser build and @langchain/core's ES modules): a store saved to
 * IndexedDB loads after a page reload with the same documents and answers, equal to what Node
 * computes from the same vectors.
 */
import { rmSync } from 'node:fs';
import { Document } from '@langchain/core/documents';
import { ElexVectorStore } from '../../src/langchain/index';
import { describeEngines, startBrowser, type Browser } from '../helpers/browser';
import { bundleApp } from '../helpers/browser-app';
import { TableEmbeddings } from '../helpers/langchain';
import { randomVectors } from '../helpers/random';

const DIM = 16;
const N = 300;
const flat = randomVectors(N + 5, DIM, 77);
const vectors = Array.from({ length: N + 5 }, (_, i) => Array.from(flat.subarray(i * DIM, (i + 1) * DIM)));
const texts = vectors.map((_, i) => `t${i}`);
const metadatas = texts.map((_, i) => ({ i, group: i % 3 }));
const OPTIONS = { M: 8, efConstruction: 60, budgetBytes: 16 << 20 };
let root: string;

type Hits = [string, string, number, number][];
interface Work {
  vectors: number[][];
  texts: string[];
  metadatas: { i: number; group: number }[];
  n: number;
  options: typeof OPTIONS;
}

beforeAll(async () => {
  root = await bundleApp(
    'elex-lc-browser-',
    `
    import { ElexVectorStore } from 'elex-wasm/langchain';
    import { Embeddings } from '@langchain/core/embeddings';
    import { Document } from '@langchain/core/documents';
    import { IndexedDBStore } from 'elex-wasm';
    class TableEmbeddings extends Embeddings {
      constructor(table) { super({}); this.table = table; }
      async embedDocuments(texts) { return texts.map((t) => this.table.get(t)); }
      async embedQuery(t) { return this.table.get(t); }
    }
    window.lc = { ElexVectorStore, Document, IndexedDBStore, TableEmbeddings };
  `,
  );
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What Node answers for the same store: every query t<N..N+4> with a filter, as [id, text, group, score]. */
async function inNode(): Promise<Hits[]> {
  const table = new Map(texts.map((t, i) => [t, vectors[i]]));
  const vs = await ElexVectorStore.fromDocuments(
    texts.slice(0, N).map((t, i) => new Document({ pageContent: t, metadata: metadatas[i], id: `id${i}` })),
    new TableEmbeddings(table),
    OPTIONS,
  );
  const out: Hits[] = [];
  for (let q = N; q < N + 5; q++)
    out.push(
      (await vs.similaritySearchWithScore(texts[q], 5, (d) => d.metadata.group !== 1)).map(([d, s]) => [
        d.id!,
        d.pageContent,
        d.metadata.group,
        s,
      ]),
    );
  vs.dispose();
  return out;
}

describeEngines('ElexVectorStore over IndexedDB', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine, root);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('fromDocuments, save to IndexedDB, reload, load: same documents and answers as Node', async () => {
    const ready = () => (window as unknown as { lc?: unknown }).lc !== undefined;
    const page = await browser.open({ path: '/index.html', ready });
    const w: Work = { vectors, texts, metadatas, n: N, options: OPTIONS };
    type Lc = {
      ElexVectorStore: typeof ElexVectorStore;
      Document: typeof Document;
      IndexedDBStore: new (name: string) => never;
      TableEmbeddings: new (t: Map<string, number[]>) => never;
    };
    const search = async (vs: ElexVectorStore, w: Work): Promise<Hits[]> => {
      const out: Hits[] = [];
      for (let q = w.n; q < w.n + 5; q++)
        out.push(
          (await vs.similaritySearchWithScore(w.texts[q], 5, (d) => d.metadata.group !== 1)).map(([d, s]) => [
            d.id!,
            d.pageContent,
            d.metadata.group,
            s,
          ]),
        );
      return out;
    };
    const saved = await page.evaluate(
      async ({ w, search }) => {
        const lc = (window as unknown as { lc: Lc }).lc;
        const find = new Function(`return (${search})`)() as (vs: unknown, w: Work) => Promise<Hits[]>;
        const embeddings = new lc.TableEmbeddings(new Map(w.texts.map((t, i) => [t, w.vectors[i]])));
        const docs = w.texts
          .slice(0, w.n)
          .map((t, i) => new lc.Document({ pageContent: t, metadata: w.metadatas[i], id: `id${i}` }));
        const vs = await lc.ElexVectorStore.fromDocuments(docs, embeddings, w.options);
        const result = await vs.save(new lc.IndexedDBStore('elex-langchain'), 'kb');
        return { kind: result.kind, hits: await find(vs, w), simd: vs.engine!.simd };
      },
      { w, search: search.toString() },
    );
    expect(saved.kind).toBe('checkpoint');

    await page.reload();
    const loaded = await page.evaluate(
      async ({ w, search }) => {
        const lc = (window as unknown as { lc: Lc }).lc;
        const find = new Function(`return (${search})`)() as (vs: unknown, w: Work) => Promise<Hits[]>;
        const embeddings = new lc.TableEmbeddings(new Map(w.texts.map((t, i) => [t, w.vectors[i]])));
        const vs = await lc.ElexVectorStore.load(new lc.IndexedDBStore('elex-langchain'), 'kb', embeddings, {
          budgetBytes: 16 << 20,
        });
        return { size: vs.size, hits: await find(vs, w) };
      },
      { w, search: search.toString() },
    );
    expect(loaded.size).toBe(N);
    expect(loaded.hits).toEqual(saved.hits);
    // Node, same vectors and build options: same documents, and distances within float32 rounding.
    const node = await inNode();
    expect(loaded.hits.map((h) => h.map(([id, text, group]) => [id, text, group]))).toEqual(
      node.map((h) => h.map(([id, text, group]) => [id, text, group])),
    );
    loaded.hits.forEach((h, q) => h.forEach(([, , , s], r) => expect(Math.abs(s - node[q][r][3])).toBeLessThan(1e-5)));
    for (const h of loaded.hits) for (const [, , group] of h) expect(group).not.toBe(1);
    await page.close();
  });
});
