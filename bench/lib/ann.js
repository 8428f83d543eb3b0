// Shared by the hnsw and peers suites: building an index in chunks behind a progress bar, and
// the ef sweep (recall@10, single-thread QPS, P50/P95/P99 latency) for any search function.
'use strict';
const { progressBar, silent } = require('./progress.js');
const { percentile, recallAt } = require('./stats.js');
const { summary } = require('./timing.js');

const K = 10;

/**
 * Calls add(from, to) over [0, count) in chunks, with a progress bar in a terminal and
 * `progress` ticks otherwise (see progress.js); returns elapsed ms.
 */
function buildInChunks(label, count, add, { progress = silent, chunk = 1000 } = {}) {
  const bar = progressBar(label, count);
  const t0 = performance.now();
  for (let from = 0; from < count; from += chunk) {
    const to = Math.min(count, from + chunk);
    add(from, to);
    bar.tick(to);
    progress.tick(label, to, count);
  }
  const ms = performance.now() - t0;
  bar.done();
  return ms;
}

/** The queries of `data` as row views, made once before timing. */
function queryRows(data) {
  const rows = [];
  for (let q = 0; q < data.queries.length / data.dim; q++)
    rows.push(data.queries.subarray(q * data.dim, (q + 1) * data.dim));
  return rows;
}

/**
 * For each ef: recall@10 from an untimed pass (which also warms the JIT), then `passes` timed
 * passes over every query, one at a time, with `search(query, ef, queryNumber)` returning the K
 * nearest ids.
 * Passes are the outer loop, so a burst of noise on a shared machine hits every ef alike.
 * Returns rows of { ef, recall, qps, p50, p95, p99 }: qps and latencies (us) as summaries over passes.
 */
function efSweep(data, efs, passes, search) {
  return efSweepSideBySide(data, efs, passes, [search])[0];
}

/**
 * efSweep for several search functions at once, interleaved: each timed pass runs every
 * function over every ef in turn, so noise on a shared machine hits them alike (their ratios
 * are taken from the same moments). Returns one efSweep result per function.
 * Cost: (passes + 1) * efs * searches passes over the queries.
 */
function efSweepSideBySide(data, efs, passes, searches) {
  const rows = queryRows(data);
  const ids = new Uint32Array(rows.length * K);
  const lat = new Float64Array(rows.length);
  const out = searches.map((search) =>
    efs.map((ef) => {
      for (let q = 0; q < rows.length; q++) ids.set(search(rows[q], ef, q), q * K);
      return { ef, recall: recallAt(ids, data.truth, rows.length, K, data.k), qps: [], p50: [], p95: [], p99: [] };
    }),
  );
  for (let pass = 0; pass < passes; pass++) {
    for (const [i, search] of searches.entries()) {
      for (const row of out[i]) {
        const t0 = performance.now();
        for (let q = 0; q < rows.length; q++) {
          const t = performance.now();
          search(rows[q], row.ef, q);
          lat[q] = (performance.now() - t) * 1000;
        }
        row.qps.push((rows.length * 1000) / (performance.now() - t0));
        row.p50.push(percentile(lat, 50));
        row.p95.push(percentile(lat, 95));
        row.p99.push(percentile(lat, 99));
      }
    }
  }
  return out.map((sweep) =>
    sweep.map((r) => ({
      ef: r.ef,
      recall: r.recall,
      qps: summary(r.qps),
      p50: summary(r.p50),
      p95: summary(r.p95),
      p99: summary(r.p99),
    })),
  );
}

/** The first sweep row with recall >= `target` (the cheapest ef reaching it), or undefined. */
function atRecall(rows, target) {
  return rows.find((r) => r.recall >= target);
}

module.exports = { K, buildInChunks, queryRows, efSweep, efSweepSideBySide, atRecall };
