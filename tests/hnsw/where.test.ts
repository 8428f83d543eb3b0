/**
 * Metadata attributes and `where` filters (issue 22 items 3 and 5), both builds: every operator
 * against the plain-JS reference (tests/helpers/where-reference.ts) on random data and random
 * filters; searches with `where` against brute force over the passing ids; attributes through
 * replace, remove (a reused slot starts with none), compact, clear and setAttributes, against a
 * JS model; bad input and the budget edge change nothing, a `where` search that fails over
 * budget (its resident set made, or the last one freed) included.
 */
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { KINDS, passes, randomAttributes, randomWhere, rng } from '../helpers/where-reference';
import {
  BudgetExceededError,
  InvalidArgumentError,
  MAX_ATTRIBUTE_NAME_BYTES,
  checkWhere,
  type Attributes,
  type Engine,
  type VectorIndex,
  type Where,
} from '../../src/index';

import { compileWhere } from '../../src/hnsw/where';
import { Schema } from '../../src/hnsw/attributes';

const DIM = 8;
const N = 600;

/** The live ids of `model` whose attributes pass `where`, ascending. */
function expected(model: Map<number, Attributes>, where: Where): number[] {
  return [...model]
    .filter(([, a]) => passes(a, where))
    .map(([id]) => id)
    .sort((a, b) => a - b);
}

const sorted = (ids: Uint32Array): number[] => Array.from(ids).sort((a, b) => a - b);

describe.each(BUILDS)('where filters (simd %s)', (simd) => {
  let eng: Engine;
  let index: VectorIndex;
  const model = new Map<number, Attributes>();
  const vectors = randomVectors(N, DIM, 7);

  beforeAll(async () => {
    eng = await engine(simd);
    index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 64 });
    const next = rng(11);
    const attrs = Array.from({ length: N }, () => randomAttributes(next));
    index.addBatch(
      Array.from({ length: N }, (_, i) => i),
      vectors,
      attrs,
    );
    attrs.forEach((a, i) => model.set(i, a));
  });
  afterAll(() => eng.dispose());

  test('the fields are inferred from the first values', () => {
    expect(index.fields).toEqual({ n: 'number', score: 'number', kind: 'string', pinned: 'boolean' });
  });

  test('attributes(id) reads back what was added', () => {
    for (const [id, a] of model) expect(index.attributes(id)).toEqual(a);
    expect(index.attributes(N + 5)).toBeUndefined();
  });

  test('idsWhere equals the reference for 400 random filters using every operator', () => {
    const next = rng(99);
    for (let i = 0; i < 400; i++) {
      const where = randomWhere(next);
      expect({ where, ids: sorted(index.idsWhere(where)) }).toEqual({ where, ids: expected(model, where) });
    }
  });

  test('every row with every field (whole words of present slots): idsWhere equals the reference, at and around each operand', () => {
    const full = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 16 });
    const next = rng(12);
    const attrs = Array.from({ length: N }, () => randomAttributes(next, 1));
    full.addBatch(
      Array.from({ length: N }, (_, i) => i),
      vectors,
      attrs,
    );
    const everyField = new Map(attrs.map((a, i) => [i, a]));
    const draw = rng(98);
    for (let i = 0; i < 400; i++) {
      const where = randomWhere(draw);
      expect({ where, ids: sorted(full.idsWhere(where)) }).toEqual({ where, ids: expected(everyField, where) });
    }
    // Each comparison at, just under and just over its operand (ties at the edges), both range ends.
    for (const v of [0, 7, 7.5, 19, 20, -1]) {
      for (const op of ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte'] as const) {
        const where = { n: { [op]: v } } as Where;
        expect({ where, ids: sorted(full.idsWhere(where)) }).toEqual({ where, ids: expected(everyField, where) });
      }
      for (const [lo, hi] of [
        ['$gt', '$lt'],
        ['$gte', '$lt'],
        ['$gt', '$lte'],
        ['$gte', '$lte'],
      ] as const) {
        const where = { n: { [lo]: v, [hi]: v + 3 } } as Where;
        expect({ where, ids: sorted(full.idsWhere(where)) }).toEqual({ where, ids: expected(everyField, where) });
      }
    }
    full.dispose();
  });

  test('the documented edge cases: missing fields, {} and unknown strings', () => {
    const all = expected(model, {});
    expect(sorted(index.idsWhere({}))).toEqual(all);
    expect(sorted(index.idsWhere({ other: { $ne: 1 } }))).toEqual(all);
    expect(sorted(index.idsWhere({ other: { $nin: [1] } }))).toEqual(all);
    expect(sorted(index.idsWhere({ other: 1 }))).toEqual([]);
    expect(sorted(index.idsWhere({ kind: 'nothing' }))).toEqual([]);
    expect(sorted(index.idsWhere({ kind: { $ne: 'nothing' } }))).toEqual(all);
    const noN = expected(model, { n: { $exists: false } });
    expect(noN.length).toBeGreaterThan(0);
    expect(sorted(index.idsWhere({ n: { $not: { $gte: 0 } } }))).toEqual(noN);
    expect(sorted(index.idsWhere({ n: { $in: [] } }))).toEqual([]);
    // Long $in lists (binary search in the engine), and deep nesting (a bitset per stack level).
    const long: Where[] = [
      { n: { $in: [0, 2, 3, 5, 7, 9, 11, 13, 17, 19, 23] } },
      { kind: { $nin: [...KINDS.slice(1), 'a', 'b', 'c', 'd', 'e', 'f', 'g'] } },
    ];
    let deep: Where = { n: { $gt: 3 } };
    for (let d = 0; d < 29; d++)
      deep = d % 2 ? { $or: [{ kind: KINDS[d % 4] }, deep] } : { $and: [deep, { $not: { n: d } }] };
    // Ranges (one pass when a lower and an upper bound meet on a field), every kind of bound, either order.
    const ranges: Where[] = [
      { n: { $gt: 3, $lt: 9 } },
      { n: { $gte: 3, $lt: 9 } },
      { n: { $gt: 3, $lte: 9 } },
      { n: { $gte: 3, $lte: 9 } },
      { n: { $lte: 9, $gte: 3 } },
      { n: { $lt: 3, $gt: 9 } },
      { n: { $gte: 5, $lte: 5 } },
      { score: { $gt: 0.25, $lte: 0.5 }, n: { $not: { $gte: 2, $lt: 18 } } },
      { other: { $gte: 1, $lt: 2 } },
    ];
    for (const where of [...long, deep, ...ranges])
      expect(sorted(index.idsWhere(where))).toEqual(expected(model, where));
    expect(() => index.idsWhere({ $not: deep })).toThrow(/nested deeper than 30/);
  });

  test('search with where: the exact plan is brute force over the passing ids; every plan returns passing ids only', () => {
    const next = rng(5);
    const queries = randomVectors(30, DIM, 123);
    for (let q = 0; q < 30; q++) {
      const where = q === 0 ? { kind: KINDS[0] } : randomWhere(next);
      const pass = expected(model, where);
      const query = queries.subarray(q * DIM, (q + 1) * DIM);
      const exact = index.search(query, 10, { where, plan: 'exact' });
      const truth = bruteForce('l2', vectors, pass, (id) => id, DIM, query, 10);
      expect(Array.from(exact.ids)).toEqual(truth.map((t) => t.id));
      expect(exact.allowed).toBe(pass.length);
      const auto = index.search(query, 10, { where });
      expect(auto.ids.length).toBe(Math.min(10, pass.length));
      for (const id of auto.ids) expect(pass).toContain(id);
      expect(['exact', 'filtered-walk', 'walk']).toContain(auto.plan);
    }
  });

  test('searchBatch with where: each row as search gives it', () => {
    const where: Where = { $or: [{ kind: 'note' }, { n: { $lt: 5 } }] };
    const queries = randomVectors(5, DIM, 321);
    const batch = index.searchBatch(queries, 10, { where, plan: 'exact' });
    for (let r = 0; r < 5; r++) {
      const one = index.search(queries.subarray(r * DIM, (r + 1) * DIM), 10, { where, plan: 'exact' });
      expect(Array.from(batch.ids.subarray(r * 10, r * 10 + batch.counts[r]))).toEqual(Array.from(one.ids));
    }
    expect(batch.allowed).toBe(expected(model, where).length);
  });
});

test('a lower and an upper bound on one field compile to one range condition', () => {
  const schema = new Schema(false);
  expect(compileWhere({ n: { $gte: 1, $lt: 2 } }, schema)).toHaveLength(4);
  expect(compileWhere({ n: { $lt: 2, $gt: 1 } }, schema)).toHaveLength(4);
  expect(compileWhere({ n: { $gt: 1, $gte: 2 } }, schema)).toHaveLength(7); // two lower bounds: not a range
});

test('checkWhere refuses what a search would, without an index', () => {
  expect(() =>
    checkWhere({ kind: 'note', ts: { $gte: 1, $lt: 2 }, $or: [{ ok: true }, { n: { $in: [] } }] }),
  ).not.toThrow();
  expect(() => checkWhere({ ts: { $gte: '2024' } })).toThrow(InvalidArgumentError);
  expect(() => checkWhere({ ts: { $gte: '2024' } })).toThrow(/^where\.ts\.\$gte must be a number, got '2024'/);
  expect(() => checkWhere({ $nor: [] })).toThrow(/^where\.\$nor: unknown operator/);
  // With fields, as createIndex takes them: undeclared fields and operands of another kind.
  const fields = { kind: 'string', ts: 'number' } as const;
  expect(() => checkWhere({ kind: 'note' }, fields)).not.toThrow();
  expect(() => checkWhere({ color: 'red' }, fields)).toThrow(/^where\.color: the index declares no field 'color'/);
  expect(() => checkWhere({ kind: 5 }, fields)).toThrow(/^where\.kind must be a string/);
  expect(() => checkWhere({}, { a: 'date' as 'number' })).toThrow(/fields\.a must be 'number', 'string' or 'boolean'/);
});

describe.each(BUILDS)('attributes through the index lifecycle (simd %s)', (simd) => {
  test('replace, remove, re-add into a reused slot, setAttributes, compact, clear: as a JS model', async () => {
    const eng = await engine(simd);
    const index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 32 });
    const model = new Map<number, Attributes>();
    const next = rng(3);
    const vec = (): number[] => Array.from({ length: DIM }, () => next() * 2 - 1);
    const check = (): void => {
      for (const [id, a] of model) expect(index.attributes(id)).toEqual(a);
      const w2 = rng(17);
      for (let i = 0; i < 40; i++) {
        const where = randomWhere(w2);
        expect(sorted(index.idsWhere(where))).toEqual(expected(model, where));
      }
    };
    for (let id = 0; id < 200; id++) {
      const a = randomAttributes(next);
      index.add(id, vec(), a);
      model.set(id, a);
    }
    check();
    // Replace: new attributes replace; none given keeps them.
    for (let id = 0; id < 40; id++) {
      if (id % 2 === 0) {
        const a = randomAttributes(next);
        index.add(id, vec(), a);
        model.set(id, a);
      } else index.add(id, vec());
    }
    check();
    // Remove, then new ids take the freed slots: they start with no attributes.
    for (let id = 40; id < 100; id += 3) {
      index.remove(id);
      model.delete(id);
    }
    for (let id = 1000; id < 1010; id++) {
      index.add(id, vec());
      model.set(id, {});
    }
    check();
    for (let id = 150; id < 160; id++) {
      const a = randomAttributes(next);
      expect(index.setAttributes(id, a)).toBe(true);
      model.set(id, a);
    }
    expect(index.setAttributes(40, { n: 1 })).toBe(false);
    check();
    for (let id = 100; id < 130; id += 2) {
      index.remove(id);
      model.delete(id);
    }
    index.compact();
    check();
    index.clear();
    model.clear();
    expect(sorted(index.idsWhere({}))).toEqual([]);
    index.add(5, vec());
    model.set(5, {});
    check();
    eng.dispose();
  });
});

describe.each(BUILDS)('bad input and the budget edge change nothing (simd %s)', (simd) => {
  test('InvalidArgumentError naming the path, for filters and attributes', async () => {
    const holed = (a: unknown, b: unknown): unknown[] => Object.assign([a], { 2: b }); // [a, <hole>, b]
    const eng = await engine(simd);
    const declared = eng.createIndex({ dim: 2, fields: { kind: 'string', ts: 'number', ok: 'boolean' } });
    const inferred = eng.createIndex({ dim: 2 });
    declared.add(1, [1, 0], { kind: 'a', ts: 5, ok: true });
    inferred.add(1, [1, 0], { kind: 'a', ts: 5 });
    const bad: [VectorIndex, unknown, RegExp][] = [
      [declared, { ts: { $gte: 'x' } }, /^where\.ts\.\$gte must be a number/],
      [declared, { ts: { $regex: 'x' } }, /^where\.ts\.\$regex: unknown operator/],
      [declared, { $nor: [] }, /^where\.\$nor: unknown operator/],
      [declared, { color: 'red' }, /^where\.color: the index declares no field 'color'/],
      [declared, { kind: 5 }, /^where\.kind must be a string/],
      [declared, { kind: { $gt: 1 } }, /^where\.kind\.\$gt: field 'kind' holds strings/],
      [declared, { ok: { $in: [true, 'x'] } }, /^where\.ok\.\$in\[1\] must be a boolean/],
      [declared, { ts: { $in: 5 } }, /^where\.ts\.\$in must be an array/],
      [declared, { ts: { $exists: 1 } }, /^where\.ts\.\$exists must be true or false/],
      [declared, { $and: [] }, /^where\.\$and must be a non-empty array/],
      [declared, { $or: [{ ts: 1 }, 5] }, /^where\.\$or\[1\] must be an object/],
      [declared, { ts: null }, /^where\.ts must be a finite number, a string or a boolean, got null/],
      [declared, { ts: {} }, /^where\.ts must be a value or an object of at least one operator/],
      [declared, { ts: { $gt: Number.NaN } }, /^where\.ts\.\$gt must be a number/],
      [declared, { ts: { $not: 3 } }, /^where\.ts\.\$not must be an object of operators/],
      [declared, { ts: { gt: 3 } }, /^where\.ts\.gt: a condition's keys must be operators/],
      [inferred, { ts: { $lt: 'x' } }, /^where\.ts\.\$lt must be a number/],
      [inferred, { kind: true }, /^where\.kind must be a string/],
      [inferred, 'kind', /^where must be an object/],
      // Objects that are not plain once compiled as {} and passed every id; holes were skipped.
      [inferred, new Map([['kind', 'note']]), /^where must be an object, got Map/],
      [inferred, new Date(0), /^where must be an object/],
      [declared, { $or: [{ ts: 1 }, new (class Filter {})()] }, /^where\.\$or\[1\] must be an object/],
      [declared, { ts: new Date(0) }, /^where\.ts must be a finite number, a string or a boolean/],
      [declared, { ts: { $in: holed(1, 2) } }, /^where\.ts\.\$in\[1\] must be/],
      [declared, { $and: holed({ ts: 1 }, { ts: 2 }) }, /^where\.\$and\[1\] must be an object/],
    ];
    for (const [index, where, message] of bad) {
      const used = eng.usedBytes;
      expect(() => index.idsWhere(where as Where)).toThrow(InvalidArgumentError);
      expect(() => index.idsWhere(where as Where)).toThrow(message);
      expect(() => index.search([1, 0], 1, { where: where as Where })).toThrow(message);
      expect(eng.usedBytes).toBe(used);
    }
    expect(() => inferred.search([1, 0], 1, { where: {}, filter: [1] })).toThrow(/give filter or where, not both/);
    const badAttrs: [VectorIndex, unknown, RegExp][] = [
      [declared, { color: 'red' }, /^attributes\.color: the index declares no field 'color'/],
      [declared, { ts: 'x' }, /^attributes\.ts must be a number/],
      [inferred, { ts: true }, /^attributes\.ts must be a number/],
      [inferred, { tags: ['a'] }, /^attributes\.tags must be a finite number, a string or a boolean, got an array/],
      [inferred, { x: Number.POSITIVE_INFINITY }, /^attributes\.x must be a finite number/],
      [inferred, { $x: 1 }, /a field name must be non-empty and not start with '\$'/],
      [inferred, 5, /^attributes must be an object/],
      // UTF-8 (the snapshot's dictionary) cannot carry a lone surrogate: two such strings would
      // load back as one U+FFFD, and the snapshot would not load.
      [inferred, { kind: 'cut \uD83D' }, /^attributes\.kind holds a lone surrogate/],
      [declared, { kind: '\uDE00' }, /^attributes\.kind holds a lone surrogate/],
      [inferred, { 'k\uD83D': 1 }, /^attributes: field name "k\\ud83d" holds a lone surrogate/],
      [inferred, JSON.parse('{"__proto__": 1}'), /^attributes: '__proto__' cannot be a field name/],
      // A snapshot keeps a name's length in 16 bits.
      [inferred, { ['é'.repeat(32768)]: 1 }, /^attributes: a field name is at most 65535 bytes of UTF-8 .* got 65536/],
    ];
    for (const [index, attrs, message] of badAttrs) {
      const used = eng.usedBytes;
      const fields = index.fields;
      expect(() => index.add(2, [0, 1], attrs as Attributes)).toThrow(message);
      expect(() => index.setAttributes(1, attrs as Attributes)).toThrow(message);
      expect(() => index.addBatch([2, 3], [0, 1, 1, 1], [{}, attrs as Attributes])).toThrow(
        new RegExp(message.source.replace('^attributes', '^attributes\\[1\\]')),
      );
      expect(index.has(2)).toBe(false);
      expect(index.fields).toEqual(fields);
      expect(eng.usedBytes).toBe(used);
    }
    expect(declared.attributes(1)).toEqual({ kind: 'a', ts: 5, ok: true });
    expect(() => eng.createIndex({ dim: 2, fields: { a: 'date' as 'number' } })).toThrow(
      /fields\.a must be 'number', 'string' or 'boolean'/,
    );
    expect(() => eng.createIndex({ dim: 2, fields: { '\uD83D': 'string' } })).toThrow(/holds a lone surrogate/);
    // The longest name there is saves and loads back.
    const longest = 'n'.repeat(MAX_ATTRIBUTE_NAME_BYTES);
    const named = eng.createIndex({ dim: 2, fields: { [longest]: 'number' } });
    named.add(1, [1, 0], { [longest]: 7 });
    expect(eng.loadIndex(named.serialize()).attributes(1)).toEqual({ [longest]: 7 });
    // A string no attribute can hold matches nothing (it is not U+FFFD's twin).
    inferred.add(3, [0, 1], { kind: '\uFFFD' });
    expect(Array.from(inferred.idsWhere({ kind: '\uD83D' }))).toEqual([]);
    expect(Array.from(inferred.idsWhere({ kind: '\uFFFD' }))).toEqual([3]);
    eng.dispose();
  });

  test.each([
    ['the first attributes of an index', false],
    ['the first attributes after clear()', true],
  ])('an add refused while it makes its columns (%s) changes nothing', async (_, cleared) => {
    // The columns were made after the insert had written links no transaction undoes: the
    // refused id stayed reachable and the snapshot no longer loaded.
    const N = 3000;
    const DIM = 8;
    let refused = 0;
    for (let gap = 0; gap < 40_000; gap += 997) {
      const eng = await engine(simd, { budgetBytes: 1 << 20 });
      const index = eng.createIndex({ dim: DIM, metric: 'l2', M: 4, efConstruction: 16 });
      if (cleared) {
        index.add(99_999, new Float32Array(DIM).fill(1), { n: 0 });
        index.clear();
      }
      const vectors = randomVectors(N + 1, DIM, 7);
      index.addBatch(
        Array.from({ length: N }, (_, i) => i),
        vectors.subarray(0, N * DIM),
      );
      index.search(vectors.subarray(0, DIM), 10); // its staging made before the engine fills
      try {
        for (;;) {
          const room = eng.budgetBytes - eng.reservedBytes;
          if (room <= gap + 64) break;
          eng.createTrajectoryBuffer({ capacity: Math.max(1, Math.floor(Math.min(room - gap, 100_000) / 40)) });
        }
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
      }
      const before = [eng.usedBytes, eng.reservedBytes, Buffer.from(index.serialize()).toString('base64')];
      const extra = vectors.subarray(N * DIM);
      try {
        if (gap % 2 === 0) index.add(N, extra, { n: 1 });
        else index.addBatch([N], extra, [{ n: 1 }]);
        expect(index.attributes(N)).toEqual({ n: 1 });
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        refused++;
        expect([eng.usedBytes, eng.reservedBytes, Buffer.from(index.serialize()).toString('base64')]).toEqual(before);
        expect(index.has(N)).toBe(false);
        expect(index.search(extra, 10).ids).not.toContain(N);
      }
      eng.dispose();
    }
    expect(refused).toBeGreaterThan(5);
  });

  test("an add whose columns cannot grow is BudgetExceededError, every id's attributes as they were", async () => {
    // Near the budget the node may fit where the attribute columns' growth does not: the
    // transaction then puts the columns back, and no id may lose a value (it once lost the
    // presence bits of every id when a column grew in place and the grow was undone).
    const attrsOf = (i: number): Attributes => ({ a: i % 17, s: `s${i % 5}`, b: i % 2 === 0 });
    const vec = (i: number): number[] => [
      Math.sin(i * 7),
      Math.sin(i * 7 + 1),
      Math.sin(i * 7 + 2),
      Math.sin(i * 7 + 3),
    ];
    let failures = 0;
    for (const [kib, batch, declared] of [
      [1200, 1, false],
      [1348, 1, true],
      [1500, 1, false],
      [2200, 1, false],
      [4096, 64, true],
      [4096, 64, false],
      [3000, 16, false],
    ] as const) {
      const eng = await engine(simd, { budgetBytes: kib * 1024 });
      const index = eng.createIndex({
        dim: 4,
        metric: 'l2',
        M: 8,
        efConstruction: 16,
        seed: 1,
        fields: declared ? { a: 'number', s: 'string', b: 'boolean' } : undefined,
      });
      let id = 0;
      for (;;) {
        const ids = Array.from({ length: batch }, (_, i) => id + i);
        const before = { used: eng.usedBytes, size: index.size, fields: index.fields };
        try {
          // Every other batch adds its rows without attributes: the columns grow all the same.
          const attrs = (id / batch) % 2 === 0 ? ids.map(attrsOf) : undefined;
          index.addBatch(ids, Float32Array.from(ids.flatMap(vec)), attrs);
          id += batch;
        } catch (error) {
          expect(error).toBeInstanceOf(BudgetExceededError);
          expect({ used: eng.usedBytes, size: index.size, fields: index.fields }).toEqual(before);
          for (let i = 0; i < id; i++) {
            const added = Math.floor(i / batch) % 2 === 0;
            if (index.attributes(i)?.a !== (added ? i % 17 : undefined)) {
              expect({ id: i, attributes: index.attributes(i) }).toEqual({
                id: i,
                attributes: added ? attrsOf(i) : {},
              });
            }
          }
          const expectedLow = Array.from({ length: id }, (_, i) => i).filter(
            (i) => Math.floor(i / batch) % 2 === 0 && i % 17 < 5,
          );
          // The engine is full (idsWhere stages its output): the columns are read from a copy.
          const roomy = await engine(simd, { budgetBytes: 16 * 1024 * 1024 });
          expect(sorted(roomy.loadIndex(index.serialize()).idsWhere({ a: { $lt: 5 } }))).toEqual(expectedLow);
          roomy.dispose();
          failures++;
          break;
        }
      }
      eng.dispose();
    }
    expect(failures).toBe(7);
  });

  test('an attribute that does not fit is BudgetExceededError with nothing changed', async () => {
    const eng = await engine(simd, { budgetBytes: 4 * 1024 * 1024 });
    const index = eng.createIndex({ dim: 64, metric: 'l2', M: 8, efConstruction: 16 });
    const next = rng(1);
    const row = (): number[] => Array.from({ length: 64 }, () => next());
    // Fill the budget with vectors (no attributes yet).
    let id = 0;
    try {
      for (;;) {
        const ids = Array.from({ length: 64 }, (_, i) => id + i);
        index.addBatch(
          ids,
          Float32Array.from({ length: 64 * 64 }, () => next()),
        );
        id += 64;
      }
    } catch (e) {
      expect(e).toBeInstanceOf(BudgetExceededError);
    }
    // Now attributes on every id: 64 fields' columns need 8 bytes a slot each, far past what is left.
    const many: Record<string, number> = {};
    for (let f = 0; f < 64; f++) many[`f${f}`] = f;
    const used = eng.usedBytes;
    const size = index.size;
    expect(() => index.setAttributes(0, many)).toThrow(BudgetExceededError);
    expect(eng.usedBytes).toBe(used);
    expect(index.fields).toEqual({});
    expect(index.attributes(0)).toEqual({});
    expect(() => index.add(id + 1000, row(), many)).toThrow(BudgetExceededError);
    expect(eng.usedBytes).toBe(used);
    expect(index.size).toBe(size);
    expect(index.has(id + 1000)).toBe(false);
    expect(index.fields).toEqual({});
    // With room made, a small attribute fits, and works.
    index.clear();
    index.add(0, row());
    index.setAttributes(0, { k: 1 });
    expect(index.attributes(0)).toEqual({ k: 1 });
    expect(Array.from(index.idsWhere({ k: 1 }))).toEqual([0]);
    eng.dispose();
  });
});

describe.each(BUILDS)('a where repeated across searches (simd %s)', (simd) => {
  test('runs as a resident set with the same answers, dropped when the where or the index changes', async () => {
    const eng = await engine(simd);
    const index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 32 });
    const next = rng(9);
    index.addBatch(
      Array.from({ length: N }, (_, i) => i),
      randomVectors(N, DIM, 2),
      Array.from({ length: N }, () => randomAttributes(next)),
    );
    const where: Where = { kind: 'note', n: { $lt: 15 } };
    const query = randomVectors(1, DIM, 3);
    const first = index.search(query, 10, { where });
    const used = eng.usedBytes;
    const second = index.search(query, 10, { where });
    const kept = eng.usedBytes;
    expect(kept).toBeGreaterThan(used); // the set of the repeated where
    for (const r of [second, index.search(query, 10, { where }), index.searchBatch(query, 10, { where })]) {
      expect(Array.from(r.ids)).toEqual(Array.from(first.ids));
      expect([r.plan, r.allowed]).toEqual([first.plan, first.allowed]);
    }
    expect(eng.usedBytes).toBe(kept);
    // Another where drops it.
    index.search(query, 10, { where: { kind: 'task' } });
    expect(eng.usedBytes).toBe(used);
    // So does a change of the index: the removed id is not returned.
    index.search(query, 10, { where });
    index.search(query, 10, { where });
    index.remove(first.ids[0]);
    const after = index.search(query, 10, { where });
    expect(eng.usedBytes).toBe(used);
    expect(Array.from(after.ids)).not.toContain(first.ids[0]);
    expect(after.allowed).toBe(first.allowed! - 1);
    index.dispose();
    eng.dispose();
  });

  test('with no room for the set, the repeated where is evaluated directly again', async () => {
    const eng = await engine(simd, { budgetBytes: 4 * 1024 * 1024 });
    const index = eng.createIndex({ dim: 4, metric: 'l2', M: 4, efConstruction: 16 });
    index.addBatch(
      Array.from({ length: 4000 }, (_, i) => i),
      randomVectors(4000, 4, 5),
      Array.from({ length: 4000 }, (_, i) => ({ a: i % 2 })),
    );
    const query = [0.1, 0.2, 0.3, 0.4];
    const first = index.search(query, 10, { where: { a: 1 } });
    // Fill the engine with another index, to the last few hundred bytes.
    const filler = eng.createIndex({ dim: 64, metric: 'l2', M: 4, efConstruction: 8 });
    const next = rng(6);
    let id = 0;
    for (const rows of [64, 1]) {
      try {
        for (;;) {
          filler.addBatch(
            Array.from({ length: rows }, (_, i) => id + i),
            Float32Array.from({ length: rows * 64 }, () => next()),
          );
          id += rows;
        }
      } catch (e) {
        expect(e).toBeInstanceOf(BudgetExceededError);
      }
    }
    // And the holes left, with small indexes.
    try {
      for (;;) eng.createIndex({ dim: 4 });
    } catch (e) {
      expect(e).toBeInstanceOf(BudgetExceededError);
    }
    const used = eng.usedBytes;
    const again = index.search(query, 10, { where: { a: 1 } });
    expect(Array.from(again.ids)).toEqual(Array.from(first.ids));
    expect(eng.usedBytes).toBe(used);
    // The set indeed does not fit: as an IdSet it is refused.
    const ids = index.idsWhere({ a: 1 });
    expect(() => index.search(query, 10, { filter: index.idSet(ids) })).toThrow(BudgetExceededError);
    eng.dispose();
  });

  /**
   * An index of 1,500 ids (every fourth removed; a third with no attributes) in a 1 MiB engine
   * filled with trajectory buffers to `gap` bytes short of the budget, its JS model and vectors.
   */
  async function nearBudget(gap: number) {
    const budget = 1 << 20;
    const eng = await engine(simd, { budgetBytes: budget });
    const index = eng.createIndex({ dim: 4, metric: 'l2', M: 4, efConstruction: 16 });
    const model = new Map<number, Attributes>();
    const next = rng(5);
    const vectors = Float32Array.from({ length: 1500 * 4 }, () => next());
    for (let i = 0; i < 1500; i++) {
      const a: Attributes = i % 3 ? { n: i, s: `s${i % 7}` } : {};
      index.add(i, vectors.subarray(i * 4, i * 4 + 4), a);
      model.set(i, a);
    }
    for (let i = 0; i < 1500; i += 4) {
      index.remove(i);
      model.delete(i);
    }
    try {
      for (;;) {
        const room = budget - eng.reservedBytes;
        if (room <= gap + 64) break;
        eng.createTrajectoryBuffer({ capacity: Math.max(1, Math.floor(Math.min(room - gap, 100000) / 40)) });
      }
    } catch (e) {
      expect(e).toBeInstanceOf(BudgetExceededError);
    }
    return { eng, index, model, vectors };
  }

  const bytes = (eng: Engine): string => `${eng.usedBytes}/${eng.reservedBytes}`;
  /** The index's cached where (private: key, change count, set block), to check a failed search keeps it. */
  const lastWhere = (index: VectorIndex): [string, number, number] | null => {
    type Last = { key: string; version: number; set?: { handle: number } };
    const last = (index as unknown as { lastWhere?: Last }).lastWhere;
    return last === undefined ? null : [last.key, last.version, last.set?.handle ?? 0];
  };

  test('a search that fails over budget, at any room left, changes no byte; the next ones answer right', async () => {
    // Repeats (the second makes the set), switches (which free the last set) and searchBatch's
    // rows, with k past every live id: a success returns exactly the reference's ids.
    const wheres: Where[] = [
      { n: { $gte: 100, $lt: 900 } },
      { $or: [{ s: 's3' }, { $not: { n: { $exists: true } } }] },
      { $and: [{ n: { $ne: 5 } }, { $or: [{ s: { $in: ['s1', 's2'] } }, { $not: { s: 's4' } }] }] },
    ];
    const calls: [number, 'search' | 'exact' | 'batch'][] = [
      [0, 'search'],
      [0, 'search'],
      [0, 'batch'],
      [1, 'search'],
      [1, 'exact'],
      [1, 'search'],
      [2, 'batch'],
      [2, 'batch'],
      [0, 'search'],
      [2, 'search'],
    ];
    const query = [0.5, 0.5, 0.5, 0.5];
    const wrong: string[] = [];
    let failed = 0;
    let answered = 0;
    let stale = 0;
    for (let gap = 30000; gap < 62000; gap += 409) {
      const { eng, index, model } = await nearBudget(gap);
      for (const [w, how] of calls) {
        const where = wheres[w];
        const last = lastWhere(index);
        const before = JSON.stringify([bytes(eng), last]);
        // A set of another `where` freed for this search is back in the engine, its contents
        // maybe not (the search may have used its room): kept as stale (change count -1).
        const schema = (index as unknown as { attrs: { schema: Schema } }).attrs.schema;
        const other = last !== null && last[2] !== 0 && last[0] !== compileWhere(where, schema).join(',');
        const staled = other ? JSON.stringify([bytes(eng), [last[0], -1, last[2]]]) : '';
        let ids: number[];
        try {
          if (how === 'batch') {
            const rows = index.searchBatch([...query, ...query], 1200, { where });
            ids = [...new Set(Array.from(rows.ids).filter((id) => id !== 0xffffffff))];
          } else {
            ids = Array.from(index.search(query, 1200, how === 'exact' ? { where, plan: 'exact' } : { where }).ids);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(BudgetExceededError);
          failed++;
          const after = JSON.stringify([bytes(eng), lastWhere(index)]);
          if (after === staled) stale++;
          else if (after !== before) wrong.push(`gap ${gap} where ${w} ${how}: failed, ${before} -> ${after}`);
          continue;
        }
        answered++;
        if (ids.sort((x, y) => x - y).join() !== expected(model, where).join())
          wrong.push(`gap ${gap} where ${w} ${how}: wrong ids`);
      }
      eng.dispose();
    }
    expect(wrong).toEqual([]);
    // The sweep crosses the edge: both outcomes happen.
    expect(failed).toBeGreaterThan(50);
    expect(answered).toBeGreaterThan(50);
    expect(stale).toBeGreaterThan(0);
  });

  test("a search that frees the last where's set and then fails gives its bytes back; the set is not used again", async () => {
    const a: Where = { n: { $gte: 100, $lt: 900 } };
    const b: Where = { s: 's3' };
    const query = [0.5, 0.5, 0.5, 0.5];
    let cases = 0;
    // The gaps where the case happens move with the engine's layout: a wide sweep, skipping
    // those where a's set does not fit (10-31 KB on 2026-12-07).
    for (let gap = 2000; gap < 70000; gap += 1001) {
      const { eng, index, model, vectors } = await nearBudget(gap);
      try {
        index.search(query, 5, { where: a });
        index.search(query, 5, { where: a }); // a's set, kept
      } catch (e) {
        expect(e).toBeInstanceOf(BudgetExceededError);
      }
      if (!lastWhere(index)?.[2]) {
        eng.dispose();
        continue;
      }
      const kept = eng.usedBytes;
      const before = bytes(eng);
      try {
        index.search(query, 1000, { where: b }); // frees a's set, then needs more than it gave
        eng.dispose();
        continue;
      } catch (e) {
        expect(e).toBeInstanceOf(BudgetExceededError);
      }
      cases++;
      expect(bytes(eng)).toBe(before);
      // The set's block is back, its contents maybe not (the search may have used it): the
      // cache forgets it, and the next `where` frees it. Each search: brute force, every pass counted.
      for (const where of [a, a, b, b, a, a]) {
        const pass = expected(model, where);
        const got = index.search(query, 5, { where, plan: 'exact' });
        expect(Array.from(got.ids)).toEqual(bruteForce('l2', vectors, pass, (id) => id, 4, query, 5).map((t) => t.id));
        expect(got.allowed).toBe(pass.length);
      }
      expect(eng.usedBytes).toBe(kept); // a's set again, and nothing else
      eng.dispose();
    }
    expect(cases).toBeGreaterThan(3);
  });
});

describe.each(BUILDS)('an index without attributes (simd %s)', (simd) => {
  test('every field is absent: where filters run, and no attribute memory is taken', async () => {
    const eng = await engine(simd);
    const index = eng.createIndex({ dim: 2, metric: 'l2' });
    index.addBatch([1, 2, 3], [0, 0, 1, 0, 2, 0]);
    const used = eng.usedBytes;
    expect(index.attributes(2)).toEqual({});
    expect(sorted(index.idsWhere({ x: { $exists: false } }))).toEqual([1, 2, 3]);
    expect(sorted(index.idsWhere({ x: 1 }))).toEqual([]);
    const hits = index.search([0.9, 0], 2, { where: { x: { $ne: 1 } } });
    expect(Array.from(hits.ids)).toEqual([2, 1]);
    expect(hits.plan).toBe('exact');
    expect(index.fields).toEqual({});
    expect(new DataView(index.serialize().buffer).getUint32(4, true)).toBe(1);
    expect(eng.usedBytes - used).toBeLessThan(1024); // staging only
    eng.dispose();
  });
});

describe.each(BUILDS)('the string dictionary counts in the budget (simd %s)', (simd) => {
  test('new strings take engine memory; a string that does not fit is BudgetExceededError with nothing changed', async () => {
    const eng = await engine(simd, { budgetBytes: 2 * 1024 * 1024 });
    const index = eng.createIndex({ dim: 2 });
    index.add(1, [1, 0], { note: 'a' });
    index.add(2, [0, 1]);
    const before = eng.usedBytes;
    const big = 'x'.repeat(300_000);
    index.setAttributes(2, { note: big });
    expect(eng.usedBytes - before).toBeGreaterThan(299_000); // less the dictionary block it had
    // The same string again takes nothing more.
    const after = eng.usedBytes;
    index.setAttributes(1, { note: big });
    expect(eng.usedBytes).toBe(after);
    expect(sorted(index.idsWhere({ note: big }))).toEqual([1, 2]);
    const staged = eng.usedBytes; // idsWhere's staging stays
    // A string past the budget: refused, nothing changed (the dictionary either: the string matches nothing).
    const huge = 'y'.repeat(3_000_000);
    expect(() => index.setAttributes(1, { note: huge })).toThrow(BudgetExceededError);
    expect(eng.usedBytes).toBe(staged);
    expect(index.attributes(1)).toEqual({ note: big });
    expect(sorted(index.idsWhere({ note: huge }))).toEqual([]);
    // Loaded, the dictionary is in the engine again.
    const copy = eng.loadIndex(index.serialize());
    expect(copy.attributes(2)).toEqual({ note: big });
    eng.dispose();
  });
});
