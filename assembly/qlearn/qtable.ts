// Q-table storage: one header per table and flat blocks reached from it, all in the arena.
//
//   rows      capacity rows of stride*8 bytes, row r at rows + r*stride*8, 16-byte aligned;
//             stride = actions padded to a multiple of 4. A row is its Q values (f32[stride])
//             followed by its visit counts (u32[stride]), so an update touches one place
//   keys      u32[capacity]            state key of row r; rows are dense 0..count-1, in the
//                                      order their states were first updated
//   map       open-addressing state key -> row (idmap.ts), capacity mapCapacityFor(count)
//   template  a fresh row (initial values, zero visits), copied into each new one
//
//   a row (actions = 6, stride = 8):
//     [ q0 q1 q2 q3 | q4 q5 -inf -inf ][ v0 v1 v2 v3 | v4 v5 0 0 ]
//       \_ v128 __/   \__ v128 ____/
//
// The padding lanes of the values hold -Infinity, so an f32x4 max over the whole row needs no
// scalar tail and can never pick a lane past `actions`. A state without a row reads as `initial` in every
// action; only `update`/`batchUpdate` (for the state being updated) and `merge` create rows.
//
// Growth is reserve-before-mutate: ensureRows / ensureMap either grow a block or leave it as it
// was, `capacity` and `mapCap` move only when a grow succeeded. An operation that adds many rows
// runs in a transaction (runtime/arena.ts): if it runs out of budget it takes the keys it added out of
// the map (forgetRowsFrom) and undoes, which gives back every byte and restores the header.

import { arenaAlloc, arenaBegin, arenaBlockBytes, arenaEnd, arenaFree, arenaGrow, arenaSave } from "../runtime/arena";
import { mapCapacityFor, mapRehashed, mapGet, mapSet, mapDelete } from "../util/idmap";
import { prngSeed } from "./prng";

const MIN_CAPACITY: u32 = 16;

@unmanaged export class QTable {
  actions: i32;
  stride: i32;
  alpha: f64;
  gamma: f64;
  initial: f64;
  epsilon: f64;
  epsilonDecay: f64;
  epsilonMin: f64;
  rng: u64;
  count: u32;
  capacity: u32;
  rows: usize;
  keys: usize;
  map: usize;
  mapCap: u32;
  template: usize;
  lastValue: f32;
}

/** Address of row r's values (stride floats, 16-byte aligned). */
@inline export function rowValues(t: QTable, r: u32): usize {
  return t.rows + ((<usize>r * <usize>t.stride) << 3);
}

/** Address of row r's visit counts (actions u32, right after its values). */
@inline export function rowVisits(t: QTable, r: u32): usize {
  return rowValues(t, r) + (<usize>t.stride << 2);
}

/** Row of state `key`, or -1 when it has none. Cost: O(1) expected. */
@inline export function findRow(t: QTable, key: u32): i32 {
  return mapGet(t.map, t.mapCap, key);
}

/** State key of row r. */
@inline export function rowKey(t: QTable, r: u32): u32 {
  return load<u32>(t.keys + (<usize>r << 2));
}

/**
 * Allocates an empty table (header, template row, room for `rows` rows, at least MIN_CAPACITY).
 * Returns 0 when the budget does not allow it. Parameters are the host's, already checked. Cost: O(actions).
 */
export function qtableAlloc(
  actions: i32, alpha: f64, gamma: f64, epsilon: f64, epsilonDecay: f64, epsilonMin: f64,
  initial: f64, seed: u32, rows: u32 = MIN_CAPACITY,
): QTable {
  const ptr = arenaAlloc(offsetof<QTable>());
  if (ptr == 0) return changetype<QTable>(0);
  memory.fill(ptr, 0, offsetof<QTable>());
  const t = changetype<QTable>(ptr);
  t.actions = actions;
  t.stride = (actions + 3) & ~3;
  t.alpha = alpha;
  t.gamma = gamma;
  t.epsilon = epsilon;
  t.epsilonDecay = epsilonDecay;
  t.epsilonMin = epsilonMin;
  t.initial = initial;
  t.rng = prngSeed(seed);
  t.template = arenaAlloc(<u32>t.stride << 3);
  if (rows < MIN_CAPACITY) rows = MIN_CAPACITY;
  if (t.template == 0 || !ensureRows(t, rows) || !ensureMap(t, rows)) {
    qtableFree(t);
    return changetype<QTable>(0);
  }
  for (let a = 0; a < t.stride; a++) {
    store<f32>(t.template + (<usize>a << 2), a < actions ? <f32>initial : -Infinity);
    store<u32>(t.template + (<usize>(t.stride + a) << 2), 0);
  }
  return t;
}

/** Frees every block of a table and its header. Cost: O(1). */
export function qtableFree(t: QTable): void {
  arenaFree(t.rows);
  arenaFree(t.keys);
  arenaFree(t.map);
  arenaFree(t.template);
  arenaFree(changetype<usize>(t));
}

/** Arena bytes the table holds: its header and every block. Cost: O(1). */
export function qtableBytes(t: QTable): u32 {
  return arenaBlockBytes(changetype<usize>(t)) + arenaBlockBytes(t.rows) + arenaBlockBytes(t.keys) +
         arenaBlockBytes(t.map) + arenaBlockBytes(t.template);
}

/**
 * Opens a transaction that saves t's header, for an operation that may add many rows: an undo
 * puts the header and the arena back (the map's entries are the operation's to take out, with
 * forgetRowsFrom, before it undoes). Cost: O(1).
 */
export function beginTableChange(t: QTable): u32 {
  const mark = arenaBegin();
  arenaSave(changetype<usize>(t), offsetof<QTable>());
  return mark;
}

/**
 * Makes rows and keys hold `cap` rows, both or neither: a failure gives back what grew (its
 * own transaction; the two fields are put back by hand, so a batch's many growth steps save
 * no header). `capacity` moves only when both grew.
 */
function growRowBlocks(t: QTable, cap: u32): bool {
  const c = <u64>cap;
  const rows = t.rows;
  const mark = arenaBegin();
  let p = arenaGrow(t.rows, (c * <u64>t.stride) << 3);
  if (p == 0) return arenaEnd(mark, false);
  t.rows = p;
  p = arenaGrow(t.keys, c << 2);
  if (p == 0) {
    t.rows = rows;
    return arenaEnd(mark, false);
  }
  t.keys = p;
  t.capacity = cap;
  return arenaEnd(mark, true);
}

/** Makes room for `needed` rows (1.5x growth, exact as a fallback near the budget). Cost: O(copy) when it grows. */
export function ensureRows(t: QTable, needed: u32): bool {
  if (needed <= t.capacity) return true;
  let cap = t.capacity + (t.capacity >> 1);
  if (cap < needed) cap = needed;
  if (growRowBlocks(t, cap)) return true;
  return cap != needed && growRowBlocks(t, needed);
}

/** Makes the state map hold `count` keys under its load limit (rehash into a new block). Cost: O(mapCap) when it grows. */
export function ensureMap(t: QTable, count: u32): bool {
  const cap = mapCapacityFor(count);
  if (cap <= t.mapCap) return true;
  const fresh = mapRehashed(t.map, t.mapCap, cap);
  if (fresh == 0) return false;
  t.map = fresh;
  t.mapCap = cap;
  return true;
}

/** Appends a fresh row for `key` (all `initial`, no visits); room must be reserved. Cost: O(stride). */
export function appendRow(t: QTable, key: u32): u32 {
  const r = t.count;
  memory.copy(rowValues(t, r), t.template, <usize>t.stride << 3);
  store<u32>(t.keys + (<usize>r << 2), key);
  mapSet(t.map, t.mapCap, key, r);
  t.count = r + 1;
  return r;
}

/**
 * Row of `key`, appending a fresh one if it has none; -1 when the budget does not allow it, with
 * the table and the arena as they were. Cost: O(1) amortised.
 */
export function reserveRow(t: QTable, key: u32): i32 {
  const r = findRow(t, key);
  if (r >= 0) return r;
  const count = t.count + 1;
  if (count > t.capacity || mapCapacityFor(count) > t.mapCap) {
    const rows = t.rows, keys = t.keys, capacity = t.capacity;
    const mark = arenaBegin();
    if (!arenaEnd(mark, ensureRows(t, count) && ensureMap(t, count))) {
      t.rows = rows;
      t.keys = keys;
      t.capacity = capacity;
      return -1;
    }
  }
  return <i32>appendRow(t, key);
}

/**
 * Takes the keys of the rows appended since the table had `count` rows out of the map at
 * `map` (capacity `mapCap`): the table's map when the failed operation began, its own or one a
 * growth retired, so that the undo which puts the header back finds it as it was. Cost: O(rows dropped).
 */
export function forgetRowsFrom(t: QTable, count: u32, map: usize, mapCap: u32): void {
  for (let r = count; r < t.count; r++) mapDelete(map, mapCap, rowKey(t, r));
}
