/**
 * The browser bundle in Chromium, Firefox and WebKit returns exactly Node's search results on
 * the same SIFT data: the embedded SIMD build, the SIMD build streamed from a URL, the scalar
 * build forced with simd: 'off', the scalar fallback when SIMD validation fails, and an index in
 * a module worker (examples/browser/worker.js).
 */
import { bruteForce, recall } from '../helpers/reference';
import { describeEngines, startBrowser, type Browser, type Elex } from '../helpers/browser';
import { BASE, INDEX, K, QUERIES, nodeData, runInNode, runInPage, type SearchRun } from '../helpers/browser-search';

/** Mean recall@K of `ids` against exact l2 neighbours. */
function meanRecall(ids: number[]): number {
  const { base, queries } = nodeData();
  const all = Array.from({ length: BASE }, (_, i) => i);
  let sum = 0;
  for (let q = 0; q < QUERIES; q++) {
    const truth = bruteForce('l2', base, all, (id) => id, 128, queries.subarray(q * 128, (q + 1) * 128), K).map(
      (t) => t.id,
    );
    sum += recall(ids.slice(q * K, (q + 1) * K), truth);
  }
  return sum / QUERIES;
}

/** The shape of examples/browser/index-worker.js's client, as these tests use it. */
interface IndexWorkerClient {
  create(engine: object, index: object): Promise<{ simd: boolean }>;
  addBatch(ids: Uint32Array, vectors: Float32Array): Promise<unknown>;
  searchBatch(queries: Float32Array, k: number): Promise<{ ids: Uint32Array }>;
  terminate(): void;
}

let nodeRuns: Promise<{ simd: SearchRun; scalar: SearchRun }> | undefined;
/** Node's runs of the workload (both builds), computed once for every engine. */
function node() {
  nodeRuns ??= (async () => {
    const simd = await runInNode({ simd: 'on' });
    const scalar = await runInNode({ simd: 'off' });
    expect(meanRecall(simd.ids)).toBeGreaterThan(0.95);
    expect(meanRecall(scalar.ids)).toBeGreaterThan(0.95);
    return { simd, scalar };
  })();
  return nodeRuns;
}

describeEngines('search', (engine) => {
  let browser: Browser;
  let simdNode: SearchRun;
  let scalarNode: SearchRun;

  beforeAll(async () => {
    browser = await startBrowser(engine);
    ({ simd: simdNode, scalar: scalarNode } = await node());
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('the embedded SIMD build loads and returns the same ids as Node', async () => {
    const page = await browser.open();
    const run = await runInPage(page, {});
    expect(run.simd).toBe(true);
    expect(run.streamed).toBe(0);
    expect(run.ids).toEqual(simdNode.ids);
    await page.close();
  });

  test('the SIMD build streamed from a URL (compileStreaming) returns the same ids', async () => {
    const page = await browser.open();
    const run = await runInPage(page, { wasm: { simd: '/build/elex.simd.wasm', scalar: '/build/elex.scalar.wasm' } });
    expect(run.simd).toBe(true);
    expect(run.streamed).toBe(1);
    expect(run.ids).toEqual(simdNode.ids);
    await page.close();
  });

  test("simd: 'off' runs the scalar build, with Node's scalar results", async () => {
    const page = await browser.open();
    const run = await runInPage(page, { simd: 'off' });
    expect(run.simd).toBe(false);
    expect(run.ids).toEqual(scalarNode.ids);
    await page.close();
  });

  test('when SIMD validation fails, auto falls back to the scalar build, correctly', async () => {
    const page = await browser.open({
      init: () => {
        WebAssembly.validate = () => false;
      },
    });
    const run = await runInPage(page, {});
    expect(run.simd).toBe(false);
    expect(run.ids).toEqual(scalarNode.ids);
    const onRejected = await page.evaluate(async () => {
      const E = (window as unknown as { elex: Elex }).elex;
      return E.Engine.create({ simd: 'on' }).then(
        () => 'created',
        (e) => (e as { code: string }).code,
      );
    });
    expect(onRejected).toBe('E_ARGUMENT');
    await page.close();
  });

  test('an index kept in a Web Worker (examples/browser/worker.js) answers the same', async () => {
    const page = await browser.open();
    const run = await page.evaluate(
      async ({ BASE, QUERIES, INDEX, K }) => {
        const E = (window as unknown as { elex: Elex }).elex;
        // A native import() (ts-jest would compile a literal one to require()).
        const importModule = new Function('url', 'return import(url)') as (
          url: string,
        ) => Promise<{ IndexWorker: new (url: string) => IndexWorkerClient }>;
        const { IndexWorker } = await importModule('/examples/browser/index-worker.js');
        const load = async (file: string) =>
          E.parseFvecs(new Uint8Array(await (await fetch(`/data/${file}`)).arrayBuffer())).data;
        const base = (await load('sift128_base.fvecs')).slice(0, BASE * 128);
        const queries = (await load('sift128_query.fvecs')).slice(0, QUERIES * 128);
        const worker = new IndexWorker('/examples/browser/worker.js');
        const created = await worker.create({ budgetBytes: 64 << 20 }, INDEX);
        await worker.addBatch(
          Uint32Array.from({ length: BASE }, (_, i) => i),
          base,
        );
        const result = await worker.searchBatch(queries, K);
        worker.terminate();
        return { simd: created.simd, ids: Array.from(result.ids) };
      },
      { BASE, QUERIES, INDEX, K },
    );
    expect(run.simd).toBe(true);
    expect(run.ids).toEqual(simdNode.ids);
    await page.close();
  });
});
