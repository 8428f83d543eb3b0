// Suite `hnsw`: build time and per-vector insert cost, recall@10 vs single-thread QPS and
// P50/P95/P99 latency over an ef sweep, batch search throughput, bytes per vector; SIMD and
// scalar builds side by side, and an exact plain-JS brute force as the baseline of the same run.
// Data: the vendored SIFT-128 in data/sift128 (or --data), seeded synthetic 10K x 128, and (full run) 100K x 128.
'use strict';
const { Engine, simdSupported } = require('../../dist/cjs/index.js');
const { K, buildInChunks, queryRows, efSweep, atRecall } = require('../lib/ann.js');
const { recallQpsChart } = require('../lib/chart.js');
const { loadDataset, synthetic } = require('../lib/dataset.js');
const { table } = require('../lib/stats.js');
const { repeat, summary, spread } = require('../lib/timing.js');

const M = 16;
const EF_CONSTRUCTION = 200;

/** Builds an index over `data` in a fresh engine; { engine, index, buildMs, bytesPerVector }. */
async function buildIndex(data, metric, simd, label) {
  const engine = await Engine.create({ simd, budgetBytes: 1024 << 20 });
  const before = engine.usedBytes;
  const index = engine.createIndex({ dim: data.dim, metric, M, efConstruction: EF_CONSTRUCTION, seed: 1 });
  const count = data.base.length / data.dim;
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  const buildMs = buildInChunks(label, count, (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)));
  return { engine, index, buildMs, bytesPerVector: (engine.usedBytes - before) / count };
}

/** Exact k-NN by plain-JS brute force (float64 accumulators): QPS over the first `n` queries. */
function bruteForceQps(data, metric, n, passes) {
  const rows = queryRows(data).slice(0, n);
  const count = data.base.length / data.dim;
  const dist = new Float64Array(count);
  const base = data.base;
  const dim = data.dim;
  return repeat(passes, () => {
    const t0 = performance.now();
    for (const q of rows) {
      for (let i = 0; i < count; i++) {
        let s = 0;
        let nn = 0;
        for (let j = 0, at = i * dim; j < dim; j++) {
          const d = metric === 'l2' ? q[j] - base[at + j] : q[j] * base[at + j];
          s += metric === 'l2' ? d * d : d;
          nn += base[at + j] * base[at + j];
        }
        dist[i] = metric === 'l2' ? s : 1 - s / Math.sqrt(nn);
      }
      const top = new Float64Array(dist).sort().subarray(0, K);
      if (Number.isNaN(top[0])) throw new Error('NaN distance');
    }
    return (rows.length * 1000) / (performance.now() - t0);
  });
}

/** searchBatch over every query at ef 64: queries per second over `passes` runs. */
function batchQps(index, data, passes) {
  const n = data.queries.length / data.dim;
  return repeat(passes, () => {
    const t0 = performance.now();
    index.searchBatch(data.queries, K, { ef: 64 });
    return (n * 1000) / (performance.now() - t0);
  });
}

/** Measures one dataset with one build; returns its result record. */
async function measure(data, metric, simd, { efs, passes, buildRuns }) {
  const build = simd === 'on' ? 'SIMD' : 'scalar';
  const label = `hnsw ${data.name} ${metric} ${build}`;
  const builds = [];
  let last;
  for (let r = 0; r < buildRuns; r++) {
    if (last) last.engine.dispose();
    last = await buildIndex(data, metric, simd, `${label} build ${r + 1}/${buildRuns}`);
    builds.push(last.buildMs);
  }
  const { engine, index, bytesPerVector } = last;
  const count = data.base.length / data.dim;
  const buildMs = summary(builds);
  const sweep = efSweep(data, efs, passes, (q, ef) => index.search(q, K, { ef }).ids);
  const batch = batchQps(index, data, passes);
  engine.dispose();
  return {
    dataset: data.name, metric, build, vectors: count, queries: data.queries.length / data.dim,
    buildMs, insertUs: summary(builds.map((ms) => (ms * 1000) / count)), bytesPerVector, batchQps: batch, sweep,
  };
}

/** The datasets of a run: the SIFT-128 (or --data) set under both metrics, then synthetic sets. */
function datasets(quick, dataPath) {
  const out = [['l2', loadDataset('l2', dataPath)], ['cosine', loadDataset('cosine', dataPath)]];
  if (!quick) {
    out.push(['l2', synthetic(10000, 200, 128, 11, 'l2')]);
    out.push(['l2', synthetic(100000, 200, 128, 12, 'l2')]);
  }
  return out;
}

/** Runs the suite: { suite, params, results, table, charts, notes }. */
async function run({ quick = false, data: dataPath } = {}) {
  const efs = quick ? [10, 32, 64, 128] : [10, 16, 32, 64, 100, 200, 400];
  const passes = quick ? 3 : 5;
  const builds = simdSupported() ? ['on', 'off'] : ['off'];
  const results = [];
  const baselines = [];
  for (const [i, [metric, data]] of datasets(quick, dataPath).entries()) {
    const large = data.base.length / data.dim > 20000;
    // The scalar build as the baseline: on every 10K set, in a quick run on the first only.
    for (const simd of large || (quick && i > 0) ? builds.slice(0, 1) : builds) {
      results.push(await measure(data, metric, simd, { efs, passes, buildRuns: quick || large ? 1 : 3 }));
    }
    baselines.push({ dataset: data.name, metric, bruteForceQps: bruteForceQps(data, metric, quick ? 20 : 50, quick ? 1 : 3) });
  }
  return { suite: 'hnsw', params: { M, efConstruction: EF_CONSTRUCTION, k: K, efs, passes, quick }, results: { runs: results, baselines }, ...render(results, baselines) };
}

/** Markdown tables, the chart and the notes of a run. */
function render(results, baselines) {
  const scalarOf = (r) => results.find((s) => s.build === 'scalar' && s.dataset === r.dataset && s.metric === r.metric);
  const sweepRows = results.flatMap((r) => r.sweep.map((s) => {
    const base = baselines.find((b) => b.dataset === r.dataset && b.metric === r.metric);
    const scalar = scalarOf(r);
    const scalarRow = scalar && r.build === 'SIMD' ? scalar.sweep.find((x) => x.ef === s.ef) : undefined;
    return [r.dataset, r.metric, r.build, s.ef, s.recall.toFixed(4), spread(s.qps, 0), spread(s.p50), spread(s.p95), spread(s.p99),
      scalarRow ? `${(s.qps.median / scalarRow.qps.median).toFixed(2)}x` : '', `${(s.qps.median / base.bruteForceQps.median).toFixed(0)}x`];
  }));
  const buildRows = results.map((r) => [r.dataset, r.metric, r.build, r.vectors, spread(r.buildMs, 0), spread(r.insertUs), Math.round(r.bytesPerVector), spread(r.batchQps, 0),
    spread(baselines.find((b) => b.dataset === r.dataset && b.metric === r.metric).bruteForceQps, 1)]);
  const text = [
    'Single-thread search, one query at a time, k = 10: median (min-max) over passes.\n',
    table(['dataset', 'metric', 'build', 'ef', 'recall@10', 'QPS', 'P50 us', 'P95 us', 'P99 us', 'QPS vs scalar', 'QPS vs JS brute force'], sweepRows),
    '\nBuild (M 16, efConstruction 200), memory and batch search (searchBatch, ef 64):\n',
    table(['dataset', 'metric', 'build', 'vectors', 'build ms', 'us per insert', 'bytes/vector', 'batch QPS', 'JS brute-force QPS (exact)'], buildRows),
  ].join('\n');
  const notes = results.filter((r) => r.build === 'SIMD').map((r) => {
    const hit = atRecall(r.sweep, 0.95);
    return hit ? `${r.dataset} ${r.metric}: recall@10 >= 0.95 first at ef ${hit.ef} (${hit.recall.toFixed(4)}): ${Math.round(hit.qps.median)} QPS, P95 ${hit.p95.median.toFixed(1)} us.`
      : `${r.dataset} ${r.metric}: recall@10 stays below 0.95 over the sweep.`;
  });
  const charts = [...new Set(results.map((r) => `${r.dataset}|${r.metric}`))].map((key, i) => {
    const series = results.filter((r) => `${r.dataset}|${r.metric}` === key)
      .map((r) => ({ name: `elex-wasm ${r.build}`, points: r.sweep.map((s) => ({ recall: s.recall, qps: s.qps.median, ef: s.ef })) }));
    const [dataset, metric] = key.split('|');
    return { name: `${i + 1}-${metric}`, svg: recallQpsChart(`elex-wasm: ${dataset}, ${metric}, M 16, efC 200`, series) };
  });
  return { table: text, charts, notes };
}

module.exports = { run };
