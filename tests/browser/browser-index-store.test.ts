/**
 * Index stores over IndexedDB in Chromium, Firefox and WebKit: an index saved to IndexedDBStore
 * (a checkpoint in several chunks, then a log segment) opens after a page reload with the same
 * answers and the same serialize() bytes as the page had, which are also the bytes Node builds
 * from the same operations in the same build; a QuotaExceededError during a save is a typed
 * StoreQuotaError and the previous save still opens after a reload.
 */
import { Engine } from '../../src/index';
import { describeEngines, startBrowser, type Browser, type BrowserPage, type Elex } from '../helpers/browser';
import { randomVectors } from '../helpers/random';

const DIM = 16;
const N = 600;
const vectors = Array.from(randomVectors(N + 100, DIM, 31));
const queries = Array.from(randomVectors(20, DIM, 32));
const OPTIONS = { dim: DIM, metric: 'cosine' as const, M: 8, efConstruction: 60, seed: 4 };

interface Work {
  vectors: number[];
  queries: number[];
  options: typeof OPTIONS;
  dim: number;
  n: number;
  db: string;
}
type Snapshot = { simd: boolean; bytes: number[]; ids: number[]; distances: number[] };

/** The operations both sides apply: N adds in one batch, then (`more`) 100 adds, 30 removes, 20 replacements. */
function apply(
  index: {
    addBatch(ids: number[], v: Float32Array): void;
    add(id: number, v: Float32Array): void;
    remove(id: number): boolean;
  },
  w: Pick<Work, 'vectors' | 'dim' | 'n'>,
  more: boolean,
): void {
  const row = (i: number) => Float32Array.from(w.vectors.slice(i * w.dim, (i + 1) * w.dim));
  if (!more) {
    index.addBatch(
      Array.from({ length: w.n }, (_, i) => i),
      Float32Array.from(w.vectors.slice(0, w.n * w.dim)),
    );
    return;
  }
  for (let i = 0; i < 100; i++) index.add(w.n + i, row(w.n + i));
  for (let i = 0; i < 30; i++) index.remove(i * 11);
  for (let i = 0; i < 20; i++) index.add(i * 13 + 1, row(w.n + 99 - i));
}

/** Opens `w.db`'s index 'docs' in the page and returns its bytes and answers. */
function openInPage(page: BrowserPage, w: Work): Promise<Snapshot> {
  return page.evaluate(async (w) => {
    const E = (window as unknown as { elex: Elex }).elex;
    const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
    const index = await engine.openIndex(new E.IndexedDBStore(w.db), 'docs');
    const r = index.searchBatch(Float32Array.from(w.queries), 5);
    return {
      simd: engine.simd,
      bytes: Array.from(index.serialize()),
      ids: Array.from(r.ids),
      distances: Array.from(r.distances),
    };
  }, w);
}

describeEngines('Index store over IndexedDB', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('save, reload, open: same answers and bytes, equal to what Node builds', async () => {
    const page = await browser.open();
    const w: Work = { vectors, queries, options: OPTIONS, dim: DIM, n: N, db: 'elex-index-store' };
    const saved = await page.evaluate(
      async ({ w, apply }) => {
        const E = (window as unknown as { elex: Elex }).elex;
        const run = new Function(`return (${apply})`)() as (ix: unknown, w: unknown, more: boolean) => void;
        const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
        const store = new E.IndexedDBStore(w.db);
        const index = engine.createIndex(w.options);
        run(index, w, false);
        // The second change is a fifth of the vectors, with replacements: logShare 0.5 keeps it a log.
        const first = await index.save(store, 'docs', { chunkBytes: 16384, logShare: 0.5 });
        run(index, w, true);
        const second = await index.save(store, 'docs', { chunkBytes: 16384, logShare: 0.5 });
        const r = index.searchBatch(Float32Array.from(w.queries), 5);
        return {
          kinds: [first.kind, second.kind],
          keys: (await store.keys()).length,
          snapshot: {
            simd: engine.simd,
            bytes: Array.from(index.serialize()),
            ids: Array.from(r.ids),
            distances: Array.from(r.distances),
          },
        };
      },
      { w, apply: apply.toString() },
    );
    expect(saved.kinds).toEqual(['checkpoint', 'log']);
    expect(saved.keys).toBeGreaterThan(4);

    await page.reload();
    const opened = await openInPage(page, w);
    expect(opened).toEqual(saved.snapshot);

    // Node, same build, same operations: the same bytes.
    const node = await Engine.create({ simd: opened.simd ? 'on' : 'off' });
    const index = node.createIndex(OPTIONS);
    apply(index, w, false);
    apply(index, w, true);
    expect(Array.from(index.serialize())).toEqual(opened.bytes);
    node.dispose();
    await page.close();
  });

  test('a QuotaExceededError during a save is StoreQuotaError; the previous save opens after a reload', async () => {
    const page = await browser.open();
    const w: Work = { vectors, queries, options: OPTIONS, dim: DIM, n: N, db: 'elex-index-quota' };
    const outcome = await page.evaluate(
      async ({ w, apply }) => {
        const E = (window as unknown as { elex: Elex }).elex;
        const run = new Function(`return (${apply})`)() as (ix: unknown, w: unknown, more: boolean) => void;
        const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
        const store = new E.IndexedDBStore(w.db);
        const index = engine.createIndex(w.options);
        run(index, w, false);
        await index.save(store, 'docs', { chunkBytes: 16384 });
        const r = index.searchBatch(Float32Array.from(w.queries), 5);
        const before = {
          simd: engine.simd,
          bytes: Array.from(index.serialize()),
          ids: Array.from(r.ids),
          distances: Array.from(r.distances),
        };
        const keys = (await store.keys()).sort();
        run(index, w, true);
        const put = IDBObjectStore.prototype.put;
        let calls = 0;
        IDBObjectStore.prototype.put = function (...args: Parameters<typeof put>) {
          if (++calls > 1) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return put.apply(this, args);
        };
        let error: unknown;
        try {
          await index.save(store, 'docs', { logShare: 0, chunkBytes: 16384 });
        } catch (e) {
          error = e;
        }
        IDBObjectStore.prototype.put = put;
        const err = error as { name: string; code: string };
        return {
          name: err?.name,
          code: err?.code,
          typed: error instanceof E.StoreQuotaError && error instanceof E.StoreError && error instanceof E.ElexError,
          before,
          keysBefore: keys,
          keysAfter: (await store.keys()).sort(),
          calls,
        };
      },
      { w, apply: apply.toString() },
    );
    expect(outcome).toMatchObject({ name: 'StoreQuotaError', code: 'E_QUOTA', typed: true });
    expect(outcome.calls).toBeGreaterThan(1);
    expect(outcome.keysAfter).toEqual(outcome.keysBefore);

    await page.reload();
    expect(await openInPage(page, w)).toEqual(outcome.before);
    await page.close();
  });
});
