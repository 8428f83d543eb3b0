// The benchmark data: SIFT-128 vendored in data/sift128 (present in a clone, not in the npm package) (10K base, 1K queries, exact
// ground truth), else seeded clustered vectors of the same shape with a brute-force truth.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parseFvecs, parseIvecs } = require('elex-wasm');

const SIFT_DIR = join(__dirname, '..', '..', 'data', 'sift128');

/** mulberry32: a seeded uniform generator in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exact top-k ids by squared L2 or cosine for each query (plain JS, float64). */
function bruteForce(base, queries, dim, k, metric) {
  const n = base.length / dim;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[i * dim + j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const out = new Int32Array((queries.length / dim) * k);
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  for (let q = 0; q < queries.length / dim; q++) {
    let qn = 0;
    for (let j = 0; j < dim; j++) qn += queries[q * dim + j] ** 2;
    qn = Math.sqrt(qn);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const a = queries[q * dim + j];
        const b = base[i * dim + j];
        s += metric === 'l2' ? (a - b) * (a - b) : a * b;
      }
      dist[i] = metric === 'l2' ? s : 1 - s / (qn * norms[i]);
      order[i] = i;
    }
    order.sort((a, b) => dist[a] - dist[b] || a - b);
    out.set(order.subarray(0, k), q * k);
  }
  return out;
}

/** Gaussian clusters in [0, 255]^dim, shaped like SIFT (non-negative, integer-valued). */
function synthetic(count, queryCount, dim, seed, metric) {
  const next = rng(seed);
  const centres = Array.from({ length: 64 }, () => Float32Array.from({ length: dim }, () => next() * 120));
  const make = (rows) => {
    const out = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) {
      const c = centres[Math.floor(next() * centres.length)];
      for (let j = 0; j < dim; j++) out[i * dim + j] = Math.max(0, Math.round(c[j] + (next() - 0.5) * 80));
    }
    return out;
  };
  const base = make(count);
  const queries = make(queryCount);
  return { name: `synthetic ${count} x ${dim}`, dim, base, queries, truth: bruteForce(base, queries, dim, 10, metric), k: 10 };
}

/**
 * Loads the dataset for `metric` ('cosine' or 'l2'): { name, dim, base, queries, truth, k }
 * where truth holds k ids per query. `path` may name another .fvecs base file (no truth:
 * computed by brute force over its first 100 rows as queries).
 */
function loadDataset(metric = 'cosine', path) {
  if (path) {
    const base = parseFvecs(readFileSync(path));
    const queries = base.data.slice(0, 100 * base.dim);
    return { name: path, dim: base.dim, base: base.data, queries, truth: bruteForce(base.data, queries, base.dim, 10, metric), k: 10 };
  }
  if (!existsSync(join(SIFT_DIR, 'sift128_base.fvecs'))) return synthetic(10000, 200, 128, 1, metric);
  const base = parseFvecs(readFileSync(join(SIFT_DIR, 'sift128_base.fvecs')));
  const queries = parseFvecs(readFileSync(join(SIFT_DIR, 'sift128_query.fvecs')));
  const truth = parseIvecs(readFileSync(join(SIFT_DIR, `sift128_groundtruth_${metric}.ivecs`)));
  return { name: 'SIFT-128 (data/sift128)', dim: base.dim, base: base.data, queries: queries.data, truth: truth.data, k: truth.dim };
}

module.exports = { loadDataset, rng, synthetic };
