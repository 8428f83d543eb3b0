// Suite `compact`: what index.compact() gives back and what it does to search. One index is
// built over the data (M 16, efConstruction 200) and copied (serialize / loadIndex) per removal
// share (0%, 10%, 50%, 98% of the vectors, seeded); each copy is searched before and after
// compact() side by side (interleaved passes, one query at a time), with recall@10 against the
// exact top 10 of the vectors left. Reports the compaction time and the index's engine bytes.
// At 0% nothing is dropped and compact() only renumbers the nodes breadth-first: the ordering's
// own effect on speed.
'use strict';
const { Engine } = require('elex-wasm');
const { K, buildInChunks, efSweepSideBySide } = require('../lib/ann.js');
const { bruteForce, loadDataset, resolveDataset, rng } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { spread } = require('../lib/timing.js');

const M = 16;
const EF_CONSTRUCTION = 200;

/**
 * The exact top K of every query among the ids `live` keeps: the survivors of the data's own
 * top-k list when K of them are left, else a brute force over the survivors.
 */
function truthAfter(data, metric, live) {
  const nq = data.queries.length / data.dim;
  const out = new Int32Array(nq * K);
  let survivors;
  for (let q = 0; q < nq; q++) {
    const kept = Array.from(data.truth.subarray(q * data.k, (q + 1) * data.k))
      .filter((id) => live[id])
      .slice(0, K);
    if (kept.length === K) {
      out.set(kept, q * K);
      continue;
    }
    survivors ??= Array.from(live.keys()).filter((id) => live[id]);
    const base = new Float32Array(survivors.length * data.dim);
    survivors.forEach((id, i) => base.set(data.base.subarray(id * data.dim, (id + 1) * data.dim), i * data.dim));
    const top = bruteForce(base, data.queries.subarray(q * data.dim, (q + 1) * data.dim), data.dim, K, metric);
    out.set(
      Array.from(top, (i) => survivors[i]),
      q * K,
    );
  }
  return out;
}

/** Bytes `body` leaves allocated in `engine`. */
function bytesOf(engine, body) {
  const before = engine.usedBytes;
  const value = body();
  return { value, bytes: engine.usedBytes - before };
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({ quick = false, data: dataPath, metrics, progress = silent } = {}) {
  const metric = (metrics ?? resolveDataset(dataPath).metrics)[0];
  progress.step('loading the dataset');
  const data = loadDataset(metric, dataPath);
  const count = data.base.length / data.dim;
  const shares = quick ? [0, 0.5] : [0, 0.1, 0.5, 0.98];
  const efs = data.dim <= 100 && count >= 50000 ? [64, 128] : [16, 32, 64];
  const passes = quick ? 2 : 5;
  const engine = await Engine.create({ budgetBytes: 2000 << 20 });
  const built = engine.createIndex({ dim: data.dim, metric, M, efConstruction: EF_CONSTRUCTION, seed: 1 });
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  progress.step(`building the index (${count} vectors)`);
  buildInChunks(
    'compact index',
    count,
    (from, to) => built.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
    { progress },
  );
  const snapshot = built.serialize();
  built.dispose();
  const rows = [];
  const results = [];
  for (const share of shares) {
    progress.step(`${Math.round(share * 100)}% removed`);
    const next = rng(7);
    const live = Array.from({ length: count }, () => next() >= share);
    const before = bytesOf(engine, () => engine.loadIndex(snapshot));
    const after = bytesOf(engine, () => engine.loadIndex(snapshot));
    for (let id = 0; id < count; id++) {
      if (live[id]) continue;
      before.value.remove(id);
      after.value.remove(id);
    }
    const used = engine.usedBytes;
    const t0 = performance.now();
    after.value.compact();
    const compactMs = performance.now() - t0;
    const freed = used - engine.usedBytes;
    const left = { ...data, truth: truthAfter(data, metric, live), k: K };
    const search = (index) => (query, ef) => index.search(query, K, { ef }).ids;
    const [tombstoned, compacted] = efSweepSideBySide(left, efs, passes, [search(before.value), search(after.value)]);
    const result = {
      share,
      live: after.value.size,
      compactMs,
      bytesBefore: before.bytes,
      bytesAfter: before.bytes - freed,
      tombstoned,
      compacted,
    };
    results.push(result);
    for (let i = 0; i < efs.length; i++) {
      const a = tombstoned[i];
      const b = compacted[i];
      rows.push([
        `${Math.round(share * 100)}%`,
        result.live,
        efs[i],
        a.recall.toFixed(3),
        b.recall.toFixed(3),
        spread(a.p50),
        spread(b.p50),
        `${(b.qps.median / a.qps.median).toFixed(2)}x`,
        i === 0 ? compactMs.toFixed(0) : '',
        i === 0 ? `${(before.bytes / 1048576).toFixed(1)} -> ${(result.bytesAfter / 1048576).toFixed(1)}` : '',
      ]);
    }
    before.value.dispose();
    after.value.dispose();
  }
  engine.dispose();
  const text = [
    `${data.name}, ${count} vectors, ${metric}, M ${M}, efConstruction ${EF_CONSTRUCTION}; a share of the vectors removed, then compact().`,
    'Before / after: the same index searched with the removed nodes in place and after compact(), side by side.\n',
    table(
      [
        'removed',
        'left',
        'ef',
        'recall before',
        'recall after',
        'P50 us before',
        'P50 us after',
        'QPS after / before',
        'compact ms',
        'MiB before -> after',
      ],
      rows,
    ),
    `\nP50: median (min-max) over ${passes} interleaved passes; QPS ratio of the medians. Recall@10 against the exact top 10 of the vectors left.`,
  ].join('\n');
  return {
    suite: 'compact',
    params: {
      M,
      efConstruction: EF_CONSTRUCTION,
      shares,
      efs,
      passes,
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
