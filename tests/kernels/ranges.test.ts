/**
 * engine.validateRanges against a plain-JS reference on seeded random rows (NaN, +-Infinity and
 * values on the bounds included), both builds and the SIMD build's scalar twin bit for bit, clamping,
 * bad input and the budget.
 */
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';
import { fillToBudget } from '../helpers/budget';
import { BudgetExceededError, type Engine } from '../../src/index';

const DIMS = [1, 3, 4, 5, 8, 16, 17, 64, 130];

/** rows x d values uniform in [-2, 2], with NaN, +-Infinity and exact bounds sprinkled in; bounds with lower <= upper. */
function randomCase(
  rows: number,
  d: number,
  seed: number,
): { values: Float32Array; lower: Float32Array; upper: Float32Array } {
  const next = rng(seed);
  const lower = new Float32Array(d);
  const upper = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    const a = next() * 3 - 1.5;
    const b = next() < 0.1 ? a : next() * 3 - 1.5; // some empty-width ranges
    lower[i] = Math.min(a, b);
    upper[i] = Math.max(a, b);
  }
  const values = new Float32Array(rows * d);
  for (let k = 0; k < values.length; k++) {
    const u = next();
    const i = k % d;
    values[k] =
      u < 0.03
        ? NaN
        : u < 0.05
          ? u < 0.04
            ? Infinity
            : -Infinity
          : u < 0.1
            ? lower[i]
            : u < 0.15
              ? upper[i]
              : u < 0.17
                ? -0
                : next() * 4 - 2;
  }
  return { values, lower, upper };
}

/** Plain-JS reference: counts and the clamped rows. */
function reference(
  values: Float32Array,
  lower: Float32Array,
  upper: Float32Array,
): { counts: Uint32Array; clamped: Float32Array } {
  const d = lower.length;
  const counts = new Uint32Array(values.length / d);
  const clamped = values.slice();
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    const i = k % d;
    if (!(v >= lower[i] && v <= upper[i])) {
      counts[Math.floor(k / d)]++;
      clamped[k] = v > upper[i] ? upper[i] : lower[i];
    }
  }
  return { counts, clamped };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.each(BUILDS)('validateRanges (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test('counts and clamps exactly as the plain-JS reference, d 1..130, NaN and infinities outside', () => {
    for (const d of DIMS) {
      for (const rows of [1, 2, 7, 100]) {
        const { values, lower, upper } = randomCase(rows, d, d * 1000 + rows);
        const ref = reference(values, lower, upper);
        const given = values.slice();
        expect(Array.from(e.validateRanges(given, lower, upper))).toEqual(Array.from(ref.counts));
        expect(bits(given)).toEqual(bits(values)); // not clamped without the option
        expect(Array.from(e.validateRanges(given, Array.from(lower), Array.from(upper), { clamp: true }))).toEqual(
          Array.from(ref.counts),
        );
        expect(bits(given)).toEqual(bits(ref.clamped));
        expect(Array.from(e.validateRanges(given, lower, upper))).toEqual(new Array(rows).fill(0));
      }
    }
  });

  test('rows past one staging chunk (1,000 x 130) are counted and clamped the same, and the staging is given back', () => {
    const { values, lower, upper } = randomCase(1000, 130, 99);
    const ref = reference(values, lower, upper);
    const before = e.usedBytes;
    expect(Array.from(e.validateRanges(values, lower, upper, { clamp: true }))).toEqual(Array.from(ref.counts));
    expect(bits(values)).toEqual(bits(ref.clamped));
    expect(e.usedBytes).toBeLessThanOrEqual(before);
  });

  test.each([1, 2, 16, 130, 30_000])(
    'd %i: a call stages at most 256 KiB (12 bytes a parameter past that), counting every row right',
    async (d) => {
      const fresh = await engine(simd);
      const rows = Math.max(3, Math.ceil(300_000 / d)); // more than one chunk
      const { values, lower, upper } = randomCase(rows, d, d);
      const ref = reference(values, lower, upper);
      fresh.resetPeakUsedBytes();
      const before = fresh.usedBytes;
      expect(Array.from(fresh.validateRanges(values, lower, upper))).toEqual(Array.from(ref.counts));
      // Three staging blocks: a 16-byte header and up to a cache line of padding each, and
      // each block's size rounded up to whole cache lines.
      expect(fresh.peakUsedBytes - before).toBeLessThanOrEqual(Math.max(256 * 1024, 12 * d + 4) + 3 * 128);
      fresh.dispose();
    },
  );

  test('the build kernel and its scalar twin agree bit for bit (raw export, flags bit 1)', () => {
    const rt = e.runtime;
    const ex = rt.exports;
    for (const d of [4, 5, 64, 67]) {
      const { values, lower, upper } = randomCase(50, d, 7 + d);
      const outs: Array<{ counts: number[]; rows: number[] }> = [];
      for (const flags of [1, 3]) {
        const at = ex.stagingReserve(1, values.length * 4) >>> 0;
        const bounds = ex.stagingReserve(0, d * 8) >>> 0;
        const out = ex.stagingReserve(2, 50 * 4) >>> 0;
        rt.f32().set(values, at >>> 2);
        rt.f32().set(lower, bounds >>> 2);
        rt.f32().set(upper, (bounds >>> 2) + d);
        const total = ex.kernelRanges(at, 50, d, bounds, bounds + d * 4, out, flags);
        const counts = Array.from(rt.u32().subarray(out >>> 2, (out >>> 2) + 50));
        expect(total).toBe(counts.reduce((a, b) => a + b, 0));
        outs.push({ counts, rows: Array.from(rt.u32().subarray(at >>> 2, (at >>> 2) + values.length)) });
      }
      expect(outs[1]).toEqual(outs[0]);
    }
  });

  test('bad input throws a typed error and computes nothing', () => {
    const values = Float32Array.from([5, -5, 0.5, 0.5]);
    const copy = values.slice();
    const used = e.usedBytes;
    const expectCode = (fn: () => unknown, code: string) => {
      expect(fn).toThrow(expect.objectContaining({ code }));
      expect(bits(values)).toEqual(bits(copy));
      expect(e.usedBytes).toBe(used);
    };
    expectCode(() => e.validateRanges(values, [0, 0], [1], { clamp: true }), 'E_DIMENSION');
    expectCode(() => e.validateRanges(values, [0, 0, 0], [1, 1, 1], { clamp: true }), 'E_DIMENSION');
    expectCode(() => e.validateRanges(values, [0, 2], [1, 1], { clamp: true }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [0, NaN], [1, 1], { clamp: true }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [-Infinity, 0], [1, 1], { clamp: true }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [0, 0], [1, 1e39], { clamp: true }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [], [], { clamp: true }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(new Float32Array(0), [0], [1]), 'E_ARGUMENT');
    expectCode(() => e.validateRanges([1, 2] as unknown as Float32Array, [0], [1]), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [0, 0], [1, 1], { clamp: 1 as unknown as boolean }), 'E_ARGUMENT');
    expectCode(() => e.validateRanges(values, [0, 0], [1, 1], { clmap: true } as object), 'E_ARGUMENT');
  });

  test('over budget: E_BUDGET, values and the engine as they were; it runs once there is room', async () => {
    const small = await engine(simd, { budgetBytes: 1 << 20 });
    const index = small.createIndex({ dim: 8, metric: 'l2' });
    fillToBudget(small, index);
    const { values, lower, upper } = randomCase(20000, 8, 5);
    const copy = values.slice();
    const used = small.usedBytes;
    const reserved = small.reservedBytes;
    expect(() => small.validateRanges(values, lower, upper, { clamp: true })).toThrow(BudgetExceededError);
    expect(bits(values)).toEqual(bits(copy));
    expect([small.usedBytes, small.reservedBytes]).toEqual([used, reserved]);
    index.clear();
    const free = small.usedBytes;
    expect(Array.from(small.validateRanges(values, lower, upper, { clamp: true }))).toEqual(
      Array.from(reference(copy, lower, upper).counts),
    );
    expect(small.usedBytes).toBeLessThanOrEqual(free);
    small.dispose();
  });
});

test('both builds count and clamp with the same bits', async () => {
  if (BUILDS.length < 2) return;
  const results = [];
  for (const simd of BUILDS) {
    const e = await engine(simd);
    const { values, lower, upper } = randomCase(300, 37, 4242);
    const counts = Array.from(e.validateRanges(values, lower, upper, { clamp: true }));
    results.push({ counts, values: bits(values) });
    e.dispose();
  }
  expect(results[1]).toEqual(results[0]);
});
