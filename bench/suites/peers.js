// Suite `peers`: elex-wasm side by side with hnswlib-node, usearch and hnswlib-wasm in one run, on
// the same data, M 16 / efConstruction 200 and ef sweep: recall@10 vs single-thread QPS (one query
// at a time), latency, build time, memory, and at recall@10 >= 0.95 each library's QPS and build
// time against hnswlib-node's in the same run (repeated with --runs: medians). Peers are installed
// on demand into bench/peers (not dependencies of the package); one that fails to install or load
// is skipped with the reason. elex-wasm runs once per quantization of --quantization (default f32).
'use strict';
const { Engine } = require('elex-wasm');
const { K, buildInChunks, efSweepSideBySide, atRecall } = require('../lib/ann.js');
const { recallQpsChart } = require('../lib/chart.js');
const { loadDataset, resolveDataset } = require('../lib/dataset.js');
const { PEER_NAMES, loadPeers } = require('../lib/peer-libs.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { spread, summary } = require('../lib/timing.js');

const PARAMS = { M: 16, efConstruction: 200 };

/** elex-wasm in the peers' shape (SIMD build where supported), storing vectors as `quantization`. */
async function elexAdapter(quantization) {
  const engine = await Engine.create({ budgetBytes: 1024 << 20 });
  return {
    name: `elex-wasm (${engine.simd ? 'SIMD' : 'scalar'}${quantization === 'f32' ? '' : `, ${quantization}`})`,
    engine,
    build(data, metric, { M, efConstruction, progress }) {
      const before = engine.usedBytes;
      const index = engine.createIndex({ dim: data.dim, metric, M, efConstruction, seed: 100, quantization });
      const count = data.base.length / data.dim;
      const ids = Uint32Array.from({ length: count }, (_, i) => i);
      const buildMs = buildInChunks(
        `peers elex-wasm ${metric}`,
        count,
        (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
        { progress },
      );
      return {
        buildMs,
        memoryBytes: engine.usedBytes - before,
        search: (q, ef) => index.search(q, K, { ef }).ids,
        dispose: () => index.dispose(),
      };
    },
  };
}

/** The ef sweep of a run: the data's own (a named set may have one), else the default. */
function sweepEfs(spec, quick) {
  if (spec.efs) return quick ? spec.efs.quick : spec.efs.full;
  return quick ? [10, 32, 64, 128] : [10, 16, 32, 64, 100, 200, 400];
}

/**
 * Runs the suite: { suite, params, results, table, charts, notes }. `data` and `metrics` as the
 * CLI's --data and --metric (default: the data's metrics, a quick run its first only); `runs`
 * times over, every library is built afresh (one after another), then all are swept side by
 * side, pass by pass (see efSweepSideBySide).
 */
async function run({
  quick = false,
  data: dataWhat,
  metrics: wanted,
  quantizations = ['f32'],
  runs = 1,
  progress = silent,
} = {}) {
  const spec = resolveDataset(dataWhat);
  if (spec.error) throw new Error(spec.error);
  const efs = sweepEfs(spec, quick);
  const passes = quick ? 3 : 5;
  const metrics = wanted ?? (quick ? spec.metrics.slice(0, 1) : spec.metrics);
  const elex = [];
  for (const quantization of quantizations) elex.push(await elexAdapter(quantization));
  progress.step(`installing (if needed) and loading ${PEER_NAMES.join(', ')}`);
  const libs = [...elex, ...(await loadPeers())];
  const skipped = libs.filter((l) => l.skipped).map((l) => ({ name: l.name, reason: l.skipped }));
  for (const s of skipped) process.stderr.write(`peers: skipping ${s.name}: ${s.reason}\n`);
  const measured = [];
  for (const metric of metrics) {
    progress.step(`loading ${spec.name} (${metric})`);
    const data = loadDataset(metric, dataWhat);
    for (let r = 1; r <= runs; r++) {
      const of = runs > 1 ? ` (run ${r}/${runs})` : '';
      const ready = libs.filter((l) => !l.skipped);
      const builds = ready.map((lib) => {
        progress.step(`${lib.name} ${metric}${of}: build`);
        return lib.build(data, metric, { ...PARAMS, progress });
      });
      progress.step(
        `${metric}${of}: ef sweep, every library side by side (${efs.length} ef x ${passes} passes x ${ready.length} libraries)`,
      );
      const sweeps = efSweepSideBySide(
        data,
        efs,
        passes,
        builds.map((b) => b.search),
      );
      for (const [i, lib] of ready.entries()) {
        const built = builds[i];
        if (built.dispose) built.dispose();
        measured.push({
          library: lib.name,
          dataset: data.name,
          metric,
          run: r,
          buildMs: built.buildMs,
          memoryBytes: built.memoryBytes,
          memoryAfter: built.memoryAfter,
          sweep: sweeps[i],
        });
      }
    }
  }
  for (const e of elex) e.engine.dispose();
  const summaries = summarise(
    measured,
    libs.filter((l) => !l.skipped).map((l) => l.name),
    metrics,
  );
  return {
    suite: 'peers',
    params: {
      ...PARAMS,
      k: K,
      dataset: spec.name,
      efs,
      passes,
      metrics,
      quantizations,
      runs,
      quick,
      baseline: BASELINE,
      target: TARGET,
    },
    results: { runs: measured, skipped, summaries },
    ...render(summaries, skipped, metrics, runs, passes),
  };
}

const BASELINE = 'hnswlib-node';
const TARGET = 0.95;
const ratio = (a, b) => (a !== undefined && b !== undefined ? a / b : undefined);
const medianOf = (values) => {
  const defined = values.filter((v) => v !== undefined);
  return defined.length ? summary(defined) : undefined;
};

/**
 * Per metric and library, over the runs: the sweep (per ef, recall and QPS/latency as medians of
 * the runs' medians, min-max over every pass), the build, and at recall@10 >= TARGET the cheapest
 * ef, its QPS, and the ratios of QPS and build time to hnswlib-node's in the same run.
 */
function summarise(measured, names, metrics) {
  const out = [];
  for (const metric of metrics) {
    for (const library of names) {
      const mine = measured.filter((m) => m.metric === metric && m.library === library);
      const baseOf = (m) => measured.find((b) => b.metric === metric && b.library === BASELINE && b.run === m.run);
      const hits = mine.map((m) => atRecall(m.sweep, TARGET));
      const baseHits = mine.map((m) => baseOf(m) && atRecall(baseOf(m).sweep, TARGET));
      const pooled = (rows, key) => ({
        ...summary(rows.map((r) => r[key].median)),
        min: Math.min(...rows.map((r) => r[key].min)),
        max: Math.max(...rows.map((r) => r[key].max)),
      });
      const sweep = mine[0].sweep.map((row, i) => {
        const rows = mine.map((m) => m.sweep[i]);
        return {
          ef: row.ef,
          recall: summary(rows.map((r) => r.recall)).median,
          qps: pooled(rows, 'qps'),
          p50: pooled(rows, 'p50'),
          p95: pooled(rows, 'p95'),
          p99: pooled(rows, 'p99'),
        };
      });
      out.push({
        metric,
        library,
        dataset: mine[0].dataset,
        runs: mine.length,
        sweep,
        buildMs: summary(mine.map((m) => m.buildMs)),
        memoryBytes: summary(mine.map((m) => m.memoryBytes)),
        memoryAfter: mine[mine.length - 1].memoryAfter,
        atTarget: {
          ef: medianOf(hits.map((h) => h?.ef)),
          recall: medianOf(hits.map((h) => h?.recall)),
          qps: medianOf(hits.map((h) => h?.qps.median)),
          qpsRatio: medianOf(hits.map((h, i) => ratio(h?.qps.median, baseHits[i]?.qps.median))),
          buildRatio: medianOf(mine.map((m) => ratio(m.buildMs, baseOf(m)?.buildMs))),
        },
      });
    }
  }
  return out;
}

/** Markdown tables, one chart per metric, notes. */
function render(summaries, skipped, metrics, runs, passes) {
  const sweepRows = summaries.flatMap((r) =>
    r.sweep.map((s) => [
      r.library,
      r.metric,
      s.ef,
      s.recall.toFixed(4),
      spread(s.qps, 0),
      spread(s.p50),
      spread(s.p95),
      spread(s.p99),
    ]),
  );
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  const how = (r) =>
    r.library.startsWith('elex')
      ? 'engine.usedBytes growth'
      : r.library !== 'hnswlib-wasm'
        ? 'process RSS growth (rough)'
        : r.memoryBytes.median > 0
          ? 'WASM heap growth'
          : `WASM heap growth (0: it fit in the ${mib(r.memoryAfter)} MiB heap already reserved)`;
  const fig = (s, digits, scale = 1) =>
    s.runs > 1
      ? spread({ median: s.median / scale, min: s.min / scale, max: s.max / scale }, digits)
      : (s.median / scale).toFixed(digits);
  const buildRows = summaries.map((r) => [r.library, r.metric, fig(r.buildMs, 0), mib(r.memoryBytes.median), how(r)]);
  const x = (s) =>
    s ? `${s.median.toFixed(2)}x${s.runs > 1 ? ` (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : ''}` : '-';
  const cmpRows = summaries.map((r) => {
    const t = r.atTarget;
    return [
      r.metric,
      r.library,
      t.ef ? t.ef.median : '-',
      t.recall ? t.recall.median.toFixed(4) : '-',
      t.qps ? fig(t.qps, 0) : '-',
      x(t.qpsRatio),
      fig(r.buildMs, 1, 1000),
      x(t.buildRatio),
    ];
  });
  const over =
    runs > 1
      ? `the median over ${runs} runs of each run's median over ${passes} timed passes (min-max: over every pass of every run)`
      : `median (min-max) over ${passes} timed passes`;
  const text = [
    `Single-thread, one query at a time, k = 10, M 16, efConstruction 200, ${summaries.length ? summaries[0].dataset : ''}:\n`,
    table(['library', 'metric', 'ef', 'recall@10', 'QPS', 'P50 us', 'P95 us', 'P99 us'], sweepRows),
    `\nQPS and P50/P95/P99: ${over}, each pass every query once (a pass's P50/P95/P99 are percentiles over its queries). recall@10 is from one untimed pass${runs > 1 ? ' per run (median over the runs)' : ''}.`,
    '\nBuild and memory:\n',
    table(['library', 'metric', 'build ms', 'memory MiB', 'measured as'], buildRows),
    runs > 1
      ? `\nbuild ms: median (min-max) over ${runs} builds, one a run; memory: the median.`
      : '\nOne build each (no range).',
    `\nAt recall@10 >= ${TARGET} (the cheapest ef reaching it in the sweep), against ${BASELINE} in the same run:\n`,
    table(
      ['metric', 'library', 'ef', 'recall@10', 'QPS', `QPS / ${BASELINE}'s`, 'build s', `build / ${BASELINE}'s`],
      cmpRows,
    ),
    runs > 1
      ? `\nef, recall, QPS: medians over the ${runs} runs (QPS min-max: of the runs' medians); each ratio is taken within a run, then the median (min-max) over the runs.`
      : '\nQPS: the median of the sweep table; the ratios are of those medians and of the single builds.',
  ].join('\n');
  const notes = skipped.map((s) => `Skipped ${s.name}: ${s.reason}`);
  const charts = metrics.map((metric) => ({
    name: metric,
    svg: recallQpsChart(
      `${summaries[0].dataset}, ${metric}: recall@10 vs QPS (single thread)`,
      summaries
        .filter((r) => r.metric === metric)
        .map((r) => ({
          name: r.library,
          points: r.sweep.map((s) => ({ recall: s.recall, qps: s.qps.median, ef: s.ef })),
        })),
    ),
  }));
  return { table: text, charts, notes };
}

module.exports = { run };
