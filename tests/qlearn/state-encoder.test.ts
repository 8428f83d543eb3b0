/**
 * StateEncoder: bins, keys and vectors against plain-JS references; exact keys collide exactly
 * when the bins agree and decode back; hashed keys (more than 2^32 states) are stable and rarely
 * collide; learned quantile edges put exactly the expected sample counts in each bin; similar
 * states are found by a VectorIndex over the vectors; bad fields and rows are typed errors.
 */
import { Engine, StateEncoder, type StateField } from '../../src/index';
import { rng } from '../helpers/random';

const FIELDS: StateField[] = [
  { name: 'cpu', min: 0, max: 100, bins: 10 },
  { name: 'latency', edges: [1, 5, 20, 100], min: 0, max: 500 },
  { name: 'loss', min: 0, max: 1, bins: 4 },
];

/** Reference bin of v for a field. */
function refBin(field: StateField, v: number): number {
  if ('edges' in field) return field.edges.filter((e) => e <= v).length;
  return Math.min(field.bins - 1, Math.max(0, Math.floor(((v - field.min) / (field.max - field.min)) * field.bins)));
}

function randomRows(n: number, seed: number): number[][] {
  const next = rng(seed);
  return Array.from({ length: n }, () => [next() * 120 - 10, next() * 600 - 50, next() * 1.2 - 0.1]);
}

test('bins, mixed-radix keys and decode match the reference; keys collide exactly when all bins agree', () => {
  const enc = new StateEncoder(FIELDS);
  expect([enc.dim, enc.states, enc.exact]).toEqual([3, 10 * 5 * 4, true]);
  expect(enc.binCounts).toEqual([10, 5, 4]);
  const rows = randomRows(500, 1);
  const keyOf = new Map<number, string>();
  for (const row of rows) {
    const bins = FIELDS.map((f, i) => refBin(f, row[i]));
    expect(Array.from(enc.bins(row))).toEqual(bins);
    const key = enc.key(row);
    expect(key).toBe(bins[0] + 10 * (bins[1] + 5 * bins[2]));
    expect(Array.from(enc.decode(key))).toEqual(bins);
    const tuple = bins.join(',');
    if (keyOf.has(key)) expect(keyOf.get(key)).toBe(tuple);
    keyOf.set(key, tuple);
  }
  expect(new Set(keyOf.values()).size).toBe(keyOf.size);
  // Boundaries: min in bin 0, max and beyond in the last bin, an edge starts its bin, infinities outside.
  expect(Array.from(enc.bins([0, 1, 0]))).toEqual([0, 1, 0]);
  expect(Array.from(enc.bins([100, 100, 1]))).toEqual([9, 4, 3]);
  expect(Array.from(enc.bins([-Infinity, Infinity, 0.2499]))).toEqual([0, 4, 0]);
  expect(enc.key([1e9, 1e9, 1e9])).toBe(enc.states - 1);
  // A row inside a longer array, by offset.
  expect(enc.key([7, 7, 50, 3, 0.5], 2)).toBe(enc.key([50, 3, 0.5]));
});

test('a value on a bin edge is in the bin the documented formula gives (integer ranges, every edge)', () => {
  // floor((v - min) / (max - min) * bins): multiplying by 1 / (max - min) once put 5 of 0..7 in 7
  // bins into bin 4.
  let checked = 0;
  for (let span = 1; span <= 40; span++) {
    for (let bins = 1; bins <= 24; bins++) {
      const field: StateField = { name: 'x', min: 3, max: 3 + span, bins };
      const encoder = new StateEncoder([field]);
      for (let v = 3; v <= 3 + span; v++) {
        expect([span, bins, v, encoder.bins([v])[0]]).toEqual([span, bins, v, refBin(field, v)]);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(20000);
  expect(new StateEncoder([{ min: 0, max: 7, bins: 7 }]).key([5])).toBe(5);
});

test('more than 2^32 states: hashed keys, the same bins give the same key, few collisions among 50,000 states', () => {
  const fields: StateField[] = Array.from({ length: 4 }, () => ({ min: 0, max: 1, bins: 65536 }));
  const enc = new StateEncoder(fields);
  expect(enc.exact).toBe(false);
  expect(enc.states).toBe(2 ** 64);
  expect(() => enc.decode(1)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  const next = rng(2);
  const keys = new Map<number, string>();
  let collisions = 0;
  let unstable = 0;
  for (let i = 0; i < 50000; i++) {
    const row = [next(), next(), next(), next()];
    const key = enc.key(row);
    if (key !== key >>> 0) unstable++;
    if (i < 2000) {
      // Two other rows in the same bins (a quarter and three quarters into each) share the key.
      const b = enc.bins(row);
      const a = Array.from(b, (x) => (x + 0.25) / 65536);
      const c = Array.from(b, (x) => (x + 0.75) / 65536);
      if (enc.key(a) !== key || enc.key(c) !== key) unstable++;
    }
    const tuple = Array.from(enc.bins(row)).join(',');
    const seen = keys.get(key);
    if (seen !== undefined && seen !== tuple) collisions++;
    keys.set(key, tuple);
  }
  // ~50,000^2 / 2^33 = 0.29 expected for a uniform 32-bit hash.
  expect(unstable).toBe(0);
  expect(collisions).toBeLessThanOrEqual(3);
  expect(keys.size).toBeGreaterThan(49990);
});

test('learned quantile edges hold floor((k+1)n/b) - floor(kn/b) samples a bin; ties give fewer bins, none empty', () => {
  const next = rng(3);
  const n = 10007;
  const samples = Float64Array.from({ length: n * 2 }, (_, k) =>
    k % 2 === 0 ? next() ** 3 * 1000 : Math.floor(next() * 3),
  );
  const enc = StateEncoder.learn(samples, 2, { bins: [8, 6], names: ['bytes', 'state'] });
  expect(enc.fields.map((f) => f.name)).toEqual(['bytes', 'state']);
  expect(enc.binCounts).toEqual([8, 3]); // the second column has 3 distinct values
  const counts = [new Array(8).fill(0), new Array(3).fill(0)];
  for (let r = 0; r < n; r++) {
    const b = enc.bins(samples, r * 2);
    counts[0][b[0]]++;
    counts[1][b[1]]++;
  }
  expect(counts[0]).toEqual(
    Array.from({ length: 8 }, (_, k) => Math.floor(((k + 1) * n) / 8) - Math.floor((k * n) / 8)),
  );
  for (const c of counts[1]) expect(c).toBeGreaterThan(0);
  // Vectors: the learned CDF, in [0, 1], monotone in the value.
  let last = -1;
  for (const v of [0, 0.001, 1, 10, 100, 500, 999, 1000, 5000]) {
    const t = enc.vector([v, 1])[0];
    expect(t).toBeGreaterThanOrEqual(last);
    expect(t).toBeGreaterThanOrEqual(0);
    expect(t).toBeLessThanOrEqual(1);
    last = t;
  }
  expect(enc.vector([-1, 1])[0]).toBe(0);
  expect(enc.vector([1e6, 1])[0]).toBe(1);
});

test('vectors: clamped (v - min) / (max - min) for range fields; an index over them finds the nearest state', async () => {
  const enc = new StateEncoder(FIELDS);
  const rows = randomRows(300, 4);
  const flat = rows.flat();
  const { keys, vectors } = enc.encode(flat);
  rows.forEach((row, r) => {
    expect(keys[r]).toBe(enc.key(row));
    expect(vectors[r * 3]).toBe(Math.fround(Math.min(1, Math.max(0, row[0] / 100))));
    expect(vectors[r * 3 + 2]).toBe(Math.fround(Math.min(1, Math.max(0, row[2]))));
  });
  const e = await Engine.create();
  const index = e.createIndex({ dim: 3, metric: 'l2', seed: 1 });
  index.addBatch(Uint32Array.from(keys.keys()), vectors);
  const probe = [50, 30, 0.5];
  const q = enc.vector(probe);
  let best = -1;
  let bestD = Infinity;
  for (let r = 0; r < rows.length; r++) {
    let d = 0;
    for (let i = 0; i < 3; i++) d += (vectors[r * 3 + i] - q[i]) ** 2;
    if (d < bestD) [best, bestD] = [r, d];
  }
  expect(index.search(q, 1).ids[0]).toBe(best);
  e.dispose();
});

test('bad fields and rows are typed errors', () => {
  const bad: unknown[] = [
    [],
    [{ min: 0, max: 0, bins: 2 }],
    [{ min: 1, max: 0, bins: 2 }],
    [{ min: 0, max: NaN, bins: 2 }],
    [{ min: 0, max: 1, bins: 0 }],
    [{ min: 0, max: 1, bins: 65537 }],
    [{ min: 0, max: 1, bins: 1.5 }],
    [{ edges: [1, 1] }],
    [{ edges: [2, 1] }],
    [{ edges: [0, Infinity] }],
    [{ min: 0, max: 1, bins: 2, bnis: 3 }],
    [{ min: -1.7e308, max: 1.7e308, bins: 2 }], // max - min overflows
    [{ edges: [1, 2], min: 3 }],
    [null],
  ];
  for (const fields of bad)
    expect(() => new StateEncoder(fields as StateField[])).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  const enc = new StateEncoder(FIELDS);
  expect(() => enc.key([1, 2])).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => enc.key([1, NaN, 0])).toThrow(expect.objectContaining({ code: 'E_INVALID_VECTOR' }));
  expect(() => enc.vector([1, 2, '3' as unknown as number])).toThrow(
    expect.objectContaining({ code: 'E_INVALID_VECTOR' }),
  );
  expect(() => enc.keyOfBins([10, 0, 0])).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  // encode read rows.length for its default count before any check: a TypeError.
  for (const rows of [null, undefined, 5])
    expect(() => enc.encode(rows as unknown as number[])).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => enc.encode([1, 2, 3], 2)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => enc.decode(enc.states)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => StateEncoder.learn([], 2, { bins: 4 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => StateEncoder.learn([1, 2, 3], 2, { bins: 4 })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  expect(() => StateEncoder.learn([1, NaN], 2, { bins: 4 })).toThrow(
    expect.objectContaining({ code: 'E_INVALID_VECTOR' }),
  );
  expect(() => StateEncoder.learn([1, 2], 2, { bins: [4] })).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
});
