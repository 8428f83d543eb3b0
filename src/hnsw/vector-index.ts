/**
 * VectorIndex: an HNSW index living in the engine's linear memory. Every method validates its
 * arguments first, then copies inputs into WebAssembly staging memory and makes one call.
 */
import { liveIds } from './ids.js';
import {
  BudgetExceededError,
  CorruptSnapshotError,
  DimensionMismatchError,
  DisposedError,
  InvalidArgumentError,
} from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { EngineObject } from '../runtime/engine-object.js';
import { snapshotChunks, SNAPSHOT_CHUNK_BYTES } from './snapshot.js';
import { SLOT_FILTER, SLOT_IDS, SLOT_OUT, SLOT_ROWS, STATUS_OK, TRACE_MISMATCH } from '../runtime/wasm/exports.js';
import {
  IdSet,
  LAZY_WALK_CODE,
  LAZY_WATCH_CODE,
  planCode,
  PLAN_OPTIONS,
  checkAllowList,
  lazyWalk,
  planOfCode,
  walkEf,
  planSearch,
  type Plan,
  type SearchPlan,
} from './filter.js';
import {
  checkArrayLike,
  checkId,
  checkInt,
  checkOneOf,
  checkOptionNames,
  checkRows,
  i8Levels,
} from '../util/validate.js';
import { IndexJournal } from './store/changes.js';
import { Schema, SchemaDraft, type Attributes, type AttributeValue, type FieldKind } from './attributes.js';
import { AttributeTable } from './attribute-table.js';
import { compileWhere, type Where } from './where.js';
import { BUILD_CHUNK, buildParallel, searchRowsParallel } from './parallel.js';
import { concatArrays } from '../util/concat.js';
import { saveIndex, type SaveOptions, type SaveResult } from './store/save.js';
import type { ByteStore } from '../stores/byte-store.js';
import {
  ADD_BATCH_ASYNC_OPTIONS,
  checkStorableId,
  MAX_EF,
  METRICS,
  MISSING_ID,
  QUANTIZATIONS,
  resolveIndexOptions,
  SEARCH_OPTIONS,
  type AddBatchAsyncOptions,
  type BatchSearchResult,
  type IndexOptions,
  type IndexParams,
  type Metric,
  type Quantization,
  type SearchOptions,
  type SearchResult,
} from './options.js';

/** Rows a batch streams through staging memory at a time. */
const CHUNK_ROWS = 1024;
/** Rows at a time when the batch is traced (each row's trace reserves up to ~5 KB at M 16). */
const TRACED_CHUNK_ROWS = 128;

/** Creates an empty index in `rt` (one call); BudgetExceededError if even that does not fit. */
export function createIndex(rt: Runtime, options: IndexOptions): VectorIndex {
  const params = resolveIndexOptions(options);
  return rt.run('createIndex', () => {
    const handle = rt.exports.indexCreate(
      params.dim,
      METRICS.indexOf(params.metric),
      params.M,
      params.efConstruction,
      params.seed,
      QUANTIZATIONS.indexOf(params.quantization),
    );
    if (handle === 0) throw rt.budgetError('createIndex');
    return new VectorIndex(rt, handle, params);
  });
}

/** A search's checked filter: a predicate, an allow-list (checked ids, or an IdSet), or a compiled `where`. */
type CheckedFilter = {
  predicate?: (id: number) => boolean;
  allow?: Uint32Array | IdSet | WhereProgram;
  plan: 'auto' | SearchPlan;
};

/** A compiled `where` (src/hnsw/where.ts), as an allow set's source. */
class WhereProgram {
  constructor(readonly words: Float64Array) {}
}

/**
 * An HNSW index of float vectors under uint32 ids, living in the engine's linear memory (create
 * one with {@link Engine.createIndex}). Every method validates its arguments first, then copies
 * its inputs into WebAssembly memory and makes one call; a call that throws leaves the index as
 * it was.
 *
 * @example
 * ```ts
 * const index = engine.createIndex({ dim: 4, metric: 'l2', M: 16 });
 * index.addBatch([1, 2], new Float32Array([0, 0, 0, 1, 0, 0, 1, 0]));
 * const { ids, distances } = index.search([0, 0, 0, 0.9], 1, { ef: 32 }); // ids[0] === 1
 * const copy = engine.loadIndex(index.serialize());
 * ```
 */
export class VectorIndex extends EngineObject {
  /** Vector dimension. */
  readonly dim: number;
  /** Distance function. */
  readonly metric: Metric;
  /** Links per node on upper layers. */
  readonly M: number;
  /** Candidate list size used while building. */
  readonly efConstruction: number;
  /** Seed of the level generator. */
  readonly seed: number;
  /** Stored form of the vectors ('f32', 'f16' or 'i8'). */
  readonly quantization: Quantization;
  /** @internal The operations since each save, for the next one's log (src/hnsw/store/changes.ts). */
  readonly journal = new IndexJournal();
  private ef: number;
  /** The ids' metadata attributes: their schema, and their table in the engine (src/hnsw/attribute-table.ts). */
  private readonly attrs: AttributeTable;
  /**
   * The last `where` searched (its program, and the change count then) and, once it came again
   * with the index unchanged, its ids as a resident set (see whereSource).
   */
  private lastWhere: { key: string; version: number; set?: IdSet } | undefined;
  /** The IdSets of this index whose engine side is built (IdSet.release takes a set out), freed with the index. */
  private readonly builtSets = new Set<IdSet>();
  /** Counts the calls that changed the index, so a snapshot being read in chunks notices them. */
  private changes = 0;

  /** @internal Use {@link Engine.createIndex}. */
  constructor(rt: Runtime, handle: number, params: IndexParams) {
    super(rt, handle, 'index');
    this.dim = params.dim;
    this.metric = params.metric;
    this.M = params.M;
    this.efConstruction = params.efConstruction;
    this.seed = params.seed;
    this.quantization = params.quantization;
    this.ef = params.efSearch;
    this.attrs = new AttributeTable(
      rt,
      params.fields === undefined ? new Schema(false) : Schema.declare(params.fields),
    );
  }

  /**
   * The metadata fields, name to kind: the declared ones (createIndex's `fields`), or those
   * inferred so far, each with the kind of its first value. Cost: O(fields).
   */
  get fields(): Record<string, FieldKind> {
    return this.attrs.schema.kinds();
  }

  /** checkRows' i8Levels for this index's stored rows or its queries (0: no i8 norm check). */
  private i8Levels(query: boolean): number {
    return i8Levels(this.quantization, this.metric, this.dim, query);
  }

  /** Whether the fields were declared (createIndex's `fields`): then no other field is accepted. */
  get fieldsDeclared(): boolean {
    return this.attrs.schema.declared;
  }

  /** Default candidate list size of a search (1..100000); settable. */
  get efSearch(): number {
    return this.ef;
  }

  /** Sets the default candidate list size of a search (1..100000). */
  set efSearch(value: number) {
    this.ef = checkInt('efSearch', value, 1, MAX_EF);
    this.changes++;
  }

  /** Number of live ids. Cost: O(1). */
  get size(): number {
    return this.call('size', () => this.rt.exports.indexSize(this.handle));
  }

  /**
   * The live ids, in slot order (the order they took their slots; a removed id's slot goes to a
   * later add). Read straight out of the engine's memory: needs no budget, so it works with the
   * engine full. Cost: O(slots).
   */
  ids(): Uint32Array {
    return this.call('ids', () => liveIds(this.rt, this.handle, this.rt.exports.indexSize(this.handle)));
  }

  /**
   * Removes every id and gives the index's node memory back to the engine; keeps the
   * parameters (dim, metric, M, efConstruction, seed, efSearch), and the level generator starts
   * again from the seed, so the index then behaves exactly as a new one created with them.
   * Stores it was saved to get a full checkpoint at the next save. Cost: O(segments).
   */
  clear(): void {
    this.call('clear', () => {
      this.rt.exports.indexClearAll(this.handle, this.seed);
      this.attrs.clear();
      this.changes++;
    });
    this.journal.unlogged();
  }

  /**
   * Drops the removed ids' nodes for good: their live neighbours are relinked around them (so
   * every live id stays reachable), the live nodes are renumbered breadth-first from the entry
   * point (graph neighbours then sit near each other in memory), and the freed node memory goes
   * back to the engine. Ids, vectors and the answers' quality stay; removed ids are forgotten
   * (adding one again is a new add). Needs about 4 bytes a slot of scratch while it runs:
   * BudgetExceededError, changing nothing, when that does not fit. Stores it was saved to get a
   * full checkpoint at the next save. Cost: O(slots * M0^2) distances, one pass over the records.
   */
  compact(): void {
    // Not one transaction: compaction gives memory back, which a transaction cannot.
    this.call('compact', () => {
      // The attribute columns are by slot, and compaction renumbers the slots.
      const writeBack = this.attrs.keepThrough(this.handle, 'compact');
      if (this.rt.exports.indexCompact(this.handle) !== STATUS_OK) throw this.rt.budgetError('compact');
      writeBack();
      this.changes++;
    });
    this.journal.unlogged();
  }

  /**
   * Adds `vector` under `id` (uint32 but MISSING_ID, chosen by the caller), or replaces the vector of an id
   * that exists. Throws DimensionMismatchError, InvalidVectorError, InvalidArgumentError or
   * BudgetExceededError, changing nothing. Cost: O(efConstruction * M * log n) distances.
   *
   * @throws {@link DimensionMismatchError} when a vector's length is not `dim`.
   * @throws {@link InvalidVectorError} for NaN, Infinity, float32 overflow, or a zero vector under cosine.
   * @throws {@link InvalidArgumentError} for an id that is not a uint32 other than MISSING_ID.
   * @throws {@link BudgetExceededError} if the rows (or their attributes) do not fit (the index is unchanged).
   * @param attributes - The id's metadata ({@link Attributes}: field name to a number, string or
   *   boolean), for `where` filters; they replace a replaced id's. Left out, a new id has none
   *   and a replaced id keeps its own.
   */
  add(id: number, vector: ArrayLike<number>, attributes?: Attributes): void {
    checkStorableId(id);
    checkArrayLike('vector', vector);
    if (vector.length !== this.dim) throw new DimensionMismatchError(this.dim, vector.length);
    const draft = new SchemaDraft(this.attrs.schema);
    const encoded = attributes === undefined ? undefined : [draft.encode(attributes, 'attributes')];
    this.insertRows([id], vector, 'add', undefined, encoded, draft);
  }

  /**
   * Adds (or replaces) ids.length vectors given row-major in `vectors`. All or nothing: any bad
   * row or a budget shortfall throws before the index changes. Later rows win over earlier ones
   * with the same id. Cost: ids.length adds, in one call per 1024 rows.
   *
   * @throws {@link DimensionMismatchError} when a vector's length is not `dim`.
   * @throws {@link InvalidVectorError} for NaN, Infinity, float32 overflow, or a zero vector under cosine.
   * @throws {@link InvalidArgumentError} for an id that is not a uint32 other than MISSING_ID.
   * @throws {@link BudgetExceededError} if the rows (or their attributes) do not fit (the index is unchanged).
   * @param attributes - Each row's metadata, as {@link add} takes it (an undefined entry: none
   *   given), one per id.
   */
  addBatch(ids: ArrayLike<number>, vectors: ArrayLike<number>, attributes?: readonly (Attributes | undefined)[]): void {
    const { draft, encoded } = this.checkBatch(ids, vectors, attributes);
    this.insertRows(ids, vectors, 'addBatch', undefined, encoded, draft);
  }

  /**
   * addBatch's arguments checked (the ids, the vectors' length; the rows' values are checked by
   * the insert) and the attributes encoded (InvalidArgumentError naming the first bad one), with
   * the draft of the fields they add.
   */
  private checkBatch(
    ids: ArrayLike<number>,
    vectors: ArrayLike<number>,
    attributes: readonly (Attributes | undefined)[] | undefined,
  ): { draft: SchemaDraft; encoded: (Float64Array | undefined)[] | undefined } {
    checkArrayLike('ids', ids);
    checkArrayLike('vectors', vectors);
    const n = ids.length;
    for (let i = 0; i < n; i++) checkStorableId(ids[i], `ids[${i}]`);
    if (vectors.length !== n * this.dim) {
      throw new DimensionMismatchError(n * this.dim, vectors.length, `vectors (${n} ids x dim ${this.dim})`);
    }
    const draft = new SchemaDraft(this.attrs.schema);
    if (attributes === undefined) return { draft, encoded: undefined };
    if (!Array.isArray(attributes) || attributes.length !== n)
      throw new InvalidArgumentError(`attributes must be an array of ${n} entries (one per id)`);
    const encoded = attributes.map((a, i) => (a === undefined ? undefined : draft.encode(a, `attributes[${i}]`)));
    return { draft, encoded };
  }

  /**
   * The metadata of `id` (field name to value; `{}` when it has none), or undefined when the
   * id is not in the index. Cost: O(fields).
   */
  attributes(id: number): Record<string, AttributeValue> | undefined {
    checkId(id);
    return this.call('attributes', () => {
      if (this.rt.exports.indexVector(this.handle, id) === 0) return undefined;
      return this.attrs.read(this.handle, id);
    });
  }

  /**
   * Replaces the metadata of `id` with `attributes` (fields left out become absent); returns
   * whether the id is in the index (false: nothing changed). Throws as {@link add} does for bad
   * attributes, changing nothing. Cost: O(fields).
   *
   * @throws {@link InvalidArgumentError} for a value that is not a finite number, string or
   *   boolean, of another kind than its field's, or a field the index does not declare.
   * @throws {@link BudgetExceededError} if the attributes do not fit (nothing changed).
   */
  setAttributes(id: number, attributes: Attributes): boolean {
    checkId(id);
    const draft = new SchemaDraft(this.attrs.schema);
    const pairs = draft.encode(attributes, 'attributes');
    const present = this.attrs.atomic(() =>
      this.atomic('setAttributes', () => {
        if (this.rt.exports.indexVector(this.handle, id) === 0) return false;
        this.attrs.prepare(draft, 'setAttributes');
        this.attrs.write(this.handle, id, pairs, 'setAttributes');
        this.changes++;
        return true;
      }),
    );
    if (present) {
      draft.commit();
      this.journal.attributed(id, this.attrs.schema.decode(pairs));
    }
    return present;
  }

  /**
   * The live ids whose attributes pass `where` (see {@link Where}), in slot order, evaluated
   * inside WebAssembly. Throws InvalidArgumentError naming the path of a bad condition
   * (`where.ts.$gte`). Cost: O(slots * size of where).
   */
  idsWhere(where: Where): Uint32Array {
    return this.idsOf(compileWhere(where, this.attrs.schema));
  }

  /** idsWhere of a compiled `where`. */
  private idsOf(words: Float64Array): Uint32Array {
    return this.atomic('idsWhere', () => {
      const rt = this.rt;
      const slots = rt.exports.indexCapacity(this.handle) >>> 0;
      const list = rt.stage(SLOT_FILTER, Math.max(4, slots * 4), 'idsWhere');
      const count = this.attrs.where(this.handle, words, list, true, 'idsWhere');
      return rt.u32().slice(list >>> 2, (list >>> 2) + count);
    });
  }

  /**
   * @internal Restores the attributes section of a version 3 snapshot into this index, just
   * loaded (src/hnsw/load.ts). CorruptSnapshotError for a section that does not check out
   * (decodeAttributeSection) or names an id the index lacks, BudgetExceededError when the
   * values do not fit; either way the engine memory it took is given back (the caller then
   * disposes the index). Cost: O(section bytes).
   */
  restoreAttributes(bytes: Uint8Array, what: string): void {
    this.attrs.restore(
      this.handle,
      bytes,
      (id) => this.has(id),
      (body) => this.atomic(what, body),
      what,
    );
  }

  /**
   * @internal Replays an addBatch of `ids` and `vectors` (checked as addBatch checks them) on
   * the state it was recorded on, linking each item to the neighbours `trace` says it chose
   * (src/hnsw/store/oplog.ts) instead of searching: the same graph as the original call, several
   * times faster. Throws CorruptSnapshotError when the trace does not fit the index (which
   * must then be disposed: the rows before it are linked). Cost: ids.length links.
   */
  replayAdd(ids: Uint32Array, vectors: Float32Array, trace: Uint32Array): void {
    if (vectors.length !== ids.length * this.dim) {
      throw new DimensionMismatchError(
        ids.length * this.dim,
        vectors.length,
        `vectors (${ids.length} ids x dim ${this.dim})`,
      );
    }
    for (let i = 0; i < ids.length; i++) checkStorableId(ids[i], `ids[${i}]`);
    this.insertRows(ids, vectors, 'openIndex', trace);
  }

  private insertRows(
    ids: ArrayLike<number>,
    vectors: ArrayLike<number>,
    what: string,
    replay?: Uint32Array,
    attributes?: readonly (Float64Array | undefined)[],
    draft?: SchemaDraft,
  ): void {
    const n = ids.length;
    checkRows(
      vectors,
      0,
      n,
      this.dim,
      this.metric === 'cosine',
      n === 1 && what === 'add' ? 'vector' : 'vectors',
      this.i8Levels(false),
    );
    if (n === 0) return;
    const traced = replay === undefined && this.journal.recording;
    const traces: Uint32Array[] = [];
    this.attrs.atomic(() =>
      this.atomic(what, () => {
        const rt = this.rt;
        const ex = rt.exports;
        const rowFloats = this.dim;
        const chunk = Math.min(n, traced ? TRACED_CHUNK_ROWS : CHUNK_ROWS);
        const tracePtr = replay === undefined ? 0 : rt.stage(SLOT_OUT, replay.byteLength, what);
        const idsPtr = rt.stage(SLOT_IDS, n * 4, what);
        const rowsPtr = rt.stage(SLOT_ROWS, chunk * rowFloats * 4, what);
        rt.u32().set(ids, idsPtr >>> 2);
        if (replay !== undefined) rt.u32().set(replay, tracePtr >>> 2);
        if (ex.indexReserve(this.handle, idsPtr, n, traced ? chunk : 0) !== STATUS_OK) {
          throw rt.budgetError(what);
        }
        // The attributes' memory too, before anything is written (a budget failure after that
        // would leave contents the transaction cannot undo).
        const attributed = attributes?.some((a) => a !== undefined) === true;
        if (attributed) this.attrs.prepare(draft!, what);
        this.attrs.cover(this.handle, what, attributed);
        let traceAt = 0;
        for (let first = 0; first < n; first += chunk) {
          const rows = Math.min(chunk, n - first);
          const f32 = rt.f32();
          const at = rowsPtr >>> 2;
          if (ArrayBuffer.isView(vectors)) {
            f32.set((vectors as Float32Array).subarray(first * rowFloats, (first + rows) * rowFloats), at);
          } else {
            for (let i = 0; i < rows * rowFloats; i++) f32[at + i] = vectors[first * rowFloats + i];
          }
          if (replay === undefined) {
            ex.indexInsert(this.handle, idsPtr, first, rowsPtr, rows);
            if (traced) {
              const at = ex.indexTrace(this.handle) >>> 2;
              traces.push(rt.u32().slice(at, at + (ex.indexTraceWords(this.handle) >>> 0)));
            }
            continue;
          }
          const used = ex.indexInsertTraced(
            this.handle,
            idsPtr,
            first,
            rowsPtr,
            rows,
            tracePtr + traceAt * 4,
            replay.length - traceAt,
          );
          if (used === TRACE_MISMATCH)
            throw new CorruptSnapshotError(
              `the neighbours recorded for rows ${first}..${first + rows - 1} do not fit the index`,
            );
          traceAt += used;
        }
        if (replay !== undefined && traceAt !== replay.length) {
          throw new CorruptSnapshotError(
            `the recorded neighbours have ${replay.length - traceAt} words past the last row`,
          );
        }
        ex.indexEndBatch(this.handle);
        if (attributed) {
          for (let i = 0; i < n; i++) {
            const pairs = attributes![i];
            if (pairs !== undefined) this.attrs.write(this.handle, ids[i], pairs, what);
          }
        }
        if (n > CHUNK_ROWS) ex.stagingRelease();
        this.changes++;
      }),
    );
    draft?.commit();
    if (traced)
      this.journal.added(
        ids,
        vectors,
        traces.length === 1 ? traces[0] : concatArrays(traces, (n) => new Uint32Array(n)),
      );
    // Logged after the add they belong to (replayed as setAttributes, which needs the id there).
    if (attributes !== undefined && this.journal.recording) {
      for (let i = 0; i < n; i++) {
        const pairs = attributes[i];
        if (pairs !== undefined) this.journal.attributed(ids[i], this.attrs.schema.decode(pairs));
      }
    }
  }

  /** Vectors the index holds before it must grow (live and removed ids share the slots). */
  get capacity(): number {
    return this.call('capacity', () => this.rt.exports.indexCapacity(this.handle) >>> 0);
  }

  /**
   * Makes room for `capacity` vectors in all (live plus removed) at once: allocates the node
   * segments up front (capacity rounds up to whole segments, a few hundred to 4096 nodes each)
   * and sizes the id map. A hint: growing step by step copies no segment either, so it fits
   * about as much. Never shrinks. Throws BudgetExceededError (index unchanged). Cost: one
   * allocation, plus one rehash of the id map.
   *
   * @throws {@link BudgetExceededError} if the segments do not fit (the index is unchanged).
   */
  reserve(capacity: number): void {
    checkInt('capacity', capacity, 0, 0xffffffff);
    this.call('reserve', () => {
      this.changes++;
      if (this.rt.exports.indexReserveCapacity(this.handle, capacity) !== STATUS_OK)
        throw this.rt.budgetError('reserve');
    });
  }

  /**
   * The k nearest live ids to `query`, nearest first (fewer if the index holds fewer, or the
   * filter accepts fewer). Cost: one HNSW query, O(ef * M * log n) distances.
   *
   * @param k - How many neighbours to return, >= 1.
   * @throws {@link DimensionMismatchError} when the query's length is not `dim`.
   * @throws {@link InvalidVectorError} for a query with NaN or Infinity (or zero under cosine).
   * @throws {@link InvalidArgumentError} for a bad `k` or bad options.
   * @example
   * ```ts
   * const { ids, distances } = index.search(query, 10, { ef: 128, filter: (id) => id % 2 === 0 });
   * ```
   */
  search(query: ArrayLike<number>, k: number, options: SearchOptions = {}): SearchResult {
    checkArrayLike('query', query);
    checkInt('k', k, 1, MAX_EF);
    const { ef, filter } = this.searchOptions('search', options);
    if (query.length !== this.dim) throw new DimensionMismatchError(this.dim, query.length, 'query');
    checkRows(query, 0, 1, this.dim, this.metric === 'cosine', 'query', this.i8Levels(true));
    const run = (code: number, runEf: number): SearchResult => {
      const rt = this.rt;
      const ex = rt.exports;
      // Scratch and output, sized by what the index can return (min(k, size), not k), in one
      // call that undoes itself over budget.
      const out = ex.indexPrepareQuery(this.handle, k, runEf) >>> 0;
      if (out === 0) throw rt.budgetError('search');
      rt.f32().set(query, ex.indexInput(this.handle) >>> 2);
      rt.filter = filter.predicate ?? null;
      let found: number;
      try {
        found = ex.indexSearch(this.handle, k, runEf, code, out);
      } finally {
        rt.filter = null;
      }
      return readPairs(rt, out, found);
    };
    if (filter.allow === undefined) return this.call('search', () => run(filter.predicate ? 1 : 0, ef));
    return this.withWhereSet('search', filter.allow, (allow) => {
      const lazy = this.lazyWhere('search', allow, filter.plan, k, ef);
      if (lazy !== null) {
        const result = run(lazy.code, lazy.ef);
        if (result.ids.length >= k) return { ...result, plan: 'walk' as const };
      }
      // Fewer than k (or a lazy walk that stopped): the full evaluation, which knows how many
      // pass; the planner's lazy walk could not finish, so the planned one would not either.
      const forced = lazy !== null && filter.plan === 'auto' ? 'exact' : filter.plan;
      return this.withAllowList('search', allow, forced, k, ef, (plan, allowed) => {
        const result = run(planCode(plan), plan.ef);
        result.plan = planOfCode(this.rt.exports.indexLastPlan(this.handle));
        result.allowed = allowed;
        return result;
      });
    });
  }

  /**
   * Whether a search of `rows` rows with `allow` runs as the lazy walk (docs/vector-index.md
   * "Lazy where"): a `where` (not a resident set) with plan 'walk' forced, or 'auto' and a
   * sampled share for which lazyWalk says so (skipped when no share would); its program is then
   * staged for the walk to check at each node it considers. Returns the walk's ef (forced: `ef`,
   * the predicate's walk; 'auto': the planner's walkEf of the sampled share) and plan code
   * (forced: LAZY_WALK_CODE; 'auto': LAZY_WATCH_CODE, which may stop), or null: evaluate in
   * full. Inside the search's transaction. Cost: O(program), with 'auto' plus
   * O(LAZY_SAMPLE * program).
   */
  private lazyWhere(
    what: string,
    allow: Uint32Array | IdSet | WhereProgram,
    forced: 'auto' | SearchPlan,
    k: number,
    ef: number,
    rows = 1,
  ): { ef: number; code: number } | null {
    if (!(allow instanceof WhereProgram) || (forced !== 'auto' && forced !== 'walk')) return null;
    const size = this.rt.exports.indexSize(this.handle);
    if (forced === 'auto' && !lazyWalk(1, size, k, ef, rows)) return null;
    let sampled = 1;
    const decide =
      forced === 'walk'
        ? null
        : (share: number) => {
            sampled = share;
            return lazyWalk(share, size, k, ef, rows);
          };
    if (!this.attrs.lazy(this.handle, allow.words, decide, what)) return null;
    return forced === 'walk' ? { ef, code: LAZY_WALK_CODE } : { ef: walkEf(sampled, k, ef), code: LAZY_WATCH_CODE };
  }

  /**
   * After a lazy walk of every row of `queries` into `result`: the rows that found fewer than
   * min(k, live ids) (or whose walk stopped, LAZY_WATCH_CODE) are searched again with `allow`
   * evaluated over every row: by the exact scan on 'auto' (the planned walk could not finish
   * either), else by the plan forced (a forced walk, then the exact scan where it still finds
   * too few). Returns `result` with plan 'walk', and `allowed` when some row
   * needed that. Inside the caller's transaction, on the calling thread.
   */
  private lazyFallback(
    what: string,
    queries: ArrayLike<number>,
    k: number,
    ef: number,
    allow: WhereProgram,
    forced: 'auto' | SearchPlan,
    result: BatchSearchResult,
  ): BatchSearchResult {
    const want = Math.min(k, this.rt.exports.indexSize(this.handle));
    const rows = [...result.counts.keys()].filter((r) => result.counts[r] < want);
    if (rows.length === 0) return { ...result, plan: 'walk' };
    const dim = this.dim;
    const sub = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      for (let c = 0; c < dim; c++) sub[i * dim + c] = queries[r * dim + c];
    });
    const again: BatchSearchResult = {
      ids: new Uint32Array(rows.length * k).fill(MISSING_ID),
      distances: new Float32Array(rows.length * k).fill(Infinity),
      counts: new Uint32Array(rows.length),
    };
    const allowed = this.withAllowList(what, allow, forced === 'auto' ? 'exact' : forced, k, ef, (plan, allowed) => {
      this.searchRows(what, sub, rows.length, k, planCode(plan), plan.ef, null, again);
      return allowed;
    });
    rows.forEach((r, i) => {
      result.counts[r] = again.counts[i];
      result.ids.set(again.ids.subarray(i * k, (i + 1) * k), r * k);
      result.distances.set(again.distances.subarray(i * k, (i + 1) * k), r * k);
    });
    return { ...result, plan: 'walk', allowed };
  }

  /**
   * Returns an {@link IdSet} of `ids` (a Uint32Array or an array of uint32 integers; checked
   * now, InvalidArgumentError naming the first bad entry) for the `filter` of later searches of
   * this index: its first search builds it in the engine (a bitset and the allowed nodes, in
   * the budget), and later ones use it with no per-search cost until the index changes.
   * Cost: O(ids) (a copy).
   */
  idSet(ids: Uint32Array | readonly number[]): IdSet {
    const checked = checkAllowList(ids, 'ids');
    return new IdSet(this, this.rt, checked === ids ? checked.slice() : checked, (set) => this.builtSets.delete(set));
  }

  /**
   * Marks `allow` as the allow set (a list: staged into the engine and mapped, one call; an
   * IdSet: its resident block, built first if the index changed since), plans the search from
   * how many live ids it allows, runs `body`, and unmarks whatever happens. Runs inside the
   * caller's transaction: over budget (the list, the bitset, the set, the search scratch)
   * nothing stays changed (an IdSet keeps its previous block). Cost: O(ids) staging and map
   * lookups for a list or a set being built, O(1) for a built set.
   */
  private withAllowList<T>(
    what: string,
    allow: Uint32Array | IdSet | WhereProgram,
    forced: 'auto' | SearchPlan,
    k: number,
    ef: number,
    body: (plan: Plan, allowed: number) => T,
  ): T {
    const marked = this.markAllowList(what, allow, forced, k, ef);
    let result: T;
    try {
      result = body(marked.plan, marked.allowed);
    } catch (error) {
      marked.unmark(error);
      throw error;
    }
    marked.unmark();
    return result;
  }

  /**
   * withAllowList's first half: marks `allow` and plans the search; the caller runs the search,
   * then calls `unmark` (with the error, if it failed) whatever happens.
   */
  private markAllowList(
    what: string,
    allow: Uint32Array | IdSet | WhereProgram,
    forced: 'auto' | SearchPlan,
    k: number,
    ef: number,
  ): { plan: Plan; allowed: number; unmark: (error?: unknown) => void } {
    const rt = this.rt;
    const ex = rt.exports;
    const set = allow instanceof IdSet ? allow : null;
    const list = set === null ? (allow as Uint32Array) : set.ids;
    let old: { handle: number; version: number } | null = null;
    let allowed: number;
    if (allow instanceof WhereProgram) {
      const slots = ex.indexCapacity(this.handle) >>> 0;
      const nodes = rt.stage(SLOT_FILTER, Math.max(4, slots * 4), what);
      allowed = this.attrs.where(this.handle, allow.words, nodes, false, what);
    } else if (set !== null && set.handle !== 0 && set.version === this.changes) {
      allowed = ex.indexSetUse(this.handle, set.handle);
    } else {
      const ptr = rt.stage(SLOT_FILTER, Math.max(4, list.length * 4), what);
      rt.u32().set(list, ptr >>> 2);
      if (set !== null) {
        const block = ex.indexSetCreate(this.handle, ptr, list.length) >>> 0;
        if (block === 0) throw rt.budgetError(what);
        old = { handle: set.handle, version: set.version };
        set.handle = block;
        set.version = this.changes;
        this.builtSets.add(set);
        allowed = ex.indexSetUse(this.handle, block);
      } else {
        allowed = ex.indexAllowBegin(this.handle, ptr, list.length);
        if (allowed < 0) throw rt.budgetError(what);
      }
    }
    const unmark = (error?: unknown): void => {
      // The transaction frees the new block: the set keeps the one it had.
      if (set !== null && old !== null && error instanceof BudgetExceededError) {
        set.handle = old.handle;
        set.version = old.version;
        old = null;
      }
      ex.indexAllowEnd(this.handle);
      if (old !== null && old.handle !== 0) ex.indexSetFree(old.handle);
    };
    try {
      const runs = (): number => ex.indexAllowRuns(this.handle) >>> 0;
      return { plan: planSearch(allowed, ex.indexSize(this.handle), k, ef, MAX_EF, forced, runs), allowed, unmark };
    } catch (error) {
      unmark(error);
      throw error;
    }
  }

  /**
   * Searches every row of `queries` (row-major, a multiple of dim) for k neighbours each.
   * Returns rows of k, row-major, and `counts`, the results in each row: a row with fewer than
   * k results is padded with id MISSING_ID (0xFFFFFFFF, never an id of the index) and distance
   * Infinity. `filter` applies to every row, as in {@link search}. Cost: one HNSW query per
   * row, one call per 1024 rows.
   *
   * @param k - Neighbours per query row, >= 1: the row length of `ids` and `distances`.
   * @throws {@link DimensionMismatchError} when `queries.length` is not a multiple of `dim`.
   * @throws {@link InvalidVectorError} for a query with NaN or Infinity (or zero under cosine).
   * @throws {@link InvalidArgumentError} for a bad `k` or bad options.
   */
  searchBatch(queries: ArrayLike<number>, k: number, options: SearchOptions = {}): BatchSearchResult {
    checkArrayLike('queries', queries);
    checkInt('k', k, 1, MAX_EF);
    const { ef, filter } = this.searchOptions('searchBatch', options);
    const n = this.queryRows(queries);
    const ids = new Uint32Array(n * k).fill(MISSING_ID);
    const distances = new Float32Array(n * k).fill(Infinity);
    const counts = new Uint32Array(n);
    if (n === 0) return { ids, distances, counts };
    const result: BatchSearchResult = { ids, distances, counts };
    const release = (): void => {
      if (n > CHUNK_ROWS) this.rt.exports.stagingRelease();
    };
    if (filter.allow === undefined) {
      return this.atomic('searchBatch', () => {
        this.searchRows('searchBatch', queries, n, k, filter.predicate ? 1 : 0, ef, filter.predicate ?? null, result);
        release();
        return result;
      });
    }
    return this.withWhereSet('searchBatch', filter.allow, (allow) => {
      let out: BatchSearchResult;
      const lazy = this.lazyWhere('searchBatch', allow, filter.plan, k, ef, n);
      if (lazy !== null) {
        this.searchRows('searchBatch', queries, n, k, lazy.code, lazy.ef, null, result);
        out = this.lazyFallback('searchBatch', queries, k, ef, allow as WhereProgram, filter.plan, result);
      } else {
        out = this.withAllowList('searchBatch', allow, filter.plan, k, ef, (plan, allowed) => {
          this.searchRows('searchBatch', queries, n, k, planCode(plan), plan.ef, null, result);
          return { ...result, plan: plan.plan, allowed };
        });
      }
      release();
      return out;
    });
  }

  /**
   * searchBatch's engine side: searches the n rows of `queries` with plan `code` at `ef`
   * (`predicate` for code 1) in chunks of CHUNK_ROWS, writing each row's results into `into`.
   * BudgetExceededError naming `what` when the scratch or staging do not fit.
   */
  private searchRows(
    what: string,
    queries: ArrayLike<number>,
    n: number,
    k: number,
    code: number,
    ef: number,
    predicate: ((id: number) => boolean) | null,
    into: BatchSearchResult,
  ): void {
    const rt = this.rt;
    const ex = rt.exports;
    // Each row's output holds min(k, size) results: staging is sized by what the index can return.
    const stride = ex.indexPrepareSearch(this.handle, k, ef);
    if (stride < 0) throw rt.budgetError(what);
    if (stride === 0) return;
    const chunk = Math.min(n, CHUNK_ROWS);
    const qPtr = rt.stage(SLOT_ROWS, chunk * this.dim * 4, what);
    const out = rt.stage(SLOT_OUT, chunk * stride * 8, what);
    const countsPtr = rt.stage(SLOT_IDS, chunk * 4, what);
    rt.filter = predicate;
    try {
      for (let first = 0; first < n; first += chunk) {
        const rows = Math.min(chunk, n - first);
        const f32 = rt.f32();
        for (let i = 0, at = qPtr >>> 2, from = first * this.dim; i < rows * this.dim; i++)
          f32[at + i] = queries[from + i];
        ex.indexSearchBatch(this.handle, qPtr, rows, k, ef, code, stride, out, countsPtr, 0);
        readRows(rt, out, stride, countsPtr, rows, into, first, k);
      }
    } finally {
      rt.filter = null;
    }
  }

  /**
   * Runs `search` on whereSource(allow) as one transaction `what`, the set made or freed for it
   * included: over budget, usedBytes, reservedBytes and lastWhere are as they were. Except one
   * case: a set of another `where` freed to make room comes back with the transaction's undo,
   * but its contents may have been overwritten (the search may have used its room), so it stays
   * in lastWhere as stale (change count -1, never used), its bytes in use until the next `where`
   * search frees it.
   */
  private withWhereSet<T>(
    what: string,
    allow: Uint32Array | IdSet | WhereProgram,
    search: (allow: Uint32Array | IdSet | WhereProgram) => T,
  ): T {
    const result = this.atomicSearch(what, allow, search);
    this.buildScanCodes(what);
    return result;
  }

  /**
   * After a filtered search whose exact scan wanted them: makes or extends the index's scan
   * codes (an int8 copy of its rows for the exact scan's first pass, docs/vector-index.md), in
   * a call of its own outside any transaction, if they fit the budget. The engine drops them
   * (Runtime.dropCaches) before a later call would fail for their room. Cost: O(dim) a row
   * encoded, once.
   */
  private buildScanCodes(what: string): void {
    const ex = this.rt.exports;
    if (ex.indexWantsCodes(this.handle) === 0) return;
    if (this.call(what, () => ex.indexBuildCodes(this.handle)) === 1) this.rt.holdCache(this.dropScanCodes);
  }

  /** Frees the index's scan codes (Runtime.dropCaches); true when it had some. */
  private readonly dropScanCodes = (): boolean =>
    this.handle !== 0 && this.rt.exports.indexDropCodes(this.handle) === 1;

  /** withWhereSet's transaction. */
  private atomicSearch<T>(
    what: string,
    allow: Uint32Array | IdSet | WhereProgram,
    search: (allow: Uint32Array | IdSet | WhereProgram) => T,
  ): T {
    return this.atomic(what, () => {
      if (!(allow instanceof WhereProgram)) return search(allow);
      const before = this.lastWhere;
      const held = before?.set;
      const heldHandle = held?.handle ?? 0;
      try {
        return search(this.whereSource(allow, what));
      } catch (error) {
        if (error instanceof BudgetExceededError) {
          // The transaction's undo frees a set made here and carves a freed one back.
          this.lastWhere = before;
          if (before !== undefined && held !== undefined && held.handle !== heldHandle) {
            held.handle = heldHandle;
            held.version = -1;
            this.lastWhere = { key: before.key, version: -1, set: held };
          }
        }
        throw error;
      }
    });
  }

  /**
   * What a search's allow set comes from: `allow` as it is, except for a `where` searched again
   * with the index unchanged since, which runs as a resident set of its ids (whereSet: kept, in
   * the budget, until another `where` is searched or the index changes), so a filter repeated
   * across searches is evaluated once (twice: the first search evaluates it directly, or
   * lazily). When the set does not fit the budget, the `where` itself, evaluated directly again
   * (and forgotten: a later repeat tries again). Called inside the search's transaction
   * (withWhereSet, which puts lastWhere back when the search fails over budget; the set it frees
   * here goes back with it). Cost: O(1), or one evaluation when the set is made.
   */
  private whereSource(allow: WhereProgram, what: string): WhereProgram | IdSet {
    const key = allow.words.join(',');
    const last = this.lastWhere;
    if (last !== undefined && last.key === key && last.version === this.changes) {
      if (last.set !== undefined) return last.set;
      const set = this.whereSet(allow.words, what);
      if (set !== null) {
        this.lastWhere = { key, version: this.changes, set };
        return set;
      }
      this.lastWhere = { key: '', version: -1 };
      return allow;
    }
    last?.set?.drop();
    this.lastWhere = { key, version: this.changes };
    return allow;
  }

  /**
   * A resident set of the ids passing a compiled `where`, made in the engine from one evaluation
   * (indexSetFromAllow: no ids listed, copied out or mapped back). It has no ids of its own, so
   * it serves only while the index is unchanged, as lastWhere's set. Runs inside the caller's
   * transaction, as a transaction of its own: null (nothing kept) when it does not fit. Cost: one
   * evaluation + O(slots / 32 + allowed).
   */
  private whereSet(words: Float64Array, what: string): IdSet | null {
    const rt = this.rt;
    const ex = rt.exports;
    const mark = ex.engineBegin();
    let block = 0;
    try {
      const nodes = rt.stage(SLOT_FILTER, Math.max(4, (ex.indexCapacity(this.handle) >>> 0) * 4), what);
      this.attrs.where(this.handle, words, nodes, false, what);
      block = ex.indexSetFromAllow(this.handle) >>> 0;
      ex.indexAllowEnd(this.handle);
    } catch (error) {
      ex.engineEnd(mark, error instanceof BudgetExceededError ? 0 : 1);
      if (error instanceof BudgetExceededError) return null;
      throw error;
    }
    ex.engineEnd(mark, block !== 0 ? 1 : 0);
    if (block === 0) return null;
    const set = new IdSet(this, rt, new Uint32Array(0), () => {}); // lastWhere frees it
    set.handle = block;
    set.version = this.changes;
    return set;
  }

  /**
   * {@link searchBatch} on the engine's threads ({@link EngineOptions.threads}): the rows are
   * split over them, and each row gets exactly the ids and distances searchBatch gives it.
   * Same arguments, options, result and errors (thrown as rejections). An allow-list or an
   * {@link IdSet} filter runs on the threads too; a predicate filter (a JavaScript function,
   * which a worker cannot call) runs the whole call on the calling thread, as does an engine
   * of one thread. Async calls on one engine run one after another, in call order; while one
   * runs, the engine's other calls throw InvalidArgumentError (await it first). Without budget
   * for the threads' search scratch (a few bytes per slot each), the call runs on the calling
   * thread. Cost: searchBatch's, divided by the threads.
   *
   * @param k - Neighbours per query row, >= 1.
   * @throws {@link DimensionMismatchError} when `queries.length` is not a multiple of `dim`.
   * @throws {@link InvalidVectorError} for a query with NaN or Infinity (or zero under cosine).
   * @throws {@link InvalidArgumentError} for a bad `k` or bad options.
   * @throws {@link EngineBrokenError} when a worker thread dies or traps during the call.
   * @example
   * ```ts
   * const engine = await Engine.create({ threads: 'auto' });
   * // ... index.addBatch(ids, vectors) ...
   * const { ids, distances } = await index.searchBatchAsync(queries, 10);
   * ```
   */
  searchBatchAsync(queries: ArrayLike<number>, k: number, options: SearchOptions = {}): Promise<BatchSearchResult> {
    try {
      checkArrayLike('queries', queries);
      checkInt('k', k, 1, MAX_EF);
      const { filter } = this.searchOptions('searchBatchAsync', options);
      if (this.rt.pool === null || filter.predicate !== undefined)
        return this.rt.queued(() => this.searchBatch(queries, k, options));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.rt.queued(() => this.searchParallel(queries, k, options));
  }

  /** How many rows of dim `queries` holds, each checked (DimensionMismatchError for a partial last row, InvalidVectorError for a bad value). */
  private queryRows(queries: ArrayLike<number>): number {
    if (queries.length % this.dim !== 0) {
      throw new DimensionMismatchError(
        this.dim,
        queries.length % this.dim,
        `queries (length ${queries.length}) last row`,
      );
    }
    const n = queries.length / this.dim;
    checkRows(queries, 0, n, this.dim, this.metric === 'cosine', 'queries', this.i8Levels(true));
    return n;
  }

  /** searchBatchAsync on the threads: searchBatch's checks and plan, the rows split (src/hnsw/parallel.ts). */
  private async searchParallel(
    queries: ArrayLike<number>,
    k: number,
    options: SearchOptions,
  ): Promise<BatchSearchResult> {
    const { ef, filter } = this.searchOptions('searchBatchAsync', options);
    const n = this.queryRows(queries);
    const result: BatchSearchResult = {
      ids: new Uint32Array(n * k).fill(MISSING_ID),
      distances: new Float32Array(n * k).fill(Infinity),
      counts: new Uint32Array(n),
    };
    if (n === 0) return result;
    if (this.handle === 0) throw new DisposedError('index');
    const rt = this.rt;
    return rt.owned('searchBatchAsync', async () => {
      const allow = filter.allow;
      const lazy = allow === undefined ? null : this.lazyWhere('searchBatchAsync', allow, filter.plan, k, ef, n);
      const marked =
        allow === undefined || lazy ? null : this.markAllowList('searchBatchAsync', allow, filter.plan, k, ef);
      try {
        const runEf = lazy ? lazy.ef : marked === null ? ef : marked.plan.ef;
        const code = lazy ? lazy.code : marked === null ? 0 : planCode(marked.plan);
        const stride = rt.exports.indexPrepareSearch(this.handle, k, runEf);
        if (stride < 0) throw rt.budgetError('searchBatchAsync');
        if (stride > 0) {
          await searchRowsParallel(
            rt,
            this.handle,
            this.dim,
            queries,
            n,
            { k, ef: runEf, code, stride },
            (o, c, r, f) => readRows(rt, o, stride, c, r, result, f, k),
          );
        }
      } catch (error) {
        marked?.unmark(error);
        throw error;
      }
      marked?.unmark();
      // The rows a lazy walk found too few for run again on the calling thread, evaluated in full.
      const found = lazy
        ? this.lazyFallback('searchBatchAsync', queries, k, ef, allow as WhereProgram, filter.plan, result)
        : marked === null
          ? result
          : { ...result, plan: marked.plan.plan, allowed: marked.allowed };
      // A call on the threads keeps nothing for the next (docs/threads.md, "Budget"): its
      // staging, placed above the workers' shadows, goes back too.
      rt.exports.stagingRelease();
      return found;
    });
  }

  /**
   * {@link addBatch} on the engine's threads ({@link EngineOptions.threads}): the neighbour
   * searches of each chunk of 128 new ids are shared by the threads, and the calling thread
   * links the chunk while the others already search the next one. Same arguments (attributes
   * included), checks, errors (as rejections) and all-or-nothing budget as addBatch. The graph
   * is not addBatch's (an item does not see the items of its own chunk) and depends on timing,
   * with addBatch's recall within 0.01; with `{ reproducible: true }` it is the same for any
   * number of threads (docs/threads.md). A batch that replaces or repeats ids, an
   * index with removed slots to reuse, an index saved to a store, a
   * small batch (under 256 ids) or an engine of one thread runs addBatch on the calling thread;
   * so does a batch without budget for the threads' scratch. Async calls on one engine run one after another,
   * in call order; while one runs, the engine's other calls throw InvalidArgumentError.
   *
   * @throws {@link DimensionMismatchError} when a vector's length is not `dim`.
   * @throws {@link InvalidVectorError} for NaN, Infinity, float32 overflow, or a zero vector under cosine.
   * @throws {@link InvalidArgumentError} for an id that is not a uint32 other than MISSING_ID, or a bad option.
   * @throws {@link BudgetExceededError} if the rows do not fit (the index is unchanged).
   * @throws {@link EngineBrokenError} when a worker thread dies or traps during the call.
   * @param attributes - As {@link addBatch} takes them.
   * @param options - {@link AddBatchAsyncOptions}: `reproducible`.
   * @example
   * ```ts
   * const engine = await Engine.create({ threads: 'auto' });
   * const index = engine.createIndex({ dim: 100, metric: 'cosine' });
   * await index.addBatchAsync(ids, vectors);
   * ```
   */
  addBatchAsync(
    ids: ArrayLike<number>,
    vectors: ArrayLike<number>,
    attributes?: readonly (Attributes | undefined)[],
    options: AddBatchAsyncOptions = {},
  ): Promise<void> {
    let reproducible: boolean;
    try {
      if (options === null || typeof options !== 'object')
        throw new InvalidArgumentError('addBatchAsync options must be an object');
      checkOptionNames('addBatchAsync', options, ADD_BATCH_ASYNC_OPTIONS);
      reproducible = options.reproducible ?? false;
      if (typeof reproducible !== 'boolean')
        throw new InvalidArgumentError(`reproducible must be a boolean, got ${String(reproducible)}`);
      this.checkBatch(ids, vectors, attributes);
      checkRows(vectors, 0, ids.length, this.dim, this.metric === 'cosine', 'vectors', this.i8Levels(false));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.rt.queued(async () => {
      // Encoded again against the schema as the calls before this one left it (new fields'
      // columns and new strings' ids are numbered in call order, as addBatch's would be).
      const { draft, encoded } = this.checkBatch(ids, vectors, attributes);
      const attributed = encoded?.some((a) => a !== undefined) === true;
      if (!this.buildsInParallel(ids)) {
        this.insertRows(ids, vectors, 'addBatchAsync', undefined, encoded, draft);
        return;
      }
      // The attributes' memory (and the new slots' share of the columns) before the index
      // changes, as insertRows does; their contents once the rows are in. A table made here
      // is forgotten if the call's transaction is undone, whatever part of it ran out of budget.
      const prepare = (): void => {
        if (attributed) this.attrs.prepare(draft, 'addBatchAsync');
        this.attrs.cover(this.handle, 'addBatchAsync', attributed);
      };
      await this.attrs.atomicAsync(() =>
        this.rt.owned('addBatchAsync', () =>
          buildParallel(this.rt, this.handle, this.dim, ids, vectors, reproducible, prepare, () => {
            if (!attributed) return;
            for (let i = 0; i < ids.length; i++) {
              const pairs = encoded![i];
              if (pairs !== undefined) this.attrs.write(this.handle, ids[i], pairs, 'addBatchAsync');
            }
          }),
        ),
      );
      draft.commit();
      this.changes++;
    });
  }

  /** Whether addBatchAsync of `ids` runs on the threads (see its doc). */
  private buildsInParallel(ids: ArrayLike<number>): boolean {
    const n = ids.length;
    if (this.rt.pool === null || this.journal.recording || n < 2 * BUILD_CHUNK) return false;
    if (new Set(Array.from(ids)).size !== n) return false;
    // Undone however it ends: the batch's call stages the ids again inside its own transaction,
    // so a refused batch keeps no byte of this check's staging.
    return this.probe('addBatchAsync', () => {
      const idsPtr = this.rt.stage(SLOT_IDS, n * 4, 'addBatchAsync');
      this.rt.u32().set(ids, idsPtr >>> 2);
      return this.rt.exports.indexParallelEligible(this.handle, idsPtr, n) === 1;
    });
  }

  /** Checks the options of a search: known names, ef (default efSearch), filter (checkAllowList for an allow-list). */
  private searchOptions(what: string, options: SearchOptions): { ef: number; filter: CheckedFilter } {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError(`${what} options must be an object`);
    checkOptionNames(what, options, SEARCH_OPTIONS);
    const given: unknown = options.filter;
    const plan = checkOneOf('plan', options.plan === undefined ? 'auto' : options.plan, PLAN_OPTIONS);
    let filter: CheckedFilter = { plan };
    if (typeof given === 'function') {
      if (isAsyncFunction(given as (...args: never) => unknown)) {
        throw new InvalidArgumentError('filter is an async function; it must return true or false synchronously');
      }
      filter = { predicate: given as (id: number) => boolean, plan };
    } else if (given instanceof IdSet) {
      if (given.owner !== this) throw new InvalidArgumentError('filter is an IdSet of another index');
      filter = { allow: given, plan };
    } else if (given !== undefined) filter = { allow: checkAllowList(given), plan };
    if (options.where !== undefined) {
      if (given !== undefined)
        throw new InvalidArgumentError(`${what}: give filter or where, not both (put the condition in the attributes)`);
      filter = { allow: new WhereProgram(compileWhere(options.where, this.attrs.schema)), plan };
    }
    if (plan !== 'auto' && filter.allow === undefined)
      throw new InvalidArgumentError(`plan '${plan}' needs an allow-list filter or a where`);
    return { ef: options.ef === undefined ? this.ef : checkInt('ef', options.ef, 1, MAX_EF), filter };
  }

  /** Removes `id`; returns whether it was present. Its slot is reused by later adds. Cost: O(1). */
  remove(id: number): boolean {
    checkId(id);
    const removed = this.call('remove', () => {
      this.attrs.forget(this.handle, id);
      return this.rt.exports.indexRemove(this.handle, id) === 1;
    });
    if (removed) this.changes++;
    if (removed) this.journal.removed(id);
    return removed;
  }

  /** Whether `id` is present (added and not removed). Cost: O(1). */
  has(id: number): boolean {
    checkId(id);
    return this.call('has', () => this.rt.exports.indexVector(this.handle, id) !== 0);
  }

  /**
   * A copy of the stored vector of `id` (unit length under cosine), or undefined. Under 'f16'
   * and 'i8' that is the stored form decoded: within half an f16 step, or half the vector's
   * int8 step (max|x| / 254), of each value given (normalized first under cosine). Cost: O(dim).
   */
  get(id: number): Float32Array | undefined {
    checkId(id);
    return this.call('get', () => {
      const ptr = this.rt.exports.indexVector(this.handle, id);
      if (ptr === 0) return undefined;
      return this.rt.f32().slice(ptr >>> 2, (ptr >>> 2) + this.dim);
    });
  }

  /**
   * The index as self-describing bytes for {@link Engine.loadIndex}: parameters (efSearch and
   * the level generator's state included), vectors, links, ids, tombstones and a CRC-32
   * (format in docs/format.md). A loaded index answers every query exactly as this one and
   * grows the same graph from the same adds. Cost: O(size), about (dim + 2M + 4) * 4 bytes per
   * slot under 'f32' (EXIX version 1), 2 dim (f16) or dim + 8 (i8) for the vector (version 2).
   */
  serialize(): Uint8Array {
    return this.call('serialize', () => {
      const [bytes] = snapshotChunks(
        this.rt,
        this.handle,
        this.ef,
        this.seed,
        Infinity,
        () => {},
        this.attrs.section(this.handle),
      );
      return bytes;
    });
  }

  /**
   * The same bytes as {@link serialize} as chunks of `chunkBytes` (a multiple of 4, default
   * 4 MiB), each copied out of linear memory when the iteration asks for it: a large index
   * never needs one large ArrayBuffer. Every step checks the index first: changing it after
   * this call (before the last chunk) makes the next step throw InvalidArgumentError, disposing
   * it (or its engine) DisposedError; a step never reads memory the index no longer owns.
   * Cost: O(size) in all.
   */
  serializeChunks(chunkBytes: number = SNAPSHOT_CHUNK_BYTES): IterableIterator<Uint8Array> {
    checkInt('chunkBytes', chunkBytes, 4, 2 ** 30);
    if (chunkBytes % 4 !== 0) throw new InvalidArgumentError(`chunkBytes must be a multiple of 4, got ${chunkBytes}`);
    const start = this.changes;
    const check = (): void =>
      this.call('serializeChunks', () => {
        if (this.changes !== start)
          throw new InvalidArgumentError('the index changed while serializeChunks was reading it: start again');
      });
    check();
    return snapshotChunks(this.rt, this.handle, this.ef, this.seed, chunkBytes, check, this.attrs.section(this.handle));
  }

  /**
   * Saves the index to `store` under `name`, atomically: a crash or a failing store leaves the
   * previous save. The first save writes a checkpoint; later ones write the operations since
   * (a log segment) until the log passes `logShare` of the checkpoint. E_STORE if the store
   * holds another state under `name` than the one this index opened or last saved (unless
   * `overwrite`). See src/hnsw/store/save.ts. Cost: O(size) for a checkpoint, else O(changes).
   *
   * @throws {@link StoreError} when the store fails, or holds another state under `name`.
   * @example
   * ```ts
   * await index.save(new FileStore('./data'), 'docs');
   * const again = await engine.openIndex(new FileStore('./data'), 'docs');
   * ```
   */
  save(store: ByteStore, name: string, options?: SaveOptions): Promise<SaveResult> {
    return saveIndex(this, store, name, options);
  }

  /** Frees this object's blocks in the engine. */
  protected free(handle: number): void {
    const set = this.lastWhere?.set;
    if (set !== undefined && set.handle !== 0) this.rt.exports.indexSetFree(set.handle);
    this.lastWhere = undefined;
    // The IdSets built in the engine: their blocks go with the index.
    for (const built of this.builtSets) built.drop();
    this.builtSets.clear();
    this.rt.releaseCache(this.dropScanCodes);
    this.rt.exports.indexDispose(handle);
    this.attrs.free();
  }
}

/**
 * Copies the results of `rows` batch rows out of linear memory into rows first.. of `into` (k
 * wide): row r's counts[r] pairs at out + r * stride pairs. Cost: O(results).
 */
function readRows(
  rt: Runtime,
  out: number,
  stride: number,
  countsPtr: number,
  rows: number,
  into: BatchSearchResult,
  first: number,
  k: number,
): void {
  const f32 = rt.f32();
  const u32 = rt.u32();
  for (let r = 0; r < rows; r++) {
    const count = u32[(countsPtr >>> 2) + r];
    into.counts[first + r] = count;
    for (let j = 0, at = (out >>> 2) + r * stride * 2, to = (first + r) * k; j < count; j++, at += 2) {
      into.distances[to + j] = f32[at];
      into.ids[to + j] = u32[at + 1];
    }
  }
}

/** Copies `count` (f32 distance, u32 id) pairs at `ptr` out of linear memory. */
function readPairs(rt: Runtime, ptr: number, count: number): SearchResult {
  const ids = new Uint32Array(count);
  const distances = new Float32Array(count);
  const f32 = rt.f32();
  const u32 = rt.u32();
  for (let i = 0, at = ptr >>> 2; i < count; i++, at += 2) {
    distances[i] = f32[at];
    ids[i] = u32[at + 1];
  }
  return { ids, distances };
}

/** Whether `fn` is an async function (or async generator): its answer would be a promise. Cost: O(1). */
function isAsyncFunction(fn: (...args: never) => unknown): boolean {
  const tag = Object.prototype.toString.call(fn);
  return tag === '[object AsyncFunction]' || tag === '[object AsyncGeneratorFunction]';
}
