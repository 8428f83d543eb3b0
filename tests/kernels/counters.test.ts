/**
 * engine.aggregateCounters against plain-JS references on seeded random counters: the documented
 * sum order emulated in float32 (bit for bit), a float64 sum (within float32 rounding), exact
 * min/max; both builds and the SIMD build's scalar twin alike; windows; bad input; the budget.
 */
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';
import { fillToBudget } from '../helpers/budget';
import { BudgetExceededError, type Engine } from '../../src/index';

const f = Math.fround;
const U = 2 ** -24;

function randomCounters(rows: number, cols: number, seed: number): Float32Array {
  const next = rng(seed);
  // Counters of mixed scales (a rate, a byte count, a latency), a few negative deltas.
  return Float32Array.from({ length: rows * cols }, (_, k) => (next() * 2 - 0.3) * 10 ** ((k % cols) % 5));
}

/** The documented order in float32: s_k over rows = k mod 4, (s0 + s1) + (s2 + s3), then the tail rows. */
function orderedSum(x: Float32Array, first: number, m: number, cols: number, c: number): number {
  const s = [0, 0, 0, 0];
  let r = 0;
  for (; r + 4 <= m; r += 4) for (let k = 0; k < 4; k++) s[k] = f(s[k] + x[(first + r + k) * cols + c]);
  let sum = f(f(s[0] + s[1]) + f(s[2] + s[3]));
  for (; r < m; r++) sum = f(sum + x[(first + r) * cols + c]);
  return sum;
}

interface Ref {
  sum: number[];
  min: number[];
  max: number[];
  mean: number[];
  sum64: number[];
  abs64: number[];
  m: number[];
}

function reference(x: Float32Array, cols: number, window: number): Ref {
  const rows = x.length / cols;
  const ref: Ref = { sum: [], min: [], max: [], mean: [], sum64: [], abs64: [], m: [] };
  for (let first = 0; first < rows; first += window) {
    const m = Math.min(window, rows - first);
    for (let c = 0; c < cols; c++) {
      let mn = Infinity,
        mx = -Infinity,
        s64 = 0,
        a64 = 0;
      for (let r = first; r < first + m; r++) {
        const v = x[r * cols + c];
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
        s64 += v;
        a64 += Math.abs(v);
      }
      const sum = orderedSum(x, first, m, cols, c);
      ref.sum.push(sum);
      ref.min.push(mn);
      ref.max.push(mx);
      ref.mean.push(f(sum / m));
      ref.sum64.push(s64);
      ref.abs64.push(a64);
      ref.m.push(m);
    }
  }
  return ref;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const SHAPES: Array<[number, number, number | undefined]> = [
  [1, 1, undefined],
  [3, 5, undefined],
  [4, 4, undefined],
  [7, 3, 2],
  [50, 17, 7],
  [64, 16, 4],
  [100, 64, 30],
  [1000, 64, undefined],
  [257, 130, 64],
];

describe.each(BUILDS)('aggregateCounters (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test.each(SHAPES)(
    '%i rows x %i columns, window %s: sums in the documented order, exact min/max, mean = sum / rows',
    (rows, cols, window) => {
      const x = randomCounters(rows, cols, rows * 31 + cols);
      const got = e.aggregateCounters(x, cols, window === undefined ? {} : { window });
      const ref = reference(x, cols, window ?? rows);
      expect(got.sum.length).toBe(Math.ceil(rows / (window ?? rows)) * cols);
      expect(Array.from(got.sum)).toEqual(ref.sum);
      expect(Array.from(got.min)).toEqual(ref.min);
      expect(Array.from(got.max)).toEqual(ref.max);
      expect(Array.from(got.mean)).toEqual(ref.mean);
      ref.sum64.forEach((s64, i) => {
        // Float32 rounding of a sum of m terms in this order: at most ~(m/4 + 3) roundings of partial sums.
        expect(Math.abs(got.sum[i] - s64)).toBeLessThanOrEqual((ref.m[i] / 4 + 4) * U * ref.abs64[i]);
      });
    },
  );

  test('min and max order -0 below +0, as Math.min and Math.max do, in every row position', () => {
    const next = rng(21);
    for (let trial = 0; trial < 40; trial++) {
      const rows = 1 + (trial % 9);
      const x = Float32Array.from({ length: rows * 5 }, () => [0, -0, 1, -1, 0.5][Math.floor(next() * 5)]);
      const got = e.aggregateCounters(x, 5);
      for (let c = 0; c < 5; c++) {
        const col = Array.from({ length: rows }, (_, r) => x[r * 5 + c]);
        expect(Object.is(got.min[c], Math.min(...col))).toBe(true);
        expect(Object.is(got.max[c], Math.max(...col))).toBe(true);
      }
    }
  });

  test('a number array gives what its Float32Array gives', () => {
    const x = randomCounters(33, 6, 3);
    const a = e.aggregateCounters(Array.from(x), 6, { window: 10 });
    const b = e.aggregateCounters(x, 6, { window: 10 });
    expect(bits(a.sum)).toEqual(bits(b.sum));
    expect(bits(a.mean)).toEqual(bits(b.mean));
  });

  test('the build kernel and its scalar twin give the same bits (raw export)', () => {
    const rt = e.runtime;
    const ex = rt.exports;
    for (const [rows, cols, window] of [
      [1000, 64, 1000],
      [99, 7, 10],
      [13, 12, 5],
    ]) {
      const x = randomCounters(rows, cols, rows + cols);
      const planes = 4 * Math.ceil(rows / window) * cols;
      const outs = [0, 1].map((scalar) => {
        const src = ex.stagingReserve(1, x.length * 4) >>> 0;
        const out = ex.stagingReserve(2, planes * 4) >>> 0;
        rt.f32().set(x, src >>> 2);
        ex.kernelCounters(src, rows, cols, window, out, scalar);
        return Array.from(rt.u32().subarray(out >>> 2, (out >>> 2) + planes));
      });
      expect(outs[1]).toEqual(outs[0]);
    }
  });

  test('bad input throws a typed error and computes nothing', () => {
    const used = e.usedBytes;
    const expectCode = (fn: () => unknown, code: string) => {
      expect(fn).toThrow(expect.objectContaining({ code }));
      expect(e.usedBytes).toBe(used);
    };
    expectCode(() => e.aggregateCounters([], 1), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2, 3], 2), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2], 0), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2], 1.5), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2], 1, { window: 0 }), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2], 1, { window: 2.5 }), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2], 1, { windwo: 2 } as object), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters(null as unknown as number[], 1), 'E_ARGUMENT');
    expectCode(() => e.aggregateCounters([1, 2, NaN, 4], 2), 'E_INVALID_VECTOR');
    expectCode(() => e.aggregateCounters([Infinity, 2, -Infinity, 4], 2, { window: 2 }), 'E_INVALID_VECTOR');
    // Finite counters whose float32 partial sums overflow to both infinities: NaN, said so.
    expect(() => e.aggregateCounters([3e38, 3e38, -3e38, -3e38], 1)).toThrow(/partial sums overflowing/);
    // One infinity alone is a value: sum and max are +Infinity.
    const inf = e.aggregateCounters([Infinity, 2, 3, 4], 2);
    expect(Array.from(inf.sum)).toEqual([Infinity, 6]);
    expect(Array.from(inf.max)).toEqual([Infinity, 4]);
  });

  test("a NaN sum in a fresh engine gives the call's staging back: usedBytes and reservedBytes as before", async () => {
    const fresh = await engine(simd);
    const before = [fresh.usedBytes, fresh.reservedBytes];
    expect(() => fresh.aggregateCounters([1, 2, NaN, 4], 2)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_VECTOR' }),
    );
    expect([fresh.usedBytes, fresh.reservedBytes]).toEqual(before);
    fresh.dispose();
  });

  test('over budget: E_BUDGET and the engine as it was; it runs once there is room and gives the staging back', async () => {
    const small = await engine(simd, { budgetBytes: 1 << 20 });
    const index = small.createIndex({ dim: 8, metric: 'l2' });
    fillToBudget(small, index);
    const x = randomCounters(1500, 64, 9);
    const used = small.usedBytes;
    const reserved = small.reservedBytes;
    expect(() => small.aggregateCounters(x, 64, { window: 100 })).toThrow(BudgetExceededError);
    expect([small.usedBytes, small.reservedBytes]).toEqual([used, reserved]);
    index.clear();
    const free = small.usedBytes;
    const got = small.aggregateCounters(x, 64, { window: 100 });
    expect(Array.from(got.sum)).toEqual(reference(x, 64, 100).sum);
    expect(small.usedBytes).toBeLessThanOrEqual(free);
    small.dispose();
  });
});

test('both builds give the same bits', async () => {
  if (BUILDS.length < 2) return;
  const x = randomCounters(777, 45, 11);
  const results = [];
  for (const simd of BUILDS) {
    const e = await engine(simd);
    const r = e.aggregateCounters(x, 45, { window: 50 });
    results.push([r.sum, r.min, r.max, r.mean].map(bits));
    e.dispose();
  }
  expect(results[1]).toEqual(results[0]);
});

test('a disposed engine refuses both kernels with E_DISPOSED', async () => {
  const e = await engine(BUILDS[0]);
  e.dispose();
  expect(() => e.aggregateCounters([1, 2], 1)).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
  expect(() => e.validateRanges(Float32Array.of(1), [0], [2])).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
});
