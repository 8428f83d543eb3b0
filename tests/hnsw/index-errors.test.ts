/** Every error path of the index: a typed error, a clear message, and the index unchanged. */
import {
  DimensionMismatchError,
  DisposedError,
  type ElexError,
  Engine,
  EngineBrokenError,
  InvalidArgumentError,
  InvalidVectorError,
  type VectorIndex,
} from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { randomVectors } from '../helpers/random';
import { absMaxCodes } from '../helpers/quant';
import { fingerprint } from '../helpers/snapshot';

const dim = 8;
const data = randomVectors(50, dim, 5);
const row = (i: number) => data.subarray(i * dim, (i + 1) * dim);

describe.each(BUILDS)('index errors (simd %s)', (simd) => {
  let e: Engine;
  let index: VectorIndex;
  let before: string;
  const probe = () => fingerprint(index, [0, 1, 2, 49, 1000], [row(3), row(7)]);

  beforeEach(async () => {
    e = await engine(simd);
    index = e.createIndex({ dim });
    index.addBatch(
      Uint32Array.from({ length: 50 }, (_, i) => i),
      data,
    );
    index.remove(2);
    before = probe();
  });

  function expectUnchanged(
    call: () => unknown,
    type: new (...args: never[]) => ElexError,
    code: string,
    text?: RegExp,
  ) {
    expectElexError(call, type, code, text);
    expect(probe()).toBe(before);
  }

  test('wrong dimension', () => {
    expectUnchanged(
      () => index.add(60, new Float32Array(dim + 1)),
      DimensionMismatchError,
      'E_DIMENSION',
      /9 components; the index expects 8/,
    );
    expectUnchanged(() => index.add(60, []), DimensionMismatchError, 'E_DIMENSION');
    expectUnchanged(
      () => index.addBatch([60, 61], new Float32Array(dim * 2 - 1)),
      DimensionMismatchError,
      'E_DIMENSION',
    );
    expectUnchanged(() => index.search(new Float32Array(dim - 1), 3), DimensionMismatchError, 'E_DIMENSION', /query/);
    expectUnchanged(() => index.searchBatch(new Float32Array(dim * 2 + 3), 3), DimensionMismatchError, 'E_DIMENSION');
  });

  test('NaN, Infinity, float32 overflow', () => {
    for (const bad of [NaN, Infinity, -Infinity, 1e39]) {
      const v = Array.from(row(0));
      v[5] = bad;
      expectUnchanged(() => index.add(60, v), InvalidVectorError, 'E_INVALID_VECTOR', /component at 5/);
      expectUnchanged(() => index.search(v, 3), InvalidVectorError, 'E_INVALID_VECTOR');
      const batch = new Float64Array(dim * 3).fill(0.5);
      batch[dim * 2 + 1] = bad;
      expectUnchanged(() => index.addBatch([60, 61, 62], batch), InvalidVectorError, 'E_INVALID_VECTOR', /row 2/);
    }
    expectUnchanged(
      () => index.add(60, new Array(dim).fill(1e20)),
      InvalidVectorError,
      'E_INVALID_VECTOR',
      /beyond float32/,
    );
    // Numbers whose squared norm fits float32 in float64 while their float32 roundings' does not:
    // the index stored them, and its snapshot then failed its loader's check (CorruptSnapshotError).
    const F32_MAX = 3.4028234663852886e38;
    const yf = Math.fround(1.8e19);
    const y = yf - 0.9 * 2 ** 39; // rounds up to yf as float32 (a step of 2^40 there)
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    f[0] = Math.sqrt(F32_MAX - y * y);
    const base = u[0];
    let x = Number.NaN;
    for (let d = -64; d <= 64 && Number.isNaN(x); d++) {
      u[0] = base + d;
      if (f[0] * f[0] + y * y <= F32_MAX && f[0] * f[0] + yf * yf > F32_MAX) x = f[0];
    }
    expect(x).not.toBeNaN();
    const edge = new Array(dim).fill(0);
    [edge[0], edge[1]] = [x, y];
    expectUnchanged(() => index.add(60, edge), InvalidVectorError, 'E_INVALID_VECTOR', /beyond float32/);
    [edge[0], edge[1]] = [x, Math.fround(yf * 0.999)]; // just inside: taken, and its snapshot loads
    const other = e.createIndex({ dim, metric: 'l2' });
    other.add(1, edge);
    expect(Array.from(e.loadIndex(other.serialize()).get(1)!)).toEqual(Array.from(Float32Array.from(edge)));
    other.dispose();
    expectUnchanged(
      () => index.add(60, ['1', 2, 3, 4, 5, 6, 7, 8] as unknown as number[]),
      InvalidVectorError,
      'E_INVALID_VECTOR',
    );
  });

  test('i8 under l2: a row or query whose int8 codes carry its squared norm past float32', () => {
    // Under i8 the engine stores a row's squared norm as its codes give it (scale^2 * c.c, float32)
    // and l2 distances add it: rounding components up to a code carried a norm just inside
    // float32 to Infinity, and the row's every distance was Infinity (last even under plan
    // 'exact'). Such rows (and queries, encoded at 2047 levels) are refused like the float32 check's.
    const F32_MAX = 3.4028234663852886e38;
    const i8 = e.createIndex({ dim, metric: 'l2', quantization: 'i8' });
    i8.addBatch(
      Uint32Array.from({ length: 20 }, (_, i) => i),
      data.subarray(0, 20 * dim),
    );
    // [t, r t, ..., r t]: code 127 for every component, 126.6 steps before rounding, so the
    // codes' squared norm is ~0.7% above the row's.
    const r = 126.6 / 127;
    const shape = (t: number) => Float32Array.from({ length: dim }, (_, i) => (i === 0 ? t : t * r));
    const sumSq = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0);
    const fits = (t: number) => sumSq(shape(t)) <= F32_MAX;
    const codesFit = (levels: number) => (t: number) => absMaxCodes(shape(t), levels).sqnorm < Infinity;
    const tMax = largestFloat32(fits, 1e18, 2e19); // largest the float32 check takes
    const tRow = largestFloat32(codesFit(127), 1e18, tMax); // largest row i8 can store
    const tQuery = largestFloat32(codesFit(2047), 1e18, tMax); // largest query it can encode
    const above = (t: number) => nextFloat32(t);
    expect(tRow).toBeLessThan(tQuery);
    expect(tQuery).toBeLessThan(tMax);
    const probeI8 = () => fingerprint(i8, [0, 19, 100, 101], [row(3), shape(1e18)]);
    const beforeI8 = probeI8();
    const refused = (call: () => unknown) => {
      expectElexError(call, InvalidVectorError, 'E_INVALID_VECTOR', /beyond float32/);
      expect(probeI8()).toBe(beforeI8);
    };
    for (const t of [above(tRow), tQuery, tMax]) {
      expect(fits(t)).toBe(true); // each passes the float32 check
      const bad = shape(t);
      refused(() => i8.add(100, bad));
      refused(() => i8.add(5, bad)); // replacing a stored id
      const batch = new Float32Array(3 * dim).fill(0.5);
      batch.set(bad, 2 * dim);
      refused(() => i8.addBatch([100, 101, 102], batch));
    }
    refused(() => i8.search(shape(above(tQuery)), 3));
    const queries = new Float32Array(2 * dim).fill(1);
    queries.set(shape(above(tQuery)), dim);
    refused(() => i8.searchBatch(queries, 3));
    // Under f32 and cosine the same rows are taken (no codes' norm; cosine rows are unit).
    for (const [metric, quantization] of [
      ['l2', 'f32'],
      ['cosine', 'i8'],
    ] as const) {
      const other = e.createIndex({ dim, metric, quantization });
      other.add(1, shape(tMax));
      expect(other.size).toBe(1);
      other.dispose();
    }
    // The largest row taken, one well inside, and the largest query: finite distances, each the
    // plain-JS value of the codes, in order.
    i8.add(100, shape(tRow));
    i8.add(101, new Float32Array(dim).fill(1e18));
    const all = Array.from({ length: 20 }, (_, i) => i).concat([100, 101]);
    const stored = (id: number) => (id < 20 ? row(id) : id === 100 ? shape(tRow) : new Float32Array(dim).fill(1e18));
    const check = (index: VectorIndex, query: Float32Array) => {
      const res = index.search(query, all.length, { filter: all, plan: 'exact' });
      const cq = absMaxCodes(query, 2047);
      const want = all
        .map((id) => {
          const cx = absMaxCodes(stored(id), 127);
          const dot = cq.codes.reduce((s, c, i) => s + c * cx.codes[i], 0);
          const d = cq.sqnorm + cx.sqnorm - 2 * (cq.scale * cx.scale * dot);
          return { id, d: d > 0 ? Math.fround(d) : 0 };
        })
        .sort((a, b) => a.d - b.d || a.id - b.id);
      expect(Array.from(res.distances)).toEqual(want.map((w) => w.d));
      for (const dist of res.distances) expect(dist).toBeLessThan(Infinity);
      expect(new Set(res.ids)).toEqual(new Set(all));
      return res;
    };
    const near = check(i8, row(3));
    expect(Array.from(near.ids.slice(-2))).toEqual([101, 100]);
    const far = check(i8, shape(tQuery));
    expect(far.ids[0]).toBe(100);
    // Its snapshot loads and searches the same.
    const copy = e.loadIndex(i8.serialize());
    expect(Array.from(copy.get(100)!)).toEqual(Array.from(i8.get(100)!));
    expect(check(copy, row(3))).toEqual(near);
    expect(check(copy, shape(tQuery))).toEqual(far);
    copy.dispose();
    i8.dispose();
  });

  test('zero vector under cosine (and allowed under l2)', () => {
    expectUnchanged(() => index.add(60, new Float32Array(dim)), InvalidVectorError, 'E_INVALID_VECTOR', /zero vector/);
    expectUnchanged(() => index.search(new Float32Array(dim), 3), InvalidVectorError, 'E_INVALID_VECTOR');
    const l2 = e.createIndex({ dim, metric: 'l2' });
    l2.add(1, new Float32Array(dim));
    expect(l2.search(new Float32Array(dim), 1).ids[0]).toBe(1);
  });

  test('bad ids', () => {
    for (const id of [-1, 1.5, 2 ** 32, NaN, '3' as unknown as number, undefined as unknown as number]) {
      expectUnchanged(() => index.add(id, row(0)), InvalidArgumentError, 'E_ARGUMENT', /id must be an integer/);
      expectUnchanged(() => index.remove(id), InvalidArgumentError, 'E_ARGUMENT');
      expectUnchanged(() => index.has(id), InvalidArgumentError, 'E_ARGUMENT');
      expectUnchanged(() => index.get(id), InvalidArgumentError, 'E_ARGUMENT');
    }
    expectUnchanged(
      () => index.addBatch([1, -5], new Float32Array(dim * 2).fill(1)),
      InvalidArgumentError,
      'E_ARGUMENT',
      /ids\[1\]/,
    );
  });

  test('bad k, ef, filter, options', () => {
    for (const k of [0, -1, 2.5, NaN]) {
      expectUnchanged(() => index.search(row(1), k), InvalidArgumentError, 'E_ARGUMENT', /k must be/);
      expectUnchanged(() => index.searchBatch(row(1), k), InvalidArgumentError, 'E_ARGUMENT');
    }
    expectUnchanged(() => index.search(row(1), 3, { ef: 0 }), InvalidArgumentError, 'E_ARGUMENT', /ef must be/);
    expectUnchanged(
      () => index.search(row(1), 3, { filter: 5 as unknown as () => boolean }),
      InvalidArgumentError,
      'E_ARGUMENT',
    );
    expectUnchanged(
      () => {
        index.efSearch = 0;
      },
      InvalidArgumentError,
      'E_ARGUMENT',
    );
    expect(index.efSearch).toBe(64);
    expect(() => e.createIndex({ dim: 0 })).toThrow(InvalidArgumentError);
    expect(() => e.createIndex({ dim, M: 1 })).toThrow(/M must be an integer in \[2, 128\]/);
    expect(() => e.createIndex({ dim, metric: 'hamming' as 'l2' })).toThrow(/metric must be one of/);
    expect(() => e.createIndex({ dim, efConstruction: 0 })).toThrow(InvalidArgumentError);
    expect(() => e.createIndex(null as unknown as { dim: number })).toThrow(InvalidArgumentError);
  });

  test('a filter that throws or re-enters leaves the index usable', () => {
    expect(() =>
      index.search(row(1), 3, {
        filter: () => {
          throw new Error('boom');
        },
      }),
    ).toThrow('boom');
    expect(probe()).toBe(before);
    expect(() => index.search(row(1), 3, { filter: (id) => index.has(id) })).toThrow(/inside a search filter/);
    expect(probe()).toBe(before);
    // Disposing the engine (or the index) from a filter is refused too: the walk is using it.
    expect(() =>
      index.search(row(1), 3, {
        filter: () => {
          e.dispose();
          return true;
        },
      }),
    ).toThrow(/engine\.dispose called from inside a search filter/);
    const disposeIndex = (): boolean => {
      index.dispose();
      return true;
    };
    expect(() => index.search(row(1), 3, { filter: disposeIndex })).toThrow(/inside a search filter/);
    expect(probe()).toBe(before);
  });

  test('disposed index and disposed engine', () => {
    const other = e.createIndex({ dim });
    other.add(1, row(0));
    other.dispose();
    other.dispose();
    expect(() => other.add(2, row(1))).toThrow(DisposedError);
    expect(() => other.search(row(1), 1)).toThrow(DisposedError);
    expect(() => other.size).toThrow(DisposedError);
    expect(probe()).toBe(before);
    e.dispose();
    for (const call of [() => index.search(row(1), 3), () => index.add(1, row(1)), () => e.createIndex({ dim })]) {
      expect(call).toThrow(DisposedError);
    }
  });

  test('a trap marks the engine broken for good', () => {
    const rt = e.runtime;
    expect(() => rt.run('probe', () => rt.exports.indexVector(0xfffffff0, 1))).toThrow(EngineBrokenError);
    expect(() => index.size).toThrow(EngineBrokenError);
    expect(() => index.search(row(1), 3)).toThrow(/create a new Engine/);
  });
});

test('engine options are checked', async () => {
  await expect(Engine.create({ budgetBytes: 1000 })).rejects.toThrow(/budgetBytes must be an integer/);
  await expect(Engine.create({ budgetBytes: 2 ** 33 })).rejects.toThrow(InvalidArgumentError);
  await expect(Engine.create({ simd: 'yes' as 'on' })).rejects.toThrow(/simd must be one of/);
  await expect(Engine.create({ wasm: 'abc' as unknown as Uint8Array })).rejects.toThrow(InvalidArgumentError);
});

/** The next float32 above positive float32 t. */
function nextFloat32(t: number): number {
  const f = new Float32Array([t]);
  new Uint32Array(f.buffer)[0]++;
  return f[0];
}

/** The largest positive float32 in [lo, hi] where ok holds (ok(lo) true, monotone: true then false). */
function largestFloat32(ok: (t: number) => boolean, lo: number, hi: number): number {
  const f = new Float32Array([lo, hi]);
  const u = new Uint32Array(f.buffer);
  let [a, b] = [u[0], u[1]];
  expect(ok(f[0])).toBe(true);
  while (a < b) {
    const mid = Math.ceil((a + b) / 2);
    u[0] = mid;
    if (ok(f[0])) a = mid;
    else b = mid - 1;
  }
  u[0] = a;
  return f[0];
}
