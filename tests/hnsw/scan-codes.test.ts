/**
 * Scan codes (assembly/hnsw/scan-codes.ts): the int8 first pass of the exact scan of an f32
 * index. The answers must be the f32 scan's, to the bit: checked against the same index before
 * its codes exist (a search that wants them makes them) and against brute force in plain JS,
 * for every metric, both builds, rows of extreme magnitude and ties, through replacements,
 * adds, removes, compaction and clear; and the codes must never cost an add its room.
 */
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors, rng } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { BudgetExceededError, type Engine, type Metric, type VectorIndex } from '../../src/index';

const K = 10;
/** The scan takes the codes from this many allowed rows (CODES_MIN_ROWS). */
const CODES_MIN_ROWS = 4096;

/** n distinct ids of [0, count), seeded, shuffled. */
function pick(count: number, n: number, seed: number): Uint32Array {
  const next = rng(seed);
  const all = Array.from({ length: count }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return Uint32Array.from(all.slice(0, n));
}

/** The vectors of a test index: random, with duplicates, tiny and huge rows and (not under cosine) zeros. */
function rows(count: number, dim: number, metric: Metric, seed: number): Float32Array {
  const data = randomVectors(count, dim, seed);
  for (let i = 0; i < count; i += 97) data.copyWithin(i * dim, 0, dim); // exact duplicates of row 0
  for (let i = 5; i < count; i += 89) for (let c = 0; c < dim; c++) data[i * dim + c] *= 1e-30;
  if (metric !== 'l2') for (let i = 7; i < count; i += 83) for (let c = 0; c < dim; c++) data[i * dim + c] *= 1e15;
  if (metric !== 'cosine') for (let i = 11; i < count; i += 101) data.fill(0, i * dim, (i + 1) * dim);
  return data;
}

/** The ids of an answer whose distance no other result shares (among equal distances any order is right). */
function untied(r: { ids: Uint32Array; distances: Float32Array }): number[] {
  const d = Array.from(r.distances);
  return Array.from(r.ids).filter((_, i) => d.indexOf(d[i]) === d.lastIndexOf(d[i]) && d[i] !== d[d.length - 1]);
}

describe.each(BUILDS)('simd %s', (simd) => {
  describe.each(['cosine', 'l2', 'dot'] as const)('%s', (metric) => {
    let e: Engine;
    afterEach(() => e.dispose());

    test.each([13, 100])('dim %p: every answer equals the f32 scan, to the bit, and brute force', async (dim) => {
      e = await engine(simd, { budgetBytes: 256 * 2 ** 20 });
      const count = 5000;
      const data = rows(count, dim, metric, dim);
      const index = e.createIndex({ dim, metric, M: 8, efConstruction: 16, seed: 3 });
      index.addBatch(
        Uint32Array.from({ length: count }, (_, i) => i),
        data,
      );
      const queries = randomVectors(12, dim, 77);
      queries.set(data.subarray(0, dim), 0); // a query equal to the duplicated row: ties
      const lists = [
        pick(count, CODES_MIN_ROWS, 1),
        pick(count, 4500, 2),
        Uint32Array.from({ length: count }, (_, i) => i),
      ];
      const used = e.usedBytes;
      // Before its codes exist an exact scan scores every row in f32 (and asks for them).
      const before = lists.map((list) =>
        Array.from({ length: 12 }, (_, q) =>
          index.search(queries.subarray(q * dim, (q + 1) * dim), K, { filter: list, plan: 'exact' }),
        ),
      );
      const grown = e.usedBytes - used;
      // The codes: about 16 + dim (to 16) bytes a row, and 8 of pass buffer.
      expect(grown).toBeGreaterThanOrEqual(count * (16 + Math.ceil(dim / 16) * 16 + 8));
      for (const [l, list] of lists.entries()) {
        const allowed = Array.from(list);
        for (let q = 0; q < 12; q++) {
          const query = queries.subarray(q * dim, (q + 1) * dim);
          const r = index.search(query, K, { filter: list, plan: 'exact' });
          expect([l, q, Array.from(r.distances)]).toEqual([l, q, Array.from(before[l][q].distances)]);
          expect([l, q, untied(r)]).toEqual([l, q, untied(before[l][q])]);
          if (metric === 'l2' || q === 0) continue; // huge rows' f64 reference differs from f32
          const truth = bruteForce(metric, data, allowed, (id) => id, dim, query, K);
          for (let i = 0; i < K; i++) {
            const want = truth[i].distance;
            expect(Math.abs(r.distances[i] - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want)));
          }
        }
      }
      expect(e.usedBytes - used).toBe(grown); // built once
    });

    test('rows about as far from the query as each other: the bounds keep the exact answer', async () => {
      // Every row at about the same distance from p (0.3, give or take 0.1%), far less apart
      // than the codes' rounding: the first pass can rule out almost none, and a bound too tight
      // rules out rows of the answer.
      e = await engine(simd, { budgetBytes: 256 * 2 ** 20 });
      const dim = 32;
      const count = 4200;
      const next = rng(21);
      const p = randomVectors(1, dim, 22);
      const data = new Float32Array(count * dim);
      for (let i = 0; i < count; i++) {
        const u = randomVectors(1, dim, 1000 + i);
        const norm = Math.hypot(...u);
        const r = 0.3 * (1 + 0.001 * next());
        for (let c = 0; c < dim; c++) data[i * dim + c] = p[c] + (r * u[c]) / norm;
      }
      const index = e.createIndex({ dim, metric, M: 8, efConstruction: 16, seed: 5 });
      index.addBatch(
        Uint32Array.from({ length: count }, (_, i) => i),
        data,
      );
      const list = Uint32Array.from({ length: count }, (_, i) => i);
      const queries = Array.from({ length: 8 }, (_, q) => {
        const noise = randomVectors(1, dim, 500 + q);
        return p.map((x, c) => x + 1e-3 * noise[c]);
      });
      const before = queries.map((q) => index.search(q, K, { filter: list, plan: 'exact' }));
      for (const [q, query] of queries.entries()) {
        const r = index.search(query, K, { filter: list, plan: 'exact' });
        expect([q, Array.from(r.ids), Array.from(r.distances)]).toEqual([
          q,
          Array.from(before[q].ids),
          Array.from(before[q].distances),
        ]);
      }
    });

    test('replacements, adds, removes, compaction and clear: still the exact answer', async () => {
      e = await engine(simd, { budgetBytes: 256 * 2 ** 20 });
      const dim = 24;
      const count = 5000;
      let data = rows(count, dim, metric, 5);
      const index = e.createIndex({ dim, metric, M: 8, efConstruction: 16, seed: 4 });
      const live = new Map<number, number>(); // id -> row of data
      const add = (ids: number[], at: number[]) => {
        const v = new Float32Array(ids.length * dim);
        at.forEach((row, i) => v.set(data.subarray(row * dim, (row + 1) * dim), i * dim));
        index.addBatch(Uint32Array.from(ids), v);
        ids.forEach((id, i) => live.set(id, at[i]));
      };
      add(
        Array.from({ length: count }, (_, i) => i),
        Array.from({ length: count }, (_, i) => i),
      );
      const queries = randomVectors(6, dim, 8);
      const expectExact = (ix: VectorIndex, step: string) => {
        const ids = [...live.keys()];
        const list = Uint32Array.from(ids);
        for (let q = 0; q < 6; q++) {
          const query = queries.subarray(q * dim, (q + 1) * dim);
          const r = ix.search(query, K, { filter: list, plan: 'exact' });
          const truth = bruteForce(metric, data, ids, (id) => live.get(id) as number, dim, query, K);
          expect([step, q, r.ids.length]).toEqual([step, q, Math.min(K, ids.length)]);
          for (let i = 0; i < r.ids.length; i++) {
            const d = bruteForce(metric, data, [r.ids[i]], (id) => live.get(id) as number, dim, query, 1)[0].distance;
            expect([step, q, i, d]).toEqual([step, q, i, expect.closeTo(truth[i].distance, 3)]);
          }
        }
      };
      expectExact(index, 'made'); // the first search asks for the codes
      expectExact(index, 'with codes');
      // The rows nearest each query replaced by far ones, and far ones by the queries themselves.
      data = Float32Array.from([...data, ...queries, ...rows(200, dim, metric, 9)]);
      const nearest = queries.length / dim;
      for (let q = 0; q < 6; q++) {
        const r = index.search(queries.subarray(q * dim, (q + 1) * dim), 3, {
          filter: [...live.keys()],
          plan: 'exact',
        });
        add(
          Array.from(r.ids),
          Array.from(r.ids, (_, i) => count + nearest + q * 3 + i),
        );
        add([100 + q], [count + q]);
      }
      expectExact(index, 'replaced');
      // New rows, queries' copies among them: scored in f32 until the codes are extended.
      add(
        Array.from({ length: 150 }, (_, i) => 50000 + i),
        Array.from({ length: 150 }, (_, i) => (i % 50 === 7 ? count + (i % 6) : count + nearest + 20 + i)),
      );
      expectExact(index, 'added');
      expectExact(index, 'added, codes extended');
      for (let id = 0; id < count; id += 10) {
        index.remove(id);
        live.delete(id);
      }
      expectExact(index, 'removed');
      index.compact();
      expectExact(index, 'compacted');
      expectExact(index, 'compacted, codes made again');
      expectExact(e.loadIndex(index.serialize()), 'loaded');
      index.clear();
      live.clear();
      add(
        Array.from({ length: 4200 }, (_, i) => i * 2),
        Array.from({ length: 4200 }, (_, i) => count - 1 - i),
      );
      expectExact(index, 'cleared and filled');
      expectExact(index, 'cleared and filled, codes made again');
    });
  });

  test("a row whose codes' rounding points at the query: the first pass keeps it by its full bound", async () => {
    // Row A = (cA + f) / 128 with one code at 127: its codes are cA (scale 1/128 exactly), its
    // rounding error f / 128, and the query q = f / |f| meets that error head on, so the codes
    // put A farther than it is by all of |f| / 128. 4200 rows B = (cA + D) / 128, exact in
    // int8, lie a quarter of that behind A. A bound of less than A's whole error would rule A
    // out for a B.
    const e = await engine(simd, { budgetBytes: 64 * 2 ** 20 });
    const dim = 16;
    const next = rng(31);
    const cA = Array.from({ length: dim }, (_, i) => (i === 0 ? 127 : Math.round(next() * 200 - 100)));
    const f = Array.from({ length: dim }, (_, i) => (i === 0 ? 0 : (next() < 0.5 ? -1 : 1) * (0.3 + 0.15 * next())));
    const f2 = f.reduce((t, x) => t + x * x, 0);
    // D: +-1 on the largest |f| until f . D reaches 3/4 of |f|^2.
    const order = f.map((x, i) => [Math.abs(x), i]).sort((a, b) => b[0] - a[0]);
    const D = new Array(dim).fill(0);
    let fd = 0;
    for (const [x, i] of order) {
      if (fd >= 0.75 * f2) break;
      D[i] = Math.sign(f[i]);
      fd += x;
    }
    const A = Float32Array.from(cA, (c, i) => (c + f[i]) / 128);
    const B = Float32Array.from(cA, (c, i) => (c + D[i]) / 128);
    const norm = Math.sqrt(f2);
    const q = Float32Array.from(f, (x) => x / norm);
    const count = 4201;
    const data = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) data.set(i === 700 ? A : B, i * dim);
    const index = e.createIndex({ dim, metric: 'dot', M: 8, efConstruction: 16, seed: 6 });
    index.addBatch(
      Uint32Array.from({ length: count }, (_, i) => i),
      data,
    );
    const list = Uint32Array.from({ length: count }, (_, i) => i);
    expect(Array.from(index.search(q, 1, { filter: list, plan: 'exact' }).ids)).toEqual([700]); // f32, makes the codes
    expect(Array.from(index.search(q, 1, { filter: list, plan: 'exact' }).ids)).toEqual([700]); // the codes first
    e.dispose();
  });

  test('the codes never cost an add its room: an engine they fill still takes adds to >= 95% of its budget', async () => {
    const budget = 8 * 2 ** 20;
    const e = await engine(simd, { budgetBytes: budget });
    const dim = 64;
    const index = e.createIndex({ dim, metric: 'cosine', M: 8, efConstruction: 16, seed: 1 });
    const data = randomVectors(40000, dim, 12);
    let n = 0;
    const all = (): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);
    // Half the budget in rows, then a filtered search: its codes take a good part of the rest.
    while (e.usedBytes < budget / 2) {
      index.addBatch(
        Uint32Array.from({ length: 100 }, (_, i) => n + i),
        data.subarray(n * dim, (n + 100) * dim),
      );
      n += 100;
    }
    const before = e.usedBytes;
    index.search(data.subarray(0, dim), K, { filter: all(), plan: 'exact' });
    const withCodes = e.usedBytes;
    expect(withCodes - before).toBeGreaterThan(n * (16 + 64 + 8));
    // One add at a time until the budget refuses one.
    let refused: unknown;
    let dropped = false;
    for (;;) {
      const used = e.usedBytes;
      try {
        index.add(n, data.subarray(n * dim, (n + 1) * dim));
        n++;
      } catch (error) {
        refused = error;
        break;
      }
      if (e.usedBytes < used) dropped = true;
    }
    expect(dropped).toBe(true); // an add that did not fit dropped the codes and went in
    expect(refused).toBeInstanceOf(BudgetExceededError);
    expect(e.usedBytes / budget).toBeGreaterThanOrEqual(0.95);
    expect(index.size).toBe(n);
    // Still exact, from a list the budget has room to stage.
    index.remove(0);
    const list = pick(n, 1500, 3).filter((id) => id !== 0);
    const query = data.subarray(dim, 2 * dim);
    const r = index.search(query, K, { filter: list, plan: 'exact' });
    const truth = bruteForce('cosine', data, Array.from(list), (id) => id, dim, query, K);
    expect(Array.from(r.ids)).toEqual(truth.map((t) => t.id));
    e.dispose();
  });
});
