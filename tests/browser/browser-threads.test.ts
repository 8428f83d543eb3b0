/**
 * An engine's threads in Chromium (Web Workers over a shared memory): on a page served with
 * COOP/COEP (cross-origin isolated), Engine.create({ threads: 2 }) runs two threads,
 * searchBatchAsync returns searchBatch's ids and addBatchAsync builds a searchable index; on
 * the same page served without those headers, the engine falls back to one thread, says why,
 * and the async calls still work.
 */
import { ENGINES, FIXTURE, missing, startBrowser, type Browser, type Elex } from '../helpers/browser';

const chromium = ENGINES.find((e) => e.name === 'chromium');
const run = chromium !== undefined && missing(chromium) === undefined ? describe : describe.skip;

/** In the page: a 2-thread engine's threads, fallback, and whether its async calls match the sync ones. */
async function threadsInPage() {
  const E = (window as unknown as { elex: Elex }).elex;
  const engine = await E.Engine.create({ threads: 2 });
  const dim = 16;
  const n = 1500;
  const rows = Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 1.91));
  const ids = Uint32Array.from({ length: n }, (_, i) => i + 1);
  const index = engine.createIndex({ dim, metric: 'l2', M: 8, efConstruction: 40, seed: 3 });
  await index.addBatchAsync(ids, rows);
  const queries = rows.subarray(0, 200 * dim);
  const sync = index.searchBatch(queries, 5);
  const async = await index.searchBatchAsync(queries, 5);
  let self = 0;
  for (let q = 0; q < 200; q++) if (async.ids[q * 5] === q + 1) self++;
  const out = {
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    threads: engine.threads,
    fallback: engine.threadsFallback,
    size: index.size,
    same: sync.ids.every((id, i) => id === async.ids[i]) && sync.distances.every((d, i) => d === async.distances[i]),
    self,
  };
  engine.dispose();
  return out;
}

run('threads in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await startBrowser(chromium!);
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('cross-origin isolated: two threads, searchBatch ids, a searchable parallel build', async () => {
    const page = await browser.open();
    const out = await page.evaluate(threadsInPage);
    expect(out).toEqual({ isolated: true, threads: 2, fallback: null, size: 1500, same: true, self: 200 });
    await page.close();
  });

  test('without COOP/COEP: one thread, the reason, the async calls on the calling thread', async () => {
    const page = await browser.open({
      path: `${FIXTURE}?isolation=off`,
      ready: () => (window as unknown as { elex?: unknown }).elex !== undefined,
    });
    const out = await page.evaluate(threadsInPage);
    expect(out).toEqual({
      isolated: false,
      threads: 1,
      fallback: 'not-cross-origin-isolated',
      size: 1500,
      same: true,
      self: 200,
    });
    await page.close();
  });
});
