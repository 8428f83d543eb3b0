/**
 * The `quantization` option (f32, f16, i8): recall@10 against exact ground truth on SIFT-128
 * (l2, the vendored truth) and on a GloVe-100 subset (cosine, truth computed here in float64),
 * the SIMD and scalar builds returning the same ids and distances, get() returning the stored
 * form decoded (exactly the encoder's values, by a plain-JS encoder), and validation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  parseFvecs,
  type Engine,
  type Metric,
  type Quantization,
  type VectorIndex,
} from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { readFvecs, readIvecs } from '../helpers/data';
import { expectElexError } from '../helpers/errors';
import { absMaxCodes, f16Nearest, f16Value, roundEven } from '../helpers/quant';
import { rng } from '../helpers/random';
import { dot64, recall } from '../helpers/reference';

const MODES: Quantization[] = ['f32', 'f16', 'i8'];
const EFS = [32, 64, 128];

const sift = readFvecs('sift128_base.fvecs');
const siftQueries = readFvecs('sift128_query.fvecs');
const siftTruth = readIvecs('sift128_groundtruth_l2.ivecs');

/** The first 10,000 GloVe rows and 100 queries, with their exact cosine top-10 (float64, ties to the lower id). */
const GLOVE_DIR = join(__dirname, '..', '..', 'data', 'glove100');
const GLOVE_N = 10_000;
const GLOVE_Q = 100;
const GLOVE_DIM = 100;
const glove = parseFvecs(readFileSync(join(GLOVE_DIR, 'glove100k_base.fvecs'))).data.slice(0, GLOVE_N * GLOVE_DIM);
const gloveQueries = parseFvecs(readFileSync(join(GLOVE_DIR, 'glove100k_query.fvecs'))).data.slice(
  0,
  GLOVE_Q * GLOVE_DIM,
);
const gloveTruth = cosineTruth(glove, gloveQueries, GLOVE_DIM, 10);

function cosineTruth(base: Float32Array, queries: Float32Array, dim: number, k: number): Int32Array {
  const n = base.length / dim;
  const norms = Float64Array.from({ length: n }, (_, i) => Math.sqrt(dot64(base, base, i * dim, i * dim, dim)));
  const out = new Int32Array((queries.length / dim) * k);
  for (let q = 0; q < queries.length / dim; q++) {
    const qn = Math.sqrt(dot64(queries, queries, q * dim, q * dim, dim));
    const d = Array.from({ length: n }, (_, i) => ({
      i,
      d: 1 - dot64(queries, base, q * dim, i * dim, dim) / (qn * norms[i]),
    }));
    d.sort((a, b) => a.d - b.d || a.i - b.i);
    for (let j = 0; j < k; j++) out[q * k + j] = d[j].i;
  }
  return out;
}

/** Mean recall@10 of searchBatch at ef against `truth` (k columns a row). */
function meanRecall(index: VectorIndex, queries: Float32Array, truth: Int32Array, k: number, ef: number) {
  const dim = index.dim;
  const rows = queries.length / dim;
  const res = index.searchBatch(queries, 10, { ef });
  let sum = 0;
  for (let q = 0; q < rows; q++)
    sum += recall(res.ids.subarray(q * 10, q * 10 + 10), truth.subarray(q * k, q * k + 10));
  return { recall: sum / rows, res };
}

interface Run {
  recall: number[];
  ids: Uint32Array;
  distances: Float32Array;
}

describe.each([
  ['SIFT-128 10K, l2', 'l2' as Metric, sift.data, siftQueries.data, siftTruth.data, siftTruth.k, 128],
  ['GloVe-100 10K, cosine', 'cosine' as Metric, glove, gloveQueries, gloveTruth, 10, GLOVE_DIM],
])('%s', (_name, metric, base, queries, truth, k, dim) => {
  const runs = new Map<string, Run>();

  describe.each(BUILDS)('simd %s', (simd) => {
    let e: Engine;
    beforeAll(async () => {
      e = await engine(simd);
      for (const quantization of MODES) {
        const index = e.createIndex({ dim, metric, quantization, seed: 7 });
        index.addBatch(
          Uint32Array.from({ length: base.length / dim }, (_, i) => i),
          base,
        );
        const recalls = EFS.map((ef) => meanRecall(index, queries, truth, k, ef));
        const last = recalls[recalls.length - 1].res;
        runs.set(`${simd} ${quantization}`, {
          recall: recalls.map((r) => r.recall),
          ids: last.ids,
          distances: last.distances,
        });
        index.dispose();
      }
    }, 120_000);
    afterAll(() => e.dispose());

    test.each(['f16', 'i8'] as const)('%s reaches recall@10 >= 0.95 at some ef', (quantization) => {
      expect(Math.max(...runs.get(`${simd} ${quantization}`)!.recall)).toBeGreaterThanOrEqual(0.95);
    });

    test('f16 is within 0.005 of f32 at every ef', () => {
      const f32 = runs.get(`${simd} f32`)!.recall;
      const f16 = runs.get(`${simd} f16`)!.recall;
      for (let i = 0; i < EFS.length; i++) expect(Math.abs(f16[i] - f32[i])).toBeLessThanOrEqual(0.005);
    });
  });

  if (BUILDS.length === 2) {
    // (f32's dot kernels sum in another order in the two builds: its distances differ in the last bits.)
    test.each(['f16', 'i8'] as const)(
      '%s: the SIMD and scalar builds return the same ids and distances',
      (quantization) => {
        const on = runs.get(`on ${quantization}`)!;
        const off = runs.get(`off ${quantization}`)!;
        expect(Array.from(off.ids)).toEqual(Array.from(on.ids));
        // i8 distances come from exact integer dots, f16 from kernels that sum in the same order.
        expect(Array.from(off.distances)).toEqual(Array.from(on.distances));
      },
    );
  }
});

/** The f16 and i8 values get() must return for `x` (already normalized under cosine), by a plain-JS encoder. */
function decodedReference(quantization: Quantization, x: Float32Array): Float32Array {
  if (quantization === 'f16') return Float32Array.from(x, (v) => f16Value(f16Nearest(v)));
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  const scale = Math.fround(m / 127);
  // decode is offset + scale * c with offset 0, so a zero code decodes to +0.
  return Float32Array.from(x, (v) => Math.fround(0 + scale * roundEven(Math.fround(Math.fround(v * 127) / m))));
}

describe.each(BUILDS)('get() under quantization (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test.each(['f16', 'i8'] as const)(
    "%s, l2: the encoder's values exactly, within half a step of the input",
    (quantization) => {
      const dim = 37;
      const next = rng(5);
      const index = e.createIndex({ dim, metric: 'l2', quantization });
      const rows = Float32Array.from({ length: 50 * dim }, () => (next() * 2 - 1) * 10 ** Math.floor(next() * 6 - 3));
      index.addBatch(
        Uint32Array.from({ length: 50 }, (_, i) => i),
        rows,
      );
      for (let id = 0; id < 50; id++) {
        const x = rows.subarray(id * dim, (id + 1) * dim);
        const got = index.get(id)!;
        expect(Array.from(got)).toEqual(Array.from(decodedReference(quantization, x)));
        const m = Math.max(...Array.from(x, Math.abs));
        for (let d = 0; d < dim; d++) {
          const bound = quantization === 'i8' ? m / 254 + m * 2 ** -20 : Math.max(Math.abs(x[d]) * 2 ** -11, 2 ** -15);
          expect(Math.abs(got[d] - x[d])).toBeLessThanOrEqual(bound);
        }
      }
      index.dispose();
    },
  );

  test.each(['f16', 'i8'] as const)('%s, cosine: the normalized vector, within half a step', (quantization) => {
    const dim = 100;
    const index = e.createIndex({ dim, metric: 'cosine', quantization });
    index.addBatch(
      Uint32Array.from({ length: 20 }, (_, i) => i),
      glove.subarray(0, 20 * dim),
    );
    for (let id = 0; id < 20; id++) {
      const x = glove.subarray(id * dim, (id + 1) * dim);
      const norm = Math.sqrt(dot64(x, x));
      const unit = Float32Array.from(x, (v) => v / norm);
      const got = index.get(id)!;
      const m = Math.max(...Array.from(unit, Math.abs));
      for (let d = 0; d < dim; d++) {
        // The engine normalizes in float64 and rounds to float32: one float32 step on top.
        const step = quantization === 'i8' ? m / 254 + m * 2 ** -20 : Math.max(Math.abs(unit[d]) * 2 ** -11, 2 ** -15);
        expect(Math.abs(got[d] - unit[d])).toBeLessThanOrEqual(step + Math.abs(unit[d]) * 2 ** -23);
      }
    }
    index.dispose();
  });

  test('i8, l2: every distance a search returns is the plain-JS value, the query encoded at 2047 levels a side', () => {
    const dim = 37;
    const next = rng(9);
    const index = e.createIndex({ dim, metric: 'l2', quantization: 'i8' });
    const rows = Float32Array.from({ length: 300 * dim }, () => next() * 2 - 1);
    index.addBatch(
      Uint32Array.from({ length: 300 }, (_, i) => i),
      rows,
    );
    for (let q = 0; q < 20; q++) {
      const query = Float32Array.from({ length: dim }, () => next() * 4 - 2);
      const cq = absMaxCodes(query, 2047);
      const res = index.search(query, 10, { ef: 64 });
      expect(res.ids.length).toBe(10);
      res.ids.forEach((id, j) => {
        const cx = absMaxCodes(rows.subarray(id * dim, (id + 1) * dim), 127);
        const dot = cq.codes.reduce((sum, c, i) => sum + c * cx.codes[i], 0);
        const d = cq.sqnorm + cx.sqnorm - 2 * (cq.scale * cx.scale * dot);
        expect(res.distances[j]).toBe(d > 0 ? Math.fround(d) : 0);
      });
    }
    index.dispose();
  });

  test('index.quantization says what was asked, f32 by default; a bad value is E_ARGUMENT', () => {
    for (const quantization of MODES) {
      const index = e.createIndex({ dim: 4, quantization });
      expect(index.quantization).toBe(quantization);
      index.dispose();
    }
    const plain = e.createIndex({ dim: 4 });
    expect(plain.quantization).toBe('f32');
    plain.dispose();
    const used = e.usedBytes;
    for (const bad of ['i4', 'F16', 8, {}]) {
      expectElexError(
        () => e.createIndex({ dim: 4, quantization: bad as Quantization }),
        InvalidArgumentError,
        'E_ARGUMENT',
        /quantization/,
      );
    }
    expect(e.usedBytes).toBe(used);
  });
});

describe.each(BUILDS)('mutations under quantization (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test.each(['f16', 'i8'] as const)('%s: filters, searchBatch, remove, replace, ids and clear', (quantization) => {
    const dim = 128;
    const rows = sift.data.subarray(0, 2000 * dim);
    const index = e.createIndex({ dim, metric: 'l2', quantization, seed: 3 });
    const fresh = e.createIndex({ dim, metric: 'l2', quantization, seed: 3 });
    fresh.addBatch(
      Uint32Array.from({ length: 2000 }, (_, i) => i),
      rows,
    );
    const empty = fresh.serialize();
    index.addBatch(
      Uint32Array.from({ length: 2000 }, (_, i) => i),
      rows,
    );
    for (let id = 0; id < 2000; id += 10) index.remove(id);
    // Replace ids 1, 11, 21, ... with SIFT rows 5000 + id (not in the index): each then finds itself at that row.
    const other = (id: number) => sift.data.subarray((5000 + id) * dim, (5001 + id) * dim);
    for (let id = 1; id < 200; id += 10) index.add(id, other(id));
    const live = new Set(Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 10 !== 0));
    expect(new Set(index.ids())).toEqual(live);
    const q = siftQueries.data.subarray(0, 20 * dim);
    const batch = index.searchBatch(q, 10, { ef: 100, filter: (id) => id % 3 === 0 });
    for (let r = 0; r < 20; r++) {
      const single = index.search(q.subarray(r * dim, (r + 1) * dim), 10, { ef: 100, filter: (id) => id % 3 === 0 });
      expect(Array.from(batch.ids.subarray(r * 10, r * 10 + 10))).toEqual(Array.from(single.ids));
      for (const id of single.ids) {
        expect(id % 3).toBe(0);
        expect(live.has(id)).toBe(true);
      }
    }
    for (let id = 1; id < 200; id += 10) {
      expect(index.search(other(id), 1).ids[0]).toBe(id);
    }
    index.clear();
    expect(index.size).toBe(0);
    index.addBatch(
      Uint32Array.from({ length: 2000 }, (_, i) => i),
      rows,
    );
    const again = index.serialize();
    expect(again.length).toBe(empty.length);
    expect(Buffer.compare(again, empty)).toBe(0);
    index.dispose();
    fresh.dispose();
  });
});
