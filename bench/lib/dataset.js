// The benchmark data: a named set vendored in data/ (present in a clone, not in the npm package):
// `sift` (SIFT-128 10K, 1K queries, exact ground truth; the default) or `glove` (GloVe-100 100K,
// 1K queries, exact cosine and L2 ground truth); a folder laid out the same way; or one .fvecs
// file (its first 100 rows are the queries, with a brute-force truth). Without data/ (an npm
// install), the default is seeded clustered vectors of SIFT's shape with a brute-force truth.
'use strict';
const { existsSync, readdirSync, readFileSync, statSync } = require('node:fs');
const { basename, join } = require('node:path');
const { parseFvecs, parseIvecs } = require('elex-wasm');

const DATA_DIR = join(__dirname, '..', '..', 'data');
const METRICS = ['l2', 'cosine'];

/**
 * The named sets: folder, the metrics a run measures unless told otherwise, and the ef sweeps
 * (GloVe needs larger ef for recall@10 0.95 than SIFT, so its sweep is denser there).
 */
const NAMED = {
  sift: { dir: join(DATA_DIR, 'sift128'), name: 'SIFT-128 10K (data/sift128)', metrics: ['l2', 'cosine'] },
  glove: {
    dir: join(DATA_DIR, 'glove100'),
    name: 'GloVe-100 100K (data/glove100)',
    metrics: ['cosine'],
    efs: { quick: [32, 64, 128, 200], full: [16, 32, 64, 96, 128, 160, 200, 300, 400] },
  },
};

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
  return {
    name: `synthetic ${count} x ${dim}`,
    dim,
    base,
    queries,
    truth: bruteForce(base, queries, dim, 10, metric),
    k: 10,
  };
}

/** The one file in `dir` whose name ends with `suffix`, or undefined (none, or more than one). */
function fileEndingWith(dir, suffix) {
  const found = readdirSync(dir).filter((f) => f.endsWith(suffix));
  return found.length === 1 ? join(dir, found[0]) : undefined;
}

/** A folder of `*_base.fvecs`, `*_query.fvecs` and `*_groundtruth_<metric>.ivecs` as a dataset spec, or { error }. */
function folderSpec(dir, name, metrics, efs) {
  const base = fileEndingWith(dir, '_base.fvecs');
  const query = fileEndingWith(dir, '_query.fvecs');
  if (!base || !query) return { error: `${dir} holds no single *_base.fvecs and *_query.fvecs` };
  const truth = {};
  for (const metric of METRICS) {
    const file = fileEndingWith(dir, `_groundtruth_${metric}.ivecs`);
    if (file) truth[metric] = file;
  }
  if (Object.keys(truth).length === 0)
    return { error: `${dir} holds no ground truth (*_groundtruth_l2.ivecs or *_groundtruth_cosine.ivecs)` };
  return { kind: 'folder', name, base, query, truth, metrics: metrics.filter((m) => truth[m]), efs };
}

/**
 * Resolves what `--data` names (undefined: the default set) to a dataset spec
 * { kind, name, metrics, efs?, ... } or { error }: a named set (`sift`, `glove`), a folder of
 * .fvecs/.ivecs files or one .fvecs file. Reads directory listings only; cost: one readdir.
 */
function resolveDataset(what) {
  if (what === undefined) {
    const sift = NAMED.sift;
    if (!existsSync(join(sift.dir, 'sift128_base.fvecs')))
      return { kind: 'synthetic', name: 'synthetic 10000 x 128', metrics: METRICS };
    return folderSpec(sift.dir, sift.name, sift.metrics);
  }
  const named = NAMED[what];
  if (named) {
    if (!existsSync(named.dir))
      return {
        error: `dataset '${what}' needs ${named.dir}, which is in a clone of the repository (not in the npm package)`,
      };
    return folderSpec(named.dir, named.name, named.metrics, named.efs);
  }
  if (!existsSync(what))
    return {
      error: `unknown dataset '${what}': name one of ${Object.keys(NAMED).join(', ')}, a folder of .fvecs/.ivecs files or an .fvecs file`,
    };
  if (statSync(what).isDirectory()) return folderSpec(what, basename(what), METRICS);
  return { kind: 'file', name: what, path: what, metrics: METRICS };
}

/**
 * The metrics a run of `spec` measures: `wanted` (from --metric) if given, else the set's own.
 * Returns { metrics } or { error } when a wanted metric has no ground truth in a folder.
 */
function datasetMetrics(spec, wanted) {
  if (!wanted) return { metrics: spec.metrics };
  if (spec.kind === 'folder') {
    const missing = wanted.filter((m) => !spec.truth[m]);
    if (missing.length)
      return {
        error: `${spec.name} has no ${missing.map((m) => `*_groundtruth_${m}.ivecs`).join(' or ')} (ground truth for ${missing.join(', ')})`,
      };
  }
  return { metrics: wanted };
}

/**
 * The shape of the .fvecs (`float`) or .ivecs file at `path` as { count, dim }, or { error }
 * naming the file and what is wrong: empty, no whole record, a dim of 0 or less, a length that is
 * no whole number of records (truncated, or not such a file), a record of another dim, a value
 * that is not finite (.fvecs) or an id outside 0..ids - 1 (.ivecs, when `ids` is given).
 * Cost: reading the file and one pass over it.
 */
function vecsShape(path, float, ids) {
  const bytes = readFileSync(path);
  const size = bytes.byteLength;
  if (size === 0) return { error: `${path} is empty (no vectors)` };
  if (size < 4) return { error: `${path}: ${size} bytes, too short for a record` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const dim = view.getInt32(0, true);
  if (dim <= 0) return { error: `${path} declares dim ${dim} in its first record (a dim must be at least 1)` };
  const record = 4 + 4 * dim;
  if (size % record !== 0)
    return {
      error: `${path}: ${size} bytes is not a whole number of ${dim}-d records of ${record} bytes (truncated, or not a .${float ? 'f' : 'i'}vecs file)`,
    };
  const count = size / record;
  for (let i = 0; i < count; i++) {
    const at = i * record;
    const d = view.getInt32(at, true);
    if (d !== dim) return { error: `${path}: record ${i} declares dim ${d}, the first ${dim}` };
    for (let j = 0; j < dim; j++) {
      if (float) {
        const v = view.getFloat32(at + 4 + 4 * j, true);
        if (!Number.isFinite(v)) return { error: `${path}: record ${i} has a non-finite value (${v}) at ${j}` };
      } else if (ids !== undefined) {
        const v = view.getInt32(at + 4 + 4 * j, true);
        if (v < 0 || v >= ids) return { error: `${path}: record ${i} names vector ${v}, outside 0..${ids - 1}` };
      }
    }
  }
  return { count, dim };
}

/**
 * Checks the files a dataset spec (resolveDataset) names before anything runs, so a bad one is
 * refused with its name rather than a stack trace mid-suite: each .fvecs/.ivecs file well formed
 * (vecsShape), the queries of the base's dim, the ground truth's ids within the base, and a row
 * of ground truth for every query. Returns {} or { error }. Cost: reading every file once.
 */
function checkDatasetFiles(spec) {
  if (spec.kind === 'file') {
    const file = vecsShape(spec.path, true);
    return file.error ? file : {};
  }
  if (spec.kind !== 'folder') return {};
  const base = vecsShape(spec.base, true);
  if (base.error) return base;
  const query = vecsShape(spec.query, true);
  if (query.error) return query;
  if (query.dim !== base.dim)
    return { error: `${spec.query} holds ${query.dim}-d vectors, ${spec.base} ${base.dim}-d` };
  for (const metric of METRICS) {
    if (!spec.truth[metric]) continue;
    const truth = vecsShape(spec.truth[metric], false, base.count);
    if (truth.error) return truth;
    if (truth.count < query.count)
      return {
        error: `${spec.truth[metric]} holds ground truth for ${truth.count} queries, ${spec.query} has ${query.count}`,
      };
  }
  return {};
}

/**
 * Loads the dataset for `metric` ('cosine' or 'l2'): { name, dim, base, queries, truth, k }
 * where truth holds k ids per query. `what` is what --data names (see resolveDataset; throws on
 * an error there). An .fvecs file has no truth: it is computed by brute force over its first
 * 100 rows as queries. Cost: reading the files (and that brute force for a file).
 */
function loadDataset(metric = 'cosine', what) {
  const spec = resolveDataset(what);
  if (spec.error) throw new Error(spec.error);
  if (spec.kind === 'synthetic') return synthetic(10000, 200, 128, 1, metric);
  if (spec.kind === 'file') {
    const base = parseFvecs(readFileSync(spec.path));
    const queries = base.data.slice(0, 100 * base.dim);
    return {
      name: spec.name,
      dim: base.dim,
      base: base.data,
      queries,
      truth: bruteForce(base.data, queries, base.dim, 10, metric),
      k: 10,
    };
  }
  if (!spec.truth[metric]) throw new Error(`${spec.name} has no ground truth for ${metric}`);
  const base = parseFvecs(readFileSync(spec.base));
  const queries = parseFvecs(readFileSync(spec.query));
  const truth = parseIvecs(readFileSync(spec.truth[metric]));
  return { name: spec.name, dim: base.dim, base: base.data, queries: queries.data, truth: truth.data, k: truth.dim };
}

module.exports = {
  METRICS,
  NAMED,
  resolveDataset,
  datasetMetrics,
  checkDatasetFiles,
  loadDataset,
  rng,
  synthetic,
  bruteForce,
};
