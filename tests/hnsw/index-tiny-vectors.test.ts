/**
 * Vectors too small for an ordinary per-vector i8 scale (max|x| / 127 subnormal or 0 in float32):
 * denormal maxima, the smallest normal, the boundary where the scale turns normal, and zero
 * vectors, under l2, dot and cosine, stored as i8, f16 and f32 on both builds. Each is stored
 * as the documented encoder says (a plain-JS reference, compared exactly), never with a zero
 * scale unless it is zero, and the index's own snapshot (serialize, save) loads back with the
 * same vectors and the same search results. The encoder alone is called through the kernel probe
 * of each build (helpers/kernels.ts: the engine does not export it), the index through the engine.
 */
import { Engine, MemoryStore, type Metric, type Quantization } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { kernels } from '../helpers/kernels';
import { roundEven, stageBytes } from '../helpers/quant';
import { rng } from '../helpers/random';

const f = Math.fround;
const UNIT = 2 ** -149; // the smallest subnormal float32
const NORMAL = 2 ** -126; // the smallest normal float32
const DIM = 20;

/** Maxima of the test vectors, in units of 2^-149 (then a few ordinary ones). */
const MAX_UNITS = [
  1,
  2,
  5,
  63,
  64,
  100,
  127,
  128,
  190,
  254,
  1000,
  2 ** 23,
  127 * 2 ** 23 - 1,
  127 * 2 ** 23,
  127 * 2 ** 23 + 1,
];

/** A float32 vector whose max|x| is `max` (at a seeded position, with a seeded sign). */
function vectorWithMax(max: number, seed: number): Float32Array {
  const next = rng(seed);
  const v = Float32Array.from({ length: DIM }, () => f((next() * 2 - 1) * max));
  v[Math.floor(next() * DIM)] = next() < 0.5 ? -max : max;
  return v;
}

/** The rows of the test: tiny ones at each maximum, zero vectors (not under cosine), ordinary ones. */
function rows(metric: Metric): Float32Array[] {
  const out = MAX_UNITS.flatMap((u, i) => [vectorWithMax(f(u * UNIT), 10 + i), vectorWithMax(f(u * UNIT), 100 + i)]);
  out.push(vectorWithMax(NORMAL, 7), vectorWithMax(1, 8), vectorWithMax(0.5, 9), vectorWithMax(1e-30, 11));
  if (metric !== 'cosine') out.push(new Float32Array(DIM), new Float32Array(DIM));
  return out;
}

/** The i8 per-vector encoder's rule (README, "Quantization"), decoded: the values get() returns. */
function i8Decoded(x: Float32Array): number[] {
  const m = Math.max(...Array.from(x, Math.abs));
  if (m === 0) return Array.from(x, () => 0);
  const units = m / UNIT;
  if (units < 127 * 2 ** 23) {
    const k = Math.ceil(units / 127);
    return Array.from(x, (v) => f(roundEven(v / UNIT / k) * k * UNIT) + 0);
  }
  const scale = f(m / 127);
  return Array.from(x, (v) => f(scale * roundEven(f(f(v * 127) / m))) + 0);
}

/** The f16 encoder's rule for |x| below 2^-14: 0 under 2^-15, 2^-14 from it up (no subnormal codes). */
function f16Tiny(v: number): number {
  const a = Math.abs(v);
  return a >= 2 ** -14 ? NaN : (a >= 2 ** -15 ? Math.sign(v) * 2 ** -14 : 0) + 0;
}

const plain = (a: ArrayLike<number>): number[] => Array.from(a, (v) => v + 0);

describe.each(BUILDS)('tiny vectors (simd %s)', (simd) => {
  test('the i8 encoder: an exact non-zero scale for every non-zero vector, codes within 127', () => {
    const probe = kernels(simd);
    const ex = probe.exports;
    for (const [i, u] of MAX_UNITS.entries()) {
      for (const n of [1, 7, 16, DIM]) {
        const x = vectorWithMax(f(u * UNIT), 1000 + i * 7 + n).subarray(0, n);
        x[0] = u * UNIT;
        const [ps, pd] = stageBytes(probe, x, new Int8Array(n));
        const scale = ex.quantEncodeI8AbsMax(ps, n, pd);
        const codes = Array.from(new Int8Array(probe.memory.buffer, pd, n));
        const units = u;
        const expected = units < 127 * 2 ** 23 ? Math.ceil(units / 127) * UNIT : f((u * UNIT) / 127);
        expect(scale).toBe(expected);
        expect(scale).toBeGreaterThan(0);
        expect(codes.every((c) => c >= -127 && c <= 127)).toBe(true);
        expect(codes.map((c) => f(scale * c) + 0)).toEqual(i8Decoded(x));
        // Within half a step of the input, and exact below 128 units.
        x.forEach((v, j) => expect(Math.abs(v - scale * codes[j])).toBeLessThanOrEqual(scale / 2));
        if (u <= 127) expect(codes.map((c) => f(scale * c) + 0)).toEqual(plain(x));
      }
    }
  });

  const cases: Array<[Metric, Quantization]> = [];
  for (const metric of ['l2', 'dot', 'cosine'] as Metric[])
    for (const q of ['i8', 'f16', 'f32'] as Quantization[]) cases.push([metric, q]);

  test.each(cases)(
    '%s %s: stored as the encoder says, and the snapshot and a save load back the same',
    async (metric, quantization) => {
      const e = await Engine.create({ simd });
      const index = e.createIndex({ dim: DIM, metric, quantization, M: 8, efConstruction: 40 });
      const data = rows(metric);
      data.forEach((v, id) => index.add(id, v));
      for (const [id, v] of data.entries()) {
        const got = index.get(id)!;
        if (metric === 'cosine') {
          expect(got.some((g) => g !== 0)).toBe(true); // a direction, never zeros
          continue;
        }
        if (quantization === 'i8') expect(plain(got)).toEqual(i8Decoded(v));
        if (quantization === 'f32') expect(plain(got)).toEqual(plain(v));
        if (quantization === 'f16') {
          v.forEach((x, j) => {
            const tiny = f16Tiny(x);
            if (!Number.isNaN(tiny)) expect(got[j] + 0).toBe(tiny);
          });
        }
      }
      const queries = [data[0], data[5], data[data.length - 3], vectorWithMax(3 * UNIT, 5)];
      const results = queries.map((q) => index.search(q, 10));

      const bytes = index.serialize();
      const copy = e.loadIndex(bytes);
      const store = new MemoryStore();
      await index.save(store, 'tiny');
      const opened = await e.openIndex(store, 'tiny');
      for (const other of [copy, opened]) {
        expect(other.size).toBe(data.length);
        for (let id = 0; id < data.length; id++) expect(plain(other.get(id)!)).toEqual(plain(index.get(id)!));
        queries.forEach((q, i) => {
          const r = other.search(q, 10);
          expect(Array.from(r.ids)).toEqual(Array.from(results[i].ids));
          expect(Array.from(r.distances)).toEqual(Array.from(results[i].distances));
        });
      }
      e.dispose();
    },
  );
});
