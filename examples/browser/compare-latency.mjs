#!/usr/bin/env node
// Runs the demo's search workload in Node (the package's ES module entry) and in headless Chromium (the demo page,
// loaded twice so the second load shows the agents coming back from IndexedDB), prints both
// median per-query latencies and their ratio, and saves a screenshot of the demo page.
//
//   node examples/browser/compare-latency.mjs [screenshot.png]     (after npm run build)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { Engine, parseFvecs } from 'elex-wasm';

const here = dirname(fileURLToPath(import.meta.url));
const { startServer } = createRequire(import.meta.url)('./serve.cjs');
const DATA = process.env.ELEX_DATA_DIR || join(here, '../../data/sift128');
const [BASE, QUERIES, K, DIM, REPEAT] = [2000, 100, 10, 128, 20];
const INDEX = { dim: DIM, metric: 'l2', M: 16, efConstruction: 100, efSearch: 64, seed: 11 };
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync'];

/** The demo's workload in Node: median microseconds per query over REPEAT runs of each. */
async function nodeMedianUs() {
  const read = (file, rows) => parseFvecs(readFileSync(join(DATA, file))).data.slice(0, rows * DIM);
  const base = read('sift128_base.fvecs', BASE);
  const queries = read('sift128_query.fvecs', QUERIES);
  const engine = await Engine.create({ budgetBytes: 4 << 20 });
  const index = engine.createIndex(INDEX);
  for (let s = 0; s < BASE; s += 100) index.addBatch(Uint32Array.from({ length: 100 }, (_, i) => s + i), base.subarray(s * DIM, (s + 100) * DIM));
  const perQuery = [];
  for (let q = 0; q < QUERIES; q++) {
    const query = queries.subarray(q * DIM, (q + 1) * DIM);
    const t0 = performance.now();
    for (let r = 0; r < REPEAT; r++) index.search(query, K);
    perQuery.push(((performance.now() - t0) / REPEAT) * 1000);
  }
  return { simd: engine.simd, medianUs: perQuery.sort((a, b) => a - b)[QUERIES >> 1] };
}

const screenshot = process.argv[2] ?? join(tmpdir(), 'elex-demo.png');
const server = await startServer(0);
// A fresh temporary profile (puppeteer deletes it on close); IndexedDB lasts across the reload.
const chromium = await puppeteer.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ARGS, defaultViewport: { width: 1040, height: 1000 },
});
try {
  const page = await chromium.newPage();
  const results = [];
  for (let load = 0; load < 2; load++) {
    if (load === 0) await page.goto(`http://127.0.0.1:${server.port}/examples/browser/`);
    else await page.reload();
    await page.waitForFunction(() => window.demoResults !== undefined, { timeout: 120000 });
    results.push(await page.evaluate(() => window.demoResults));
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  const node = await nodeMedianUs();
  const browser = results[1];
  if (browser.error) throw new Error(browser.error);
  console.log(JSON.stringify({ node, chromium: { simd: browser.simd, medianUs: browser.search.medianUs, recall: browser.search.recall },
    ratio: browser.search.medianUs / node.medianUs, agents: results.map((r) => r.agents), screenshot }, null, 2));
} finally {
  await chromium.close();
  await server.close();
}
