// Metadata attributes of an index's ids, and `where` programs evaluated over them into the
// allow set of a search (filter.ts), so a metadata filter takes the allow-list path: the
// planner gets the exact count of live ids that pass.
//
//   table     one block per index (the host's handle), made on first use:
//               +0 u32 fields, +4 u32 cap (slots every column covers), +8 u32 column[MAX_FIELDS]
//   column    one block per field: f64 values[cap] (numbers; booleans 0 / 1; strings: the
//             host's dictionary id), then the presence bitset, 1 bit a slot, (cap + 31) / 32 words
//   The columns are indexed by slot (node number): the host clears a slot's bits before it
//   removes its id (so a later add reusing the slot starts with none), and rewrites them id by
//   id around a compaction (which renumbers the slots). A field past `fields`, or a slot past
//   `cap`, is absent.
//
//   program   f64 words, postfix, evaluated per live slot on a stack of booleans:
//               OP_EQ f v, OP_GT f v, OP_GTE f v, OP_LT f v, OP_LTE f v   push (present && x op v)
//               OP_EXISTS f                                               push present
//               OP_IN f n v[n] (ascending)                                push (present && x in v)
//               OP_AND, OP_OR   pop two, push the result; OP_NOT  negate the top; OP_TRUE push true
//             An absent field fails every comparison (Mongo's semantics: $ne and $nin are NOT
//             of $eq and $in, so they pass it). The host (src/hnsw/where.ts) folds $and / $or
//             two at a time, so the stack is as deep as the nesting, at most MAX_DEPTH.

import { Index, isTombstoned, labelAt } from "./graph";
import { ensureAllow } from "./filter";
import { mapGet } from "../util/idmap";
import { arenaAlloc, arenaFree, arenaGrow, arenaSave } from "../runtime/arena";
import { STATUS_OK, STATUS_BUDGET } from "../runtime/status";

/** Fields a table holds at most. */
export const MAX_FIELDS: u32 = 64;
/** The deepest stack a program may need. */
const MAX_DEPTH: u32 = 64;
const TABLE_BYTES: u32 = 8 + (MAX_FIELDS << 2);

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

const stack = memory.data(MAX_DEPTH);

@inline function fieldsOf(t: usize): u32 {
  return load<u32>(t);
}

@inline function capOf(t: usize): u32 {
  return load<u32>(t, 4);
}

@inline function columnOf(t: usize, f: u32): usize {
  return <usize>load<u32>(t + 8 + (<usize>f << 2));
}

@inline function bitsAt(col: usize, cap: u32): usize {
  return col + (<usize>cap << 3);
}

@inline function present(col: usize, cap: u32, slot: u32): bool {
  return (load<u32>(bitsAt(col, cap) + (<usize>(slot >> 5) << 2)) & (<u32>1 << (slot & 31))) != 0;
}

@inline function columnBytes(cap: u32): u64 {
  return (<u64>cap << 3) + (<u64>((cap + 31) >> 5) << 2);
}

/** Saves the table's used words for the caller's transaction (fields, cap, their columns). */
function saveHeader(t: usize): void {
  arenaSave(t, 8 + (fieldsOf(t) << 2));
}

/** A new, empty table (no fields): its handle, or 0 over budget. */
export function attrCreate(): usize {
  const t = arenaAlloc(TABLE_BYTES);
  if (t != 0) memory.fill(t, 0, TABLE_BYTES);
  return t;
}

/** Frees a table and its columns. */
export function attrFree(t: usize): void {
  attrClear(t);
  arenaFree(t);
}

/** Frees every column (the fields stay, with no values): cap 0. Cannot fail. */
export function attrClear(t: usize): void {
  saveHeader(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = columnOf(t, f);
    if (col != 0) arenaFree(col);
    store<u32>(t + 8 + (<usize>f << 2), 0);
  }
  store<u32>(t, 0, 4);
}

/** Clears every presence bit (values absent everywhere), keeping the columns. Cannot fail. Cost: O(fields * cap / 32). */
export function attrReset(t: usize): void {
  const cap = capOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = columnOf(t, f);
    if (col != 0) memory.fill(bitsAt(col, cap), 0, <usize>((cap + 31) >> 5) << 2);
  }
}

/**
 * Grows every column to cover `cap` slots (new slots absent). False over budget; the caller's
 * transaction then puts the blocks and the header back. Cost: one copy of each column.
 */
function ensureCap(t: usize, cap: u32): bool {
  const old = capOf(t);
  if (cap <= old) return true;
  saveHeader(t);
  const oldWords = (old + 31) >> 5;
  const words = (cap + 31) >> 5;
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = arenaGrow(columnOf(t, f), columnBytes(cap));
    if (col == 0) return false;
    // The bitset moves up past the longer values; then the new values and bits are cleared.
    memory.copy(bitsAt(col, cap), bitsAt(col, old), <usize>oldWords << 2);
    memory.fill(col + (<usize>old << 3), 0, <usize>(cap - old) << 3);
    memory.fill(bitsAt(col, cap) + (<usize>oldWords << 2), 0, <usize>(words - oldWords) << 2);
    store<u32>(t + 8 + (<usize>f << 2), <u32>col);
  }
  store<u32>(t, cap, 4);
  return true;
}

/** Adds a field (absent everywhere); STATUS_OK, or STATUS_BUDGET (the caller's transaction undoes it). */
export function attrAddField(t: usize): i32 {
  const f = fieldsOf(t);
  if (f >= MAX_FIELDS) return STATUS_BUDGET;
  const cap = capOf(t);
  let col: usize = 0;
  if (cap > 0) {
    col = arenaGrow(0, columnBytes(cap));
    if (col == 0) return STATUS_BUDGET;
    memory.fill(col, 0, <usize>columnBytes(cap));
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
  const cap = capOf(t);
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = columnOf(t, f);
    const w = bitsAt(col, cap) + (<usize>(s >> 5) << 2);
    const bit: u32 = 1 << (s & 31);
    if (load<f64>(vals + (<usize>f << 4)) != 0) {
      store<f64>(col + (<usize>s << 3), load<f64>(vals + (<usize>f << 4), 8));
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
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const col = columnOf(t, f);
    const has = s < cap && present(col, cap, s);
    store<f64>(out + (<usize>f << 4), has ? 1 : 0);
    store<f64>(out + (<usize>f << 4), has ? load<f64>(col + (<usize>s << 3)) : 0, 8);
  }
  return true;
}

/**
 * Grows the columns (when the table has values) to cover index h's capacity, as the host does
 * whenever the index grows: so a compaction, which renumbers the live slots below the slots
 * used, never needs the columns to grow. STATUS_OK or STATUS_BUDGET (the caller's transaction
 * undoes it). Cost: a copy of each column when they grow.
 */
export function attrCover(h: usize, t: usize): i32 {
  if (capOf(t) == 0) return STATUS_OK;
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

/** Whether the program (words f64 at prog) passes slot s. */
function evaluate(t: usize, prog: usize, words: u32, s: u32): bool {
  const fields: u32 = t == 0 ? 0 : fieldsOf(t);
  const cap: u32 = t == 0 ? 0 : capOf(t);
  let sp: u32 = 0;
  let i: u32 = 0;
  while (i < words) {
    const op = <i32>load<f64>(prog + (<usize>i << 3));
    if (op == OP_AND || op == OP_OR) {
      sp--;
      const b = load<u8>(stack + sp);
      const a = load<u8>(stack + sp - 1);
      store<u8>(stack + sp - 1, op == OP_AND ? a & b : a | b);
      i++;
      continue;
    }
    if (op == OP_NOT) {
      store<u8>(stack + sp - 1, load<u8>(stack + sp - 1) ^ 1);
      i++;
      continue;
    }
    if (op > OP_NOT) {
      store<u8>(stack + sp, 1);
      sp++;
      i++;
      continue;
    }
    const f = <u32>load<f64>(prog + (<usize>(i + 1) << 3));
    let col: usize = 0;
    let has: bool = false;
    if (f < fields && s < cap) {
      col = columnOf(t, f);
      has = present(col, cap, s);
    }
    const x = has ? load<f64>(col + (<usize>s << 3)) : 0;
    let r: bool = false;
    if (op == OP_EXISTS) {
      r = has;
      i += 2;
    } else if (op == OP_IN) {
      const n = <u32>load<f64>(prog + (<usize>(i + 2) << 3));
      const vs = prog + (<usize>(i + 3) << 3);
      if (has) {
        const at = lowerBound(vs, n, x);
        r = at < n && load<f64>(vs + (<usize>at << 3)) == x;
      }
      i += 3 + n;
    } else {
      const v = load<f64>(prog + (<usize>(i + 2) << 3));
      if (has) {
        r = op == OP_EQ ? x == v : op == OP_GT ? x > v : op == OP_GTE ? x >= v : op == OP_LT ? x < v : x <= v;
      }
      i += 3;
    }
    store<u8>(stack + sp, r ? 1 : 0);
    sp++;
  }
  return sp > 0 && load<u8>(stack + sp - 1) != 0;
}

/**
 * Evaluates the program (words f64 at prog, table t, 0 for none: every field absent) over the
 * live slots of index h. labels 0: marks the passing nodes as the allow set of the next
 * searches, as indexAllowBegin does, writing them to list (room for every slot); pair with
 * indexAllowEnd. labels 1: writes the passing ids to list instead (slot order), marking
 * nothing. Returns how many pass, or STATUS_BUDGET (the allow bitset could not grow; nothing
 * marked). Cost: O(slots * program).
 */
export function attrWhere(h: usize, t: usize, prog: usize, words: u32, list: usize, labels: i32): i32 {
  const idx = changetype<Index>(h);
  if (labels == 0 && !ensureAllow(idx)) return STATUS_BUDGET;
  const allow = idx.allow;
  let count: u32 = 0;
  for (let n: u32 = 0; n < idx.count; n++) {
    if (isTombstoned(idx, n) || !evaluate(t, prog, words, n)) continue;
    if (labels != 0) {
      store<u32>(list + (<usize>count << 2), labelAt(idx, n));
    } else {
      const w = allow + (<usize>(n >> 5) << 2);
      store<u32>(w, load<u32>(w) | (<u32>1 << (n & 31)));
      store<u32>(list + (<usize>count << 2), n);
    }
    count++;
  }
  if (labels == 0) {
    idx.allowCount = count;
    idx.allowNodes = list;
    idx.allowBits = allow;
  }
  return <i32>count;
}

/** Clears the attributes of id's slot (before the id is removed, so a later add reusing the slot has none). Cost: O(fields). */
export function attrForget(h: usize, t: usize, id: u32): void {
  const slot = slotOfId(h, id);
  if (slot < 0) return;
  const s = <u32>slot;
  const cap = capOf(t);
  if (s >= cap) return;
  for (let f: u32 = 0; f < fieldsOf(t); f++) {
    const w = bitsAt(columnOf(t, f), cap) + (<usize>(s >> 5) << 2);
    store<u32>(w, load<u32>(w) & ~(<u32>1 << (s & 31)));
  }
}
