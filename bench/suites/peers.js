// Suite `peers`: elex-wasm side by side with hnswlib-wasm and hnswlib-node in one run, on the
// same data, M 16 / efConstruction 200 and ef sweep: recall@10 vs single-thread QPS (one query at
// a time), latency, build time, memory. Peers are installed on demand into bench/peers (not
// dependencies of the package); one that fails to install or load is skipped with the reason.
'use strict';
const { Engine } = require('elex-wasm');
const { K, buildInChunks, efSweep, atRecall } = require('../lib/ann.js');
const { recallQpsChart } = require('../lib/chart.js');
const { loadDataset } = require('../lib/dataset.js');
const { loadPeers } = require('../lib/peer-libs.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { spread } = require('../lib/timing.js');

const PARAMS = { M: 16, efConstruction: 200 };

/** elex-wasm in the peers' shape (SIMD build where supported). */
async function elexAdapter() {
  const engine = await Engine.create({ budgetBytes: 1024 << 20 });
  return {
    name: `elex-wasm (${engine.simd ? 'SIMD' : 'scalar'})`,
    engine,
    build(data, metric, { M, efConstruction, progress }) {
      const before = engine.usedBytes;
      const index = engine.createIndex({ dim: data.dim, metric, M, efConstruction, seed: 100 });
      const count = data.base.length / data.dim;
      const ids = Uint32Array.from({ length: count }, (_, i) => i);
      const buildMs = buildInChunks(`peers elex-wasm ${metric}`, count, (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)), { progress });
      return { buildMs, memoryBytes: engine.usedBytes - before, search: (q, ef) => index.search(q, K, { ef }).ids, dispose: () => index.dispose() };
    },
  };
}

/** Runs the suite: { suite, params, results, table, charts, notes }. */
async function run({ quick = false, data: dataPath, progress = silent } = {}) {
  const efs = quick ? [10, 32, 64, 128] : [10, 16, 32, 64, 100, 200, 400];
  const passes = quick ? 3 : 5;
  const metrics = quick ? ['l2'] : ['l2', 'cosine'];
  const elex = await elexAdapter();
  progress.step('installing (if needed) and loading hnswlib-wasm, hnswlib-node');
  const libs = [elex, ...(await loadPeers())];
  const skipped = libs.filter((l) => l.skipped).map((l) => ({ name: l.name, reason: l.skipped }));
  for (const s of skipped) process.stderr.write(`peers: skipping ${s.name}: ${s.reason}\n`);
  const runs = [];
  for (const metric of metrics) {
    const data = loadDataset(metric, dataPath);
    for (const lib of libs.filter((l) => !l.skipped)) {
      progress.step(`${lib.name} ${metric}: build`);
      const built = lib.build(data, metric, { ...PARAMS, progress });
      progress.step(`${lib.name} ${metric}: ef sweep (${efs.length} ef x ${passes} passes)`);
      const sweep = efSweep(data, efs, passes, built.search);
      if (built.dispose) built.dispose();
      runs.push({ library: lib.name, dataset: data.name, metric, buildMs: built.buildMs, memoryBytes: built.memoryBytes, memoryAfter: built.memoryAfter, sweep });
    }
  }
  elex.engine.dispose();
  const comparisons = compare(runs, elex.name);
  return {
    suite: 'peers', params: { ...PARAMS, k: K, efs, passes, metrics, quick },
    results: { runs, skipped, comparisons }, ...render(runs, skipped, comparisons, metrics),
  };
}

/** Per metric and peer: QPS at the cheapest ef reaching recall@10 >= 0.95, elex / peer. */
function compare(runs, elexName) {
  const out = [];
  for (const metric of new Set(runs.map((r) => r.metric))) {
    const mine = runs.find((r) => r.metric === metric && r.library === elexName);
    const me = atRecall(mine.sweep, 0.95);
    for (const peer of runs.filter((r) => r.metric === metric && r.library !== elexName)) {
      const them = atRecall(peer.sweep, 0.95);
      out.push({
        metric, peer: peer.library, elexEf: me && me.ef, peerEf: them && them.ef,
        elexQps: me && me.qps.median, peerQps: them && them.qps.median, ratio: me && them ? me.qps.median / them.qps.median : undefined,
        buildRatio: peer.buildMs / mine.buildMs,
      });
    }
  }
  return out;
}

/** Markdown tables, one chart per metric, notes. */
function render(runs, skipped, comparisons, metrics) {
  const sweepRows = runs.flatMap((r) => r.sweep.map((s) => [r.library, r.metric, s.ef, s.recall.toFixed(4), spread(s.qps, 0), spread(s.p50), spread(s.p95), spread(s.p99)]));
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  const how = (r) => (r.library.startsWith('elex') ? 'engine.usedBytes growth'
    : r.library !== 'hnswlib-wasm' ? 'process RSS growth (rough)'
      : r.memoryBytes > 0 ? 'WASM heap growth' : `WASM heap growth (0: it fit in the ${mib(r.memoryAfter)} MiB heap already reserved)`);
  const buildRows = runs.map((r) => [r.library, r.metric, r.buildMs.toFixed(0), mib(r.memoryBytes), how(r)]);
  const cmpRows = comparisons.map((c) => [c.metric, c.peer, c.elexEf ?? '-', c.elexQps ? Math.round(c.elexQps) : '-', c.peerEf ?? '-',
    c.peerQps ? Math.round(c.peerQps) : '-', c.ratio ? `${c.ratio.toFixed(2)}x` : '-', `${c.buildRatio.toFixed(2)}x`]);
  const text = [
    'Single-thread, one query at a time, k = 10, M 16, efConstruction 200:\n',
    table(['library', 'metric', 'ef', 'recall@10', 'QPS', 'P50 us', 'P95 us', 'P99 us'], sweepRows),
    `\nQPS and P50/P95/P99: median (min-max) over ${runs.length ? runs[0].sweep[0].qps.runs : 0} timed passes, each pass every query once (a pass's P50/P95/P99 are percentiles over its queries). recall@10 is from one untimed pass.`,
    '\nBuild and memory:\n',
    table(['library', 'metric', 'build ms', 'memory MiB', 'measured as'], buildRows),
    '\nOne build each (no range).',
    '\nAt recall@10 >= 0.95 (the cheapest ef reaching it in the sweep):\n',
    table(['metric', 'peer', 'elex ef', 'elex QPS', 'peer ef', 'peer QPS', 'elex QPS / peer QPS', 'peer build ms / elex build ms'], cmpRows),
    '\nQPS: the medians of the sweep table; the ratios are of those medians and of the single builds.',
  ].join('\n');
  const notes = skipped.map((s) => `Skipped ${s.name}: ${s.reason}`);
  const charts = metrics.map((metric) => ({
    name: metric,
    svg: recallQpsChart(`${runs[0].dataset}, ${metric}: recall@10 vs QPS (single thread)`, runs.filter((r) => r.metric === metric)
      .map((r) => ({ name: r.library, points: r.sweep.map((s) => ({ recall: s.recall, qps: s.qps.median, ef: s.ef })) }))),
  }));
  return { table: text, charts, notes };
}

module.exports = { run };
