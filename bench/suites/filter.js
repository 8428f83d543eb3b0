// Suite `filter`: allow-list filtered search (issue 22) against a plain-JS exact scan of the
// allowed rows. One index over the data (M 16, efConstruction 100, ef 64); per selectivity
// (the share of the ids a filter allows) and filter kind:
//   random      ids kept with that probability (seeded), one list for every query
//   correlated  per query, its nearest share * n ids (the filter agrees with the query: the
//               easy case for a walk, and where a tenant's or user's rows usually sit)
// Each query hands its allowed ids over as a Uint32Array, to the engine (search with
// { filter }) and to the JS scan (score every allowed row in float64, keep the best 10),
// side by side over interleaved passes. The JS scan is also the ground truth of recall@10.
// Reports the plan the planner chose, recall, QPS of both and their ratio, the cost against an
// unfiltered search timed in the same passes, and (random filters) the QPS with an IdSet.
'use strict';
const { Engine } = require('elex-wasm');
const { K, buildInChunks } = require('../lib/ann.js');
const { loadDataset, resolveDataset, rng } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { table, median } = require('../lib/stats.js');

const M = 16;
const EF_CONSTRUCTION = 100;
const EF = 64;

/** The K nearest of `allowed` (row ids) to query q, by a plain float64 scan (cosine uses precomputed row norms). */
function jsScan(data, norms, metric, q, allowed) {
  const dim = data.dim;
  const base = data.base;
  const query = data.queries;
  const at = q * dim;
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += query[at + j] * query[at + j];
  qn = Math.sqrt(qn);
  const bestD = new Float64Array(K).fill(Infinity);
  const bestI = new Int32Array(K).fill(-1);
  for (let i = 0; i < allowed.length; i++) {
    const id = allowed[i];
    const row = id * dim;
    let s = 0;
    if (metric === 'l2') {
      for (let j = 0; j < dim; j++) {
        const d = query[at + j] - base[row + j];
        s += d * d;
      }
    } else {
      for (let j = 0; j < dim; j++) s += query[at + j] * base[row + j];
      s = 1 - s / (qn * norms[id]);
    }
    if (s >= bestD[K - 1]) continue;
    let p = K - 1;
    while (p > 0 && bestD[p - 1] > s) {
      bestD[p] = bestD[p - 1];
      bestI[p] = bestI[p - 1];
      p--;
    }
    bestD[p] = s;
    bestI[p] = id;
  }
  return bestI;
}

/** Per query, the ids of its nearest `m` rows (the correlated filter), unordered. */
function nearestIds(data, norms, metric, q, m) {
  const n = data.base.length / data.dim;
  const dim = data.dim;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const a = data.queries[q * dim + j];
      const b = data.base[i * dim + j];
      s += metric === 'l2' ? (a - b) * (a - b) : a * b;
    }
    d[i] = metric === 'l2' ? s : -s / norms[i];
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  return order.slice(0, m);
}

/** Milliseconds a call of `body(q)` takes, over the nq queries in turn, repeated for at least MIN_MS. */
const MIN_MS = 40;
function timePerQuery(nq, body) {
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let q = 0; q < nq; q++) body(q);
    calls += nq;
    elapsed = performance.now() - t0;
  } while (elapsed < MIN_MS);
  return elapsed / calls;
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({ quick = false, data: dataPath, metrics, progress = silent } = {}) {
  const metric = (metrics ?? resolveDataset(dataPath).metrics)[0];
  progress.step('loading the dataset');
  const data = loadDataset(metric, dataPath);
  const count = data.base.length / data.dim;
  const nq = Math.min(quick ? 50 : 200, data.queries.length / data.dim);
  const shares = quick ? [0.5, 0.1, 0.01, 0.001] : [0.5, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001];
  const passes = quick ? 3 : 5;
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let j = 0; j < data.dim; j++) s += data.base[i * data.dim + j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const engine = await Engine.create({ budgetBytes: 2000 << 20 });
  const index = engine.createIndex({
    dim: data.dim,
    metric,
    M,
    efConstruction: EF_CONSTRUCTION,
    efSearch: EF,
    seed: 1,
  });
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  progress.step(`building the index (${count} vectors)`);
  buildInChunks(
    'filter index',
    count,
    (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
    { progress },
  );
  const query = (q) => data.queries.subarray(q * data.dim, (q + 1) * data.dim);

  const unfilteredMs = [];
  for (let p = 0; p < passes; p++) unfilteredMs.push(timePerQuery(nq, (q) => index.search(query(q), K)));
  const unfilteredQps = 1000 / median(unfilteredMs);

  const rows = [];
  const results = [];
  for (const kind of ['random', 'correlated']) {
    for (const share of shares) {
      progress.step(`${kind} ${share * 100}%`);
      const m = Math.max(1, Math.round(share * count));
      let lists;
      if (kind === 'random') {
        const next = rng(Math.round(share * 1e6));
        const list = ids.filter(() => next() < share);
        lists = Array.from({ length: nq }, () => list);
      } else {
        lists = Array.from({ length: nq }, (_, q) => nearestIds(data, norms, metric, q, m));
      }
      const truth = lists.map((list, q) => jsScan(data, norms, metric, q, list));
      const engineMs = [];
      const jsMs = [];
      let hits = 0;
      let wanted = 0;
      const plans = new Map();
      for (let q = 0; q < nq; q++) {
        const r = index.search(query(q), K, { filter: lists[q] });
        plans.set(r.plan, (plans.get(r.plan) ?? 0) + 1);
        const t = new Set(Array.from(truth[q]).filter((id) => id >= 0));
        wanted += t.size;
        for (const id of r.ids) if (t.has(id)) hits++;
      }
      // A random filter is the same list for every query: also searched as an IdSet.
      const set = kind === 'random' ? index.idSet(lists[0]) : null;
      const setMs = [];
      const plainMs = [];
      for (let p = 0; p < passes; p++) {
        jsMs.push(timePerQuery(nq, (q) => jsScan(data, norms, metric, q, lists[q])));
        engineMs.push(timePerQuery(nq, (q) => index.search(query(q), K, { filter: lists[q] })));
        if (set !== null) setMs.push(timePerQuery(nq, (q) => index.search(query(q), K, { filter: set })));
        plainMs.push(timePerQuery(nq, (q) => index.search(query(q), K)));
      }
      const engineQps = 1000 / median(engineMs);
      const jsQps = 1000 / median(jsMs);
      const setQps = set === null ? null : 1000 / median(setMs);
      const plainQps = 1000 / median(plainMs);
      const allowed = lists[0].length;
      const result = {
        kind,
        share,
        allowed,
        plans: Object.fromEntries(plans),
        recall: hits / wanted,
        engineQps,
        setQps,
        jsQps,
        ratio: engineQps / jsQps,
        vsUnfiltered: plainQps / engineQps,
        setVsUnfiltered: setQps === null ? null : plainQps / setQps,
      };
      results.push(result);
      rows.push([
        kind,
        `${share * 100}%`,
        allowed,
        [...plans.keys()].join('+'),
        result.recall.toFixed(3),
        engineQps.toFixed(0),
        jsQps.toFixed(0),
        `${result.ratio.toFixed(1)}x`,
        `${result.vsUnfiltered.toFixed(2)}x`,
        setQps === null ? '' : setQps.toFixed(0),
        setQps === null ? '' : `${result.setVsUnfiltered.toFixed(2)}x`,
      ]);
    }
  }
  engine.dispose();
  const text = [
    `${data.name}, ${count} vectors, ${metric}, M ${M}, efConstruction ${EF_CONSTRUCTION}, ef ${EF}, k ${K}, ${nq} queries; unfiltered search ${unfilteredQps.toFixed(0)} QPS.`,
    'Allow-list filters handed over per query as a Uint32Array; JS scan: plain-JS exact scan of the allowed rows (float64, row norms precomputed).\n',
    table(
      [
        'filter',
        'selectivity',
        'allowed',
        'plan',
        'recall@10',
        'QPS engine',
        'QPS JS scan',
        'engine / JS',
        'cost vs unfiltered',
        'QPS IdSet',
        'IdSet cost vs unfiltered',
      ],
      rows,
    ),
    `\nQPS: medians of ${passes} interleaved passes (engine, JS scan, IdSet and unfiltered search side by side, each at least ${MIN_MS} ms). Cost vs unfiltered: unfiltered QPS / filtered QPS. IdSet: the random list made once with index.idSet. Recall@10 against the JS scan's exact top 10.`,
  ].join('\n');
  return {
    suite: 'filter',
    params: {
      M,
      efConstruction: EF_CONSTRUCTION,
      ef: EF,
      shares,
      passes,
      queries: nq,
      vectors: count,
      dataset: data.name,
      metric,
      quick,
    },
    results,
    table: text,
    notes: [],
  };
}

module.exports = { run };
