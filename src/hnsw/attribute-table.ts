/**
 * An index's attributes in the engine (assembly/hnsw/attributes.ts) and their schema: the
 * engine's table handle (0 until an attribute is set), the calls that make, fill, read and
 * evaluate it, and the snapshot section. VectorIndex owns one and runs these inside its calls;
 * the ones that allocate run inside the caller's transaction, before it changes any contents.
 */
import { BudgetExceededError, CorruptSnapshotError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { SLOT_FILTER, SLOT_OUT, STATUS_BUDGET, STATUS_OK } from '../runtime/wasm/exports.js';
import { liveSlots } from './ids.js';
import {
  MAX_FIELDS,
  decodeAttributeSection,
  encodeAttributeSection,
  type Schema,
  type SchemaDraft,
} from './attributes.js';

/** Bytes of the staged (present, value) pairs of one id: room for every field. */
const PAIRS_BYTES = MAX_FIELDS * 16;
/** The table header's words: fields, cap, a column per field, the dictionary's two words, then the chunk shift (assembly/hnsw/attributes.ts). */
const SHIFT_WORD = 2 + MAX_FIELDS + 2;

export class AttributeTable {
  /** The fields and the string dictionary. */
  schema: Schema;
  /** The engine's table, 0 until an attribute is set. */
  private table = 0;

  constructor(
    private readonly rt: Runtime,
    schema: Schema,
  ) {
    this.schema = schema;
  }

  /** Whether the engine holds a table (some attribute was set since the index was made or loaded). */
  get inEngine(): boolean {
    return this.table !== 0;
  }

  /**
   * Runs `transaction` (the index's atomic()): a budget failure, which undoes it, forgets a
   * table it created.
   */
  atomic<T>(transaction: () => T): T {
    const had = this.table;
    try {
      return transaction();
    } catch (error) {
      if (error instanceof BudgetExceededError) this.table = had;
      throw error;
    }
  }

  /** atomic() of an async transaction (an index's call on the threads, Runtime.owned). */
  async atomicAsync<T>(transaction: () => Promise<T>): Promise<T> {
    const had = this.table;
    try {
      return await transaction();
    } catch (error) {
      if (error instanceof BudgetExceededError) this.table = had;
      throw error;
    }
  }

  /** The engine's table, created on first use with the schema's fields (inside the caller's transaction). */
  ensure(what: string): number {
    if (this.table === 0) {
      const t = this.rt.exports.attrCreate() >>> 0;
      if (t === 0) throw this.rt.budgetError(what);
      this.table = t;
      this.addColumns(this.schema.fields.length, what);
    }
    return this.table;
  }

  /**
   * Adds a draft's new fields to the engine's table, stages the pairs' room and copies its new
   * strings into the engine's dictionary (inside the caller's transaction).
   */
  prepare(draft: SchemaDraft, what: string): void {
    this.ensure(what);
    this.addColumns(draft.newFields.length, what);
    this.rt.stage(SLOT_OUT, PAIRS_BYTES, what);
    this.storeStrings(draft.newStringBytes(), this.schema.stringBytes, what);
  }

  /**
   * Makes room for `bytes` more bytes of strings in the engine's dictionary past the `at` in
   * use, so the strings count in the budget (the schema keeps them; snapshots are written from
   * it). An undone transaction gives the room back.
   */
  private storeStrings(bytes: number, at: number, what: string): void {
    if (bytes === 0) return;
    if (this.rt.exports.attrDictReserve(this.table, at + bytes) !== STATUS_OK) throw this.rt.budgetError(what);
  }

  private addColumns(n: number, what: string): void {
    for (let i = 0; i < n; i++)
      if (this.rt.exports.attrAddField(this.table) !== STATUS_OK) throw this.rt.budgetError(what);
  }

  /**
   * Grows the columns with the index (attrCover), inside the caller's transaction: before the
   * index changes, and to the index's capacity when `values` (the call then writes some), even
   * where no column had values yet.
   */
  cover(index: number, what: string, values: boolean): void {
    if (this.table !== 0 && this.rt.exports.attrCover(index, this.table, values ? 1 : 0) !== STATUS_OK)
      throw this.rt.budgetError(what);
  }

  /** Writes (present, value) pairs (fewer than the fields: the rest absent) as id's attributes; false if id is not live. */
  write(index: number, id: number, pairs: Float64Array, what: string): boolean {
    const rt = this.rt;
    const ptr = rt.stage(SLOT_OUT, PAIRS_BYTES, what);
    const view = new Float64Array(rt.memory.buffer, ptr, 2 * MAX_FIELDS);
    view.fill(0);
    view.set(pairs);
    const status = rt.exports.attrSet(index, this.table, id, ptr);
    if (status === STATUS_BUDGET) throw rt.budgetError(what);
    return status === STATUS_OK;
  }

  /** id's attributes decoded ({} with none in the engine); the id must be live. */
  read(index: number, id: number): Record<string, number | string | boolean> {
    if (this.table === 0) return {};
    const rt = this.rt;
    const ptr = rt.stage(SLOT_OUT, PAIRS_BYTES, 'attributes');
    rt.exports.attrGet(index, this.table, id, ptr);
    return this.schema.decode(new Float64Array(rt.memory.buffer, ptr, 2 * this.schema.fields.length));
  }

  /**
   * Every live id's (present, value) pairs, for ids with at least one attribute, in slot order,
   * read straight out of the columns (layout in assembly/hnsw/attributes.ts): allocates nothing
   * in the engine, so it works with the budget full. Cost: O(slots * fields).
   */
  readAll(index: number): Map<number, Float64Array> {
    const out = new Map<number, Float64Array>();
    if (this.table === 0) return out;
    const mem = this.rt.memory.buffer;
    const head = new Uint32Array(mem, this.table, SHIFT_WORD + 1);
    const fields = head[0];
    const cap = head[1];
    if (cap === 0) return out;
    const { ids, slots } = liveSlots(this.rt, index, this.rt.exports.indexSize(index));
    // Chunks of CHUNK slots, each [presence bits, at least 8 bytes][f64 values].
    const CHUNK = 2 ** head[SHIFT_WORD];
    const CHUNK_BITS = Math.max(8, CHUNK / 8);
    const chunks = Math.ceil(cap / CHUNK);
    // Each field's one chunk (cap <= CHUNK), or its chunk directory: entry c is chunk c's
    // address, bit 0 set where a block begins.
    const dirs = Array.from({ length: fields }, (_, f) =>
      cap <= CHUNK ? Uint32Array.of(head[2 + f]) : new Uint32Array(mem, head[2 + f] >>> 0, chunks),
    );
    const view = new DataView(mem);
    for (let i = 0; i < ids.length; i++) {
      const s = slots[i];
      if (s >= cap) continue;
      const j = s % CHUNK;
      let pairs: Float64Array | undefined;
      dirs.forEach((dir, f) => {
        const chunk = (dir[Math.floor(s / CHUNK)] & ~1) >>> 0;
        if ((view.getUint32(chunk + 4 * (j >>> 5), true) & (1 << (j & 31))) === 0) return;
        pairs ??= new Float64Array(2 * fields);
        pairs[2 * f] = 1;
        pairs[2 * f + 1] = view.getFloat64(chunk + CHUNK_BITS + 8 * j, true);
      });
      if (pairs !== undefined) out.set(ids[i], pairs);
    }
    return out;
  }

  /**
   * Around a compaction (which renumbers the slots): reads every id's attributes and stages the
   * room to write them back; the returned function writes them under the new slots (the
   * columns cover the capacity, attrCover, so that needs no memory and cannot fail).
   */
  keepThrough(index: number, what: string): () => void {
    if (this.table === 0) return () => {};
    const kept = this.readAll(index);
    this.rt.stage(SLOT_OUT, PAIRS_BYTES, what);
    return () => {
      this.rt.exports.attrReset(this.table);
      for (const [id, pairs] of kept) this.write(index, id, pairs, what);
    };
  }

  /**
   * Evaluates a compiled `where` over index's live slots (attrWhere): labels false marks the
   * allow set of the next search, writing its nodes to list; true writes the passing ids to
   * list. Returns how many pass; BudgetExceededError when the scratch or the bitset do not fit.
   */
  where(index: number, words: Float64Array, list: number, labels: boolean, what: string): number {
    const rt = this.rt;
    const ptr = rt.stage(SLOT_OUT, Math.max(8, words.length * 8), what);
    new Float64Array(rt.memory.buffer, ptr, words.length).set(words);
    const count = rt.exports.attrWhere(index, this.table, ptr, words.length, list, labels ? 1 : 0);
    if (count < 0) throw rt.budgetError(what);
    return count;
  }

  /**
   * Sets up the lazy walk of a compiled `where` (assembly/hnsw/attributes.ts attrWhereUse): stages
   * the program (SLOT_FILTER, kept through the searches that follow) and, with `decide`, first
   * estimates the share of live ids it passes from a fixed sample (attrEstimate) and goes on
   * only when `decide(share)` says so. Returns whether the index's next lazy-walk searches
   * (plan code LAZY_WALK_CODE) check this program; false when decide said no, or the program is
   * nested too deep for the engine's row-wise evaluator (then evaluate it over every row).
   * Cost: O(program), plus O(LAZY_SAMPLE * program) with decide.
   */
  lazy(index: number, words: Float64Array, decide: ((share: number) => boolean) | null, what: string): boolean {
    const rt = this.rt;
    const ptr = rt.stage(SLOT_FILTER, Math.max(8, words.length * 8), what);
    new Float64Array(rt.memory.buffer, ptr, words.length).set(words);
    if (decide !== null) {
      const share = rt.exports.attrEstimate(index, this.table, ptr, words.length);
      if (share < 0 || !decide(share)) return false;
    }
    return rt.exports.attrWhereUse(index, this.table, ptr, words.length) === 1;
  }

  /** Clears id's attributes before it is removed (a later add reusing its slot starts with none). */
  forget(index: number, id: number): void {
    if (this.table !== 0) this.rt.exports.attrForget(index, this.table, id);
  }

  /** Drops every value (the index was cleared); the fields stay. */
  clear(): void {
    if (this.table !== 0) this.rt.exports.attrClear(this.table);
  }

  /** Frees the engine's table (the index is being freed). */
  free(): void {
    if (this.table !== 0) this.rt.exports.attrFree(this.table);
    this.table = 0;
  }

  /** The attributes section of a version 3 snapshot, or undefined when there are no fields (then version 1 or 2). */
  section(index: number): Uint8Array | undefined {
    if (this.schema.fields.length === 0) return undefined;
    return encodeAttributeSection(this.schema, this.readAll(index));
  }

  /**
   * Restores a version 3 snapshot's attributes section into `index`, just loaded, which has
   * `has` ids; `transaction` is the index's atomic(). CorruptSnapshotError for a section that
   * does not check out or names an id the index lacks, BudgetExceededError when the values do
   * not fit (the memory it took given back). Cost: O(section bytes).
   */
  restore(
    index: number,
    bytes: Uint8Array,
    has: (id: number) => boolean,
    transaction: (body: () => void) => void,
    what: string,
  ): void {
    const corrupt = (why: string): CorruptSnapshotError =>
      new CorruptSnapshotError(`${what}: not a valid index snapshot (${why})`);
    const { schema, rows } = decodeAttributeSection(bytes, corrupt);
    for (const id of rows.keys()) if (!has(id)) throw corrupt(`attributes of id ${id}, which is not in the index`);
    const old = this.schema;
    this.schema = schema;
    try {
      this.atomic(() =>
        transaction(() => {
          this.ensure(what);
          this.rt.stage(SLOT_OUT, PAIRS_BYTES, what);
          this.storeStrings(schema.stringBytes, 0, what);
          for (const [id, pairs] of rows) this.write(index, id, pairs, what);
        }),
      );
    } catch (error) {
      this.schema = old;
      throw error;
    }
  }
}
