// Suite `simd`: dot / l2sq / cosine at 32, 128, 384, 768 dims: the SIMD build's f32x4 kernels,
// their scalar twins (same build), and plain JS. Each figure is ns per distance, scoring one
// query against a block of rows in one call (kernelBatch), so the JS->WASM crossing (~5 ns)
// is spread over the block; benchmark.js samples, median (min-max).
'use strict';
const { Engine, simdSupported } = require('elex-wasm');
const { rng } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { micro, spread } = require('../lib/timing.js');

const DIMS = [32, 128, 384, 768];
const KINDS = ['dot', 'l2sq', 'cosine'];

function jsDistance(kind, q, rows, n, r) {
  let s = 0;
  let qq = 0;
  let rr = 0;
  const at = r * n;
  for (let i = 0; i < n; i++) {
    const a = q[i];
    const b = rows[at + i];
    if (kind === 'l2sq') s += (a - b) * (a - b);
    else {
      s += a * b;
      qq += a * a;
      rr += b * b;
    }
  }
  return kind === 'cosine' ? 1 - s / Math.sqrt(qq * rr) : s;
}

/** benchmark.js summary of ns per distance of `body`, which computes `count` distances a call. */
function perDistance(body, count, quick) {
  const s = micro(body, { quick });
  const per = (x) => x / count;
  return { median: per(s.median), min: per(s.min), max: per(s.max), p25: per(s.p25), p75: per(s.p75), runs: s.runs, rme: s.rme };
}

/** Runs the suite: { suite, params, results, table }. */
async function run({ quick = false, progress = silent } = {}) {
  if (!simdSupported()) throw new Error('this Node does not run WebAssembly SIMD');
  const cases = DIMS.length * KINDS.length;
  const engine = await Engine.create({ simd: 'on', budgetBytes: 64 << 20 });
  const rt = engine.runtime;
  const ex = rt.exports;
  const next = rng(5);
  const results = [];
  for (const n of DIMS) {
    const count = Math.max(16, Math.floor(32768 / n));
    const q = Float32Array.from({ length: n }, () => next() * 2 - 1);
    const rows = Float32Array.from({ length: n * count }, () => next() * 2 - 1);
    const pq = ex.stagingReserve(0, n * 4);
    const pr = ex.stagingReserve(1, rows.length * 4);
    const out = ex.stagingReserve(2, count * 4);
    rt.f32().set(q, pq >>> 2);
    rt.f32().set(rows, pr >>> 2);
    KINDS.forEach((kind, k) => {
      progress.step(`${kind} ${n}-d: case ${results.length + 1}/${cases} (f32x4, scalar, JS)`);
      const simdNs = perDistance(() => ex.kernelBatch(k, pq, pr, n, count, out), count, quick);
      const scalarNs = perDistance(() => ex.kernelBatch(k + 3, pq, pr, n, count, out), count, quick);
      let sink = 0;
      const jsNs = perDistance(() => {
        for (let r = 0; r < count; r++) sink += jsDistance(kind, q, rows, n, r);
      }, count, quick);
      if (Number.isNaN(sink)) throw new Error('NaN');
      results.push({ kernel: kind, dim: n, simdNs, scalarNs, jsNs });
    });
  }
  engine.dispose();
  const rows = results.map((r) => [
    r.kernel, r.dim, spread(r.simdNs, 2), spread(r.scalarNs, 2), spread(r.jsNs, 2),
    `${(r.scalarNs.median / r.simdNs.median).toFixed(2)}x`, `${(r.jsNs.median / r.simdNs.median).toFixed(2)}x`,
  ]);
  const samples = results.flatMap((r) => [r.simdNs.runs, r.scalarNs.runs, r.jsNs.runs]);
  return {
    suite: 'simd', params: { dims: DIMS, kernels: KINDS, quick }, results,
    table: [
      table(['kernel', 'dim', 'f32x4 ns', 'scalar ns', 'JS ns', 'f32x4 vs scalar', 'f32x4 vs JS'], rows),
      `\nns per distance: median (min-max) of the benchmark.js samples of each cell (${Math.min(...samples)}-${Math.max(...samples)} samples a cell; a sample is the mean over one timed cycle of many calls). Ratios are of the medians.`,
    ].join('\n'),
  };
}

/** Packages this suite needs beyond elex-wasm (checked by the CLI before anything runs). */
const requires = ['benchmark'];

module.exports = { run, requires };
