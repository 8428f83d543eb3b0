/**
 * The attribute columns in chunks (assembly/hnsw/attributes.ts: one chunk grown by copying while
 * the table covers no more than a chunk, a directory of chunks never copied past it), checked
 * against a plain-JS model of every id's attributes, both builds. A chunk holds 512 slots from a
 * 16 MiB budget up (the storm and round trips below), fewer under it (32-128 slots in the 1-4 MiB
 * engines near the budget):
 *
 * - a storm of random operations (adds and batches with attributes, fields first seen before and
 *   after 512 slots, setAttributes, removes, re-adds reusing slots, compact, clear) growing an
 *   index from nothing past 1,500 slots: every live id's attributes, idsWhere and the row-wise
 *   evaluator (the lazy walk's check) for random filters, searches with where, and snapshots;
 * - near the budget (1-4 MiB engines filled with trajectory buffers to a random gap, round after
 *   round until the index fills the budget): every refused call leaves usedBytes, reservedBytes,
 *   the snapshot bytes (those of a twin index in a roomy engine given only the calls that
 *   succeeded) and the attributes as they were, and the last refused call, done again once the
 *   fillers are gone, succeeds as the model says, or is refused only with the budget really in
 *   use (it once was with 90% of it free: a block at the top of the arena could only grow in
 *   place, assembly/runtime/arena.ts arenaRealloc);
 * - round trips (serialize / loadIndex, loads into tight engines, the index store, compact,
 *   clear) of indexes past 512 slots with gaps and 64 fields, first attributes given past 512
 *   slots, and addBatchAsync with attributes on two threads, near the budget too.
 */
import { createHash } from 'node:crypto';
import { BUILDS, engine } from '../helpers/engines';
import { bruteForce } from '../helpers/reference';
import { passes, rng } from '../helpers/where-reference';
import {
  BudgetExceededError,
  Engine,
  InvalidArgumentError,
  MemoryStore,
  type AttributeValue,
  type TrajectoryBuffer,
  type VectorIndex,
  type Where,
} from '../../src/index';
import { compileWhere } from '../../src/hnsw/where';
import type { Schema } from '../../src/hnsw/attributes';
import { SLOT_FILTER, SLOT_OUT } from '../../src/runtime/wasm/exports';

type Attrs = Record<string, AttributeValue>;

const DIM = 6;
const OPTIONS = { dim: DIM, metric: 'l2' as const, M: 8, efConstruction: 16 };
const MAX_FIELDS = 64;
const MIB = 1024 * 1024;

/** Field k's kind: f0 a number, f1 a string, f2 a boolean, f3 a number... */
const kindOf = (k: number): 'number' | 'string' | 'boolean' => (['number', 'string', 'boolean'] as const)[k % 3];

/** A value of field k: small integers and sixteenths, six strings, booleans. */
function valueFor(k: number, next: () => number): AttributeValue {
  const kind = kindOf(k);
  if (kind === 'number') return next() < 0.75 ? Math.floor(next() * 12) - 2 : Math.round(next() * 160) / 16 - 3;
  if (kind === 'string') return `s${Math.floor(next() * 6)}`;
  return next() < 0.5;
}

/** Random attributes over fields f0..f(fields-1): about `present` of them, any of them absent. */
function randomAttrs(next: () => number, fields: number, present = 4): Attrs {
  const out: Attrs = {};
  const p = Math.min(0.8, present / Math.max(1, fields));
  for (let k = 0; k < fields; k++) if (next() < p) out[`f${k}`] = valueFor(k, next);
  return out;
}

/** One random condition on a field of f0..f(fields-1), or on f(fields), which no id has. */
function randomCondition(next: () => number, fields: number): Where {
  const k = Math.floor(next() * (fields + 1));
  const f = `f${k}`;
  const v = (): AttributeValue => valueFor(k, next);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const kind = kindOf(k);
  const ops =
    kind === 'number'
      ? ['bare', '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', 'range', '$not']
      : kind === 'string'
        ? ['bare', '$eq', '$ne', '$in', '$nin', '$exists', '$not']
        : ['bare', '$ne', '$exists', '$in'];
  const op = pick(ops);
  if (op === 'bare') return { [f]: v() };
  if (op === '$in' || op === '$nin') return { [f]: { [op]: Array.from({ length: 1 + Math.floor(next() * 3) }, v) } };
  if (op === '$exists') return { [f]: { $exists: next() < 0.5 } };
  if (op === 'range') return { [f]: { $gte: v() as number, $lt: v() as number } };
  if (op === '$not') return { [f]: { $not: kind === 'number' ? { $gt: v() as number } : { $in: [v(), v()] } } };
  return { [f]: { [op]: v() } };
}

/** A random filter of depth at most `depth` over the model's fields. */
function randomFilter(next: () => number, fields: number, depth = 2): Where {
  const r = next();
  if (depth === 0 || r < 0.4) return randomCondition(next, fields);
  if (r < 0.55) return { ...randomCondition(next, fields), ...randomCondition(next, fields) };
  const parts = (): Where[] =>
    Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomFilter(next, fields, depth - 1));
  if (r < 0.7) return { $and: parts() };
  if (r < 0.88) return { $or: parts() };
  return { $not: randomFilter(next, fields, depth - 1) };
}

/** What the index must hold: every live id's attributes and vector, the ids removed, the fields used so far. */
class Model {
  readonly live = new Map<number, Attrs>();
  readonly vectors = new Map<number, Float32Array>();
  readonly removed = new Set<number>();
  /** The live ids, in no order (for random picks), and where each is in it. */
  private readonly order: number[] = [];
  private readonly at = new Map<number, number>();
  private sortedIds: number[] | undefined;
  /** Fields f0..f(fields-1) have been given to the index (each always of kindOf(k)). */
  fields = 0;
  nextId = 0;

  constructor(
    private readonly next: () => number,
    private readonly dim = DIM,
  ) {}

  /** A fresh vector. */
  vector(): Float32Array {
    return Float32Array.from({ length: this.dim }, () => this.next() * 2 - 1);
  }

  /** Random attributes, with a field no id had yet (the next one) with probability `fresh`. */
  attrs(fresh: number, present = 4): Attrs {
    const out = randomAttrs(this.next, this.fields, present);
    if (this.fields < MAX_FIELDS && this.next() < fresh) out[`f${this.fields}`] = valueFor(this.fields, this.next);
    return out;
  }

  /** add / addBatch row semantics: attributes replace; left out, a new id has none and an existing one keeps its own. */
  added(id: number, vector: Float32Array, a: Attrs | undefined): void {
    if (a !== undefined)
      for (const key of Object.keys(a)) this.fields = Math.max(this.fields, Number(key.slice(1)) + 1);
    const had = this.live.get(id);
    if (had === undefined) {
      this.at.set(id, this.order.length);
      this.order.push(id);
      this.sortedIds = undefined;
    }
    this.live.set(id, a !== undefined ? { ...a } : (had ?? {}));
    this.vectors.set(id, vector);
    this.removed.delete(id);
  }

  /** setAttributes of a live id. */
  set(id: number, a: Attrs): void {
    this.added(id, this.vectors.get(id)!, a);
  }

  remove(id: number): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.order.pop()!;
    if (last !== id) {
      this.order[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(id);
    this.sortedIds = undefined;
    this.live.delete(id);
    this.vectors.delete(id);
    this.removed.add(id);
  }

  clear(): void {
    for (const id of [...this.order]) this.remove(id);
  }

  liveIds(): number[] {
    this.sortedIds ??= [...this.order].sort((a, b) => a - b);
    return this.sortedIds;
  }

  randomLive(): number | undefined {
    return this.order.length === 0 ? undefined : this.order[Math.floor(this.next() * this.order.length)];
  }

  randomRemoved(): number | undefined {
    if (this.removed.size === 0) return undefined;
    let k = Math.floor(this.next() * Math.min(this.removed.size, 64));
    for (const id of this.removed) if (k-- === 0) return id;
    return undefined;
  }

  /** The live ids passing `where`, ascending. */
  passing(where: Where): number[] {
    return this.liveIds().filter((id) => passes(this.live.get(id)!, where));
  }
}

const sorted = (ids: ArrayLike<number>): number[] => Array.from(ids).sort((a, b) => a - b);

/** The index's engine handle and attribute table (private: read here to call the engine's row-wise evaluator). */
type Internals = { handle: number; attrs: { table: number; schema: Schema } };

/** The live ids the engine's row-wise evaluator (attrRowIds: the lazy walk's check) passes, ascending. */
function rowIds(eng: Engine, index: VectorIndex, where: Where): number[] {
  const { handle, attrs } = index as unknown as Internals;
  const words = compileWhere(where, attrs.schema);
  const rt = eng.runtime;
  const prog = rt.stage(SLOT_OUT, Math.max(8, words.length * 8), 'test');
  new Float64Array(rt.memory.buffer, prog, words.length).set(words);
  const list = rt.stage(SLOT_FILTER, Math.max(4, (rt.exports.indexCapacity(handle) >>> 0) * 4), 'test');
  const n = rt.exports.attrRowIds(handle, attrs.table, prog, words.length, list);
  expect(n).toBeGreaterThanOrEqual(0);
  return sorted(rt.u32().subarray(list >>> 2, (list >>> 2) + n));
}

/** got equals want (ids in order); jest's diff only when they differ (comparing thousands of ids through it is slow). */
function expectIds(got: number[], want: number[], context: object): void {
  if (got.length !== want.length || got.some((x, i) => x !== want[i]))
    expect({ ...context, ids: got }).toEqual({ ...context, ids: want });
}

/** Every live id's attributes (and no others), as the model has them. */
function expectAttributes(index: VectorIndex, m: Model, label: string): void {
  const ids = m.liveIds();
  expectIds(sorted(index.ids()), ids, { label, what: 'ids()' });
  for (const id of ids) {
    const got = index.attributes(id);
    const want = m.live.get(id);
    if (!sameValues(got, want)) expect({ label, id, attributes: got }).toEqual({ label, id, attributes: want });
  }
  let dead = 0;
  for (const id of m.removed) {
    if (dead++ >= 20) break;
    const got = index.attributes(id);
    if (got !== undefined) expect({ label, id, attributes: got }).toEqual({ label, id, attributes: undefined });
  }
}

/** Equality of two attribute records, key order aside (-0 and 0 told apart). */
function sameValues(a: Attrs | undefined, b: Attrs | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.is(a[k], b[k]));
}

/** idsWhere for `filters` random filters as the model, and (with eng) the row-wise evaluator too. */
function expectWhere(index: VectorIndex, m: Model, next: () => number, filters: number, label: string, eng?: Engine) {
  for (let i = 0; i < filters; i++) {
    const where = randomFilter(next, m.fields);
    const want = m.passing(where);
    expectIds(sorted(index.idsWhere(where)), want, { label, where, what: 'idsWhere' });
    if (eng !== undefined) expectIds(rowIds(eng, index, where), want, { label, where, what: 'rows' });
  }
}

/** search with where: the exact plan is brute force over the model's passing ids; auto returns passing ids only. */
function expectSearch(index: VectorIndex, m: Model, next: () => number, label: string): void {
  const where = randomFilter(next, m.fields, 1);
  const pass = m.passing(where);
  const query = m.vector();
  const data = new Float32Array(pass.length * DIM);
  pass.forEach((id, i) => data.set(m.vectors.get(id)!, i * DIM));
  const exact = index.search(query, 10, { where, plan: 'exact' });
  const row = new Map(pass.map((id, i) => [id, i]));
  const truth = bruteForce('l2', data, pass, (id) => row.get(id)!, DIM, query, 10).map((t) => t.id);
  expect({ label, where, ids: Array.from(exact.ids), allowed: exact.allowed }).toEqual({
    label,
    where,
    ids: truth,
    allowed: pass.length,
  });
  const auto = index.search(query, 10, { where });
  expect(auto.ids.length).toBe(Math.min(10, pass.length));
  const passSet = new Set(pass);
  for (const id of auto.ids)
    expect({ label, where, id, passes: passSet.has(id) }).toEqual({ label, where, id, passes: true });
}

/** Everything checked against the model. */
function expectModel(index: VectorIndex, m: Model, next: () => number, label: string, eng?: Engine, filters = 5): void {
  expect(index.size).toBe(m.live.size);
  expectAttributes(index, m, label);
  expectWhere(index, m, next, filters, label, eng);
}

const digest = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex');

/** A snapshot loaded into `eng` is the model, and serializes to the same bytes. */
function expectRoundTrip(eng: Engine, index: VectorIndex, m: Model, next: () => number, label: string): VectorIndex {
  const bytes = index.serialize();
  const loaded = eng.loadIndex(bytes);
  expectModel(loaded, m, next, `${label} (loaded)`);
  expect(digest(loaded.serialize())).toBe(digest(bytes));
  return loaded;
}

// ---------------------------------------------------------------------------------------------

const SEEDS = [11, 22, 33, 44];
const STORM_OPS = 150;

describe.each(BUILDS)('chunked attribute columns against a model (simd %s)', (simd) => {
  test.each(SEEDS)('seed %i: a storm of operations growing past 512 and 1,500 slots', async (seed) => {
    const eng = await engine(simd, { budgetBytes: 64 * MIB });
    const index = eng.createIndex({ ...OPTIONS, seed });
    const next = rng(seed * 7 + (simd === 'on' ? 1 : 2));
    const m = new Model(next);
    let maxCapacity = 0;
    let lateFields = 0;
    const counts: Record<string, number> = {};
    let cleared = false;

    /** Adds these ids (new, removed, or live: replaced) as addBatch or add, each with or without attributes. */
    const addRows = (ids: number[], fresh: number, withAttrs: number): void => {
      const vectors = ids.map(() => m.vector());
      const attrs = next() < 0.15 ? undefined : ids.map(() => (next() < withAttrs ? m.attrs(fresh) : undefined));
      const fieldsBefore = m.fields;
      if (ids.length === 1 && next() < 0.5) index.add(ids[0], vectors[0], attrs?.[0]);
      else {
        const flat = new Float32Array(ids.length * DIM);
        vectors.forEach((v, i) => flat.set(v, i * DIM));
        index.addBatch(ids, flat, attrs);
      }
      ids.forEach((id, i) => m.added(id, vectors[i], attrs?.[i]));
      if (m.fields > fieldsBefore && index.capacity > 512) lateFields += m.fields - fieldsBefore;
    };

    for (let op = 0; op < STORM_OPS; op++) {
      const r = next();
      let kind: string;
      if (r < 0.3) {
        kind = 'addBatch';
        const n = 10 + Math.floor(next() * 130);
        addRows(
          Array.from({ length: n }, () => m.nextId++),
          0.3,
          0.85,
        );
      } else if (r < 0.38) {
        kind = 'add';
        addRows([m.nextId++], 0.2, 0.7);
      } else if (r < 0.44) {
        kind = 'replace';
        const ids = Array.from({ length: 1 + Math.floor(next() * 5) }, () => m.randomLive()).filter(
          (id): id is number => id !== undefined,
        );
        if (ids.length > 0) addRows([...new Set(ids)], 0.1, 0.5);
      } else if (r < 0.58) {
        kind = 'setAttributes';
        for (let i = 0, n = 1 + Math.floor(next() * 10); i < n; i++) {
          const id = m.randomLive();
          if (id === undefined) break;
          const a = next() < 0.1 ? {} : m.attrs(0.15);
          const fieldsBefore = m.fields;
          expect(index.setAttributes(id, a)).toBe(true);
          m.added(id, m.vectors.get(id)!, a);
          if (m.fields > fieldsBefore && index.capacity > 512) lateFields += m.fields - fieldsBefore;
        }
      } else if (r < 0.61) {
        kind = 'setAttributes (absent id)';
        const id = next() < 0.5 ? (m.randomRemoved() ?? m.nextId + 5) : m.nextId + 5;
        expect(index.setAttributes(id, m.attrs(0))).toBe(false);
      } else if (r < 0.75) {
        kind = 'remove';
        for (let i = 0, n = 1 + Math.floor(next() * 40); i < n; i++) {
          const id = m.randomLive();
          if (id === undefined) break;
          expect(index.remove(id)).toBe(true);
          m.remove(id);
        }
        expect(index.remove(m.nextId + 3)).toBe(false);
      } else if (r < 0.86) {
        kind = 're-add';
        const ids = new Set<number>();
        for (let i = 0, n = 1 + Math.floor(next() * 25); i < n; i++) {
          const id = m.randomRemoved();
          if (id !== undefined) ids.add(id);
        }
        if (ids.size > 0) addRows([...ids], 0.1, 0.6);
      } else if (r < 0.9) {
        kind = index.capacity > 512 ? 'compact (past 512)' : 'compact';
        index.compact();
      } else if (r < 0.93 && !cleared && index.capacity > 700 && op < STORM_OPS * 0.6) {
        kind = 'clear';
        cleared = true;
        index.clear();
        m.clear();
      } else {
        kind = 'addBatch (large)';
        const n = 100 + Math.floor(next() * 200);
        addRows(
          Array.from({ length: n }, () => m.nextId++),
          0.5,
          0.9,
        );
      }
      counts[kind] = (counts[kind] ?? 0) + 1;
      maxCapacity = Math.max(maxCapacity, index.capacity);
      if (op % 6 === 5)
        expectModel(index, m, next, `seed ${seed} op ${op} (${kind})`, op % 24 === 23 ? eng : undefined, 3);
      if (op % 25 === 24) expectSearch(index, m, next, `seed ${seed} op ${op}`);
      if (op === STORM_OPS / 2) expectRoundTrip(eng, index, m, next, `seed ${seed} op ${op}`).dispose();
    }
    expectModel(index, m, next, `seed ${seed} end`, eng, 20);
    expectRoundTrip(eng, index, m, next, `seed ${seed} end`).dispose();
    // The storm reached what it is about.
    expect(maxCapacity).toBeGreaterThan(1500);
    expect(index.capacity).toBeGreaterThan(512);
    expect(lateFields).toBeGreaterThan(0);
    expect(cleared).toBe(true);
    expect(counts['compact (past 512)']).toBeGreaterThanOrEqual(2);
    expect(m.removed.size).toBeGreaterThan(0);
    eng.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

/** Fills `eng` with trajectory buffers until at most `gap` bytes are left (a buffer that does not fit ends it). */
function fill(eng: Engine, gap: number): TrajectoryBuffer[] {
  const made: TrajectoryBuffer[] = [];
  // The holes too (the room below the arena's top): a buffer that fits nowhere is tried at half
  // its size, down to a few rows. Small chunks (1-4 MiB engines) otherwise grow into the holes
  // and the edge is not reached.
  let most = 200_000;
  for (;;) {
    const room = eng.budgetBytes - eng.usedBytes;
    if (room <= gap + 128 || most < 96) break;
    const bytes = Math.min(room - gap, most);
    try {
      made.push(eng.createTrajectoryBuffer({ capacity: Math.max(1, Math.floor(bytes / 24)) }));
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      most = Math.floor(bytes / 2);
    }
  }
  return made;
}

/**
 * One call near the budget: `run` makes it on an index (the one near the budget, or its twin in a
 * roomy engine, which gets every call that succeeded); `apply`, once it succeeded, updates the model.
 */
type Call = { name: string; run: (index: VectorIndex) => void; apply: () => void };

/**
 * [build, MiB, dim, rows a batch at most, seed, refusals a round at most (each costs two
 * snapshots), fields about]: 1 and 2 MiB on both builds, 4 MiB (the slowest) on one.
 */
const NEAR: Array<['on' | 'off', number, number, number, number, number, number]> = [
  ...BUILDS.flatMap(
    (simd): Array<['on' | 'off', number, number, number, number, number, number]> => [
      [simd, 1, 4, 4, 101, 5, 30],
      [simd, 2, 8, 16, 202, 2, 30],
    ],
  ),
  [BUILDS[0], 4, 16, 48, 303, 1, 12],
];

describe('refused calls near the budget', () => {
  test.each(BUILDS)('simd %s: blocks at the top of the arena grow into the room freed below them', async (simd) => {
    // A block at the top could only grow in place: once its growth passed the budget, the call
    // was refused with the rest of the engine free (1 MiB: refused at 95 ids, 1 MB free).
    const eng = await engine(simd, { budgetBytes: MIB });
    const index = eng.createIndex({ ...OPTIONS, dim: 4, seed: 1 });
    const next = rng(5);
    const m = new Model(next, 4);
    const add = (n: number): void => {
      const ids = Array.from({ length: n }, () => m.nextId++);
      const vs = ids.map(() => m.vector());
      const flat = new Float32Array(n * 4);
      vs.forEach((v, i) => flat.set(v, i * 4));
      const attrs = ids.map((id) => ({ f0: id, f1: `s${id % 6}` }));
      index.addBatch(ids, flat, attrs);
      ids.forEach((id, i) => m.added(id, vs[i], attrs[i]));
    };
    add(16);
    // The engine full but ~12 KB: the next growth moves the index's blocks to the top.
    const filler = eng.createTrajectoryBuffer({
      capacity: Math.floor((eng.budgetBytes - eng.reservedBytes - 12_000) / 16),
    });
    add(1);
    filler.dispose();
    expect(eng.usedBytes).toBeLessThan(eng.budgetBytes / 10);
    while (m.nextId < 1100) add(8);
    expect(index.capacity).toBeGreaterThan(1024);
    expectModel(index, m, next, 'grown from the top', eng, 10);
    eng.dispose();
  });

  test.each(NEAR)(
    'simd %s, %i MiB, dim %i, batches up to %i (seed %i): a refused call changes nothing, the same call answers once there is room',
    async (simd, mib, dim, batch, seed, perRound, fieldsAbout) => {
      const eng = await engine(simd, { budgetBytes: mib * MIB });
      const index = eng.createIndex({ ...OPTIONS, dim, seed });
      // Its twin gets the calls that succeed: what the index must serialize to (the bytes do not
      // depend on the budget or the blocks' places), without a snapshot taken before every call.
      const roomy = await engine(simd, { budgetBytes: 64 * MIB });
      const twin = roomy.createIndex({ ...OPTIONS, dim, seed });
      const next = rng(seed + (simd === 'on' ? 0 : 1000));
      const m = new Model(next, dim);
      const rows = (n: number) => {
        const ids = Array.from({ length: n }, () => m.nextId++);
        const vs = ids.map(() => m.vector());
        const flat = new Float32Array(n * dim);
        vs.forEach((v, i) => flat.set(v, i * dim));
        return { ids, vs, flat };
      };
      let twinBytes: string | undefined;
      const onTwin = (call: Call): void => {
        call.run(twin);
        call.apply();
        twinBytes = undefined;
      };
      const both = (call: Call): void => {
        call.run(index);
        onTwin(call);
      };
      // Staging the checks need, made before the engine fills.
      const v0 = m.vector();
      both({ name: 'first', run: (ix) => ix.add(0, v0, { f0: 1 }), apply: () => m.added(0, v0, { f0: 1 }) });
      m.nextId = 1;
      index.idsWhere({ f0: 1 });
      index.serialize();
      const refusals: Record<string, number> = {};
      let refused = 0;
      let retried = 0;
      let unique = 0;
      /** Fields first given past 512 slots (a directory of chunks made whole at once). */
      let lateFields = 0;

      const calls: Array<() => Call | undefined> = [
        // New ids with attributes (the columns grow with the index).
        () => {
          const { ids, vs, flat } = rows(1 + Math.floor(next() * batch));
          const attrs = ids.map(() => (next() < 0.8 ? m.attrs(0, 5) : undefined));
          return {
            name: 'addBatch',
            run: (ix) => ix.addBatch(ids, flat, attrs),
            apply: () => ids.forEach((id, i) => m.added(id, vs[i], attrs[i])),
          };
        },
        // One new id, with attributes or without (the columns grow all the same).
        () => {
          const { ids, vs } = rows(1);
          const a = next() < 0.7 ? m.attrs(0, 5) : undefined;
          return {
            name: a === undefined ? 'add (no attributes)' : 'add',
            run: (ix) => ix.add(ids[0], vs[0], a),
            apply: () => m.added(ids[0], vs[0], a),
          };
        },
        // A field no id had: a new column as long as the table (past 512 slots: a directory of chunks).
        () => {
          const id = m.randomLive();
          // About fieldsAbout fields in all: each new chunk of 512 slots takes one chunk a field at once.
          if (id === undefined || next() < m.fields / fieldsAbout) return undefined;
          const a = { ...m.live.get(id)!, [`f${m.fields}`]: valueFor(m.fields, next) };
          return {
            name: 'new field',
            run: (ix) => ix.setAttributes(id, a),
            apply: () => {
              m.set(id, a);
              if (index.capacity > 512) lateFields++;
            },
          };
        },
        // A new (long) string: the dictionary's room grows.
        () => {
          const id = m.randomLive();
          if (id === undefined || m.fields < 2) return undefined;
          const a = { ...m.live.get(id)!, f1: `u${unique++}-${'x'.repeat(Math.floor(next() * 3000))}` };
          return { name: 'new string', run: (ix) => ix.setAttributes(id, a), apply: () => m.set(id, a) };
        },
        // A removed id added again, with attributes or without (its slot, or a new one, must start empty).
        () => {
          const id = m.randomRemoved();
          if (id === undefined) return undefined;
          const v = m.vector();
          const a = next() < 0.5 ? m.attrs(0, 5) : undefined;
          return { name: 're-add', run: (ix) => ix.add(id, v, a), apply: () => m.added(id, v, a) };
        },
        // Values of known fields.
        () => {
          const id = m.randomLive();
          if (id === undefined) return undefined;
          const a = m.attrs(0, 5);
          return { name: 'setAttributes', run: (ix) => ix.setAttributes(id, a), apply: () => m.set(id, a) };
        },
        // Compaction near the budget: done whole, or refused changing nothing.
        () => (next() < 0.3 ? { name: 'compact', run: (ix) => ix.compact(), apply: () => {} } : undefined),
      ];
      const weights = [5, 3, 1, 1, 1, 1, 1];
      const total = weights.reduce((a, b) => a + b);
      const pickCall = (): Call => {
        for (;;) {
          let r = next() * total;
          let i = 0;
          while (r >= weights[i]) r -= weights[i++];
          const call = calls[i]();
          if (call !== undefined) return call;
        }
      };
      const sameBytes = (label: string): void => {
        const got = digest(index.serialize());
        twinBytes ??= digest(twin.serialize());
        if (got !== twinBytes) {
          // Name the first id whose attributes differ, if any.
          expectAttributes(index, m, label);
          expect({ label, bytes: got }).toEqual({ label, bytes: 'as the twin' });
        }
      };
      /** Attributes of up to `n` random live ids and a few removed ones, as the model. */
      const sampleAttributes = (n: number, label: string): void => {
        for (let i = 0; i < n; i++) {
          const id = m.randomLive();
          if (id === undefined) return;
          const got = index.attributes(id);
          if (!sameValues(got, m.live.get(id))) expect({ label, id, got }).toEqual({ label, id, got: m.live.get(id) });
        }
        const gone = m.randomRemoved();
        if (gone !== undefined)
          expect({ label, gone, got: index.attributes(gone) }).toEqual({ label, gone, got: undefined });
      };
      /** Every attribute and `where` as the model; where the engine has no room for idsWhere, in a loaded copy. */
      const expectAll = (label: string, filters: number): void => {
        expectAttributes(index, m, label);
        try {
          expectWhere(index, m, next, filters, label);
        } catch (error) {
          if (!(error instanceof BudgetExceededError)) throw error;
          const copy = roomy.loadIndex(index.serialize());
          expectModel(copy, m, next, `${label} (loaded)`, roomy, filters);
          copy.dispose();
        }
      };

      let full = false;
      let rounds = 0;
      while (rounds < 70 && !full) {
        const round = rounds++;
        // Some ids go (gaps for re-adds to fill).
        for (let i = 0; i < 3; i++) {
          const id = m.randomLive();
          if (id !== undefined && next() < 0.7) {
            expect(index.remove(id)).toBe(true);
            expect(twin.remove(id)).toBe(true);
            m.remove(id);
            twinBytes = undefined;
          }
        }
        const gap = Math.floor(Math.exp(next() * Math.log(16_000)));
        const fillers = fill(eng, gap);
        let last: Call | undefined;
        for (let attempt = 0, here = 0; attempt < 40 && here < perRound; attempt++) {
          const call = pickCall();
          const before = { used: eng.usedBytes, reserved: eng.reservedBytes, size: index.size, fields: index.fields };
          try {
            call.run(index);
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            refused++;
            here++;
            refusals[call.name] = (refusals[call.name] ?? 0) + 1;
            const after = { used: eng.usedBytes, reserved: eng.reservedBytes, size: index.size, fields: index.fields };
            expect({ round, call: call.name, ...after }).toEqual({ round, call: call.name, ...before });
            sameBytes(`round ${round}, refused ${call.name}`);
            sampleAttributes(100, `round ${round}, refused ${call.name}`);
            last = call;
            continue;
          }
          onTwin(call);
        }
        for (const f of fillers) f.dispose();
        if (last !== undefined) {
          // The last refused call with the room back: done, as the model says (unless the index itself fills the budget).
          const before = { used: eng.usedBytes, reserved: eng.reservedBytes };
          try {
            both(last);
            retried++;
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            expect({ used: eng.usedBytes, reserved: eng.reservedBytes }).toEqual(before);
            // Refused with the fillers gone: the index itself fills the budget (a refusal with most
            // of the budget free was a block at the top of the arena that could only grow in place).
            expect({ round, call: last.name, used: eng.usedBytes / eng.budgetBytes > 0.75 }).toEqual({
              round,
              call: last.name,
              used: true,
            });
            // A compaction needs room for the index's new blocks beside the old: refused long
            // before the index fills the budget, so it does not end the rounds.
            full = last.name !== 'compact';
          }
        }
        if (round % 6 === 0 || full) sameBytes(`${mib} MiB round ${round}`);
        if (round % 10 === 0 || full) expectAll(`${mib} MiB round ${round}`, 4);
        else sampleAttributes(100, `${mib} MiB round ${round}`);
        if (full) break;
        // The index grows to the budget in ~55 rounds (bytes a row as so far).
        const perRow = eng.usedBytes / Math.max(1, index.size);
        const target = Math.min(1, (round + 1) / 55) * eng.budgetBytes;
        const { ids, vs, flat } = rows(Math.max(1, Math.floor((target - eng.usedBytes) / perRow)));
        const attrs = ids.map(() => (next() < 0.9 ? m.attrs(0, 5) : undefined));
        const before = { used: eng.usedBytes, reserved: eng.reservedBytes };
        try {
          both({
            name: 'growth',
            run: (ix) => ix.addBatch(ids, flat, attrs),
            apply: () => ids.forEach((id, i) => m.added(id, vs[i], attrs[i])),
          });
        } catch (error) {
          if (!(error instanceof BudgetExceededError)) throw error;
          expect({ used: eng.usedBytes, reserved: eng.reservedBytes }).toEqual(before);
          sameBytes(`${mib} MiB round ${round}, refused growth`);
          refused++;
          refusals['growth batch'] = (refusals['growth batch'] ?? 0) + 1;
        }
      }
      expectAll(`${mib} MiB at the end`, 20);
      // The edge was reached many times, in the columns' growth past 512 slots too, and the index filled the budget.
      expect({ refused: refused >= 30, retried: retried >= 10, full, refusals }).toEqual({
        refused: true,
        retried: true,
        full: true,
        refusals,
      });
      expect(refusals['new field'] ?? 0).toBeGreaterThan(0);
      expect(lateFields).toBeGreaterThan(0);
      expect(index.capacity).toBeGreaterThan(1024);
      expect(m.fields).toBeGreaterThanOrEqual(8);
      roomy.dispose();
      eng.dispose();
    },
  );
});

// ---------------------------------------------------------------------------------------------

describe.each(BUILDS)('round trips of chunked columns (simd %s)', (simd) => {
  test('64 fields, most first seen past 512 slots, with gaps: snapshots and the index store as the model', async () => {
    const eng = await engine(simd, { budgetBytes: 128 * MIB });
    const index = eng.createIndex({ ...OPTIONS, seed: 9 });
    const next = rng(900 + (simd === 'on' ? 1 : 2));
    const m = new Model(next);
    const addNew = (n: number, fresh: number, present: number, withAttrs = 0.9): void => {
      const ids = Array.from({ length: n }, () => m.nextId++);
      const vs = ids.map(() => m.vector());
      const flat = new Float32Array(n * DIM);
      vs.forEach((v, i) => flat.set(v, i * DIM));
      const attrs = ids.map(() => (next() < withAttrs ? m.attrs(fresh, present) : undefined));
      index.addBatch(ids, flat, attrs);
      ids.forEach((id, i) => m.added(id, vs[i], attrs[i]));
    };
    // 8 fields under 512 slots, then 56 more past it: in batches, and in setAttributes.
    addNew(400, 0, 4);
    for (let k = 0; k < 8; k++) {
      const a = { [`f${k}`]: valueFor(k, next) };
      index.setAttributes(k, a);
      m.added(k, m.vectors.get(k)!, a);
    }
    expect(m.fields).toBe(8);
    addNew(300, 0.1, 8);
    expect(index.capacity).toBeGreaterThan(512);
    while (m.fields < 40) addNew(20, 1, 8);
    for (let id = 0; id < m.nextId; id += 7) {
      index.remove(id);
      m.remove(id);
    }
    while (m.fields < MAX_FIELDS) {
      const id = m.randomLive()!;
      const a = m.attrs(1, 12);
      expect(index.setAttributes(id, a)).toBe(true);
      m.added(id, m.vectors.get(id)!, a);
    }
    addNew(1100, 0, 12);
    for (const id of [...m.removed].slice(0, 60)) {
      const v = m.vector();
      const a = next() < 0.5 ? m.attrs(0, 10) : undefined;
      index.add(id, v, a);
      m.added(id, v, a);
    }
    expect(index.capacity).toBeGreaterThan(1500);
    expect(Object.keys(index.fields)).toHaveLength(MAX_FIELDS);
    expectModel(index, m, next, '64 fields', eng, 40);

    // A 65th field is refused, changing nothing.
    const before = digest(index.serialize());
    expect(() => index.setAttributes(m.randomLive()!, { f64: 1 })).toThrow(InvalidArgumentError);
    expect(() => index.add(m.nextId, m.vector(), { f64: 1, f0: 2 })).toThrow(InvalidArgumentError);
    expect(digest(index.serialize())).toBe(before);

    // Snapshots: whole and in chunks.
    const bytes = index.serialize();
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(3);
    const loaded = expectRoundTrip(eng, index, m, next, '64 fields');
    expectModel(eng.loadIndex([...index.serializeChunks(4096)]), m, next, '64 fields (chunks)');
    // The loaded index goes on as the original: new slots past its capacity, values of every field.
    const extra = Array.from({ length: 600 }, (_, i) => m.nextId + i);
    const vs = extra.map(() => m.vector());
    const flat = new Float32Array(extra.length * DIM);
    vs.forEach((v, i) => flat.set(v, i * DIM));
    const attrs = extra.map(() => m.attrs(0, 16));
    for (const ix of [index, loaded]) ix.addBatch(extra, flat, attrs);
    extra.forEach((id, i) => m.added(id, vs[i], attrs[i]));
    m.nextId += extra.length;
    expectModel(loaded, m, next, 'loaded, grown', eng, 10);
    expect(digest(loaded.serialize())).toBe(digest(index.serialize()));
    loaded.dispose();

    // The index store: a checkpoint, then a log of attribute records, adds and removes.
    const store = new MemoryStore();
    expect((await index.save(store, 'ix')).kind).toBe('checkpoint');
    for (let i = 0; i < 80; i++) {
      const id = m.randomLive()!;
      const a = m.attrs(0, 10);
      index.setAttributes(id, a);
      m.added(id, m.vectors.get(id)!, a);
    }
    for (let i = 0; i < 40; i++) {
      const id = m.randomLive()!;
      index.remove(id);
      m.remove(id);
    }
    addNew(700, 0, 10, 0.8);
    expect((await index.save(store, 'ix')).kind).toBe('log');
    const reopened = await eng.openIndex(store, 'ix');
    expectModel(reopened, m, next, 'reopened (log)', eng, 20);
    expect(digest(reopened.serialize())).toBe(digest(index.serialize()));
    reopened.dispose();

    // Compacted: the slots renumbered, the next save a checkpoint.
    index.compact();
    expectModel(index, m, next, 'compacted', eng, 20);
    expect((await index.save(store, 'ix')).kind).toBe('checkpoint');
    const compacted = await eng.openIndex(store, 'ix');
    expectModel(compacted, m, next, 'reopened (compacted)', eng, 10);
    compacted.dispose();
    expectRoundTrip(eng, index, m, next, 'compacted').dispose();

    // Loaded where it barely fits: loaded whole, or refused giving back every byte.
    const snapshot = index.serialize();
    let tightLoads = 0;
    let refusedLoads = 0;
    for (let mib = 1; tightLoads < 2; mib += 0.25) {
      const tight = await engine(simd, { budgetBytes: Math.round(mib * MIB) });
      const before = [tight.usedBytes, tight.reservedBytes];
      try {
        const back = tight.loadIndex(snapshot);
        tightLoads++;
        expectAttributes(back, m, `loaded into ${mib} MiB`);
        expect(digest(back.serialize())).toBe(digest(snapshot));
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
        refusedLoads++;
        expect([tight.usedBytes, tight.reservedBytes]).toEqual(before);
      }
      tight.dispose();
    }
    expect(refusedLoads).toBeGreaterThan(0);

    // Cleared (the fields stay), then past 512 slots again: no value of before shows; the first
    // values after it come when the index is past 512 slots (the columns start as directories).
    index.clear();
    m.clear();
    expect(Object.keys(index.fields)).toHaveLength(MAX_FIELDS);
    addNew(700, 0, 6, 0);
    expect(index.idsWhere({ f0: { $exists: true } }).length).toBe(0);
    for (let i = 0; i < 50; i++) {
      const id = m.randomLive()!;
      const a = m.attrs(0, 6);
      index.setAttributes(id, a);
      m.set(id, a);
    }
    expectModel(index, m, next, 'cleared, first values past 512', eng, 10);
    addNew(700, 0, 6, 0.5);
    expect(index.idsWhere({ f0: { $exists: true } }).length).toBe(m.passing({ f0: { $exists: true } }).length);
    expectModel(index, m, next, 'cleared, refilled', eng, 20);
    expectRoundTrip(eng, index, m, next, 'cleared, refilled').dispose();
    expect((await index.save(store, 'ix')).kind).toBe('checkpoint');
    const refilled = await eng.openIndex(store, 'ix');
    expectModel(refilled, m, next, 'reopened (refilled)', eng, 10);
    eng.dispose();
  });
});

describe.each(BUILDS)('first attributes past 512 slots (simd %s)', (simd) => {
  test('an index of 1,300 ids without attributes gets its first: one field, then more, every chunk', async () => {
    const eng = await engine(simd, { budgetBytes: 32 * MIB });
    const index = eng.createIndex({ ...OPTIONS, seed: 2 });
    const next = rng(77 + (simd === 'on' ? 1 : 2));
    const m = new Model(next);
    const ids = Array.from({ length: 1300 }, () => m.nextId++);
    const vs = ids.map(() => m.vector());
    const flat = new Float32Array(ids.length * DIM);
    vs.forEach((v, i) => flat.set(v, i * DIM));
    index.addBatch(ids, flat);
    ids.forEach((id, i) => m.added(id, vs[i], undefined));
    expect(index.capacity).toBeGreaterThan(1024);
    // The last slot first (the columns must reach it), then one id in each chunk of 512 slots.
    for (const id of [1299, 0, 511, 512, 1023, 1024]) {
      const a = { f0: id, f1: `s${id % 6}` };
      expect(index.setAttributes(id, a)).toBe(true);
      m.set(id, a);
    }
    expect(sorted(index.idsWhere({ f0: { $gte: 0 } }))).toEqual([0, 511, 512, 1023, 1024, 1299]);
    for (let k = 2; k < 12; k++) {
      const id = m.randomLive()!;
      const a = { ...m.live.get(id)!, [`f${k}`]: valueFor(k, next) };
      index.setAttributes(id, a);
      m.set(id, a);
    }
    expectModel(index, m, next, 'first attributes past 512', eng, 20);
    expectRoundTrip(eng, index, m, next, 'first attributes past 512').dispose();
    eng.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(BUILDS)('addBatchAsync with attributes on two threads (simd %s)', (simd) => {
  test('batches built on the threads cross 512 slots and bring new fields: the model, also loaded', async () => {
    const eng = await Engine.create({ simd, threads: 2, budgetBytes: 64 * MIB });
    expect(eng.threads).toBe(2);
    const index = eng.createIndex({ ...OPTIONS, seed: 4 });
    const next = rng(4000 + (simd === 'on' ? 1 : 2));
    const m = new Model(next);
    const batchOf = (n: number, fresh: number, withAttrs: number) => {
      const ids = Array.from({ length: n }, () => m.nextId++);
      const vs = ids.map(() => m.vector());
      const flat = new Float32Array(n * DIM);
      vs.forEach((v, i) => flat.set(v, i * DIM));
      const attrs = ids.map(() => (next() < withAttrs ? m.attrs(fresh, 5) : undefined));
      return { ids, vs, flat, attrs };
    };
    const first = batchOf(300, 0.05, 0.9);
    index.addBatch(first.ids, first.flat, first.attrs);
    first.ids.forEach((id, i) => m.added(id, first.vs[i], first.attrs[i]));
    const runs = eng.runtime.pool!.callsRun;
    for (const [n, fresh] of [
      [400, 0.02],
      [700, 0.03],
      [900, 0.01],
    ] as const) {
      const b = batchOf(n, fresh, 0.8);
      const fieldsBefore = m.fields;
      await index.addBatchAsync(b.ids, b.flat, b.attrs);
      b.ids.forEach((id, i) => m.added(id, b.vs[i], b.attrs[i]));
      expect(m.fields).toBeGreaterThan(fieldsBefore);
      for (let i = 0; i < 60; i++) {
        const id = m.randomLive()!;
        index.remove(id);
        m.remove(id);
      }
      expectModel(index, m, next, `after addBatchAsync of ${n}`, eng, 10);
      // No removed ids: the next batch is built on the threads.
      index.compact();
    }
    expect(eng.runtime.pool!.callsRun).toBeGreaterThan(runs); // built on the threads
    expect(index.capacity).toBeGreaterThan(1500);
    expectModel(index, m, next, 'compacted', eng, 10);
    expectRoundTrip(eng, index, m, next, 'threads').dispose();
    eng.dispose();
  });

  test('near the budget: a refused addBatchAsync with attributes changes nothing', async () => {
    const eng = await Engine.create({ simd, threads: 2, budgetBytes: 2 * MIB });
    const index = eng.createIndex({ ...OPTIONS, seed: 6 });
    const next = rng(600 + (simd === 'on' ? 1 : 2));
    const m = new Model(next);
    const runs = eng.runtime.pool!.callsRun;
    const state = () => ({
      used: eng.usedBytes,
      reserved: eng.reservedBytes,
      size: index.size,
      fields: index.fields,
      bytes: digest(index.serialize()),
    });
    let refused = 0;
    let batches = 0;
    for (let round = 0; round < 40 && refused < 6; round++) {
      const n = 260 + Math.floor(next() * 200);
      const ids = Array.from({ length: n }, () => m.nextId++);
      const vs = ids.map(() => m.vector());
      const flat = new Float32Array(n * DIM);
      vs.forEach((v, i) => flat.set(v, i * DIM));
      const attrs = ids.map(() => (next() < 0.8 ? m.attrs(0.05, 5) : undefined));
      const before = state();
      try {
        await index.addBatchAsync(ids, flat, attrs);
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
        refused++;
        expect({ round, ...state() }).toEqual({ round, ...before });
        expectAttributes(index, m, `round ${round}, refused`);
        // Some ids go, and a compaction (a batch is built on the threads only without removed ids).
        for (let i = 0; i < 200; i++) {
          const id = m.randomLive();
          if (id === undefined) break;
          index.remove(id);
          m.remove(id);
        }
        const removed = state();
        try {
          index.compact();
        } catch (error) {
          // Near the budget the compaction's scratch may not fit: then it changes nothing.
          if (!(error instanceof BudgetExceededError)) throw error;
          expect({ round, ...state() }).toEqual({ round, ...removed });
          expectAttributes(index, m, `round ${round}, refused compact`);
          break;
        }
        continue;
      }
      ids.forEach((id, i) => m.added(id, vs[i], attrs[i]));
      batches++;
    }
    expect(eng.runtime.pool!.callsRun).toBeGreaterThan(runs);
    expect({ refused: refused > 0, batches: batches > 3 }).toEqual({ refused: true, batches: true });
    expectAttributes(index, m, 'threads near the budget');
    const roomy = await engine(simd, { budgetBytes: 64 * MIB });
    expectModel(roomy.loadIndex(index.serialize()), m, next, 'threads near the budget (loaded)', roomy, 10);
    roomy.dispose();
    eng.dispose();
  });
});
