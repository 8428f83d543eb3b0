/**
 * Allow-list filters (issue 22): ids evaluated inside WebAssembly, the planner ('exact',
 * 'filtered-walk', 'walk'), IdSet. Checked against brute force in plain JS: exact plans give the
 * exact answer (distances equal, ids up to ties), walks recall@10 >= 0.95; always
 * min(k, allowed live ids) results, only allowed live ids.
 */
import { BUILDS, engine } from '../helpers/engines';
import { readFvecs } from '../helpers/data';
import { randomVectors, rng } from '../helpers/random';
import { bruteForce, recall } from '../helpers/reference';
import {
  DisposedError,
  type Engine,
  type Metric,
  type Quantization,
  type SearchResult,
  type VectorIndex,
} from '../../src/index';
import {
  ACORN_BOOST_SHARE,
  ACORN_MIN_SHARE,
  EXACT_PER_EF,
  SCAN_RUN_ROWS,
  STREAMED_ROW_COST,
  WALK_EXACT_PER_EF,
  WALK_EF_POWER,
  WALK_SHARE,
  planSearch,
  scanRows,
} from '../../src/hnsw/filter';

const K = 10;

/** Ids 0..n-1 kept with probability `share` (seeded), at least one. */
function allowList(n: number, share: number, seed: number): Uint32Array {
  const next = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (next() < share) out.push(i);
  if (out.length === 0) out.push(Math.floor(next() * n));
  // Any order: shuffle.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return Uint32Array.from(out);
}

interface Data {
  data: Float32Array;
  dim: number;
  count: number;
}

/** Checks one filtered answer against brute force over the allowed live ids; returns its recall. */
function check(
  result: SearchResult,
  metric: Metric,
  base: Data,
  allowed: ArrayLike<number>,
  query: Float32Array,
  exact: boolean,
): number {
  const truth = bruteForce(metric, base.data, allowed, (id) => id, base.dim, query, K);
  expect(result.ids.length).toBe(Math.min(K, allowed.length));
  const ok = new Set(Array.from(allowed));
  for (const id of result.ids) expect(ok.has(id)).toBe(true);
  if (exact) {
    // Exact: the same distances as brute force (ids may differ only among equal distances).
    for (let i = 0; i < truth.length; i++) {
      expect(result.distances[i]).toBeCloseTo(truth[i].distance, metric === 'l2' ? -1 : 4);
    }
    const own = bruteForce(metric, base.data, result.ids, (id) => id, base.dim, query, K);
    for (let i = 0; i < own.length; i++)
      expect(own[i].distance).toBeCloseTo(truth[i].distance, metric === 'l2' ? -1 : 4);
  }
  return recall(
    result.ids,
    truth.map((t) => t.id),
  );
}

const sift = readFvecs('sift128_base.fvecs');
const siftQueries = readFvecs('sift128_query.fvecs');
const QUERIES = 20;

describe.each(BUILDS)('simd %s', (simd) => {
  // Cosine and dot on SIFT are covered by the random data below (one SIFT build per engine keeps this file fast).
  describe.each(['l2'] as const)('SIFT 10K %s, f32', (metric) => {
    let e: Engine;
    let index: VectorIndex;
    const base: Data = { data: sift.data, dim: 128, count: sift.count };
    beforeAll(async () => {
      e = await engine(simd, { budgetBytes: 64 * 2 ** 20 });
      index = e.createIndex({ dim: 128, metric, seed: 3, efConstruction: 100 });
      index.addBatch(
        Uint32Array.from({ length: sift.count }, (_, i) => i),
        sift.data,
      );
    });
    afterAll(() => e.dispose());

    test.each([
      [0.5, 'walk'],
      [0.3, 'exact'],
      [0.1, 'exact'],
      [0.01, 'exact'],
      [0.001, 'exact'],
    ] as const)('planner at %p selectivity picks %s; exact answers, or recall@10 >= 0.95', (share, plan) => {
      const allowed = allowList(sift.count, share, Math.round(share * 1e4));
      let sum = 0;
      for (let q = 0; q < QUERIES; q++) {
        const query = siftQueries.data.subarray(q * 128, (q + 1) * 128);
        const result = index.search(query, K, { filter: allowed });
        expect(result.plan).toBe(plan);
        expect(result.allowed).toBe(allowed.length);
        sum += check(result, metric, base, allowed, query, plan === 'exact');
      }
      expect(sum / QUERIES).toBeGreaterThanOrEqual(0.95);
    });

    test.each([0.5, 0.25, 0.1])('forced filtered-walk and walk at %p: recall@10 >= 0.95', (share) => {
      const allowed = allowList(sift.count, share, 99);
      for (const plan of ['filtered-walk', 'walk'] as const) {
        let sum = 0;
        for (let q = 0; q < QUERIES; q++) {
          const query = siftQueries.data.subarray(q * 128, (q + 1) * 128);
          const result = index.search(query, K, { filter: Array.from(allowed), plan });
          // Walks this wide find k allowed ids without the exact fallback.
          if (share >= 0.25) expect(result.plan).toBe(plan);
          sum += check(result, metric, base, allowed, query, result.plan === 'exact');
        }
        expect(sum / QUERIES).toBeGreaterThanOrEqual(0.95);
      }
    });

    test.each([0.5, 0.7, 0.9])(
      'the walk at %p runs with a narrowed ef and recalls about what the unfiltered search does at that ef',
      (share) => {
        const ef = 32;
        const allowed = allowList(sift.count, share, 77);
        const ok = new Set(allowed);
        const everyId = Uint32Array.from({ length: sift.count }, (_, i) => i);
        const queries = 50;
        let filtered = 0;
        let unfiltered = 0;
        for (let q = 0; q < queries; q++) {
          const query = siftQueries.data.subarray(q * 128, (q + 1) * 128);
          const result = index.search(query, K, { filter: allowed, ef });
          expect(result.plan).toBe('walk');
          filtered += check(result, metric, base, allowed, query, false);
          const all = bruteForce(metric, base.data, everyId, (id) => id, 128, query, K);
          unfiltered += recall(
            index.search(query, K, { ef }).ids,
            all.map((t) => t.id),
          );
          expect(result.ids.every((id) => ok.has(id))).toBe(true);
        }
        expect(planSearch(allowed.length, sift.count, K, ef, 1e5).ef).toBeLessThan(ef);
        // Within 0.01 (5 of the 500 neighbours); ef * share (16 at 50%) would lose far more.
        expect(filtered / queries).toBeGreaterThanOrEqual(unfiltered / queries - 0.01);
      },
    );

    test.each([0.75, 0.7, 0.5, 0.2, 0.05, 0.01])(
      'the rows nearest each query rejected (a share %p): the planned search recalls >= 0.95',
      (core) => {
        // A filter that rejects the query's own neighbourhood ("not the documents most like
        // this one"): the allowed rows nearest the query lie on a shell around it. The plain walk
        // grows outward from the query and reaches the shell; the filtered walk, which moves
        // over allowed rows only, would stall on it (docs/vector-index.md#filters). At ef 16 the
        // planner scans at most 2,048 ids exactly below WALK_SHARE: with the plain walk from 40%
        // of the ids (before 2026-12-06), 25% and 30% took the filtered walk and recalled 0.40-0.42.
        // The planner's walk meets rejected rows only at first: with a fifth of the ids or more
        // rejected around the query it mostly stops for the exact scan (a plain walk scores most
        // of the graph before it reaches the shell).
        const n = sift.count;
        const everyId = Uint32Array.from({ length: n }, (_, i) => i);
        const queries = 20;
        const cut = Math.round(n * core);
        const ef = 16;
        const planned = planSearch(n - cut, n, K, ef, 1e5).plan;
        let auto = 0;
        let walked = 0;
        const ran: (string | undefined)[] = [];
        for (let q = 0; q < queries; q++) {
          const query = siftQueries.data.subarray(q * 128, (q + 1) * 128);
          const ranked = bruteForce(metric, base.data, everyId, (id) => id, 128, query, n).map((t) => t.id);
          const farther = Uint32Array.from(ranked.slice(cut));
          const a = index.search(query, K, { filter: farther, ef });
          expect(a.allowed).toBe(n - cut);
          ran.push(a.plan);
          auto += check(a, metric, base, farther, query, a.plan === 'exact');
          // The plain walk forced (a predicate's walk) at any share: it never stops.
          const forced = index.search(query, K, { filter: farther, plan: 'walk', ef });
          expect(forced.plan).toBe('walk');
          walked += check(forced, metric, base, farther, query, false);
        }
        const exact = ran.filter((p) => p === 'exact').length;
        if (core >= 0.5) expect(exact).toBe(queries);
        else if (core >= 0.2) expect(exact).toBeGreaterThanOrEqual(queries / 2);
        expect(ran.every((p) => p === 'exact' || p === planned)).toBe(true);
        expect(auto / queries).toBeGreaterThanOrEqual(0.95);
        expect(walked / queries).toBeGreaterThanOrEqual(0.95);
        // At 20% of the ids and up the planner walks plainly (or scans, for few ids).
        expect((n - cut) / n).toBeGreaterThanOrEqual(WALK_SHARE);
        expect(planned).not.toBe('filtered-walk');
      },
    );

    test.each([0.01, 0.05, 0.1])(
      'half the ids at random, less the %p nearest the query: the planner recalls >= 0.95',
      (hole) => {
        // The rows the walk meets first pass far less often than half, and the nearest allowed
        // rows lie all around a hole: a walk that moved over allowed rows only would stall on
        // one side of it (a switch to the filtered walk there recalled 0.73-0.92).
        const n = sift.count;
        const everyId = Uint32Array.from({ length: n }, (_, i) => i);
        const half = new Set(allowList(n, 0.5, 321));
        let sum = 0;
        for (let q = 0; q < QUERIES; q++) {
          const query = siftQueries.data.subarray(q * 128, (q + 1) * 128);
          const ranked = bruteForce(metric, base.data, everyId, (id) => id, 128, query, n).map((t) => t.id);
          const allowed = Uint32Array.from(ranked.slice(Math.round(n * hole)).filter((id) => half.has(id)));
          for (const ef of [16, 64])
            sum += check(index.search(query, K, { filter: allowed, ef }), metric, base, allowed, query, false) / 2;
        }
        expect(sum / QUERIES).toBeGreaterThanOrEqual(0.95);
      },
    );

    test('tiny lists (1..10 ids) give exactly those ids, nearest first', () => {
      for (let size = 1; size <= 10; size++) {
        const allowed = allowList(sift.count, size / sift.count, size).slice(0, size);
        const query = siftQueries.data.subarray(size * 128, (size + 1) * 128);
        const result = index.search(query, K, { filter: allowed });
        expect(result.plan).toBe('exact');
        check(result, metric, base, allowed, query, true);
        expect(new Set(result.ids)).toEqual(new Set(allowed));
      }
    });

    test('searchBatch applies the list to every row, as search does', () => {
      const allowed = allowList(sift.count, 0.3, 5);
      const queries = siftQueries.data.subarray(0, 6 * 128);
      const batch = index.searchBatch(queries, K, { filter: allowed, plan: 'filtered-walk' });
      expect(batch.plan).toBe('filtered-walk');
      for (let r = 0; r < 6; r++) {
        const single = index.search(queries.subarray(r * 128, (r + 1) * 128), K, {
          filter: allowed,
          plan: 'filtered-walk',
        });
        expect(batch.counts[r]).toBe(K);
        expect(Array.from(batch.ids.subarray(r * K, (r + 1) * K))).toEqual(Array.from(single.ids));
      }
    });

    test("searchBatch runs the planner's walk row by row: rows that stop for the exact scan equal search's", () => {
      // The half of the ids farthest from row 0: row 0's walk meets rejected rows only and stops
      // for the exact scan, rows far from row 0 walk on.
      const n = sift.count;
      const everyId = Uint32Array.from({ length: n }, (_, i) => i);
      const queries = siftQueries.data.subarray(0, 8 * 128);
      const ranked = bruteForce(metric, base.data, everyId, (id) => id, 128, queries.subarray(0, 128), n);
      const allowed = Uint32Array.from(ranked.slice(n / 2).map((t) => t.id));
      const batch = index.searchBatch(queries, K, { filter: allowed, ef: 16 });
      const plans = new Set<string | undefined>();
      for (let r = 0; r < 8; r++) {
        const single = index.search(queries.subarray(r * 128, (r + 1) * 128), K, { filter: allowed, ef: 16 });
        plans.add(single.plan);
        expect(Array.from(batch.ids.subarray(r * K, (r + 1) * K))).toEqual(Array.from(single.ids));
        expect(Array.from(batch.distances.subarray(r * K, (r + 1) * K))).toEqual(Array.from(single.distances));
      }
      expect(plans).toEqual(new Set(['exact', 'walk']));
    });
  });

  describe.each(['cosine', 'l2', 'dot'] as const)('random 1500 x 24 %s', (metric) => {
    describe.each(['f32', 'f16', 'i8'] as const)('%s', (quantization: Quantization) => {
      const count = 1500;
      const dim = 24;
      const base: Data = { data: randomVectors(count, dim, 11), dim, count };
      let e: Engine;
      let index: VectorIndex;
      beforeAll(async () => {
        e = await engine(simd);
        index = e.createIndex({ dim, metric, quantization, seed: 5, efConstruction: 100 });
        index.addBatch(
          Uint32Array.from({ length: count }, (_, i) => i),
          base.data,
        );
      });
      afterAll(() => e.dispose());

      test.each([0.5, 0.1, 0.01])('plans at %p: min(k, allowed) allowed results, recall@10 >= 0.95', (share) => {
        const allowed = allowList(count, share, 1000 + share * 100);
        const queries = randomVectors(QUERIES, dim, 21);
        // Below ACORN_MIN_SHARE the planner scans exactly; the walks are forced only where it would use them.
        const plans =
          share < ACORN_MIN_SHARE ? (['auto'] as const) : (['auto', 'exact', 'filtered-walk', 'walk'] as const);
        for (const plan of plans) {
          let sum = 0;
          for (let q = 0; q < QUERIES; q++) {
            const query = queries.subarray(q * dim, (q + 1) * dim);
            const result = index.search(query, K, { filter: allowed, plan });
            if (plan === 'auto') expect(result.plan).toBe('exact');
            // Quantized vectors: distances are between stored forms, so only f32 is compared exactly.
            sum += check(result, metric, base, allowed, query, quantization === 'f32' && result.plan === 'exact');
          }
          expect(sum / QUERIES).toBeGreaterThanOrEqual(0.95);
        }
      });
    });
  });

  describe('membership', () => {
    let e: Engine;
    let index: VectorIndex;
    const dim = 8;
    const count = 600;
    const base: Data = { data: randomVectors(count, dim, 31), dim, count };
    beforeEach(async () => {
      e = await engine(simd);
      index = e.createIndex({ dim, metric: 'l2', seed: 2 });
      index.addBatch(
        Uint32Array.from({ length: count }, (_, i) => i),
        base.data,
      );
    });
    afterEach(() => e.dispose());
    const query = randomVectors(1, dim, 4);

    test('unknown ids and repeats are ignored; removed ids never come back', () => {
      const result = index.search(query, K, { filter: [5, 5, 7, 7, 7, 100000, 0xffffffff, 9, 5] });
      expect(result.allowed).toBe(3);
      expect(new Set(result.ids)).toEqual(new Set([5, 7, 9]));
      expect(index.remove(7)).toBe(true);
      const after = index.search(query, K, { filter: [5, 7, 9] });
      expect(after.allowed).toBe(2);
      expect(new Set(after.ids)).toEqual(new Set([5, 9]));
      for (const plan of ['exact', 'filtered-walk', 'walk'] as const) {
        const all = Array.from({ length: count }, (_, i) => i);
        const r = index.search(query, count, { filter: all, plan, ef: 10 });
        expect(r.ids.length).toBe(count - 1);
        expect(Array.from(r.ids)).not.toContain(7);
      }
    });

    test('an id in its own slot is found as in the map: a reused slot and ids out of order give the same answers', () => {
      // Removed slots are reused: id 9000 takes slot 3, so slot 3 no longer holds id 3.
      index.remove(3);
      index.add(9000, query);
      for (const plan of ['exact', 'filtered-walk', 'walk'] as const) {
        const r = index.search(query, K, { filter: [3, 9000, 4], plan });
        expect(r.allowed).toBe(2);
        expect(new Set(r.ids)).toEqual(new Set([9000, 4]));
      }
      // The same vectors with the ids reversed (slot i holds id count - 1 - i): each answer is
      // the plain index's answer to the mirrored list, mirrored.
      const reversed = e.createIndex({ dim, metric: 'l2', seed: 2 });
      reversed.addBatch(
        Uint32Array.from({ length: count }, (_, i) => count - 1 - i),
        base.data,
      );
      const mirror = (id: number) => count - 1 - id;
      for (const share of [0.02, 0.3, 0.7]) {
        const list = allowList(count, share, 21).filter((id) => id !== 3 && mirror(id) !== 3);
        const r = reversed.search(query, K, { filter: list, plan: 'exact' });
        expect(r.allowed).toBe(list.length);
        expect(Array.from(r.ids)).toEqual(
          Array.from(index.search(query, K, { filter: Array.from(list, mirror), plan: 'exact' }).ids, mirror),
        );
      }
    });

    test('ids taken as their slots while every slot holds its own id: compaction, loads and clear follow', () => {
      // Each list is checked against what the index holds: the allowed count, and the exact
      // plan's ids against brute force over the allowed live ids.
      const live = new Set(Array.from({ length: count }, (_, i) => i));
      const rowOf = (id: number) => (id === 5000 ? 150 : id);
      const expectAnswers = (ix: VectorIndex, list: number[]) => {
        const allowed = [...new Set(list)].filter((id) => live.has(id));
        const r = ix.search(query, K, { filter: list, plan: 'exact' });
        expect(r.allowed).toBe(allowed.length);
        const truth = bruteForce('l2', base.data, allowed, rowOf, dim, query, K);
        expect(Array.from(r.ids)).toEqual(truth.map((t) => t.id));
      };
      const lists = [[3, 4, 5, 598, 599], [0, 1, 2, 3], Array.from({ length: count }, (_, i) => count - 1 - i)];
      const checkAll = (ix: VectorIndex) => {
        for (const list of lists) expectAnswers(ix, list);
      };
      // The last id removed and compacted away: every slot still holds its own id.
      index.remove(599);
      live.delete(599);
      index.compact();
      checkAll(index);
      checkAll(e.loadIndex(index.serialize()));
      // Id 3 removed and compacted away: slot 3 now holds id 4, and slot 597 id 598.
      index.remove(3);
      live.delete(3);
      index.compact();
      checkAll(index);
      const loaded = e.loadIndex(index.serialize());
      checkAll(loaded);
      // Cleared and filled in order again: ids are their slots once more.
      loaded.clear();
      live.clear();
      for (let i = 0; i < 100; i++) {
        loaded.add(i, base.data.subarray(i * dim, (i + 1) * dim));
        live.add(i);
      }
      checkAll(loaded);
      // An id past the slots added: the others still found as before, and it too.
      loaded.add(5000, base.data.subarray(150 * dim, 151 * dim));
      live.add(5000);
      lists.push([5000, 7, 99, 100]);
      checkAll(loaded);
    });

    test('long lists marked by their bits alone: repeats, unknown and removed ids, every plan, the next list unaffected', () => {
      // A list of at least one id a bitset word (600 slots: 19), in an index whose slots hold
      // their own ids, is marked by its bits; a dense set then has no node list (the filtered
      // walk's starts come from the bitset), one left sparse is marked again id by id.
      const removed = [2, 40, 41, 42, 300, 599];
      for (const id of removed) index.remove(id);
      const live = (id: number) => id < count && !removed.includes(id);
      const lists: Array<[string, number[]]> = [
        ['everything, shuffled, with repeats', [...allowList(count, 1, 3), ...allowList(count, 0.5, 4)]],
        ['the first 40 slots', Array.from({ length: 40 }, (_, i) => i)],
        ['the last 30 slots, reversed', Array.from({ length: 30 }, (_, i) => count - 1 - i)],
        ['a band in the middle', Array.from({ length: 200 }, (_, i) => 200 + i)],
        ['ten ids, each twice (dense, fewer than the words)', Array.from({ length: 20 }, (_, i) => 100 + 7 * (i % 10))],
        [
          'few ids repeated, unknown and removed',
          [...Array(60).fill(9), ...Array(20).fill(40), 7000, 0xfffffffe, 11, 599, 12],
        ],
        ['unknown ids only', Array.from({ length: 50 }, (_, i) => count + i)],
      ];
      for (const [name, list] of lists) {
        const allowed = [...new Set(list)].filter(live);
        for (const plan of ['auto', 'exact', 'filtered-walk', 'walk'] as const) {
          const r = index.search(query, K, { filter: list, plan, ef: 64 });
          expect([name, plan, r.allowed]).toEqual([name, plan, allowed.length]);
          const truth = bruteForce('l2', base.data, allowed, (id) => id, dim, query, K).map((t) => t.id);
          expect(r.ids.length).toBe(truth.length);
          for (const id of r.ids) expect(allowed).toContain(id);
          if (plan === 'exact') expect([name, Array.from(r.ids)]).toEqual([name, truth]);
          else if (truth.length > 0) expect(recall(r.ids, truth)).toBeGreaterThanOrEqual(0.9);
          // The next search's short list sees only its own ids: the long list's bits are gone.
          const next = index.search(query, K, { filter: [1, 3, 598], plan: 'exact' });
          expect(Array.from(next.ids).sort((a, b) => a - b)).toEqual([1, 3, 598]);
        }
      }
      const batch = index.searchBatch(randomVectors(3, dim, 9), K, { filter: lists[0][1], plan: 'filtered-walk' });
      expect(Array.from(batch.counts)).toEqual([K, K, K]);
    });

    test('an empty list returns nothing; k above the allowed count returns them all', () => {
      expect(index.search(query, K, { filter: [] }).ids.length).toBe(0);
      expect(index.searchBatch(query, K, { filter: new Uint32Array(0) }).counts[0]).toBe(0);
      const allowed = allowList(count, 0.02, 8);
      const r = index.search(query, 100, { filter: allowed });
      expect(r.ids.length).toBe(allowed.length);
      check({ ids: r.ids.subarray(0, K), distances: r.distances.subarray(0, K) }, 'l2', base, allowed, query, true);
    });

    test('IdSet: same answers as the list; follows adds, removes and compaction', () => {
      const ids = Array.from(allowList(count, 0.2, 12));
      const set = index.idSet([...ids, 5000]);
      expect(set.length).toBe(ids.length + 1);
      const byList = index.search(query, K, { filter: ids });
      const bySet = index.search(query, K, { filter: set });
      expect(Array.from(bySet.ids)).toEqual(Array.from(byList.ids));
      expect(Array.from(index.search(query, K, { filter: set }).ids)).toEqual(Array.from(byList.ids));
      // A removed id leaves the set's answers; an added one it names joins them.
      index.remove(byList.ids[0]);
      expect(Array.from(index.search(query, K, { filter: set }).ids)).not.toContain(byList.ids[0]);
      index.add(5000, query);
      const withNew = index.search(query, K, { filter: set });
      expect(withNew.ids[0]).toBe(5000);
      index.compact();
      expect(Array.from(index.search(query, K, { filter: set }).ids)).toEqual(
        Array.from(index.search(query, K, { filter: [...ids, 5000] }).ids),
      );
      const other = e.createIndex({ dim, metric: 'l2' });
      expect(() => other.search(query, K, { filter: set })).toThrow(/IdSet of another index/);
    });

    test('IdSet: built in the engine by its first search, reused as it is, released on request', () => {
      const ids = Array.from(allowList(count, 0.3, 13));
      index.search(query, K, { filter: ids }); // the list's own staging and bitset, for a fair baseline
      const base = e.usedBytes;
      const set = index.idSet(ids);
      expect(e.usedBytes).toBe(base);
      const first = index.search(query, K, { filter: set });
      const built = e.usedBytes;
      expect(built).toBeGreaterThan(base);
      for (let i = 0; i < 3; i++) {
        expect(Array.from(index.search(query, K, { filter: set }).ids)).toEqual(Array.from(first.ids));
        expect(index.searchBatch(query, K, { filter: set }).plan).toBe(first.plan);
        expect(e.usedBytes).toBe(built);
      }
      index.remove(first.ids[0]); // a change: the next search builds it again, in the same room
      expect(Array.from(index.search(query, K, { filter: set }).ids)).not.toContain(first.ids[0]);
      expect(e.usedBytes).toBe(built);
      set.release();
      expect(e.usedBytes).toBe(base);
      expect(index.search(query, K, { filter: set }).ids.length).toBe(K);
      set.release();
    });

    test("IdSet: a built set's engine memory goes with its index", async () => {
      const own = await engine(simd);
      const lists = [allowList(500, 0.3, 1), allowList(500, 0.5, 2), Uint32Array.of(1, 2)];
      const fill = () => {
        const small = own.createIndex({ dim: base.dim, metric: 'l2', M: 8 });
        small.addBatch(
          Uint32Array.from({ length: 500 }, (_, i) => i),
          base.data.subarray(0, 500 * base.dim),
        );
        return small;
      };
      // The same searches with the lists themselves: what the engine keeps after (its staging).
      const plain = fill();
      for (const list of lists) plain.search(query, K, { filter: list });
      plain.dispose();
      const before = own.usedBytes;
      const small = fill();
      const sets = lists.map((list) => small.idSet(list));
      for (const set of sets) small.search(query, K, { filter: set });
      sets[2].release(); // released before: nothing left of it to free
      small.dispose();
      expect(own.usedBytes).toBe(before);
      for (const set of sets) set.release(); // still harmless
      expect(() => small.search(query, K, { filter: sets[0] })).toThrow(DisposedError);
      own.dispose();
    });
  });

  // The exact scan takes its rows in groups (up to 16, fewer at small M) from the list (sparse
  // sets) or the bitset (from a word per 4 allowed nodes: 24 allowed ids of 3000 here): every
  // count across the group edges, both paths, scattered or in a run, gives brute force's answer.
  describe.each([2, 16])('exact scan in groups, M %p', (M) => {
    const dim = 20;
    const count = 3000;
    const base: Data = { data: randomVectors(count, dim, 41), dim, count };
    let e: Engine;
    let index: VectorIndex;
    beforeAll(async () => {
      e = await engine(simd);
      index = e.createIndex({ dim, metric: 'cosine', M, seed: 4, efConstruction: 40 });
      index.addBatch(
        Uint32Array.from({ length: count }, (_, i) => i),
        base.data,
      );
    });
    afterAll(() => e.dispose());

    test('every allowed count from 1 to 70, and k above the count, equals brute force', () => {
      const queries = randomVectors(70, dim, 42);
      for (let size = 1; size <= 70; size++) {
        // Scattered ids, and a run of neighbouring slots (whose rows deep in the run are not touched ahead).
        const scattered = allowList(count, 0.05, 300 + size).slice(0, size);
        const run = Uint32Array.from({ length: size }, (_, i) => 1000 + 7 * size + i);
        for (const allowed of [scattered, run]) {
          const query = queries.subarray((size - 1) * dim, size * dim);
          const result = index.search(query, K, { filter: allowed, plan: 'exact' });
          expect(result.plan).toBe('exact');
          check(result, 'cosine', base, allowed, query, true);
          const all = index.search(query, size + 5, { filter: allowed, plan: 'exact' });
          expect(new Set(all.ids)).toEqual(new Set(allowed));
        }
      }
    });
  });
});

describe('planner thresholds', () => {
  test('exact, filtered-walk and walk just below and above each threshold', () => {
    const size = 100000;
    const at = (allowed: number, ef = 64, k = 10) => planSearch(allowed, size, k, ef, 1e5);
    // Below WALK_SHARE: exact up to EXACT_PER_EF * max(ef, k).
    expect(at(EXACT_PER_EF * 64).plan).toBe('exact');
    expect(at(EXACT_PER_EF * 64 + 1)).toEqual({ plan: 'filtered-walk', ef: 64 });
    expect(at(EXACT_PER_EF * 100, 20, 100).plan).toBe('exact');
    expect(at(EXACT_PER_EF * 100 + 1, 20, 100).plan).toBe('filtered-walk');
    // From WALK_SHARE: the planner's walk (which may end as the exact scan), its ef narrowed to
    // max(k, ef * share^WALK_EF_POWER).
    expect(at(size * WALK_SHARE - 1).plan).toBe('filtered-walk');
    const walk = (ef: number) => ({ plan: 'walk', ef, adaptive: true });
    expect(at(size * WALK_SHARE)).toEqual(walk(Math.ceil(64 * WALK_SHARE ** WALK_EF_POWER)));
    expect(at(size)).toEqual(walk(64));
    expect(at(size / 2, 10, 10)).toEqual(walk(10));
    // A forced walk keeps the ef given (the walk a predicate takes).
    expect(planSearch(size / 2, size, 10, 64, 1e5, 'walk')).toEqual({ plan: 'walk', ef: 64 });
    expect(planSearch(WALK_EXACT_PER_EF * 64, WALK_EXACT_PER_EF * 64, 10, 64, 1e5).plan).toBe('exact');
    expect(planSearch(WALK_EXACT_PER_EF * 64 + 1, WALK_EXACT_PER_EF * 64 + 1, 10, 64, 1e5).plan).toBe('walk');
    // Below ACORN_MIN_SHARE: exact however many; below ACORN_BOOST_SHARE a raised ef.
    const big = 10 ** 7;
    expect(planSearch(big * ACORN_MIN_SHARE - 1, big, 10, 64, 1e5).plan).toBe('exact');
    expect(planSearch(big * ACORN_MIN_SHARE, big, 10, 64, 1e5)).toEqual({ plan: 'filtered-walk', ef: 160 });
    expect(planSearch(big * ACORN_BOOST_SHARE, big, 10, 64, 1e5)).toEqual({ plan: 'filtered-walk', ef: 64 });
    // Forced plans.
    expect(at(10, 64, 10)).toEqual({ plan: 'exact', ef: 64 });
    expect(planSearch(10, size, 10, 64, 1e5, 'walk')).toEqual({ plan: 'walk', ef: 64 });
  });

  test.each(BUILDS)('the index runs the plan the live counts call for (simd %s)', async (simd) => {
    const e = await engine(simd);
    const ef = K;
    // Enough ids that the filtered walk's range (EXACT_PER_EF * ef .. n * WALK_SHARE) holds the
    // exact scan's limit for a run of slots too.
    const n = 100 * Math.ceil((1.2 * EXACT_PER_EF * ef) / (WALK_SHARE * STREAMED_ROW_COST) / 100);
    const index = e.createIndex({ dim: 4, metric: 'l2', efSearch: ef });
    index.addBatch(
      Uint32Array.from({ length: n }, (_, i) => i),
      randomVectors(n, 4, 3),
    );
    const q = randomVectors(1, 4, 9);
    // Every other id: no two neighbouring slots, so the exact scan streams nothing.
    const spread = (m: number) => Uint32Array.from({ length: m }, (_, i) => 2 * i);
    expect(index.search(q, K, { filter: spread(EXACT_PER_EF * ef) }).plan).toBe('exact');
    expect(index.search(q, K, { filter: spread(EXACT_PER_EF * ef + 1) }).plan).toBe('filtered-walk');
    expect(index.search(q, K, { filter: spread(n * WALK_SHARE - 1) }).plan).toBe('filtered-walk');
    expect(index.search(q, K, { filter: spread(n * WALK_SHARE) }).plan).toBe('walk');
    // One run of neighbouring slots: the scan streams it, and takes up to 1 / STREAMED_ROW_COST as many.
    const first = (m: number) => Uint32Array.from({ length: m }, (_, i) => i);
    const streamedLimit = Math.floor((EXACT_PER_EF * ef - SCAN_RUN_ROWS) / STREAMED_ROW_COST) + SCAN_RUN_ROWS;
    expect(index.search(q, K, { filter: first(EXACT_PER_EF * ef + 1) }).plan).toBe('exact');
    expect(index.search(q, K, { filter: first(streamedLimit) }).plan).toBe('exact');
    expect(index.search(q, K, { filter: first(streamedLimit + 1) }).plan).toBe('filtered-walk');
    // Removed and unknown ids do not count.
    for (let i = 0; i < 20; i += 2) index.remove(i);
    const list = [...spread(EXACT_PER_EF * ef + 10), n + 1, n + 2];
    const r = index.search(q, K, { filter: list });
    expect(r.allowed).toBe(EXACT_PER_EF * ef);
    expect(r.plan).toBe('exact');
    e.dispose();
  });

  test('runs of neighbouring slots count at STREAMED_ROW_COST, and are counted only where they can change the plan', () => {
    let asked = 0;
    const runsOf = (runs: number) => () => {
      asked++;
      return runs;
    };
    const limit = EXACT_PER_EF * 64;
    const size = 200000; // the rows below stay between ACORN_MIN_SHARE and WALK_SHARE
    // One run: rows past its first SCAN_RUN_ROWS count at STREAMED_ROW_COST.
    const most = Math.floor((limit - SCAN_RUN_ROWS) / STREAMED_ROW_COST) + SCAN_RUN_ROWS;
    expect(scanRows(most, 1)).toBeLessThanOrEqual(limit);
    expect(scanRows(most + 1, 1)).toBeGreaterThan(limit);
    expect(planSearch(most, size, 10, 64, 1e5, 'auto', runsOf(1)).plan).toBe('exact');
    expect(planSearch(most + 1, size, 10, 64, 1e5, 'auto', runsOf(1)).plan).toBe('filtered-walk');
    // Runs of SCAN_RUN_ROWS or fewer rows stream nothing.
    expect(scanRows(limit + 8, (limit + 8) / SCAN_RUN_ROWS)).toBe(limit + 8);
    expect(planSearch(limit + 8, size, 10, 64, 1e5, 'auto', runsOf((limit + 8) / 8)).plan).toBe('filtered-walk');
    // From WALK_SHARE up the limit is WALK_EXACT_PER_EF's.
    const walkLimit = WALK_EXACT_PER_EF * 64;
    const walkMost = Math.floor((walkLimit - SCAN_RUN_ROWS) / STREAMED_ROW_COST) + SCAN_RUN_ROWS;
    expect(planSearch(walkMost, walkMost * 4, 10, 64, 1e5, 'auto', runsOf(1)).plan).toBe('exact');
    expect(planSearch(walkMost + 1, walkMost * 4, 10, 64, 1e5, 'auto', runsOf(1)).plan).toBe('walk');
    // Not asked: within the plain limit, past where streaming could help, or with the plan forced.
    asked = 0;
    planSearch(limit, size, 10, 64, 1e5, 'auto', runsOf(1));
    planSearch(Math.ceil(limit / STREAMED_ROW_COST) + 1, size, 10, 64, 1e5, 'auto', runsOf(1));
    planSearch(most, size, 10, 64, 1e5, 'filtered-walk', runsOf(1));
    expect(asked).toBe(0);
  });
});
