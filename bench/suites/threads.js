// Suite `threads`: the async batch calls on an engine's worker threads (issue 24,
// docs/threads.md). For 1, 2, 4 ... threads up to the cores this machine reports:
//   build   the index (M 16, efConstruction 200) from every base vector: addBatch on 1 thread,
//           addBatchAsync on more (pipelined, the default, then { reproducible: true } on its
//           own engine: the lockstep build), wall-clock seconds and the speed-up over 1 thread
//   recall  recall@10 at ef 64 of that index (searchBatch), against the dataset's ground truth
//   search  QPS of one batch of the queries (1,000 rows: the dataset's queries repeated): on the
//           n-thread engine, searchBatch and searchBatchAsync timed in interleaved passes over
//           the same index (medians), so their ratio is free of the build's noise; the ids are
//           checked equal
// and usearch's `threads` argument beside it (its add and search on n threads, if it installs
// from npm into bench/peers).
'use strict';
const { Engine } = require('elex-wasm');
const { availableParallelism } = require('node:os');
const { bruteForce, loadDataset, resolveDataset } = require('../lib/dataset.js');
const { requirePeer } = require('../lib/peer-libs.js');
const { silent } = require('../lib/progress.js');
const { median, recallAt, table } = require('../lib/stats.js');

const M = 16;
const EF_CONSTRUCTION = 200;
const EF = 64;
const K = 10;
const BATCH = 1000;

/** 1, 2, 4 ... up to the cores, and the core count itself. */
function threadCounts() {
  const cores = availableParallelism();
  const out = [];
  for (let t = 1; t < cores; t *= 2) out.push(t);
  out.push(cores);
  return [...new Set(out)];
}

/** `BATCH` query rows: the dataset's queries, repeated. */
function batchOf(data) {
  const nq = data.queries.length / data.dim;
  const out = new Float32Array(BATCH * data.dim);
  for (let i = 0; i < BATCH; i++)
    out.set(data.queries.subarray((i % nq) * data.dim, ((i % nq) + 1) * data.dim), i * data.dim);
  return out;
}

/** Median QPS of each of `calls` (async functions running the batch), in interleaved passes. */
async function interleaved(calls, passes) {
  const qps = calls.map(() => []);
  for (let p = 0; p < passes; p++) {
    for (let c = 0; c < calls.length; c++) {
      const t0 = performance.now();
      await calls[c]();
      qps[c].push(BATCH / ((performance.now() - t0) / 1000));
    }
  }
  return qps.map(median);
}

/** Builds an index of `count` base vectors on `threads` threads (`mode` 'pipelined' or 'reproducible' above one): the engine, index and seconds. */
async function build(data, metric, count, threads, mode) {
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  const base = data.base.subarray(0, count * data.dim);
  const engine = await Engine.create({ threads, budgetBytes: 2000 << 20 });
  const index = engine.createIndex({
    dim: data.dim,
    metric,
    M,
    efConstruction: EF_CONSTRUCTION,
    efSearch: EF,
    seed: 1,
  });
  const t0 = performance.now();
  if (threads === 1) index.addBatch(ids, base);
  else await index.addBatchAsync(ids, base, undefined, { reproducible: mode === 'reproducible' });
  return { engine, index, buildS: (performance.now() - t0) / 1000 };
}

/** The elex rows: build time, recall, batch QPS at each thread count (and the reproducible build's time and recall). */
async function elexRows(data, metric, count, counts, passes, progress) {
  const batch = batchOf(data);
  const nq = data.queries.length / data.dim;
  const recallOf = (index) => recallAt(index.searchBatch(data.queries, K, { ef: EF }).ids, data.truth, nq, K, data.k);
  const rows = [];
  for (const threads of counts) {
    progress.step(`elex: building on ${threads} thread(s)`);
    const { engine, index, buildS } = await build(data, metric, count, threads, 'pipelined');
    const recall = recallOf(index);
    const sync = index.searchBatch(batch, K);
    const async = await index.searchBatchAsync(batch, K);
    const same = sync.ids.every((id, i) => id === async.ids[i]);
    const [qps1, qpsN] = await interleaved(
      [async () => index.searchBatch(batch, K), () => index.searchBatchAsync(batch, K)],
      passes,
    );
    rows.push({
      threads: engine.threads,
      mode: threads === 1 ? 'addBatch' : 'pipelined',
      buildS,
      recall,
      qps1,
      qpsN,
      same,
    });
    engine.dispose();
    if (threads > 1) {
      progress.step(`elex: building on ${threads} threads, reproducible`);
      const lockstep = await build(data, metric, count, threads, 'reproducible');
      rows.push({
        threads: lockstep.engine.threads,
        mode: 'reproducible',
        buildS: lockstep.buildS,
        recall: recallOf(lockstep.index),
      });
      lockstep.engine.dispose();
    }
  }
  return rows;
}

/** usearch's rows: add and search of the same data with its `threads` argument, or { skipped }. */
function usearchRows(data, metric, count, counts, passes, progress) {
  const peer = requirePeer('usearch');
  if (peer.skipped) return { skipped: peer.skipped };
  const { Index } = peer.module;
  const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(i));
  const base = data.base.subarray(0, count * data.dim);
  const batch = batchOf(data);
  const rows = [];
  for (const threads of counts) {
    progress.step(`usearch: building on ${threads} thread(s)`);
    const index = new Index({
      dimensions: data.dim,
      metric: metric === 'l2' ? 'l2sq' : 'cos',
      quantization: 'f32',
      connectivity: M,
      expansion_add: EF_CONSTRUCTION,
      expansion_search: EF,
      multi: false,
    });
    const t0 = performance.now();
    index.add(keys, base, threads);
    const buildS = (performance.now() - t0) / 1000;
    const nq = data.queries.length / data.dim;
    const found = index.search(data.queries, K, threads);
    const recall = recallAt(Uint32Array.from(found.keys, Number), data.truth, nq, K, data.k);
    const qps = [];
    for (let p = 0; p < passes; p++) {
      const s0 = performance.now();
      index.search(batch, K, threads);
      qps.push(BATCH / ((performance.now() - s0) / 1000));
    }
    rows.push({ threads, buildS, recall, qps: median(qps) });
  }
  return { rows };
}

async function run({ quick = false, data: dataPath, metrics, progress = silent } = {}) {
  const metric = (metrics ?? resolveDataset(dataPath).metrics)[0];
  progress.step('loading the dataset');
  const full = loadDataset(metric, dataPath);
  const count = Math.min(full.base.length / full.dim, quick ? 20000 : Infinity);
  // A quick run indexes a prefix of the base: its ground truth is recomputed over the prefix.
  const data =
    count === full.base.length / full.dim
      ? full
      : (() => {
          const base = full.base.subarray(0, count * full.dim);
          const queries = full.queries.subarray(0, 100 * full.dim);
          return { ...full, base, queries, truth: bruteForce(base, queries, full.dim, K, metric), k: K };
        })();
  const counts = threadCounts();
  const passes = quick ? 3 : 7;
  const elex = await elexRows(data, metric, count, counts, passes, progress);
  const peer = usearchRows(data, metric, count, counts, passes, progress);
  const one = elex[0];
  const text = table(
    [
      'threads',
      'build',
      'build s',
      'build speed-up',
      'recall@10',
      'searchBatch QPS',
      'searchBatchAsync QPS',
      'ratio',
      'same ids',
    ],
    elex.map((r) => [
      r.threads,
      r.mode,
      r.buildS.toFixed(1),
      `${(one.buildS / r.buildS).toFixed(2)}x`,
      r.recall.toFixed(4),
      ...(r.qps1 === undefined
        ? ['', '', '', '']
        : [r.qps1.toFixed(0), r.qpsN.toFixed(0), `${(r.qpsN / r.qps1).toFixed(2)}x`, r.same ? 'yes' : 'NO']),
    ]),
  );
  const peerText = peer.skipped
    ? `usearch: skipped (${peer.skipped})`
    : table(
        ['usearch threads', 'build s', 'build speed-up', 'recall@10', 'QPS'],
        peer.rows.map((r) => [
          r.threads,
          r.buildS.toFixed(1),
          `${(peer.rows[0].buildS / r.buildS).toFixed(2)}x`,
          r.recall.toFixed(4),
          r.qps.toFixed(0),
        ]),
      );
  return {
    suite: 'threads',
    params: {
      M,
      efConstruction: EF_CONSTRUCTION,
      ef: EF,
      batch: BATCH,
      passes,
      vectors: count,
      dataset: data.name,
      metric,
      quick,
    },
    results: { elex, usearch: peer },
    table: `${text}\n\n${peerText}`,
    notes: [],
  };
}

module.exports = { run };
