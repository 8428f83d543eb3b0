/**
 * Index snapshots on SIFT-128 (cosine and l2, both builds): a loaded index answers all 1,000
 * queries exactly as the original (ids and distances), keeps removed and replaced ids, and grows
 * the same graph from the same later adds (same level generator, same slot reuse), byte for
 * byte. Also: loading in the other build, the empty index, budget failures, argument errors.
 */
import {
  BudgetExceededError,
  DisposedError,
  InvalidArgumentError,
  type Engine,
  type Metric,
  type VectorIndex,
} from '../../src/index';
import { BUILDS, bothBuildsTest, engine, otherBuild } from '../helpers/engines';
import { readFvecs } from '../helpers/data';
import { randomVectors } from '../helpers/random';
import { recall } from '../helpers/reference';
import { HEADER, layout } from '../helpers/index-snapshot';
import { thrownBy as thrown } from '../helpers/errors';

const DIM = 128;
const base = readFvecs('sift128_base.fvecs');
const queries = readFvecs('sift128_query.fvecs');
const FIRST = 9000;
const removed = Array.from({ length: 300 }, (_, i) => i * 30);
const replaced = Array.from({ length: 100 }, (_, i) => i * 90 + 7);

function row(i: number): Float32Array {
  return base.data.subarray(i * DIM, (i + 1) * DIM);
}

function query(q: number): Float32Array {
  return queries.data.subarray(q * DIM, (q + 1) * DIM);
}

function expectSameSearches(a: VectorIndex, b: VectorIndex, count: number, ef?: number): void {
  for (let q = 0; q < count; q++) {
    const opts = ef === undefined ? {} : { ef };
    const ra = a.search(query(q), 10, opts);
    const rb = b.search(query(q), 10, opts);
    expect(rb.ids).toEqual(ra.ids);
    expect(rb.distances).toEqual(ra.distances);
  }
}

/** The same adds, replacements and removals on every index given. */
function grow(indexes: VectorIndex[]): void {
  for (const index of indexes) {
    const ids = Uint32Array.from({ length: 800 }, (_, i) => 100000 + i);
    index.addBatch(ids, base.data.subarray((FIRST + 100) * DIM, (FIRST + 900) * DIM));
    // Removed ids come back in removed slots, new ids take the remaining removed slots.
    for (let i = 0; i < 50; i++) index.add(removed[i], row(FIRST + 900 + i));
    for (let i = 0; i < 50; i++) index.add(200000 + i, row(FIRST + 950 + i));
    for (let i = 0; i < 20; i++) index.remove(100000 + i * 7);
  }
}

describe.each(['cosine', 'l2'] as Metric[])('SIFT-128 %s snapshots', (metric) => {
  describe.each(BUILDS)('simd %s', (simd) => {
    let eng: Engine;
    let original: VectorIndex;
    let bytes: Uint8Array;
    let loaded: VectorIndex;

    beforeAll(async () => {
      eng = await engine(simd);
      original = eng.createIndex({ dim: DIM, metric, seed: 11, efSearch: 48, M: 12, efConstruction: 120 });
      original.addBatch(
        Uint32Array.from({ length: FIRST }, (_, i) => i),
        base.data.subarray(0, FIRST * DIM),
      );
      for (const id of removed) original.remove(id);
      for (let i = 0; i < replaced.length; i++) original.add(replaced[i], row(FIRST + i));
      bytes = original.serialize();
      loaded = eng.loadIndex(bytes);
    });
    afterAll(() => eng.dispose());

    test('the snapshot has the documented size and parameters', () => {
      const l = layout(bytes);
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('EXIX');
      expect([l.dim, l.M, l.count, l.deleted]).toEqual([DIM, 12, FIRST, removed.length]);
      expect(bytes.length).toBe(
        HEADER + FIRST * (DIM + 1 + 24 + 1 + 1) * 4 + (l.upperUsed - 1) * 4 + Math.ceil(FIRST / 32) * 4 + 4,
      );
      expect([loaded.dim, loaded.metric, loaded.M, loaded.efConstruction, loaded.efSearch, loaded.seed]).toEqual([
        DIM,
        metric,
        12,
        120,
        48,
        11,
      ]);
    });

    test('all 1,000 queries give the same ids and distances (default ef, ef 100, searchBatch)', () => {
      expectSameSearches(original, loaded, queries.count);
      expectSameSearches(original, loaded, 200, 100);
      const batch = queries.data.subarray(0, 300 * DIM);
      const a = original.searchBatch(batch, 10);
      const b = loaded.searchBatch(batch, 10);
      expect(b.ids).toEqual(a.ids);
      expect(b.distances).toEqual(a.distances);
    });

    test('size, removed, replaced and live ids are as in the original', () => {
      expect(loaded.size).toBe(original.size);
      expect(loaded.size).toBe(FIRST - removed.length);
      for (const id of removed.slice(0, 50)) {
        expect(loaded.has(id)).toBe(false);
        expect(loaded.get(id)).toBeUndefined();
      }
      for (const id of [...replaced, 1, 2, 8999]) {
        expect(loaded.has(id)).toBe(original.has(id));
        expect(loaded.get(id)).toEqual(original.get(id));
      }
      expect(loaded.has(FIRST)).toBe(false);
    });

    test('serializing the loaded index repeats the bytes', () => {
      expect(Buffer.compare(loaded.serialize(), bytes)).toBe(0);
    });

    test('the same later adds, re-adds and removes keep both identical, byte for byte', () => {
      grow([original, loaded]);
      expect(loaded.size).toBe(original.size);
      expect(Buffer.compare(loaded.serialize(), original.serialize())).toBe(0);
      expectSameSearches(original, loaded, 300);
    });

    bothBuildsTest('a snapshot loads in the other build with the same graph and recall', async () => {
      const other = await engine(otherBuild(simd)!);
      const there = other.loadIndex(bytes);
      expect(there.size).toBe(FIRST - removed.length);
      expect(Buffer.compare(there.serialize(), bytes)).toBe(0);
      const fresh = eng.loadIndex(bytes);
      let sum = 0;
      for (let q = 0; q < queries.count; q++)
        sum += recall(there.search(query(q), 10).ids, fresh.search(query(q), 10).ids);
      expect(sum / queries.count).toBeGreaterThanOrEqual(0.99);
      fresh.dispose();
      other.dispose();
    });
  });
});

describe.each(BUILDS)('index snapshot edges (simd %s)', (simd) => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());

  test.each(['cosine', 'l2', 'dot'] as Metric[])(
    'an empty %s index round trips and then grows like the original',
    (metric) => {
      const index = eng.createIndex({ dim: 5, metric, seed: 3 });
      const bytes = index.serialize();
      expect(bytes.length).toBe(HEADER + 4);
      const copy = eng.loadIndex(bytes);
      expect(copy.size).toBe(0);
      expect(copy.search([1, 2, 3, 4, 5], 3).ids.length).toBe(0);
      const data = randomVectors(40, 5, 9);
      for (const x of [index, copy])
        x.addBatch(
          Uint32Array.from({ length: 40 }, (_, i) => i * 3),
          data,
        );
      expect(Buffer.compare(copy.serialize(), index.serialize())).toBe(0);
      index.dispose();
      copy.dispose();
    },
  );

  test('serialize of a disposed index is DisposedError; loadIndex takes only a Uint8Array', () => {
    const index = eng.createIndex({ dim: 4 });
    index.add(1, [1, 0, 0, 0]);
    const bytes = index.serialize();
    index.dispose();
    expect(() => index.serialize()).toThrow(DisposedError);
    for (const bad of [null, undefined, 'EXIX', [...bytes], bytes.buffer]) {
      const error = thrown(() => eng.loadIndex(bad as never));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe('E_ARGUMENT');
    }
  });

  test('loadIndex on a disposed engine is DisposedError', async () => {
    const other = await engine(simd);
    const index = other.createIndex({ dim: 3 });
    index.add(1, [1, 2, 3]);
    const bytes = index.serialize();
    other.dispose();
    expect(() => other.loadIndex(bytes)).toThrow(DisposedError);
  });

  test('a snapshot larger than the budget allows is BudgetExceededError with nothing left allocated', async () => {
    const big = await engine(simd, { budgetBytes: 64 * 1024 * 1024 });
    const index = big.createIndex({ dim: 64, metric: 'l2', M: 8, efConstruction: 16 });
    const n = 16000;
    index.addBatch(
      Uint32Array.from({ length: n }, (_, i) => i),
      randomVectors(n, 64, 5),
    );
    const bytes = index.serialize();
    expect(bytes.length).toBeGreaterThan(5 * 1024 * 1024);
    const probe = index.search(randomVectors(1, 64, 6), 10);
    big.dispose();
    let failures = 0;
    for (let mib = 2; mib <= 16; mib++) {
      const small = await engine(simd, { budgetBytes: mib * 1024 * 1024 });
      const used = small.usedBytes;
      let copy: VectorIndex | undefined;
      const error = thrown(() => {
        copy = small.loadIndex(bytes);
      });
      if (error === undefined) {
        expect(copy!.search(randomVectors(1, 64, 6), 10)).toEqual(probe);
      } else {
        failures++;
        expect(error).toBeInstanceOf(BudgetExceededError);
        expect((error as BudgetExceededError).code).toBe('E_BUDGET');
        expect(small.usedBytes).toBe(used);
        expect(small.usedBytes).toBeLessThanOrEqual(small.budgetBytes);
      }
      small.dispose();
    }
    expect(failures).toBeGreaterThan(3);
  });
});
