// The demo page's module: loads the browser bundle straight from dist/ (no bundler), builds an
// index over a SIFT sample fetched from /data/, measures search latency and recall against a
// brute-force truth, charts memory pressure live, and runs an IndexedDB-backed agent cache.
// Results also land in window.demoResults (read by compare-latency.mjs).
import { Engine, IndexedDBStore, parseFvecs } from '../../dist/browser/elex.js';
import { LineChart } from './chart.js';

const BASE = 2000;
const QUERIES = 100;
const K = 10;
const DIM = 128;
const REPEAT = 20;
const BUDGET = 4 << 20;
const AGENTS = 48;
const INDEX = { dim: DIM, metric: 'l2', M: 16, efConstruction: 100, efSearch: 64, seed: 11 };

const $ = (id) => document.getElementById(id);
/** Yields to the event loop so the page repaints between steps. */
const frame = () => new Promise((resolve) => setTimeout(resolve, 0));
const mib = (bytes) => `${(bytes / 1048576).toFixed(2)} MiB`;

function status(text, kind = '') {
  $('status').textContent = text;
  $('status').className = kind;
}

function table(id, rows) {
  $(id).innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
}

async function fvecs(file, rows) {
  const response = await fetch(`/data/${file}`);
  if (!response.ok) throw new Error(`/data/${file}: HTTP ${response.status} (serve with examples/browser/serve.cjs (it serves data/sift128))`);
  return parseFvecs(new Uint8Array(await response.arrayBuffer())).data.slice(0, rows * DIM);
}

/** Exact top-k ids by squared l2 for each query, in float64. */
function bruteForce(base, queries, k) {
  const truth = [];
  for (let q = 0; q < queries.length / DIM; q++) {
    const d = new Float64Array(base.length / DIM);
    for (let i = 0; i < d.length; i++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) {
        const t = queries[q * DIM + j] - base[i * DIM + j];
        s += t * t;
      }
      d[i] = s;
    }
    truth.push(Array.from(d.keys()).sort((a, b) => d[a] - d[b] || a - b).slice(0, k));
  }
  return truth;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function main() {
  const engine = await Engine.create({ budgetBytes: BUDGET });
  const chart = new LineChart($('chart'), {
    series: [{ name: 'usedBytes / budget', color: '#3867d6' }, { name: 'monitor pressure', color: '#e67e22' }],
    threshold: 0.8,
    thresholdLabel: 'evictAt 80%',
  });
  const sample = () => {
    chart.push([engine.pressure, engine.monitor.pressure]);
    $('memory-bar').style.width = `${(engine.pressure * 100).toFixed(1)}%`;
    table('memory', [
      ['build', engine.simd ? 'SIMD (f32x4)' : 'scalar'],
      ['used', `${mib(engine.usedBytes)} of ${mib(engine.budgetBytes)} (${(engine.pressure * 100).toFixed(1)}%)`],
      ['monitor pressure', `${(engine.monitor.pressure * 100).toFixed(1)}% (${engine.monitor.trend})`],
      ['eviction share at this pressure', `${engine.monitor.evictionShare() * 100}%`],
    ]);
  };
  sample();

  status('fetching the SIFT sample…');
  const [base, queries] = await Promise.all([fvecs('sift128_base.fvecs', BASE), fvecs('sift128_query.fvecs', QUERIES)]);

  status('building the index…');
  const index = engine.createIndex(INDEX);
  let buildMs = 0;
  for (let start = 0; start < BASE; start += 100) {
    const t0 = performance.now();
    index.addBatch(Uint32Array.from({ length: 100 }, (_, i) => start + i), base.subarray(start * DIM, (start + 100) * DIM));
    buildMs += performance.now() - t0;
    sample();
    await frame();
  }

  status('searching…');
  const truth = bruteForce(base, queries, K);
  const perQuery = [];
  let hits = 0;
  for (let q = 0; q < QUERIES; q++) {
    const query = queries.subarray(q * DIM, (q + 1) * DIM);
    const t0 = performance.now();
    for (let r = 0; r < REPEAT; r++) index.search(query, K);
    perQuery.push(((performance.now() - t0) / REPEAT) * 1000);
    const found = new Set(index.search(query, K).ids);
    hits += truth[q].filter((id) => found.has(id)).length;
  }
  const search = { medianUs: median(perQuery), p95Us: percentile(perQuery, 0.95), recall: hits / (QUERIES * K) };
  table('search', [
    ['vectors (SIFT-128, l2)', BASE.toLocaleString()],
    ['build', `${buildMs.toFixed(0)} ms (${Math.round(BASE / (buildMs / 1000)).toLocaleString()} vectors/s)`],
    ['search latency, median', `${search.medianUs.toFixed(1)} µs / query`],
    ['search latency, p95', `${search.p95Us.toFixed(1)} µs / query`],
    [`recall@${K} vs brute force (${QUERIES} queries)`, search.recall.toFixed(3)],
    ['efSearch / M', `${INDEX.efSearch} / ${INDEX.M}`],
  ]);
  sample();

  status('running the agent cache…');
  const agents = await runAgents(engine, sample);
  window.demoResults = { simd: engine.simd, buildMs, search, agents, usedBytes: engine.usedBytes, budgetBytes: engine.budgetBytes };
  status('done', 'done');
}

/** 48 agents, 16 resident, each learning 50 more steps per page load; evicted ones go to IndexedDB. */
async function runAgents(engine, sample) {
  const store = new IndexedDBStore('elex-demo');
  const storedAtLoad = (await store.keys()).length;
  const cache = engine.createAgentCache({ store, maxAgents: 16, qtable: { actions: 4, seed: 3 }, trajectoryCapacity: 256 });
  const updatesOf = (agent) => {
    let n = 0;
    for (let s = 0; s < 8; s++) for (let a = 0; a < 4; a++) n += agent.q.visits(s, a);
    return n;
  };
  let firstBefore = 0;
  let firstAfter = 0;
  for (let i = 0; i < AGENTS; i++) {
    await cache.use(`agent-${i}`, (agent) => {
      if (i === 0) firstBefore = updatesOf(agent);
      for (let t = 0; t < 50; t++) {
        const s = (i + t) % 8;
        const action = agent.q.selectAction(s);
        const reward = action === s % 4 ? 1 : -0.1;
        agent.q.update(s, action, reward, (s + 1) % 8);
        agent.trajectory.push(s, action, reward, (s + 1) % 8, false);
      }
      if (i === 0) firstAfter = updatesOf(agent);
    });
    if (i % 4 === 3) {
      sample();
      await frame();
    }
  }
  await cache.flush();
  const storedNow = (await store.keys()).length;
  const { hits, misses, evictions, persistedBytes } = cache.stats;
  table('agents', [
    ['agents stored in IndexedDB when this page loaded', storedAtLoad],
    ['agents stored now (after flush)', storedNow],
    ['resident in WASM memory (maxAgents 16)', cache.size],
    ['hits / misses / evictions', `${hits} / ${misses} / ${evictions}`],
    ['bytes written to IndexedDB', persistedBytes.toLocaleString()],
    ["agent-0's Q updates: before this load → now", `${firstBefore} → ${firstAfter}`],
  ]);
  sample();
  return { storedAtLoad, storedNow, evictions, firstBefore, firstAfter };
}

main().catch((error) => {
  status(`failed: ${error.name}: ${error.message}`, 'error');
  window.demoResults = { error: `${error.name}: ${error.message}` };
  throw error;
});
