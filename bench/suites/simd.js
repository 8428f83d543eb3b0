// Suite `simd`: dot / l2sq / cosine at 32, 128, 384, 768 dims: the SIMD build's f32x4 kernels,
// their scalar twins (same build), and plain JS. Each figure is ns per distance, scoring one
// query against a block of rows in one call (kernelBatch), so the JS->WASM crossing (~5 ns)
// is spread over the block; benchmark.js samples, median (min-max). These and the quantized
// kernels below are called through the SIMD build's kernel probe (bench/lib/kernels.js,
// build/elex.kernels.simd.wasm: the same kernels, which the engine itself does not export).
// Then the quantized kernels at 100 and 128 dims (int8 codes, f16) beside the f32x4 dot (the
// index's kernel, assembly/kernels/f32.ts), timed in alternation over several rounds: each round's
// ratio is of that round's medians, and the table gives the median over rounds (the machine may
// be shared). The listed-rows int8 kernel scores rows by a list of (node, address) pairs, the
// form the index's search gathers a node's unvisited neighbours in.
// Then the agent kernels at 1K rows x 16, 64, 256: parameter-range validation (count the
// components outside [lower, upper] a row; assembly/kernels/ranges.ts) and counter aggregation
// (sum/min/max/mean a column; assembly/kernels/counters.ts): f32x4, the scalar twin and plain JS,
// ns per row of the 1K, timed in alternation over rounds like the quantized kernels: these on the
// SIMD engine, which exports them (the host calls them).
'use strict';
const { Engine, simdSupported } = require('elex-wasm');
const { rng } = require('../lib/dataset.js');
const { loadKernels } = require('../lib/kernels.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { micro, spread, summary } = require('../lib/timing.js');

const DIMS = [32, 128, 384, 768];
const KINDS = ['dot', 'l2sq', 'cosine'];
const QUANT_DIMS = [100, 128];
/**
 * kernelQuantBatch kinds (assembly/kernels/api.ts; + 5 is the scalar twin), the query and row
 * forms; kind 'listed' is kernelQuantPreparedRows over the rows' address list.
 */
const QUANT_KERNELS = [
  { kernel: 'i8 . i8, prepared query, listed rows (4 a step)', kind: 'listed', query: 'prepared', rows: 'list' },
  { kernel: 'i8 . i8, prepared query', kind: 2, query: 'prepared', rows: 'i8' },
  { kernel: 'i8 . i8, pair', kind: 0, query: 'i8', rows: 'i8' },
  { kernel: '|i8 - i8|^2, pair', kind: 1, query: 'i8', rows: 'i8' },
  { kernel: 'f32 . f16', kind: 3, query: 'f32', rows: 'f16' },
  { kernel: '|f32 - f16|^2', kind: 4, query: 'f32', rows: 'f16' },
];

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
  return {
    median: per(s.median),
    min: per(s.min),
    max: per(s.max),
    p25: per(s.p25),
    p75: per(s.p75),
    runs: s.runs,
    rme: s.rme,
  };
}

/** Median of numbers. */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The kernel probe's quantized kernels at n dims beside its f32x4 dot on the same rows (encoded:
 * int8 with a scale per vector, f16), `rounds` rounds in alternation: { f32DotNs, rounds, kernels:
 * [{ kernel, dim, ns, scalarNs, vsF32Dot, vsScalar }] }, ns and ratio medians over the rounds.
 */
function quantized(probe, n, next, quick, progress) {
  const ex = probe.exports;
  const count = Math.floor(32768 / n) & ~3;
  const prepared = ex.quantPreparedI8Bytes(n);
  // slot 1: f32 rows | f16 rows | i8 rows | i8 query | prepared query (16-aligned) | (node, address) list
  const f32Bytes = n * 4 * count;
  const pq = ex.stagingReserve(0, n * 4) >>> 0;
  const out = ex.stagingReserve(2, count * 4) >>> 0;
  const block = ex.stagingReserve(1, f32Bytes + n * 3 * count + n + prepared + 32 + count * 8) >>> 0;
  const at = { f32: block, f16: block + f32Bytes, i8: block + f32Bytes + n * 2 * count };
  const i8Query = at.i8 + n * count;
  const preparedQuery = (i8Query + n + 15) & ~15;
  at.list = preparedQuery + prepared;
  const list = new Uint32Array(probe.memory.buffer, at.list, count * 2);
  for (let r = 0; r < count; r++) list.set([r, at.i8 + r * n], r * 2);
  const f32 = probe.f32();
  for (let i = 0; i < n; i++) f32[(pq >>> 2) + i] = next() * 2 - 1;
  for (let i = 0; i < n * count; i++) f32[(at.f32 >>> 2) + i] = next() * 2 - 1;
  ex.quantEncodeF16(at.f32, n * count, at.f16);
  for (let r = 0; r < count; r++) ex.quantEncodeI8AbsMax(at.f32 + r * n * 4, n, at.i8 + r * n);
  ex.quantEncodeI8AbsMax(pq, n, i8Query);
  ex.quantPrepareI8(i8Query, n, preparedQuery);
  const query = { f32: pq, i8: i8Query, prepared: preparedQuery };
  const rounds = quick ? 3 : 7;
  const f32Ns = [];
  const ns = QUANT_KERNELS.map(() => ({ simd: [], scalar: [], ratio: [] }));
  for (let round = 0; round < rounds; round++) {
    progress.step(`quantized kernels at ${n}-d: round ${round + 1}/${rounds}`);
    const base = perDistance(() => ex.kernelBatch(0, pq, at.f32, n, count, out), count, quick).median;
    f32Ns.push(base);
    QUANT_KERNELS.forEach((k, i) => {
      const call =
        k.kind === 'listed'
          ? (twin) => () => ex.kernelQuantPreparedRows(twin, query[k.query], at.list + 4, 8, count, n, out)
          : (twin) => () => ex.kernelQuantBatch(k.kind + 5 * twin, query[k.query], at[k.rows], n, count, out);
      const simd = perDistance(call(0), count, quick).median;
      const scalar = perDistance(call(1), count, quick).median;
      ns[i].simd.push(simd);
      ns[i].scalar.push(scalar);
      ns[i].ratio.push(base / simd);
    });
  }
  return {
    f32DotNs: median(f32Ns),
    rounds,
    kernels: QUANT_KERNELS.map((k, i) => ({
      kernel: k.kernel,
      dim: n,
      ns: median(ns[i].simd),
      scalarNs: median(ns[i].scalar),
      vsF32Dot: median(ns[i].ratio),
      vsScalar: median(ns[i].scalar) / median(ns[i].simd),
    })),
  };
}

const AGENT_ROWS = 1000;
const AGENT_DIMS = [16, 64, 256];

/** Plain-JS parameter validation: outside counts a row into out. */
function jsRanges(values, lower, upper, rows, d, out) {
  for (let r = 0, k = 0; r < rows; r++) {
    let n = 0;
    for (let i = 0; i < d; i++, k++) {
      const v = values[k];
      if (!(v >= lower[i] && v <= upper[i])) n++;
    }
    out[r] = n;
  }
}

/** Plain-JS counter aggregation: sum/min/max/mean a column (one running sum) into out (4 planes). */
function jsCounters(x, rows, cols, out) {
  for (let c = 0; c < cols; c++) {
    let s = 0;
    let mn = Infinity;
    let mx = -Infinity;
    for (let r = 0, k = c; r < rows; r++, k += cols) {
      const v = x[k];
      s += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    out[c] = s;
    out[cols + c] = mn;
    out[2 * cols + c] = mx;
    out[3 * cols + c] = s / rows;
  }
}

/**
 * validate-ranges and aggregate-counters at AGENT_ROWS x d: { rounds, kernels: [{ kernel, dim,
 * rows, simdNs, scalarNs, jsNs, vsScalar, vsJs }] }: ns per row, each a summary (median, min-max)
 * of the `rounds` rounds' medians, the three timed in turn; ratios: median of each round's ratio.
 */
function agentKernels(engine, next, quick, progress) {
  const rt = engine.runtime;
  const ex = rt.exports;
  const rounds = quick ? 3 : 7;
  const rows = AGENT_ROWS;
  const out = [];
  for (const d of AGENT_DIMS) {
    const lower = Float32Array.from({ length: d }, () => next() * 0.5 - 1);
    const upper = Float32Array.from({ length: d }, (_, i) => lower[i] + 0.5 + next());
    const values = Float32Array.from({ length: rows * d }, () => next() * 3 - 1.5);
    const bounds = ex.stagingReserve(0, d * 8) >>> 0;
    const at = ex.stagingReserve(1, rows * d * 4) >>> 0;
    const dst = ex.stagingReserve(2, rows * 4 + 16 * d) >>> 0;
    const cases = [
      {
        kernel: 'validate-ranges',
        stage: () => {
          rt.f32().set(lower, bounds >>> 2);
          rt.f32().set(upper, (bounds >>> 2) + d);
          rt.f32().set(values, at >>> 2);
        },
        call: (scalar) => () => ex.kernelRanges(at, rows, d, bounds, bounds + d * 4, dst, scalar ? 2 : 0),
        js: (() => {
          const o = new Uint32Array(rows);
          return () => jsRanges(values, lower, upper, rows, d, o);
        })(),
      },
      {
        kernel: 'aggregate-counters',
        stage: () => rt.f32().set(values, at >>> 2),
        call: (scalar) => () => ex.kernelCounters(at, rows, d, rows, dst, scalar ? 1 : 0),
        js: (() => {
          const o = new Float32Array(4 * d);
          return () => jsCounters(values, rows, d, o);
        })(),
      },
    ];
    for (const c of cases) {
      c.stage();
      const ns = { simd: [], scalar: [], js: [], vsScalar: [], vsJs: [] };
      for (let round = 0; round < rounds; round++) {
        progress.step(`${c.kernel} ${rows} x ${d}: round ${round + 1}/${rounds}`);
        const simd = perDistance(c.call(false), rows, quick).median;
        const scalar = perDistance(c.call(true), rows, quick).median;
        const js = perDistance(c.js, rows, quick).median;
        ns.simd.push(simd);
        ns.scalar.push(scalar);
        ns.js.push(js);
        ns.vsScalar.push(scalar / simd);
        ns.vsJs.push(js / simd);
      }
      out.push({
        kernel: c.kernel,
        dim: d,
        rows,
        simdNs: summary(ns.simd),
        scalarNs: summary(ns.scalar),
        jsNs: summary(ns.js),
        vsScalar: median(ns.vsScalar),
        vsJs: median(ns.vsJs),
      });
    }
  }
  return { rounds, kernels: out };
}

/** Runs the suite: { suite, params, results, table }. */
async function run({ quick = false, progress = silent } = {}) {
  if (!simdSupported()) throw new Error('this Node does not run WebAssembly SIMD');
  const cases = DIMS.length * KINDS.length;
  const probe = loadKernels('simd', 64 << 20);
  if (!probe.simd) throw new Error('build/elex.kernels.simd.wasm is not the SIMD build');
  const ex = probe.exports;
  const next = rng(5);
  const results = [];
  for (const n of DIMS) {
    const count = Math.max(16, Math.floor(32768 / n));
    const q = Float32Array.from({ length: n }, () => next() * 2 - 1);
    const rows = Float32Array.from({ length: n * count }, () => next() * 2 - 1);
    const pq = ex.stagingReserve(0, n * 4);
    const pr = ex.stagingReserve(1, rows.length * 4);
    const out = ex.stagingReserve(2, count * 4);
    probe.f32().set(q, pq >>> 2);
    probe.f32().set(rows, pr >>> 2);
    KINDS.forEach((kind, k) => {
      progress.step(`${kind} ${n}-d: case ${results.length + 1}/${cases} (f32x4, scalar, JS)`);
      const simdNs = perDistance(() => ex.kernelBatch(k, pq, pr, n, count, out), count, quick);
      const scalarNs = perDistance(() => ex.kernelBatch(k + 3, pq, pr, n, count, out), count, quick);
      let sink = 0;
      const jsNs = perDistance(
        () => {
          for (let r = 0; r < count; r++) sink += jsDistance(kind, q, rows, n, r);
        },
        count,
        quick,
      );
      if (Number.isNaN(sink)) throw new Error('NaN');
      results.push({ kernel: kind, dim: n, simdNs, scalarNs, jsNs });
    });
  }
  const quant = QUANT_DIMS.map((n) => quantized(probe, n, next, quick, progress));
  const engine = await Engine.create({ simd: 'on', budgetBytes: 64 << 20 });
  const agent = agentKernels(engine, next, quick, progress);
  for (const k of agent.kernels) results.push(k);
  engine.dispose();
  const distances = results.filter((r) => r.rows === undefined);
  const rows = distances.map((r) => [
    r.kernel,
    r.dim,
    spread(r.simdNs, 2),
    spread(r.scalarNs, 2),
    spread(r.jsNs, 2),
    `${(r.scalarNs.median / r.simdNs.median).toFixed(2)}x`,
    `${(r.jsNs.median / r.simdNs.median).toFixed(2)}x`,
  ]);
  const samples = distances.flatMap((r) => [r.simdNs.runs, r.scalarNs.runs, r.jsNs.runs]);
  return {
    suite: 'simd',
    params: { dims: DIMS, kernels: KINDS, quantDims: QUANT_DIMS, agentRows: AGENT_ROWS, agentDims: AGENT_DIMS, quick },
    results,
    quantized: quant,
    table: [
      table(['kernel', 'dim', 'f32x4 ns', 'scalar ns', 'JS ns', 'f32x4 vs scalar', 'f32x4 vs JS'], rows),
      `\nns per distance: median (min-max) of the benchmark.js samples of each cell (${Math.min(...samples)}-${Math.max(...samples)} samples a cell; a sample is the mean over one timed cycle of many calls). Ratios are of the medians.`,
      '',
      table(
        ['quantized kernel', 'dim', 'SIMD ns', 'scalar ns', 'throughput vs f32x4 dot', 'SIMD vs scalar'],
        quant.flatMap((q, d) => [
          ['f32x4 dot (baseline)', QUANT_DIMS[d], q.f32DotNs.toFixed(2), '', '1.00x', ''],
          ...q.kernels.map((k) => [
            k.kernel,
            k.dim,
            k.ns.toFixed(2),
            k.scalarNs.toFixed(2),
            `${k.vsF32Dot.toFixed(2)}x`,
            `${k.vsScalar.toFixed(2)}x`,
          ]),
        ]),
      ),
      `\nns per distance, median over ${quant[0].rounds} rounds of the f32x4 dot and each kernel timed in turn (benchmark.js medians); "vs f32x4 dot" is the median of each round's ratio. Rows: int8 codes with a scale per vector, f16 codes of the same floats.`,
      '',
      table(
        ['agent kernel', 'rows x d', 'f32x4 ns/row', 'scalar ns/row', 'JS ns/row', 'f32x4 vs scalar', 'f32x4 vs JS'],
        agent.kernels.map((k) => [
          k.kernel,
          `${k.rows} x ${k.dim}`,
          spread(k.simdNs, 2),
          spread(k.scalarNs, 2),
          spread(k.jsNs, 2),
          `${k.vsScalar.toFixed(2)}x`,
          `${k.vsJs.toFixed(2)}x`,
        ]),
      ),
      `\nns per row of a ${AGENT_ROWS}-row call on staged data (the raw kernels; engine.validateRanges / aggregateCounters add the copy in and out), median (min-max) over ${agent.rounds} rounds of the three timed in turn; ratios are medians of each round's ratio. validate-ranges counts the components outside [lower, upper] a row (about two thirds are, at random); aggregate-counters gives sum, min, max and mean a column; the plain-JS twins do the same work on the same Float32Arrays (JS sums in float64 with one running sum).`,
    ].join('\n'),
  };
}

/** Packages this suite needs beyond elex-wasm (checked by the CLI before anything runs). */
const requires = ['benchmark'];

module.exports = { run, requires };
