/**
 * Threads and metadata together (docs/threads.md, docs/vector-index.md "Metadata and where"):
 * searchBatchAsync with a `where` filter gives searchBatch's rows, the lazy walk's included; rows added by a parallel
 * addBatchAsync to an index with attributes have none, can be given some, and `where` sees them
 * and the old ones exactly as a plain-JS evaluation does, also after compact(); addBatchAsync with
 * attributes equals addBatch with them.
 */
import { Engine, type VectorIndex } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

const DIM = 16;
const FIRST = 600;
const LATER = 1200;
const OPTIONS = {
  dim: DIM,
  metric: 'cosine' as const,
  M: 8,
  efConstruction: 48,
  seed: 3,
  fields: { kind: 'string', n: 'number' } as const,
};
const kindOf = (id: number): string => ['note', 'fact', 'todo'][id % 3];
const queries = randomVectors(80, DIM, 41);

/** The ids of `index` whose attributes pass `test`, sorted: the plain-JS side of idsWhere. */
function passing(index: VectorIndex, test: (a: Record<string, unknown>) => boolean): number[] {
  return Array.from(index.ids())
    .filter((id) => test(index.attributes(id)!))
    .sort((a, b) => a - b);
}

const sorted = (ids: Uint32Array): number[] => Array.from(ids).sort((a, b) => a - b);

describe.each(BUILDS)('threads with where filters, simd %s', (simd) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.create({ simd, threads: 2, budgetBytes: 64 * 1024 * 1024 });
    expect(engine.threads).toBe(2);
  });
  afterAll(() => engine.dispose());

  test('rows built on the threads have no attributes until given; where agrees with JS, also after compact', async () => {
    const index = engine.createIndex(OPTIONS);
    const first = Array.from({ length: FIRST }, (_, i) => i);
    index.addBatch(
      first,
      randomVectors(FIRST, DIM, 1),
      first.map((id) => ({ kind: kindOf(id), n: id })),
    );
    const later = Array.from({ length: LATER }, (_, i) => FIRST + i);
    const before = engine.runtime.pool!.callsRun;
    await index.addBatchAsync(later, randomVectors(LATER, DIM, 2));
    expect(engine.runtime.pool!.callsRun).toBeGreaterThan(before); // built on the threads
    expect(index.attributes(FIRST + 5)).toEqual({});
    expect(sorted(index.idsWhere({ kind: 'note' }))).toEqual(passing(index, (a) => a.kind === 'note'));
    expect(sorted(index.idsWhere({ n: { $exists: false } }))).toEqual(later);

    for (const id of later.filter((id) => id % 5 === 0)) index.setAttributes(id, { kind: kindOf(id), n: id });
    const note = (a: Record<string, unknown>) => a.kind === 'note';
    const range = (a: Record<string, unknown>) => typeof a.n === 'number' && a.n >= 300 && a.n < 1500;
    expect(sorted(index.idsWhere({ kind: 'note' }))).toEqual(passing(index, note));
    expect(sorted(index.idsWhere({ n: { $gte: 300, $lt: 1500 } }))).toEqual(passing(index, range));

    for (const id of later.filter((id) => id % 4 === 1)) index.remove(id);
    index.compact();
    expect(sorted(index.idsWhere({ kind: 'note' }))).toEqual(passing(index, note));
    expect(sorted(index.idsWhere({ n: { $gte: 300, $lt: 1500 } }))).toEqual(passing(index, range));
  });

  test("searchBatchAsync with where gives searchBatch's rows, for every plan", async () => {
    const index = engine.createIndex(OPTIONS);
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    index.addBatch(
      ids,
      randomVectors(ids.length, DIM, 5),
      ids.map((id) => ({ kind: kindOf(id), n: id })),
    );
    const allowed = new Set(passing(index, (a) => a.kind === 'fact' && (a.n as number) < 2000));
    for (const plan of ['auto', 'walk', 'filtered-walk', 'exact'] as const) {
      const where = { kind: 'fact', n: { $lt: 2000 } };
      const want = index.searchBatch(queries, 10, { where, plan });
      const got = await index.searchBatchAsync(queries, 10, { where, plan });
      // Forced to the walk the threads run the lazy walk, which counts nothing (searchBatch
      // repeating the where uses its resident set): the rows are the same.
      expect({ ...got, allowed: got.allowed ?? want.allowed }).toEqual(want);
      expect(got.allowed === undefined).toBe(plan === 'walk');
      expect(Array.from(got.ids).every((id) => id === 0xffffffff || allowed.has(id))).toBe(true);
      expect(Array.from(got.counts).every((c) => c === 10)).toBe(true);
    }
    // Forced to the walk, a where runs as the lazy walk on the threads (no allowed count): the
    // rows are searchBatch's and the predicate's. 'auto' with 80 rows evaluates it once instead
    // (LAZY_EVAL_PER_EF).
    const before = engine.runtime.pool!.callsRun;
    for (const [where, plan] of [
      [{ n: { $gte: 300 } }, 'walk'],
      [{ kind: 'todo' }, 'walk'],
      [{ n: { $gte: 300 } }, 'auto'],
    ] as const) {
      const got = await index.searchBatchAsync(queries, 10, { where, plan, ef: 4 });
      expect([got.plan, got.allowed]).toEqual(['walk', plan === 'walk' ? undefined : 2700]);
      expect(got).toEqual(index.searchBatch(queries, 10, { where, plan, ef: 4 }));
      const test = (id: number): boolean => ('n' in where ? id >= 300 : kindOf(id) === 'todo');
      expect(Array.from(got.ids)).toEqual(Array.from(index.searchBatch(queries, 10, { filter: test, ef: 4 }).ids));
    }
    expect(engine.runtime.pool!.callsRun).toBeGreaterThan(before);
  });

  test("the planner's lazy walk that stops on a thread is scanned exactly, as searchBatch does", async () => {
    // n: a row's rank by distance from q0, and the where passes the farther half: q0's lazy walk
    // (one row of 3,000 ids at ef 4 is lazy) meets rejected rows only and stops; the row is then
    // evaluated in full and scanned exactly (docs/vector-index.md#the-walks-stop-for-the-exact-scan).
    const index = engine.createIndex(OPTIONS);
    const n = 3000;
    const vectors = randomVectors(n, DIM, 6);
    const q0 = queries.subarray(0, DIM);
    const cos = (r: number): number => {
      let dot = 0;
      let norm = 0;
      let qn = 0;
      for (let c = 0; c < DIM; c++) {
        dot += vectors[r * DIM + c] * q0[c];
        norm += vectors[r * DIM + c] ** 2;
        qn += q0[c] ** 2;
      }
      return 1 - dot / Math.sqrt(norm * qn);
    };
    const order = Array.from({ length: n }, (_, r) => r).sort((a, b) => cos(a) - cos(b));
    const rank = new Array<number>(n);
    order.forEach((r, i) => {
      rank[r] = i;
    });
    index.addBatch(
      order.map((_, r) => r),
      vectors,
      order.map((_, r) => ({ kind: kindOf(r), n: rank[r] })),
    );
    const where = (j: number) => ({ n: { $gte: n / 2, $ne: -1 - j } });
    const got = await index.searchBatchAsync(q0, 10, { where: where(0), ef: 4 });
    expect([got.plan, got.allowed]).toEqual(['walk', n / 2]);
    expect(got).toEqual(index.searchBatch(q0, 10, { where: where(1), ef: 4 }));
    const nearest = order.slice(n / 2, n / 2 + 10);
    expect(Array.from(got.ids)).toEqual(nearest);
  });

  test('addBatchAsync with attributes equals addBatch with them', async () => {
    const ids = Array.from({ length: LATER }, (_, i) => i * 2 + 1);
    const vectors = randomVectors(ids.length, DIM, 8);
    const attributes = ids.map((id) => (id % 7 === 0 ? undefined : { kind: kindOf(id), n: id }));
    const serial = engine.createIndex(OPTIONS);
    serial.addBatch(ids, vectors, attributes);
    const parallel = engine.createIndex(OPTIONS);
    await parallel.addBatchAsync(ids, vectors, attributes);
    for (const id of ids) expect(parallel.attributes(id)).toEqual(serial.attributes(id));
    for (const where of [{ kind: 'todo' }, { n: { $gt: 999 } }, { n: { $exists: false } }])
      expect(sorted(parallel.idsWhere(where))).toEqual(sorted(serial.idsWhere(where)));
  });

  // Each queued call numbers the fields and strings it adds when it runs, as addBatch in the
  // same order would: encoded at the call, a later batch's new field took an earlier one's column.
  test.each([false, true])(
    'addBatchAsync calls made without awaiting, declared fields %s: new fields and strings as addBatch in call order',
    async (declared) => {
      const options = { dim: DIM, metric: 'cosine' as const, M: 8, efConstruction: 48, seed: 3 };
      const fields = declared ? { fields: { kind: 'string', color: 'string' } as const } : {};
      const n = LATER / 2; // batches of 600: parallel on a threaded engine
      const at = (from: number) => Array.from({ length: n }, (_, i) => from + i);
      const vectors = [randomVectors(n, DIM, 9), randomVectors(n, DIM, 10), randomVectors(n, DIM, 11)];
      const attrs = [
        at(0).map((i) => ({ kind: ['note', 'fact'][i % 2] })),
        at(0).map((i) => ({ color: ['red', 'blue', 'note'][i % 3] })),
      ];
      const serial = engine.createIndex({ ...options, ...fields });
      serial.addBatch(at(0), vectors[0], attrs[0]);
      serial.add(5000, vectors[2].subarray(0, DIM), { color: 'green', kind: 'todo' });
      serial.addBatch(at(n), vectors[1], attrs[1]);
      const queued = engine.createIndex({ ...options, ...fields });
      const first = queued.addBatchAsync(at(0), vectors[0], attrs[0]);
      const second = queued.addBatchAsync(at(n), vectors[1], attrs[1]);
      queued.add(5000, vectors[2].subarray(0, DIM), { color: 'green', kind: 'todo' }); // before both run
      await Promise.all([first, second]);
      for (const id of [...at(0), ...at(n), 5000])
        expect([id, queued.attributes(id)]).toEqual([id, serial.attributes(id)]);
      for (const where of [{ kind: 'note' }, { color: 'note' }, { color: { $in: ['red', 'green'] } }])
        expect(sorted(queued.idsWhere(where))).toEqual(sorted(serial.idsWhere(where)));
      expect(engine.loadIndex(queued.serialize()).attributes(n)).toEqual({ color: 'red' });

      // A queued batch giving a field another kind than an earlier queued batch gave it is refused.
      const kinds = engine.createIndex(options);
      const numbers = kinds.addBatchAsync([1], vectors[0].subarray(0, DIM), [{ x: 1 }]);
      const strings = kinds.addBatchAsync([2], vectors[0].subarray(DIM, 2 * DIM), [{ x: 'a' }]);
      await numbers;
      await expect(strings).rejects.toThrow(/attributes\[0\]\.x/);
      expect([kinds.size, kinds.fields]).toEqual([1, { x: 'number' }]);
      expect(engine.loadIndex(kinds.serialize()).attributes(1)).toEqual({ x: 1 });
    },
  );
});
