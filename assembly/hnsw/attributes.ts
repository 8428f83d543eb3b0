// Metadata attributes of an index's ids, and `where` programs evaluated over them into the
// allow set of a search (filter.ts), so a metadata filter takes the allow-list path: the
// planner gets the exact count of live ids that pass.
//
//   table     one block per index (the host's handle), made on first use:
//               +0 u32 fields, +4 u32 cap (slots every column covers), +8 u32 col[MAX_FIELDS]
//               (each field's one chunk while cap <= the chunk's slots, else its chunk
//               directory), +DICT_AT u32 the newest dictionary chunk (0: none yet), +DICT_ROOM_AT
//               u32 the bytes of room in all its chunks, +SHIFT_AT u32 log2 of a chunk's slots
//   dictionary room for the UTF-8 bytes of the host's string dictionary (src/hnsw/attributes.ts),
//             so the strings count in the budget (the host keeps them, and writes them to
//             snapshots): chunks, each [u32 the chunk before it][room], one more when strings
//             no longer fit. Never grown by a copy: a copy would need the old room and the new at
//             once, and a store's log replayed on open could then need more than the index.
//   column    a field's values in chunks of 2^shift slots, each [presence bits: 1 a slot, at
//             least 8 bytes][f64 values] (numbers; booleans 0 / 1; strings: the host's
//             dictionary id). The shift is fixed when the table is made, from the budget
//             (chunkShiftFor: 512 slots from 16 MiB, down to 32 at 1 MiB), so a growth of every
//             column by a chunk, which 64 fields make at once, takes at most 1.6% of the budget
//             (512-slot chunks stopped a 1 MiB fill with 40 fields at 90% in use, 64 at 80%).
//             While cap <= a chunk's slots a field has one chunk of cap slots, grown by copying
//             (half again where that fits), so a small index's columns stay small. Past it, cap
//             is a multiple of a chunk's slots and the field's directory lists its chunks (u32 each, the
//             address | BLOCK_START where a block begins: several chunks are allocated to a
//             block where one fits), never copied: so a column grows without room for its old
//             copy and its new at once (whole columns copied at every growth left holes too
//             small for anything later: four fields of 16-d vectors stopped an 8 MiB fill at
//             91% in use). A grow clears the presence bits of its new slots: an undone call can
//             leave bits set past cap (a moved block's contents come back as the call left them)
//   The columns are indexed by slot (node number): the host clears a slot's bits before it
//   removes its id (so a later add reusing the slot starts with none), and rewrites them id by
//   id around a compaction (which renumbers the slots). A field past `fields`, or a slot past
//   `cap`, is absent.
//
//   program   f64 words, postfix, evaluated on a stack of bitsets over the slots (attrWhere):
//               OP_EQ f v, OP_GT f v, OP_GTE f v, OP_LT f v, OP_LTE f v   push (present && x op v)
//               OP_EXISTS f                                               push present
//               OP_IN f n v[n] (ascending)                                push (present && x in v)
//               OP_RANGE + k f lo hi (k: bit 0 lo inclusive, bit 1 hi inclusive)  push (present && lo <(=) x <(=) hi)
//               OP_AND, OP_OR   pop two, push the result; OP_NOT  negate the top; OP_TRUE push all
//             An absent field fails every comparison (Mongo's semantics: $ne and $nin are NOT
//             of $eq and $in, so they pass it). The host (src/hnsw/where.ts) folds $and / $or
//             two at a time, so the stack is about as deep as the nesting.

import { Index, isTombstoned, labelAt } from "./graph";
import { ensureAllow } from "./filter";
import { mapGet } from "../util/idmap";
import { arenaAlloc, arenaBegin, arenaCapacity, arenaEnd, arenaFree, arenaGrow, arenaLimit, arenaSave } from "../runtime/arena";
import { STATUS_OK, STATUS_BUDGET } from "../runtime/status";

/** Fields a table holds at most. */
export const MAX_FIELDS: u32 = 64;
const DICT_AT: u32 = 8 + (MAX_FIELDS << 2);
const DICT_ROOM_AT: u32 = DICT_AT + 4;
const SHIFT_AT: u32 = DICT_ROOM_AT + 4;
const TABLE_BYTES: u32 = SHIFT_AT + 4;

const OP_EQ: i32 = 0;
const OP_GT: i32 = 1;
const OP_GTE: i32 = 2;
const OP_LT: i32 = 3;
const OP_LTE: i32 = 4;
const OP_EXISTS: i32 = 5;
const OP_IN: i32 = 6;
const OP_AND: i32 = 7;
const OP_OR: i32 = 8;
const OP_NOT: i32 = 9;
const OP_TRUE: i32 = 10;
/** OP_RANGE + 0 (lo < x < hi) .. OP_RANGE + 3 (lo <= x <= hi): a $gt/$gte and a $lt/$lte on one field, in one pass. */
const OP_RANGE: i32 = 11;
/** $in lists up to this long are compared one by one (no branches), longer ones by binary search. */
const SHORT_IN: u32 = 8;

/** log2 of a column chunk's slots: at most (from a 16 MiB budget up: 512 slots, 4,160 bytes) and at least. */
const MAX_SHIFT: u32 = 9;
const MIN_SHIFT: u32 = 5;
/** Directory entry flag: this chunk begins its block (what attrClear frees). */
const BLOCK_START: u32 = 1;


@inline function fieldsOf(t: usize): u32 {
  return load<u32>(t);
}

@inline function capOf(t: usize): u32 {
  return load<u32>(t, 4);
}

/** log2 of the slots of table t's chunks. */
@inline function shiftOf(t: usize): u32 {
  return load<u32>(t + SHIFT_AT);
}

/** The chunk shift of a table made under a budget of `limit` bytes: a chunk of 8 bytes a slot is about limit / 4096. */
function chunkShiftFor(limit: u32): u32 {
  return min(MAX_SHIFT, max(MIN_SHIFT, (31 - <u32>clz(limit)) - 15));
}

/** Bytes of a chunk's presence bits, before its values: one bit a slot, at least 8 (the values stay 8-byte aligned). */
@inline function bitsBytes(k: u32): u32 {
  return k > 6 ? <u32>1 << (k - 3) : 8;
}

/** Bytes of a full chunk of 2^k slots (from 256 slots a multiple of 64, so chunks in one block start cache lines). */
@inline function chunkBytes(k: u32): u32 {
  return bitsBytes(k) + (<u32>8 << k);
}

/** Field f's column: its one chunk while cap <= a chunk's slots, else its chunk directory (0 while cap is 0). */
@inline function colOf(t: usize, f: u32): usize {
  return <usize>load<u32>(t + 8 + (<usize>f << 2));
}

/** Chunk c of the directory at dir. */
@inline function chunkIn(dir: usize, c: u32): usize {
  return <usize>(load<u32>(dir + (<usize>c << 2)) & ~BLOCK_START);
}

/** Chunk c of the column col of a table covering cap slots in chunks of 2^k. */
@inline function chunkOf(col: usize, cap: u32, c: u32, k: u32): usize {
  return cap <= <u32>1 << k ? col : chunkIn(col, c);
}

/** The chunk of field f holding slot s (s < cap). */
@inline function chunkAt(t: usize, f: u32, s: u32): usize {
  const k = shiftOf(t);
  return chunkOf(colOf(t, f), capOf(t), s >> k, k);
}

/** Slot s's place in its chunk of 2^k slots. */
@inline function inChunk(s: u32, k: u32): u32 {
  return s & ((<u32>1 << k) - 1);
}

/** Where slot s's value lies in its chunk of 2^k slots. */
@inline function valueIn(chunk: usize, s: u32, k: u32): usize {
  return chunk + bitsBytes(k) + (<usize>inChunk(s, k) << 3);
}

/** The presence word holding slot s in its chunk of 2^k slots. */
@inline function wordIn(chunk: usize, s: u32, k: u32): usize {
  return chunk + (<usize>(inChunk(s, k) >> 5) << 2);
}

/** Chunks a column of cap slots has, in chunks of 2^k. */
@inline function chunksFor(cap: u32, k: u32): u32 {
  return (cap + (<u32>1 << k) - 1) >> k;
}

@inline function present(bits: usize, slot: u32): bool {
  return (load<u32>(bits + (<usize>(slot >> 5) << 2)) & (<u32>1 << (slot & 31))) != 0;
}

/** Saves the table's used words for the caller's transaction (fields, cap, their columns; the shift never changes). */
function saveHeader(t: usize): void {
  arenaSave(t, 8 + (fieldsOf(t) << 2));
}

/** A new, empty table (no fields): its handle, or 0 over budget. */
export function attrCreate(): usize {
  const t = arenaAlloc(TABLE_BYTES);
  if (t == 0) return 0;
  memory.fill(t, 0, TABLE_BYTES);
  store<u32>(t + SHIFT_AT, chunkShiftFor(arenaLimit()));
  return t;
}

/** Frees a table, its columns and its dictionary's chunks. */
export function attrFree(t: usize): void {
  attrClear(t);
  let chunk = <usize>load<u32>(t + DICT_AT);
  while (chunk != 0) {
    const before = <usize>load<u32>(chunk);
    arenaFree(chunk);
    chunk = before;
  }
  arenaFree(t);
}

/**
 * Makes the dictionary's room at least `bytes` (a chunk more when it is short: the room in all
 * grows 1.5x, so strings added one at a time make O(log bytes) chunks; exactly what is missing
 * near the budget). STATUS_OK, or STATUS_BUDGET (the caller's transaction undoes it). Cost: O(1).
 */
export function attrDictReserve(t: usize, bytes: u32): i32 {
  const have = load<u32>(t + DICT_ROOM_AT);
  if (bytes <= have) return STATUS_OK;
  const need = bytes - have;
  let room = max<u32>(need, max<u32>(64, have >> 1));
  let chunk = arenaGrow(0, 4 + <u64>room);
  if (chunk == 0 && room > need) {
    room = need;
    chunk = arenaGrow(0, 4 + <u64>room);
  }
  if (chunk == 0) return STATUS_BUDGET;
  store<u32>(chunk, load<u32>(t + DICT_AT));
  arenaSave(t + DICT_AT, 8);
  store<u32>(t + DICT_AT, <u32>chunk);
  store<u32>(t + DICT_ROOM_AT, have + room);
  return STATUS_OK;
}

/** Frees every column (the fields stay, with no values): cap 0. Cannot fail. */
export function attrClear(t: usize): void {
  saveHeader(t);
  const cap = capOf(t);
  const k = shiftOf(t);
  const chunks = chunksFor(cap, k);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = colOf(t, f);
    if (col == 0) continue;
    if (cap > <u32>1 << k) {
      for (let c: u32 = 0; c < chunks; c++) {
        const e = load<u32>(col + (<usize>c << 2));
        if ((e & BLOCK_START) != 0) arenaFree(<usize>(e & ~BLOCK_START));
      }
    }
    arenaFree(col);
    store<u32>(t + 8 + (<usize>f << 2), 0);
  }
  store<u32>(t, 0, 4);
}

/** Clears every presence bit (values absent everywhere), keeping the columns. Cannot fail. Cost: O(fields * cap / 32). */
export function attrReset(t: usize): void {
  const cap = capOf(t);
  const k = shiftOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    for (let c: u32 = 0; c < chunksFor(cap, k); c++) memory.fill(chunkOf(colOf(t, f), cap, c, k), 0, bitsBytes(k));
  }
}

/**
 * Grows every column to cover `cap` slots (new slots absent). False over budget; the caller's
 * transaction then puts the blocks and the header back. Cost: new chunks, or one copy of a
 * first chunk not yet whole.
 */
function ensureCap(t: usize, cap: u32): bool {
  const old = capOf(t);
  if (cap <= old) return true;
  const slots = <u32>1 << shiftOf(t);
  if (cap > slots) return growChunks(t, (cap + slots - 1) & ~(slots - 1));
  // One chunk, grown by copying: half again where that fits (its own transaction, undone if
  // not), so a small index's growth leaves few holes.
  const more = min(slots, old + (old >> 1));
  if (more > cap && arenaEnd(arenaBegin(), growFirst(t, more))) return true;
  return growFirst(t, cap);
}

/**
 * Grows each field's one chunk (cap <= a chunk's slots) to `slots` (no more than a chunk's;
 * more than it holds), the new slots absent, making it when there is none. False over budget.
 */
function growFirst(t: usize, slots: u32): bool {
  const old = capOf(t);
  const k = shiftOf(t);
  saveHeader(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const chunk = arenaGrow(colOf(t, f), bitsBytes(k) + (<u64>slots << 3));
    if (chunk == 0) return false;
    if (old == 0) memory.fill(chunk, 0, bitsBytes(k));
    clearSlots(chunk, old, slots, k);
    store<u32>(t + 8 + (<usize>f << 2), <u32>chunk);
  }
  store<u32>(t, slots, 4);
  return true;
}

/** Clears the presence bits and values of slots [from, to) (within one chunk of 2^k slots). */
function clearSlots(chunk: usize, from: u32, to: u32, k: u32): void {
  memory.fill(valueIn(chunk, from, k), 0, <usize>(to - from) << 3);
  for (let s = from; s < to; s++) {
    const w = wordIn(chunk, s, k);
    store<u32>(w, load<u32>(w) & ~(<u32>1 << (s & 31)));
  }
}

/**
 * Grows every column to `cap` slots (a multiple of a chunk's, past one chunk): a first chunk
 * not yet whole to a whole one, then new chunks, as few blocks as fit. False over budget.
 */
function growChunks(t: usize, cap: u32): bool {
  const old = capOf(t);
  const k = shiftOf(t);
  const slots = <u32>1 << k;
  if (old > 0 && old < slots && !growFirst(t, slots)) return false;
  saveHeader(t);
  const have = chunksFor(capOf(t), k);
  const want = cap >> k;
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    // A lone chunk becomes the directory's first.
    const col = colOf(t, f);
    const lone = old > 0 && old <= slots;
    const dir = growDirectory(lone ? 0 : col, want);
    if (dir == 0) return false;
    if (lone) store<u32>(dir, <u32>col | BLOCK_START);
    store<u32>(t + 8 + (<usize>f << 2), <u32>dir);
    if (!allocChunks(dir, have, want, chunkBytes(k))) return false;
  }
  store<u32>(t, cap, 4);
  return true;
}

/** A directory (0: none yet) with room for `chunks` entries, half again where that fits; 0 over budget. */
function growDirectory(dir: usize, chunks: u32): usize {
  const room: u32 = dir == 0 ? 0 : arenaCapacity(dir) >> 2;
  if (chunks <= room) return dir;
  const more = room + (room >> 1);
  if (more > chunks) {
    const p = arenaGrow(dir, <u64>more << 2);
    if (p != 0) return p;
  }
  return arenaGrow(dir, <u64>chunks << 2);
}

/**
 * Allocates chunks [from, to) (`bytes` each) of the directory at dir, empty: as one block where
 * that fits, else in halves until they do, down to a chunk a block. False over budget. Cost:
 * O(new chunks).
 */
function allocChunks(dir: usize, from: u32, to: u32, bytes: u32): bool {
  let c = from;
  while (c < to) {
    let n = to - c;
    let block = arenaGrow(0, <u64>n * bytes);
    while (block == 0 && n > 1) {
      n = (n + 1) >> 1;
      block = arenaGrow(0, <u64>n * bytes);
    }
    if (block == 0) return false;
    memory.fill(block, 0, <usize>n * bytes);
    for (let i: u32 = 0; i < n; i++) {
      store<u32>(dir + (<usize>(c + i) << 2), <u32>(block + <usize>i * bytes) | (i == 0 ? BLOCK_START : 0));
    }
    c += n;
  }
  return true;
}

/** Adds a field (absent everywhere); STATUS_OK, or STATUS_BUDGET (the caller's transaction undoes it). */
export function attrAddField(t: usize): i32 {
  const f = fieldsOf(t);
  if (f >= MAX_FIELDS) return STATUS_BUDGET;
  const cap = capOf(t);
  const k = shiftOf(t);
  let col: usize = 0;
  if (cap > <u32>1 << k) {
    col = growDirectory(0, chunksFor(cap, k));
    if (col == 0 || !allocChunks(col, 0, chunksFor(cap, k), chunkBytes(k))) return STATUS_BUDGET;
  } else if (cap > 0) {
    col = arenaGrow(0, bitsBytes(k) + (<u64>cap << 3));
    if (col == 0) return STATUS_BUDGET;
    memory.fill(col, 0, <usize>bitsBytes(k) + (<usize>cap << 3));
  }
  arenaSave(t, 4);
  arenaSave(t + 8 + (<usize>f << 2), 4);
  store<u32>(t + 8 + (<usize>f << 2), <u32>col);
  store<u32>(t, f + 1);
  return STATUS_OK;
}

/** Slot of a live id in index h, or -1. */
function slotOfId(h: usize, id: u32): i32 {
  const idx = changetype<Index>(h);
  const n = mapGet(idx.map, idx.mapCap, id);
  if (n < 0 || isTombstoned(idx, <u32>n)) return -1;
  return n;
}

/**
 * Sets the attributes of live id `id` of index h: vals holds (present, value) f64 pairs, one
 * per field of the table (present 0 clears the field). STATUS_OK, STATUS_BUDGET when the
 * columns must grow and cannot (the caller's transaction undoes it), or 1 when the id is not
 * live. Cost: O(fields), or a copy of every column when it grows.
 */
export function attrSet(h: usize, t: usize, id: u32, vals: usize): i32 {
  const slot = slotOfId(h, id);
  if (slot < 0) return 1;
  const s = <u32>slot;
  if (s >= capOf(t)) {
    const want = max(changetype<Index>(h).capacity, s + 1);
    if (!ensureCap(t, want)) return STATUS_BUDGET;
  }
  const k = shiftOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const chunk = chunkAt(t, f, s);
    const w = wordIn(chunk, s, k);
    const bit: u32 = 1 << (s & 31);
    if (load<f64>(vals + (<usize>f << 4)) != 0) {
      store<f64>(valueIn(chunk, s, k), load<f64>(vals + (<usize>f << 4), 8));
      store<u32>(w, load<u32>(w) | bit);
    } else {
      store<u32>(w, load<u32>(w) & ~bit);
    }
  }
  return STATUS_OK;
}

/** Writes id's (present, value) pairs, one per field, to out; returns whether the id is live. Cost: O(fields). */
export function attrGet(h: usize, t: usize, id: u32, out: usize): bool {
  const slot = slotOfId(h, id);
  if (slot < 0) return false;
  const s = <u32>slot;
  const cap = capOf(t);
  const k = shiftOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const chunk: usize = s < cap ? chunkAt(t, f, s) : 0;
    const has = chunk != 0 && present(chunk, inChunk(s, k));
    store<f64>(out + (<usize>f << 4), has ? 1 : 0);
    store<f64>(out + (<usize>f << 4), has ? load<f64>(valueIn(chunk, s, k)) : 0, 8);
  }
  return true;
}

/**
 * Grows the columns (when the table has values, or when `values`: the call is about to set
 * some) to cover index h's capacity, as the host does whenever the index grows, before the
 * index changes: so a compaction, which renumbers the live slots below the slots used, never
 * needs the columns to grow, and an add's attrSet never allocates after its insert wrote links
 * no transaction can undo. STATUS_OK or STATUS_BUDGET (the caller's transaction undoes it).
 * Cost: a copy of each column when they grow.
 */
export function attrCover(h: usize, t: usize, values: bool): i32 {
  if (capOf(t) == 0 && !values) return STATUS_OK;
  return ensureCap(t, changetype<Index>(h).capacity) ? STATUS_OK : STATUS_BUDGET;
}

/** Index of the first of n ascending values at p that is >= x (binary search). */
function lowerBound(p: usize, n: u32, x: f64): u32 {
  let lo: u32 = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (load<f64>(p + (<usize>mid << 3)) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The deepest stack the program (words f64 at prog) reaches. */
function stackDepth(prog: usize, words: u32): u32 {
  let sp: u32 = 0;
  let deepest: u32 = 0;
  let i: u32 = 0;
  while (i < words) {
    const op = <i32>load<f64>(prog + (<usize>i << 3));
    if (op == OP_AND || op == OP_OR) {
      sp--;
      i++;
      continue;
    }
    if (op == OP_NOT) {
      i++;
      continue;
    }
    sp++;
    if (sp > deepest) deepest = sp;
    i +=
      op == OP_TRUE ? 1
      : op == OP_EXISTS ? 2
      : op == OP_IN ? 3 + <u32>load<f64>(prog + (<usize>(i + 2) << 3))
      : op >= OP_RANGE ? 4
      : 3;
  }
  return deepest;
}

/**
 * Whether x passes comparison op (OP_EQ .. OP_LTE) with v, lies between v and hi (OP_RANGE ..),
 * or is one of the n ascending values at vs (OP_IN).
 */
@inline function passes(op: i32, x: f64, v: f64, hi: f64, vs: usize, n: u32): bool {
  if (op >= OP_RANGE) {
    const k = op - OP_RANGE;
    return ((k & 1) != 0 ? x >= v : x > v) && ((k & 2) != 0 ? x <= hi : x < hi);
  }
  if (op == OP_IN) {
    if (n <= SHORT_IN) {
      let hit: u32 = 0;
      for (let k: u32 = 0; k < n; k++) hit |= select<u32>(1, 0, load<f64>(vs + (<usize>k << 3)) == x);
      return hit != 0;
    }
    const at = lowerBound(vs, n, x);
    return at < n && load<f64>(vs + (<usize>at << 3)) == x;
  }
  return op == OP_EQ ? x == v : op == OP_GT ? x > v : op == OP_GTE ? x >= v : op == OP_LT ? x < v : x <= v;
}

/** passes for two values at once (OP_IN with at most SHORT_IN values): all ones in a lane that passes. */
@inline function passes2(op: i32, x: v128, v: v128, hi: v128, vs: usize, n: u32): v128 {
  if (op == OP_IN) {
    let hit = v128.xor(x, x);
    for (let k: u32 = 0; k < n; k++) hit = v128.or(hit, f64x2.eq(x, f64x2.splat(load<f64>(vs + (<usize>k << 3)))));
    return hit;
  }
  if (op >= OP_RANGE) {
    const k = op - OP_RANGE;
    return v128.and((k & 1) != 0 ? f64x2.ge(x, v) : f64x2.gt(x, v), (k & 2) != 0 ? f64x2.le(x, hi) : f64x2.lt(x, hi));
  }
  return op == OP_EQ ? f64x2.eq(x, v) : op == OP_GT ? f64x2.gt(x, v) : op == OP_GTE ? f64x2.ge(x, v) : op == OP_LT ? f64x2.lt(x, v) : f64x2.le(x, v);
}

/**
 * conditionBits' loop for one op (a constant where it is inlined, so the comparison's switch
 * folds away). On the SIMD builds every comparison (OP_IN with at most SHORT_IN values) takes
 * each word with any slot present whole, two values at a time, and masks it by presence.
 * Otherwise a word whose 32 slots all have the field compares them in a straight run, others
 * only their present slots.
 */
@inline function scanColumn(op: i32, col: usize, bits: usize, have: u32, v: f64, hi: f64, vs: usize, n: u32, dst: usize, W: u32): void {
  for (let w: u32 = 0; w < W; w++) {
    const present: u32 = w < have ? load<u32>(bits + (<usize>w << 2)) : 0;
    let out: u32 = 0;
    const row = col + (<usize>w << 8);
    if (ASC_FEATURE_SIMD && (op != OP_IN || n <= SHORT_IN)) {
      // Every value of a word with any present, two a compare (as passes: false at NaN); the
      // absent slots' values (whatever the chunk holds) are masked off.
      if (present != 0) {
        const lo2 = f64x2.splat(v);
        const hi2 = f64x2.splat(hi);
        for (let j: u32 = 0; j < 32; j += 2) out |= <u32>i64x2.bitmask(passes2(op, v128.load(row + (<usize>j << 3)), lo2, hi2, vs, n)) << j;
        out &= present;
      }
    } else if (present == 0xffffffff) {
      for (let j: u32 = 0; j < 32; j++) out |= <u32>passes(op, load<f64>(row + (<usize>j << 3)), v, hi, vs, n) << j;
    } else {
      let m = present;
      while (m != 0) {
        const j = <u32>ctz(m);
        m &= m - 1;
        if (passes(op, load<f64>(row + (<usize>j << 3)), v, hi, vs, n)) out |= <u32>1 << j;
      }
    }
    store<u32>(dst + (<usize>w << 2), out);
  }
}

/**
 * Writes to dst (W words) the bitset of the slots whose field f passes one condition (op with
 * operand v, or OP_IN with the n ascending values at vs; OP_EXISTS: present): present and
 * comparing true. With `sample` (0: every slot), bit j is instead that of slot sample[j], j <
 * W * 32: the sampled values and presence bits are gathered into `gathered` (W * 32 f64, then
 * W words) first, as a column of their own. Cost: O(W + slots with the field).
 */
function conditionBits(t: usize, op: i32, f: u32, v: f64, hi: f64, vs: usize, n: u32, dst: usize, W: u32,
                       sample: usize, gathered: usize): void {
  const cap: u32 = t == 0 ? 0 : capOf(t);
  if (t == 0 || f >= fieldsOf(t) || cap == 0) {
    memory.fill(dst, 0, <usize>W << 2);
    return;
  }
  const k = shiftOf(t);
  if (sample != 0) {
    const into = gathered + (<usize>W << 8);
    for (let w: u32 = 0; w < W; w++) {
      let word: u32 = 0;
      for (let j: u32 = 0; j < 32; j++) {
        const slot = load<u32>(sample + (<usize>((w << 5) + j) << 2));
        const chunk: usize = slot < cap ? chunkAt(t, f, slot) : 0;
        const has = chunk != 0 && present(chunk, inChunk(slot, k));
        store<f64>(gathered + (<usize>((w << 5) + j) << 3), has ? load<f64>(valueIn(chunk, slot, k)) : 0);
        word |= <u32>has << j;
      }
      store<u32>(into + (<usize>w << 2), word);
    }
    scanOp(op, gathered, into, W, v, hi, vs, n, dst, W);
    return;
  }
  // Chunk by chunk, each its presence words' share of dst; none past the last.
  const col = colOf(t, f);
  const have = (cap + 31) >> 5;
  const per = <u32>1 << (k - 5);
  let w0: u32 = 0;
  for (let c: u32 = 0; w0 < W && w0 < have; c++) {
    const chunk = chunkOf(col, cap, c, k);
    scanOp(op, chunk + bitsBytes(k), chunk, min(per, have - w0), v, hi, vs, n, dst + (<usize>w0 << 2), min(per, W - w0));
    w0 += per;
  }
  if (w0 < W) memory.fill(dst + (<usize>w0 << 2), 0, <usize>(W - w0) << 2);
}

/**
 * Writes to dst (W words) the bitset of one condition over a column's values at col and its
 * presence words at bits (`have` of them; past them, absent).
 */
function scanOp(op: i32, col: usize, bits: usize, have: u32, v: f64, hi: f64, vs: usize, n: u32, dst: usize, W: u32): void {
  switch (op) {
    case OP_EXISTS: {
      const copy = min(have, W);
      memory.copy(dst, bits, <usize>copy << 2);
      memory.fill(dst + (<usize>copy << 2), 0, <usize>(W - copy) << 2);
      break;
    }
    case OP_EQ: scanColumn(OP_EQ, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_GT: scanColumn(OP_GT, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_GTE: scanColumn(OP_GTE, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_LT: scanColumn(OP_LT, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_LTE: scanColumn(OP_LTE, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_RANGE: scanColumn(OP_RANGE, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_RANGE + 1: scanColumn(OP_RANGE + 1, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_RANGE + 2: scanColumn(OP_RANGE + 2, col, bits, have, v, hi, vs, n, dst, W); break;
    case OP_RANGE + 3: scanColumn(OP_RANGE + 3, col, bits, have, v, hi, vs, n, dst, W); break;
    default: scanColumn(OP_IN, col, bits, have, v, hi, vs, n, dst, W);
  }
}

/**
 * Runs the program (words f64 at prog, table t) on a stack of W-word bitsets at scratch (one per
 * level, stackDepth of them), condition by condition (conditionBits, over every slot, or the
 * slots listed at `sample` with `gathered` as its scratch column), $and / $or / $not word by
 * word; the result is the first bitset. Cost: O(W * program + the values the conditions read).
 */
function evaluate(t: usize, prog: usize, words: u32, scratch: usize, W: u32, sample: usize, gathered: usize): void {
  const rowBytes = <usize>W << 2;
  let sp: u32 = 0;
  let i: u32 = 0;
  while (i < words) {
    const op = <i32>load<f64>(prog + (<usize>i << 3));
    if (op == OP_AND || op == OP_OR) {
      sp--;
      const b = scratch + <usize>sp * rowBytes;
      const a = b - rowBytes;
      for (let w: usize = 0; w < rowBytes; w += 4) {
        const x = load<u32>(a + w);
        const y = load<u32>(b + w);
        store<u32>(a + w, op == OP_AND ? x & y : x | y);
      }
      i++;
      continue;
    }
    const top = scratch + <usize>sp * rowBytes;
    if (op == OP_NOT) {
      const a = top - rowBytes;
      for (let w: usize = 0; w < rowBytes; w += 4) store<u32>(a + w, ~load<u32>(a + w));
      i++;
      continue;
    }
    if (op == OP_TRUE) {
      memory.fill(top, 0xff, rowBytes);
      i++;
    } else {
      const f = <u32>load<f64>(prog + (<usize>(i + 1) << 3));
      if (op == OP_IN) {
        const n = <u32>load<f64>(prog + (<usize>(i + 2) << 3));
        conditionBits(t, op, f, 0, 0, prog + (<usize>(i + 3) << 3), n, top, W, sample, gathered);
        i += 3 + n;
      } else if (op == OP_EXISTS) {
        conditionBits(t, op, f, 0, 0, 0, 0, top, W, sample, gathered);
        i += 2;
      } else if (op >= OP_RANGE) {
        const lo = load<f64>(prog + (<usize>(i + 2) << 3));
        conditionBits(t, op, f, lo, load<f64>(prog + (<usize>(i + 3) << 3)), 0, 0, top, W, sample, gathered);
        i += 4;
      } else {
        conditionBits(t, op, f, load<f64>(prog + (<usize>(i + 2) << 3)), 0, 0, 0, top, W, sample, gathered);
        i += 3;
      }
    }
    sp++;
  }
}

/**
 * Evaluates the program (words f64 at prog, table t, 0 for none: every field absent) over the
 * live slots of index h, condition by condition: each condition makes a bitset over the slots
 * in one pass over its column's present values, and $and / $or / $not combine bitsets word by
 * word (a scratch block of one bitset per stack level, in the budget, freed before returning).
 * labels 0: marks the passing nodes as the allow set of the next searches, as indexAllowBegin
 * does, writing them to list (room for every slot); pair with indexAllowEnd. labels 1: writes
 * the passing ids to list instead (slot order), marking nothing. Returns how many pass, or
 * STATUS_BUDGET (the allow bitset or the scratch could not be had; nothing marked).
 * Cost: O(slots / 32 * program + present values the conditions read).
 */
export function attrWhere(h: usize, t: usize, prog: usize, words: u32, list: usize, labels: i32): i32 {
  const idx = changetype<Index>(h);
  if (labels == 0 && !ensureAllow(idx)) return STATUS_BUDGET;
  const W = (idx.count + 31) >> 5;
  if (W == 0) return 0;
  const rowBytes = <usize>W << 2;
  const scratch = arenaGrow(0, <u64>stackDepth(prog, words) * <u64>rowBytes);
  if (scratch == 0) return STATUS_BUDGET;
  evaluate(t, prog, words, scratch, W, 0, 0);
  // Live slots only, none past count.
  const tail = idx.count & 31;
  let count: u32 = 0;
  const allow = idx.allow;
  for (let w: u32 = 0; w < W; w++) {
    let bits = load<u32>(scratch + (<usize>w << 2)) & ~load<u32>(idx.tombs + (<usize>w << 2));
    if (w == W - 1 && tail != 0) bits &= (<u32>1 << tail) - 1;
    if (labels == 0) store<u32>(allow + (<usize>w << 2), bits);
    while (bits != 0) {
      const n = (w << 5) + <u32>ctz(bits);
      bits &= bits - 1;
      store<u32>(list + (<usize>count << 2), labels != 0 ? labelAt(idx, n) : n);
      count++;
    }
  }
  arenaFree(scratch);
  if (labels == 0) {
    idx.allowCount = count;
    idx.allowNodes = list;
    idx.allowBits = allow;
  }
  return <i32>count;
}

/** The deepest program stack rowPasses holds: one bit a level, in a u64. */
const ROW_STACK: u32 = 64;
/** Strata of attrEstimate's sample: one slot drawn from each. */
const SAMPLE: u32 = 1024;

/**
 * Whether slot s passes the program (words f64 at prog, table t, 0 for none), evaluated for that
 * row alone, with attrWhere's semantics (an absent field fails every comparison): the lazy
 * walk's check of a node (search.ts MODE_WHERE). The stack is a u64 of bits, so the program must
 * be at most ROW_STACK deep (rowFits). Does not look at tombstones. Cost: O(program).
 */
export function rowPasses(t: usize, prog: usize, words: u32, s: u32): bool {
  const fields: u32 = t == 0 ? 0 : fieldsOf(t);
  const cap: u32 = t == 0 ? 0 : capOf(t);
  const k: u32 = t == 0 ? 0 : shiftOf(t);
  let stack: u64 = 0;
  let i: u32 = 0;
  while (i < words) {
    const at = prog + (<usize>i << 3);
    const op = <i32>load<f64>(at);
    if (op == OP_AND || op == OP_OR) {
      const b = stack & 1;
      stack >>= 1;
      stack = op == OP_AND ? stack & (~(<u64>1) | b) : stack | b;
      i++;
      continue;
    }
    if (op == OP_NOT) {
      stack ^= 1;
      i++;
      continue;
    }
    let bit: bool = true;
    if (op == OP_TRUE) {
      i++;
    } else {
      const f = <u32>load<f64>(at, 8);
      const chunk: usize = f < fields && s < cap ? chunkAt(t, f, s) : 0;
      const has = chunk != 0 && present(chunk, inChunk(s, k));
      const x: f64 = has ? load<f64>(valueIn(chunk, s, k)) : 0;
      if (op == OP_EXISTS) {
        bit = has;
        i += 2;
      } else if (op == OP_IN) {
        const n = <u32>load<f64>(at, 16);
        bit = has && passes(OP_IN, x, 0, 0, at + 24, n);
        i += 3 + n;
      } else if (op >= OP_RANGE) {
        bit = has && passes(op, x, load<f64>(at, 16), load<f64>(at, 24), 0, 0);
        i += 4;
      } else {
        bit = has && passes(op, x, load<f64>(at, 16), 0, 0, 0);
        i += 3;
      }
    }
    stack = (stack << 1) | <u64>bit;
  }
  return (stack & 1) != 0;
}

/** Whether rowPasses can evaluate the program (its stack is at most ROW_STACK deep). */
function rowFits(prog: usize, words: u32): bool {
  return stackDepth(prog, words) <= ROW_STACK;
}

/**
 * The share of index h's live ids that pass the program, estimated from a fixed sample: the
 * slots are cut into min(slots, SAMPLE) equal strata and one slot of each, at a fixed
 * pseudo-random place in it (stratumSlot), is evaluated, removed slots left out. Stratified, so a
 * filter on a range of slots is estimated almost exactly, and drawn at random within each
 * stratum, so a filter periodic in the slots is not aliased. With slots <= SAMPLE every slot is
 * evaluated: the exact share. Evaluated as attrWhere does, condition by condition, over the
 * sampled values gathered into a column of their own (a scratch block in the budget, freed
 * before returning). Deterministic. Returns -1 when nothing live was sampled, the program is too
 * deep for rowPasses (the lazy walk's evaluator) or the scratch could not be had. Cost:
 * O(min(slots, SAMPLE) * program).
 */
export function attrEstimate(h: usize, t: usize, prog: usize, words: u32): f64 {
  if (!rowFits(prog, words)) return -1;
  const idx = changetype<Index>(h);
  const slots = idx.count;
  const strata = slots < SAMPLE ? slots : SAMPLE;
  if (strata == 0) return -1;
  const W = (strata + 31) >> 5;
  const rowBytes = <usize>W << 2;
  const listBytes = <usize>W << 7;
  const gatheredBytes = (<usize>W << 8) + rowBytes;
  const scratch = arenaGrow(0, <u64>listBytes + <u64>gatheredBytes + <u64>(stackDepth(prog, words) + 1) * <u64>rowBytes);
  if (scratch == 0) return -1;
  const list = scratch;
  const gathered = list + listBytes;
  const live = gathered + gatheredBytes;
  const stack = live + rowBytes;
  // The sampled slots (past strata: none, so absent and not live), and which are live.
  memory.fill(live, 0, rowBytes);
  const step = <f64>slots / <f64>strata;
  for (let j: u32 = 0; j < W << 5; j++) {
    const slot: u32 = j < strata ? min(stratumSlot(j, step), slots - 1) : 0xffffffff;
    store<u32>(list + (<usize>j << 2), slot);
    if (j < strata && !isTombstoned(idx, slot)) {
      const at = live + (<usize>(j >> 5) << 2);
      store<u32>(at, load<u32>(at) | (<u32>1 << (j & 31)));
    }
  }
  evaluate(t, prog, words, stack, W, list, gathered);
  let seen: u32 = 0;
  let pass: u32 = 0;
  for (let w: u32 = 0; w < W; w++) {
    const l = load<u32>(live + (<usize>w << 2));
    seen += <u32>popcnt(l);
    pass += <u32>popcnt(l & load<u32>(stack + (<usize>w << 2)));
  }
  arenaFree(scratch);
  return seen == 0 ? -1 : <f64>pass / <f64>seen;
}

/**
 * Makes the program (words f64 at prog, table t; kept where it is until the searches are done)
 * the filter of index h's next MODE_WHERE searches (the lazy walk: search.ts). False, with
 * nothing set, when the program is too deep for rowPasses. Cost: O(program).
 */
export function attrWhereUse(h: usize, t: usize, prog: usize, words: u32): bool {
  if (!rowFits(prog, words)) return false;
  const idx = changetype<Index>(h);
  idx.whereTable = t;
  idx.whereProg = prog;
  idx.whereWords = words;
  return true;
}

/** Whether live node n of index idx passes the program attrWhereUse set (the lazy walk's check). */
export function whereAccepts(idx: Index, n: u32): bool {
  return rowPasses(idx.whereTable, idx.whereProg, idx.whereWords, n);
}

/**
 * Touches the values and presence words the where program of index idx (attrWhereUse) reads
 * for each of the n nodes of a walk's fresh list ((u32 node, u32 address) pairs at fresh), so
 * the cache misses of their checks overlap instead of coming one after another (wasm has no
 * prefetch; search.ts touches the nodes' vectors the same way). Returns the words XORed (for
 * the caller to keep, so the loads stay). Cost: O(program + n * conditions).
 */
export function whereTouch(idx: Index, fresh: usize, n: u32): u32 {
  return touchValues(idx.whereTable, idx.whereProg, idx.whereWords, fresh, n);
}

/**
 * attrEstimate's slot of stratum i, `step` (slots / strata, >= 1) slots wide: a fixed
 * pseudo-random one of [floor(i * step), floor((i + 1) * step)) (floor(i * step) if that is empty).
 */
@inline function stratumSlot(i: u32, step: f64): u32 {
  const lo = <u32>(<f64>i * step);
  const hi = <u32>(<f64>(i + 1) * step);
  let r: u32 = (i + 1) * 0x9e3779b1;
  r ^= r >> 15;
  r *= 0x85ebca6b;
  r ^= r >> 13;
  return lo + <u32>((<u64>r * <u64>(hi - lo)) >> 32);
}

/**
 * Touches, for each condition of the program (table t), its column's value and presence word at
 * each of the n nodes of a fresh list ((u32 node, u32 address) pairs at fresh). Returns the
 * words XORed. Cost: O(program + n * conditions).
 */
function touchValues(t: usize, prog: usize, words: u32, fresh: usize, n: u32): u32 {
  if (t == 0) return 0;
  const fields = fieldsOf(t);
  const cap = capOf(t);
  const k = shiftOf(t);
  let touched: u32 = 0;
  let i: u32 = 0;
  while (i < words) {
    const at = prog + (<usize>i << 3);
    const op = <i32>load<f64>(at);
    if (op == OP_AND || op == OP_OR || op == OP_NOT || op == OP_TRUE) {
      i++;
      continue;
    }
    const f = <u32>load<f64>(at, 8);
    i += op == OP_EXISTS ? 2 : op == OP_IN ? 3 + <u32>load<f64>(at, 16) : op >= OP_RANGE ? 4 : 3;
    if (f >= fields || cap == 0) continue;
    const col = colOf(t, f);
    for (let j: u32 = 0; j < n; j++) {
      const node = load<u32>(fresh + (<usize>j << 3));
      if (node >= cap) continue;
      const chunk = chunkOf(col, cap, node >> k, k);
      touched ^= load<u32>(valueIn(chunk, node, k)) ^ load<u32>(wordIn(chunk, node, k));
    }
  }
  return touched;
}

/**
 * The live ids of index h that pass the program, in slot order, written to list (room for
 * every slot), by rowPasses (what the lazy walk checks) instead of attrWhere's columns.
 * Returns how many, or -1 when the program is too deep for rowPasses. Cost: O(slots * program).
 */
export function attrRowIds(h: usize, t: usize, prog: usize, words: u32, list: usize): i32 {
  if (!rowFits(prog, words)) return -1;
  const idx = changetype<Index>(h);
  let count: u32 = 0;
  for (let s: u32 = 0; s < idx.count; s++) {
    if (isTombstoned(idx, s) || !rowPasses(t, prog, words, s)) continue;
    store<u32>(list + (<usize>count << 2), labelAt(idx, s));
    count++;
  }
  return <i32>count;
}

/** Clears the attributes of id's slot (before the id is removed, so a later add reusing the slot has none). Cost: O(fields). */
export function attrForget(h: usize, t: usize, id: u32): void {
  const slot = slotOfId(h, id);
  if (slot < 0) return;
  const s = <u32>slot;
  if (s >= capOf(t)) return;
  const k = shiftOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const w = wordIn(chunkAt(t, f, s), s, k);
    store<u32>(w, load<u32>(w) & ~(<u32>1 << (s & 31)));
  }
}
