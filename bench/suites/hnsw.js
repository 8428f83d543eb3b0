// Suite `hnsw`: build time and per-vector insert cost, recall@10 vs single-thread QPS and
// P50/P95/P99 latency over an ef sweep, batch search throughput, bytes per vector; SIMD and
// scalar builds side by side, and an exact plain-JS brute force as the baseline of the same run.
// Data: the vendored SIFT-128 in data/sift128 (or --data, e.g. glove), and in a full run without
// --data seeded synthetic 10K x 128 and 100K x 128. Each index is built with every quantization of
// --quantization (default f32).
'use strict';
const { Engine, simdSupported } = require('elex-wasm');
const { K, buildInChunks, queryRows, efSweep, atRecall } = require('../lib/ann.js');
const { recallQpsChart } = require('../lib/chart.js');
const { loadDataset, resolveDataset, synthetic } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { repeat, summary, spread } = require('../lib/timing.js');

const M = 16;
const EF_CONSTRUCTION = 200;

/** Builds an index over `data` in a fresh engine; { engine, index, buildMs, bytesPerVector }. */
async function buildIndex(data, metric, simd, quantization, label, progress) {
  const engine = await Engine.create({ simd, budgetBytes: 1024 << 20 });
  const before = engine.usedBytes;
  const index = engine.createIndex({
    dim: data.dim,
    metric,
    M,
    efConstruction: EF_CONSTRUCTION,
    seed: 1,
    quantization,
  });
  const count = data.base.length / data.dim;
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  const buildMs = buildInChunks(
    label,
    count,
    (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
    { progress },
  );
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
async function measure(data, metric, simd, quantization, { efs, passes, buildRuns, progress, stage }) {
  const build = simd === 'on' ? 'SIMD' : 'scalar';
  const label = `hnsw ${data.name} ${metric} ${quantization} ${build}`;
  const builds = [];
  let last;
  for (let r = 0; r < buildRuns; r++) {
    if (last) last.engine.dispose();
    progress.step(`${stage}: ${data.name} ${metric} ${quantization} ${build}, build ${r + 1}/${buildRuns}`);
    last = await buildIndex(data, metric, simd, quantization, `${label} build ${r + 1}/${buildRuns}`, progress);
    builds.push(last.buildMs);
  }
  const { engine, index, bytesPerVector } = last;
  const count = data.base.length / data.dim;
  const buildMs = summary(builds);
  progress.step(
    `${stage}: ${data.name} ${metric} ${quantization} ${build}, ef sweep (${efs.length} ef x ${passes} passes)`,
  );
  const sweep = efSweep(data, efs, passes, (q, ef) => index.search(q, K, { ef }).ids);
  progress.step(`${stage}: ${data.name} ${metric} ${quantization} ${build}, searchBatch`);
  const batch = batchQps(index, data, passes);
  engine.dispose();
  return {
    dataset: data.name,
    metric,
    quantization,
    build,
    vectors: count,
    queries: data.queries.length / data.dim,
    buildMs,
    insertUs: summary(builds.map((ms) => (ms * 1000) / count)),
    bytesPerVector,
    batchQps: batch,
    sweep,
  };
}

/**
 * The datasets of a run: the --data set (default SIFT-128) under each metric (--metric, else
 * the set's own), then, in a full run without --data, synthetic sets.
 */
function datasets(quick, dataWhat, metrics) {
  const out = metrics.map((metric) => [metric, loadDataset(metric, dataWhat)]);
  if (!quick && dataWhat === undefined) {
    out.push(['l2', synthetic(10000, 200, 128, 11, 'l2')]);
    out.push(['l2', synthetic(100000, 200, 128, 12, 'l2')]);
  }
  return out;
}

/** Runs the suite: { suite, params, results, table, charts, notes }. */
async function run({
  quick = false,
  data: dataWhat,
  metrics: wanted,
  quantizations = ['f32'],
  progress = silent,
} = {}) {
  const spec = resolveDataset(dataWhat);
  if (spec.error) throw new Error(spec.error);
  const efs = spec.efs
    ? spec.efs[quick ? 'quick' : 'full']
    : quick
      ? [10, 32, 64, 128]
      : [10, 16, 32, 64, 100, 200, 400];
  const passes = quick ? 3 : 5;
  const builds = simdSupported() ? ['on', 'off'] : ['off'];
  const results = [];
  const baselines = [];
  progress.step('loading datasets');
  const sets = datasets(quick, dataWhat, wanted ?? spec.metrics);
  for (const [i, [metric, data]] of sets.entries()) {
    const large = data.base.length / data.dim > 20000;
    const stage = `dataset ${i + 1}/${sets.length}`;
    // The scalar build as the baseline: on every 10K set, in a quick run on the first only.
    for (const quantization of quantizations) {
      for (const simd of large || (quick && i > 0) ? builds.slice(0, 1) : builds) {
        results.push(
          await measure(data, metric, simd, quantization, {
            efs,
            passes,
            buildRuns: quick || large ? 1 : 3,
            progress,
            stage,
          }),
        );
      }
    }
    progress.step(`${stage}: ${data.name} ${metric}, JS brute-force baseline`);
    const bruteQueries = quick ? 20 : 50;
    baselines.push({
      dataset: data.name,
      metric,
      queries: bruteQueries,
      bruteForceQps: bruteForceQps(data, metric, bruteQueries, quick ? 1 : 3),
    });
  }
  return {
    suite: 'hnsw',
    params: { M, efConstruction: EF_CONSTRUCTION, k: K, efs, passes, quick, quantizations },
    results: { runs: results, baselines },
    ...render(results, baselines),
  };
}

/** Markdown tables, the chart and the notes of a run. */
function render(results, baselines) {
  const scalarOf = (r) =>
    results.find(
      (s) =>
        s.build === 'scalar' && s.dataset === r.dataset && s.metric === r.metric && s.quantization === r.quantization,
    );
  const sweepRows = results.flatMap((r) =>
    r.sweep.map((s) => {
      const base = baselines.find((b) => b.dataset === r.dataset && b.metric === r.metric);
      const scalar = scalarOf(r);
      const scalarRow = scalar && r.build === 'SIMD' ? scalar.sweep.find((x) => x.ef === s.ef) : undefined;
      return [
        r.dataset,
        r.metric,
        r.quantization,
        r.build,
        s.ef,
        s.recall.toFixed(4),
        spread(s.qps, 0),
        spread(s.p50),
        spread(s.p95),
        spread(s.p99),
        scalarRow ? `${(s.qps.median / scalarRow.qps.median).toFixed(2)}x` : '',
        `${(s.qps.median / base.bruteForceQps.median).toFixed(0)}x`,
      ];
    }),
  );
  const buildRows = results.map((r) => [
    r.dataset,
    r.metric,
    r.quantization,
    r.build,
    r.vectors,
    spread(r.buildMs, 0),
    spread(r.insertUs),
    Math.round(r.bytesPerVector),
    spread(r.batchQps, 0),
    spread(baselines.find((b) => b.dataset === r.dataset && b.metric === r.metric).bruteForceQps, 1),
  ]);
  // "3 passes", "1 or 3 builds": the distinct counts behind the rows of a column.
  const counts = (values, noun) => {
    const distinct = [...new Set(values)].sort((a, b) => a - b);
    return `${distinct.join(' or ')} ${noun}${distinct.length === 1 && distinct[0] === 1 ? '' : 's'}`;
  };
  const passes = counts(
    results.flatMap((r) => r.sweep.map((s) => s.qps.runs)),
    'timed pass',
  );
  const text = [
    'Single-thread search, one query at a time, k = 10:\n',
    table(
      [
        'dataset',
        'metric',
        'quantization',
        'build',
        'ef',
        'recall@10',
        'QPS',
        'P50 us',
        'P95 us',
        'P99 us',
        'QPS vs scalar',
        'QPS vs JS brute force',
      ],
      sweepRows,
    ),
    `\nQPS and P50/P95/P99: median (min-max) over ${passes}, each pass every query once (a pass's P50/P95/P99 are percentiles over its queries). recall@10 is from one untimed pass. Ratios are of the medians.`,
    '\nBuild (M 16, efConstruction 200), memory and batch search (searchBatch, ef 64):\n',
    table(
      [
        'dataset',
        'metric',
        'quantization',
        'build',
        'vectors',
        'build ms',
        'us per insert',
        'bytes/vector',
        'batch QPS',
        'JS brute-force QPS (exact)',
      ],
      buildRows,
    ),
    `\nbuild ms and us per insert: median (min-max) over ${counts(
      results.map((r) => r.buildMs.runs),
      'build',
    )} of the row (after one build all three are that build); batch QPS: over ${counts(
      results.map((r) => r.batchQps.runs),
      'searchBatch call',
    )} over every query; JS brute-force QPS: over ${counts(
      baselines.map((b) => b.bruteForceQps.runs),
      'pass',
    )} over the first ${counts(
      baselines.map((b) => b.queries),
      'query',
    )}.`,
  ].join('\n');
  const notes = results
    .filter((r) => r.build === 'SIMD')
    .map((r) => {
      const hit = atRecall(r.sweep, 0.95);
      return hit
        ? `${r.dataset} ${r.metric} ${r.quantization}: recall@10 >= 0.95 first at ef ${hit.ef} (${hit.recall.toFixed(4)}): ${Math.round(hit.qps.median)} QPS, P95 ${hit.p95.median.toFixed(1)} us.`
        : `${r.dataset} ${r.metric} ${r.quantization}: recall@10 stays below 0.95 over the sweep.`;
    });
  const charts = [...new Set(results.map((r) => `${r.dataset}|${r.metric}`))].map((key, i) => {
    const series = results
      .filter((r) => `${r.dataset}|${r.metric}` === key)
      .map((r) => ({
        name: `elex-wasm ${r.build}${r.quantization === 'f32' ? '' : ` ${r.quantization}`}`,
        points: r.sweep.map((s) => ({ recall: s.recall, qps: s.qps.median, ef: s.ef })),
      }));
    const [dataset, metric] = key.split('|');
    return {
      name: `${i + 1}-${metric}`,
      svg: recallQpsChart(`elex-wasm: ${dataset}, ${metric}, M 16, efC 200`, series),
    };
  });
  return { table: text, charts, notes };
}

module.exports = { run };
