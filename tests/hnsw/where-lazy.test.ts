/**
 * The lazy walk of a `where` (docs/vector-index.md "Lazy where"), both builds. The engine's
 * row-wise evaluator (what the walk checks at a node) passes exactly the ids the column
 * evaluator and the plain-JS reference do, for random filters of every operator, also after
 * removals, replacements and adds without attributes (MongoDB's missing-field rules). A new
 * `where` at a high share returns exactly the predicate's walk (same ids) and the allow-list's
 * walk of the same rows (same ids and distances) at the planner's ef for the sampled share
 * (plan 'walk' forced: at the ef given), plan 'walk' and no allowed count. The share
 * estimate picks the lazy walk at LAZY_SHARE and above and the full evaluation below (tested at
 * the threshold on an index whose every slot is sampled, and at the evaluation limit
 * LAZY_EVAL_PER_EF, for search and for searchBatch's rows); a
 * walk that finds fewer than k falls back to the full evaluation and the exact scan, as the
 * allow-list does, in search and searchBatch; the planner's lazy walk stops for the exact scan
 * where it meets almost no passing rows (a where correlated with the vectors), a forced one not.
 */
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { passes, randomAttributes, randomWhere, rng } from '../helpers/where-reference';
import type { Attributes, Engine, SearchResult, VectorIndex, Where } from '../../src/index';
import { compileWhere } from '../../src/hnsw/where';
import type { Schema } from '../../src/hnsw/attributes';
import { LAZY_EVAL_PER_EF, LAZY_SAMPLE, LAZY_SHARE, WALK_EXACT_PER_EF, scanRows, walkEf } from '../../src/hnsw/filter';
import { SLOT_FILTER, SLOT_OUT } from '../../src/runtime/wasm/exports';

const DIM = 8;
const N = 3000;
const K = 10;
const EF = 16;

/** The index's engine handle and attribute table (private: read here to call the engine directly). */
type Internals = { handle: number; attrs: { table: number; schema: Schema } };

/** Stages `where` compiled for `index`; returns the engine handles and the program's address and length. */
function staged(eng: Engine, index: VectorIndex, where: Where): [number, number, number, number] {
  const { handle, attrs } = index as unknown as Internals;
  const words = compileWhere(where, attrs.schema);
  const prog = eng.runtime.stage(SLOT_OUT, Math.max(8, words.length * 8), 'test');
  new Float64Array(eng.runtime.memory.buffer, prog, words.length).set(words);
  return [handle, attrs.table, prog, words.length];
}

/** The live ids the engine's row-wise evaluator (attrRowIds: the lazy walk's check) passes, ascending. */
function rowIds(eng: Engine, index: VectorIndex, where: Where): number[] {
  const [handle, table, prog, words] = staged(eng, index, where);
  const ex = eng.runtime.exports;
  const list = eng.runtime.stage(SLOT_FILTER, Math.max(4, (ex.indexCapacity(handle) >>> 0) * 4), 'test');
  const n = ex.attrRowIds(handle, table, prog, words, list);
  expect(n).toBeGreaterThanOrEqual(0);
  return Array.from(eng.runtime.u32().subarray(list >>> 2, (list >>> 2) + n)).sort((a, b) => a - b);
}

/** The engine's sampled estimate of the share of live ids passing `where` (attrEstimate). */
function estimate(eng: Engine, index: VectorIndex, where: Where): number {
  return eng.runtime.exports.attrEstimate(...staged(eng, index, where));
}

/** The live ids of `model` whose attributes pass `where`, ascending. */
function expected(model: Map<number, Attributes>, where: Where): number[] {
  return [...model]
    .filter(([, a]) => passes(a, where))
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

const sorted = (ids: Uint32Array): number[] => Array.from(ids).sort((a, b) => a - b);

/** Random filters whose share of the model's ids is at least `min` (a filter below it is negated, when that passes). */
function highShareFilters(model: Map<number, Attributes>, seed: number, count: number, min: number): Where[] {
  const next = rng(seed);
  const out: Where[] = [];
  while (out.length < count) {
    const where = randomWhere(next);
    const share = expected(model, where).length / model.size;
    if (share >= min) out.push(where);
    else if (1 - share >= min) out.push({ $not: where });
  }
  return out;
}

/**
 * Checks that a lazy `where` search of `query` is the plain walk the planner picks at the sampled
 * share (walkEf of the engine's estimate, from the index's ef), and so the walk the predicate and
 * the allow-list of the same rows take at that ef: plan 'walk', no allowed count, the same ids
 * (and distances).
 */
function expectLazyWalk(
  eng: Engine,
  index: VectorIndex,
  model: Map<number, Attributes>,
  query: Float32Array,
  where: Where,
): void {
  const pass = expected(model, where);
  const lazy = index.search(query, K, { where });
  expect({ where, plan: lazy.plan, allowed: lazy.allowed }).toEqual({ where, plan: 'walk', allowed: undefined });
  const ef = walkEf(estimate(eng, index, where), K, index.efSearch);
  const predicate = index.search(query, K, { filter: (id: number) => passes(model.get(id)!, where), ef });
  const listed = index.search(query, K, { filter: pass, plan: 'walk', ef });
  expect(listed.plan).toBe('walk');
  expect({ where, ids: Array.from(lazy.ids) }).toEqual({ where, ids: Array.from(predicate.ids) });
  expect(Array.from(lazy.ids)).toEqual(Array.from(listed.ids));
  expect(Array.from(lazy.distances)).toEqual(Array.from(listed.distances));
  expect(lazy.ids.length).toBe(K);
}

describe.each(BUILDS)('lazy where (simd %s)', (simd) => {
  let eng: Engine;
  let index: VectorIndex;
  const model = new Map<number, Attributes>();
  const base = randomVectors(N, DIM, 9);
  const queries = randomVectors(200, DIM, 77);
  const query = (j: number): Float32Array => queries.subarray((j % 200) * DIM, ((j % 200) + 1) * DIM);

  beforeAll(async () => {
    eng = await engine(simd);
    index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 48, efSearch: EF, seed: 2 });
    const next = rng(13);
    const attrs = Array.from({ length: N }, (_, i) => ({ ...randomAttributes(next), id: i }));
    index.addBatch(
      Array.from({ length: N }, (_, i) => i),
      base,
      attrs,
    );
    attrs.forEach((a, i) => model.set(i, a));
  });
  afterAll(() => eng.dispose());

  test('the row-wise evaluator passes the ids the column evaluator and the reference do (400 random filters)', () => {
    const next = rng(101);
    for (let i = 0; i < 400; i++) {
      const where = randomWhere(next, 3);
      const want = expected(model, where);
      expect({ where, ids: rowIds(eng, index, where) }).toEqual({ where, ids: want });
      expect(sorted(index.idsWhere(where))).toEqual(want);
    }
  });

  test('a new where at a high share is the predicate walk and the allow-list walk (80 random filters, every operator)', () => {
    highShareFilters(model, 7, 80, 0.55).forEach((where, j) => expectLazyWalk(eng, index, model, query(j), where));
  });

  test('searchBatch: lazy while rows * LAZY_EVAL_PER_EF * max(ef, k) <= live ids; each row as search gives it', () => {
    // k 5 at ef 5: lazy up to 3 rows of the 3,000 ids, evaluated in full from 4.
    const k = 5;
    const most = Math.floor(N / (LAZY_EVAL_PER_EF * k));
    expect(most).toBe(3);
    for (const where of highShareFilters(model, 8, 5, 0.55)) {
      for (const rows of [most, most + 1]) {
        const batch = index.searchBatch(queries.subarray(0, rows * DIM), k, { where, ef: k });
        const want = rows === most ? undefined : expected(model, where).length;
        expect([batch.plan, batch.allowed]).toEqual(['walk', want]);
        for (let r = 0; r < rows; r++) {
          const one = index.search(query(r), k, { where, plan: 'walk', ef: k });
          expect(Array.from(batch.ids.subarray(r * k, (r + 1) * k))).toEqual(Array.from(one.ids));
          expect(Array.from(batch.distances.subarray(r * k, (r + 1) * k))).toEqual(Array.from(one.distances));
        }
      }
    }
  });

  test('the share estimate: within 0.06 of the share, periodic filters included (not aliased by the strata)', () => {
    const filters: Where[] = [
      { id: { $lt: 1500 } },
      { id: { $gte: 2000 } },
      { id: { $in: Array.from({ length: 1000 }, (_, i) => i * 3) } },
      { id: { $in: Array.from({ length: 1500 }, (_, i) => i * 2 + 1) } },
      { $not: { id: { $in: Array.from({ length: 750 }, (_, i) => i * 4) } } },
      { kind: { $ne: 'note' } },
      { n: { $exists: false } },
    ];
    for (const where of filters) {
      const share = expected(model, where).length / model.size;
      expect({ where, off: Math.abs(estimate(eng, index, where) - share) < 0.06 }).toEqual({ where, off: true });
    }
    // Deterministic: the same sample every time.
    expect(estimate(eng, index, filters[2])).toBe(estimate(eng, index, filters[2]));
  });

  test('above the threshold the lazy walk, below it the full evaluation (an index sampled whole)', async () => {
    const small = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 32, seed: 4 });
    const rows = LAZY_SAMPLE - 24;
    small.addBatch(
      Array.from({ length: rows }, (_, i) => i),
      randomVectors(rows, DIM, 5),
      Array.from({ length: rows }, (_, i) => ({ id: i })),
    );
    // The fewest rows whose share reaches LAZY_SHARE: that many pass lazily, one fewer in full.
    let t = 0;
    while (t / rows < LAZY_SHARE) t++;
    // Each where searched once: a repeated one would use its resident set.
    const search = (pass: number, ef: number): SearchResult =>
      small.search(query(pass), 1, { where: { id: { $lt: pass } }, ef });
    const at = search(t, 1);
    expect([at.plan, at.allowed]).toEqual(['walk', undefined]);
    const below = search(t - 1, 1);
    expect([below.plan, below.allowed]).toEqual(['walk', t - 1]);
    // The evaluation limit: lazy while LAZY_EVAL_PER_EF * max(ef, k) <= live ids.
    const pass = Math.round(rows * 0.9);
    let ef = 1;
    while (LAZY_EVAL_PER_EF * (ef + 1) <= rows) ef++;
    expect(search(pass, ef).allowed).toBeUndefined();
    const over = search(pass, ef + 1);
    expect(over.allowed).toBe(pass);
    // The passing ids are one run of slots: the exact scan's limit counts them as streamed.
    expect(over.plan).toBe(scanRows(pass, 1) > WALK_EXACT_PER_EF * (ef + 1) ? 'walk' : 'exact');
    small.dispose();
  });

  test('on an index larger than the sample: 70% runs lazily, 30% in full; plan walk forced runs lazily at any share', () => {
    const high = index.search(query(1), K, { where: { id: { $lt: 2100 } } });
    expect([high.plan, high.allowed]).toEqual(['walk', undefined]);
    const low = index.search(query(2), K, { where: { id: { $lt: 900 } } });
    expect(low.allowed).toBe(900);
    const forced = index.search(query(3), K, { where: { id: { $lt: 600 } }, plan: 'walk' });
    expect([forced.plan, forced.allowed]).toEqual(['walk', undefined]);
    const predicate = index.search(query(3), K, { filter: (id: number) => id < 600 });
    expect(Array.from(forced.ids)).toEqual(Array.from(predicate.ids));
  });

  test('a walk that finds fewer than k falls back to the full evaluation (which counts), as the allow-list does', () => {
    // 6 rows pass: the walk finds them all, fewer than k, so the where is evaluated in full to
    // learn whether that is all (min(k, allowed)) or the exact scan must run.
    const rows: Where = { id: { $in: Array.from({ length: 6 }, (_, i) => 37 + i * 401) } };
    // A condition every row passes makes each query's where new (a repeat would use its resident set).
    const whereOf = (j: number): Where => ({ ...rows, n: { $ne: 1000 + j } });
    const pass = expected(model, rows);
    expect(pass.length).toBe(6);
    for (let j = 0; j < 10; j++) {
      const r = index.search(query(j), K, { where: whereOf(j), plan: 'walk' });
      const listed = index.search(query(j), K, { filter: pass, plan: 'walk' });
      expect([r.plan, r.allowed, Array.from(r.ids)]).toEqual(['walk', pass.length, Array.from(listed.ids)]);
      expect(Array.from(r.ids)).toEqual(bruteForce('l2', base, pass, (id) => id, DIM, query(j), K).map((t) => t.id));
    }
    // searchBatch: the rows with fewer than k are searched again in full; each row as search gives it.
    const batch = index.searchBatch(queries.subarray(0, 10 * DIM), K, { where: rows, plan: 'walk' });
    expect([batch.plan, batch.allowed]).toEqual(['walk', pass.length]);
    for (let j = 0; j < 10; j++) {
      expect(batch.counts[j]).toBe(pass.length);
      const one = index.search(query(j), K, { where: whereOf(j), plan: 'walk' });
      expect(Array.from(batch.ids.subarray(j * K, j * K + pass.length))).toEqual(Array.from(one.ids));
    }
    // At a high share nothing falls back: k found, nothing counted.
    const high = index.searchBatch(queries.subarray(0, DIM), K, { where: { id: { $gte: 6 } } });
    expect([high.plan, high.allowed, high.counts[0]]).toEqual(['walk', undefined, K]);
  });

  test("the planner's lazy walk stops for the exact scan where it meets almost no passing rows", () => {
    // A where correlated with the vectors: `far` is a row's rank by distance from q0, and the
    // where passes the half farthest from it. Lazy (a share of 0.5), q0's walk meets rejected
    // rows only: it stops (docs/vector-index.md#the-walks-stop-for-the-exact-scan) and the rows
    // are scanned exactly. A query on the other side walks on; a forced walk never stops.
    const shell = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 48, efSearch: EF, seed: 4 });
    const q0 = query(0);
    const everyId = Array.from({ length: N }, (_, i) => i);
    const byDistance = bruteForce('l2', base, everyId, (id) => id, DIM, q0, N).map((t) => t.id);
    const far = new Array<number>(N);
    byDistance.forEach((id, rank) => {
      far[id] = rank;
    });
    shell.addBatch(
      everyId,
      base,
      everyId.map((i) => ({ far: far[i] })),
    );
    // Each search's where new (a repeat would use the resident set its full evaluation left).
    let fresh = 0;
    const where = (): Where => ({ far: { $gte: N / 2, $ne: -1 - fresh++ } });
    const pass = byDistance.slice(N / 2);
    const opposite = Float32Array.from(q0, (x) => -x);
    const exact = (q: Float32Array) => bruteForce('l2', base, pass, (id) => id, DIM, q, K).map((t) => t.id);
    const stopped = shell.search(q0, K, { where: where() });
    expect([stopped.plan, stopped.allowed, Array.from(stopped.ids)]).toEqual(['exact', N / 2, exact(q0)]);
    const walked = shell.search(opposite, K, { where: where() });
    expect([walked.plan, walked.allowed]).toEqual(['walk', undefined]);
    const forced = shell.search(q0, K, { where: where(), plan: 'walk' });
    const predicate = shell.search(q0, K, { filter: (id: number) => far[id] >= N / 2 });
    expect([forced.plan, Array.from(forced.ids)]).toEqual(['walk', Array.from(predicate.ids)]);
    // searchBatch: the row that stopped is scanned exactly, the other keeps its walk.
    const rows = new Float32Array([...q0, ...opposite]);
    const batch = shell.searchBatch(rows, K, { where: where() });
    expect([batch.plan, batch.allowed]).toEqual(['walk', N / 2]);
    expect(Array.from(batch.ids.subarray(0, K))).toEqual(exact(q0));
    expect(Array.from(batch.ids.subarray(K))).toEqual(Array.from(walked.ids));
    shell.dispose();
  });

  test('removed, replaced and re-added rows, rows without the field: as the full path and the predicate', async () => {
    // ef 10: lazy from LAZY_EVAL_PER_EF * 10 live ids (about 1,930 here).
    const churn = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 48, efSearch: K, seed: 6 });
    const m = new Map<number, Attributes>();
    const next = rng(31);
    const count = 2000;
    const vectors = randomVectors(count + 400, DIM, 12);
    const attrs = Array.from({ length: count }, () => randomAttributes(next));
    churn.addBatch(
      Array.from({ length: count }, (_, i) => i),
      vectors.subarray(0, count * DIM),
      attrs,
    );
    attrs.forEach((a, i) => m.set(i, a));
    for (let id = 0; id < count; id += 9) {
      churn.remove(id);
      m.delete(id);
    }
    for (let id = 1; id < count; id += 13) {
      // Replaced: new attributes, or none (the vector replaced, the attributes kept).
      if (!m.has(id)) continue;
      if (id % 2 === 0) {
        const a = randomAttributes(next);
        churn.add(id, vectors.subarray((count + (id % 400)) * DIM, (count + (id % 400) + 1) * DIM), a);
        m.set(id, a);
      } else churn.add(id, vectors.subarray((count + (id % 400)) * DIM, (count + (id % 400) + 1) * DIM));
    }
    for (let i = 0; i < 150; i++) {
      // New ids, some in freed slots, without attributes: every field missing.
      churn.add(5000 + i, vectors.subarray((count + i) * DIM, (count + i + 1) * DIM));
      m.set(5000 + i, {});
    }
    const w = rng(55);
    for (let i = 0; i < 150; i++) {
      const where = randomWhere(w, 3);
      expect({ where, ids: rowIds(eng, churn, where) }).toEqual({ where, ids: expected(m, where) });
    }
    const missing: Where[] = [
      { n: { $ne: 3 } },
      { kind: { $nin: ['note'] } },
      { $not: { score: { $gt: 0.7 } } },
      { $or: [{ pinned: { $exists: false } }, { pinned: true }] },
      { $or: [{ n: { $exists: false } }, { n: { $lt: 12 } }] },
      ...highShareFilters(m, 9, 30, 0.55),
    ];
    missing.forEach((where, j) => expectLazyWalk(eng, churn, m, query(j + 50), where));
    churn.dispose();
  });
});
