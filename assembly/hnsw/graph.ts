// HNSW storage: one header per index and flat blocks reached from it, all in the arena.
//
//   per node n (capacity slots each, grown together; a slot is live or tombstoned):
//     vectors   f32[stride]     at vectors + n*stride*4   (stride = dim padded to 4, zero tail,
//                                                          16-byte aligned; unit length under cosine)
//     links0    u32[1 + M0]     at links0 + n*(1+M0)*4    ([count, neighbour...], M0 = 2M)
//     upperAt   u32             word offset of n's record in `upper`, 0 = n lives on layer 0 only
//     labels    u32             the caller's id
//     tombs     1 bit           set = removed (still used to navigate, never returned)
//     visited   u32             epoch of the last search that reached n
//     cand      8 bytes         one candidate-heap entry (a search reaches each node once)
//     indeg     u32             layer-0 lists naming n (indegree.ts)
//   upper     u32 words: word 0 unused; a record is [level][count, M ids] x level (layers 1..level)
//   map       open-addressing id -> slot (idmap.ts); every slot's label is in it
//   results   (ef + 1) heap entries; sorted: ef ascending entries (also the search output,
//             as (f32 distance, u32 label) pairs); chosen, pruned: M0 + 1 entries each
//   input     f32[stride]  the vector being added or searched
//   levels    u8 per item of the batch being added (levels drawn when it was reserved)
//   trace     u32 words: the neighbours each item of a traced batch chose (trace.ts)
//   around    u32 words: the candidate set of a replaced node's repair (repair.ts)
//   dropped   u32[M0]: the layer-0 list being replaced (indegree.ts)

import { arenaAlloc, arenaBegin, arenaEnd, arenaFree, arenaGrow, arenaSave } from "../alloc";
import { mapCapacityFor, mapRehashed } from "../idmap";

export const METRIC_COSINE: i32 = 0;
export const METRIC_L2: i32 = 1;
export const METRIC_DOT: i32 = 2;

export const MAX_LEVEL: i32 = 31;
const MIN_CAPACITY: u32 = 16;

@unmanaged export class Index {
  dim: i32;
  stride: i32;
  metric: i32;
  M: i32;
  M0: i32;
  efConstruction: i32;
  levelMult: f64;
  rng: u64;
  count: u32;
  deleted: u32;
  capacity: u32;
  entry: i32;
  maxLevel: i32;
  reuseHint: u32;
  epoch: u32;
  vectors: usize;
  links0: usize;
  upperAt: usize;
  labels: usize;
  tombs: usize;
  visited: usize;
  cand: usize;
  upper: usize;
  upperUsed: u32;
  upperCap: u32;
  map: usize;
  mapCap: u32;
  results: usize;
  sorted: usize;
  scratchEf: u32;
  chosen: usize;
  pruned: usize;
  input: usize;
  levels: usize;
  levelsCap: u32;
  trace: usize;
  traceUsed: u32;
  traceCap: u32;
  tracing: bool;
  around: usize;
  aroundCap: u32;
  indeg: usize;
  dropped: usize;
}

@inline export function vectorAt(idx: Index, n: u32): usize {
  return idx.vectors + ((<usize>n * <usize>idx.stride) << 2);
}

@inline export function labelAt(idx: Index, n: u32): u32 {
  return load<u32>(idx.labels + (<usize>n << 2));
}

@inline export function isTombstoned(idx: Index, n: u32): bool {
  return (load<u32>(idx.tombs + (<usize>(n >> 5) << 2)) & (1 << (n & 31))) != 0;
}

export function setTombstone(idx: Index, n: u32, on: bool): void {
  const p = idx.tombs + (<usize>(n >> 5) << 2);
  const bit: u32 = 1 << (n & 31);
  store<u32>(p, on ? load<u32>(p) | bit : load<u32>(p) & ~bit);
}

/** Address of node n's layer-0 in-degree (indegree.ts). */
@inline export function inDegreeAt(idx: Index, n: u32): usize {
  return idx.indeg + (<usize>n << 2);
}

/** Level of node n: 0 unless it has an upper record. */
@inline export function levelOf(idx: Index, n: u32): i32 {
  const at = load<u32>(idx.upperAt + (<usize>n << 2));
  return at == 0 ? 0 : load<i32>(idx.upper + (<usize>at << 2));
}

/** [count, ids...] list of node n on `level` (which must be <= levelOf(n)). */
@inline export function linksAt(idx: Index, n: u32, level: i32): usize {
  if (level == 0) return idx.links0 + ((<usize>n * <usize>(1 + idx.M0)) << 2);
  const at = load<u32>(idx.upperAt + (<usize>n << 2));
  return idx.upper + ((<usize>at + 1 + <usize>(level - 1) * <usize>(1 + idx.M)) << 2);
}

/** Words an upper record of `level` takes. */
@inline export function upperWords(idx: Index, level: i32): u32 {
  return level == 0 ? 0 : 1 + <u32>level * <u32>(1 + idx.M);
}

/** Allocates a header and its fixed scratch. Returns 0 when the budget does not allow it. */
export function indexAlloc(dim: i32, metric: i32, M: i32, efConstruction: i32, seed: u32): Index {
  const ptr = arenaAlloc(offsetof<Index>());
  if (ptr == 0) return changetype<Index>(0);
  memory.fill(ptr, 0, offsetof<Index>());
  const idx = changetype<Index>(ptr);
  idx.dim = dim;
  idx.stride = (dim + 3) & ~3;
  idx.metric = metric;
  idx.M = M;
  idx.M0 = M * 2;
  idx.efConstruction = efConstruction;
  idx.levelMult = 1.0 / Math.log(<f64>M);
  idx.rng = (<u64>seed << 32) ^ 0x9E3779B97F4A7C15;
  idx.entry = -1;
  idx.epoch = 0;
  const entryBytes = <u32>(idx.M0 + 1) << 3;
  idx.chosen = arenaAlloc(entryBytes);
  idx.pruned = arenaAlloc(entryBytes);
  idx.input = arenaAlloc(<u32>idx.stride << 2);
  idx.upper = arenaAlloc(64);
  idx.dropped = arenaAlloc(<u32>idx.M0 << 2);
  if (idx.chosen == 0 || idx.pruned == 0 || idx.input == 0 || idx.upper == 0 || idx.dropped == 0 ||
      !ensureSearchScratch(idx, <u32>efConstruction)) {
    indexFree(idx);
    return changetype<Index>(0);
  }
  memory.fill(idx.input, 0, <usize>idx.stride << 2);
  idx.upperUsed = 1;
  idx.upperCap = 16;
  return idx;
}

/** Frees every block of an index and its header. */
export function indexFree(idx: Index): void {
  arenaFree(idx.vectors);
  arenaFree(idx.links0);
  arenaFree(idx.upperAt);
  arenaFree(idx.labels);
  arenaFree(idx.tombs);
  arenaFree(idx.visited);
  arenaFree(idx.cand);
  arenaFree(idx.upper);
  arenaFree(idx.map);
  arenaFree(idx.results);
  arenaFree(idx.sorted);
  arenaFree(idx.chosen);
  arenaFree(idx.pruned);
  arenaFree(idx.input);
  arenaFree(idx.levels);
  arenaFree(idx.trace);
  arenaFree(idx.around);
  arenaFree(idx.indeg);
  arenaFree(idx.dropped);
  arenaFree(changetype<usize>(idx));
}

/** Opens a transaction that saves idx's header: an undo puts the index back as it was. */
export function beginIndexChange(idx: Index): u32 {
  const mark = arenaBegin();
  arenaSave(changetype<usize>(idx), offsetof<Index>());
  return mark;
}

/**
 * Makes every per-node block hold `cap` slots, all or none: a failure gives back every block
 * that grew (a transaction), so the index and the arena are as they were.
 */
function growNodeBlocks(idx: Index, cap: u32): bool {
  const mark = beginIndexChange(idx);
  return arenaEnd(mark, growEachNodeBlock(idx, cap));
}

/** growNodeBlocks' steps, stopping at the first block that cannot grow. */
function growEachNodeBlock(idx: Index, cap: u32): bool {
  const c = <u64>cap;
  let p = arenaGrow(idx.vectors, (c * <u64>idx.stride) << 2);
  if (p == 0) return false;
  idx.vectors = p;
  p = arenaGrow(idx.links0, (c * <u64>(1 + idx.M0)) << 2);
  if (p == 0) return false;
  idx.links0 = p;
  p = arenaGrow(idx.upperAt, c << 2);
  if (p == 0) return false;
  idx.upperAt = p;
  p = arenaGrow(idx.labels, c << 2);
  if (p == 0) return false;
  idx.labels = p;
  p = arenaGrow(idx.tombs, ((c + 31) >> 5) << 2);
  if (p == 0) return false;
  idx.tombs = p;
  p = arenaGrow(idx.visited, c << 2);
  if (p == 0) return false;
  idx.visited = p;
  p = arenaGrow(idx.cand, c << 3);
  if (p == 0) return false;
  idx.cand = p;
  p = arenaGrow(idx.indeg, c << 2);
  if (p == 0) return false;
  idx.indeg = p;
  // New visited entries must not match an epoch, new nodes start with no in-links; tombstone bits past `count` must be clear
  // (the partial last word was cleared when it was new).
  memory.fill(idx.visited + (<usize>idx.capacity << 2), 0, <usize>(cap - idx.capacity) << 2);
  memory.fill(idx.indeg + (<usize>idx.capacity << 2), 0, <usize>(cap - idx.capacity) << 2);
  const oldWords = (<usize>idx.capacity + 31) >> 5;
  memory.fill(idx.tombs + (oldWords << 2), 0, ((<usize>cap + 31 >> 5) - oldWords) << 2);
  idx.capacity = cap;
  return true;
}

/** Makes room for `needed` slots (1.5x growth, exact as a fallback near the budget). */
export function ensureCapacity(idx: Index, needed: u32): bool {
  if (needed <= idx.capacity) return true;
  let cap = idx.capacity + (idx.capacity >> 1);
  if (cap < needed) cap = needed;
  if (cap < MIN_CAPACITY) cap = MIN_CAPACITY;
  if (growNodeBlocks(idx, cap)) return true;
  return cap != needed && growNodeBlocks(idx, needed);
}

/**
 * Grows the per-node blocks and the id map to exactly `cap` slots (never shrinks). Growing
 * once to the final size avoids the copies, and their momentary double footprint, of growing
 * step by step. False over budget, with the index and the arena as they were.
 */
export function reserveCapacity(idx: Index, cap: u32): bool {
  const mark = beginIndexChange(idx);
  return arenaEnd(mark, (cap <= idx.capacity || growNodeBlocks(idx, cap)) && ensureMap(idx, cap));
}

/** Makes the id map hold `count` ids under its load limit (rehash into a new block). */
export function ensureMap(idx: Index, count: u32): bool {
  const cap = mapCapacityFor(count);
  if (cap <= idx.mapCap) return true;
  const fresh = mapRehashed(idx.map, idx.mapCap, cap);
  if (fresh == 0) return false;
  idx.map = fresh;
  idx.mapCap = cap;
  return true;
}

/** Makes the upper-link block hold `extra` more words. */
export function ensureUpper(idx: Index, extra: u64): bool {
  const needed = <u64>idx.upperUsed + extra;
  if (needed <= <u64>idx.upperCap) return true;
  let cap = <u64>idx.upperCap << 1;
  if (cap < needed) cap = needed;
  const p = arenaGrow(idx.upper, cap << 2);
  if (p == 0) return false;
  idx.upper = p;
  idx.upperCap = <u32>cap;
  return true;
}

/**
 * Makes the search heaps hold ef results (plus the M0 + 1 the pruning step sorts), both or
 * neither: a failure leaves the index and the arena as they were.
 */
export function ensureSearchScratch(idx: Index, ef: u32): bool {
  let need = ef;
  if (need < <u32>idx.M0 + 1) need = <u32>idx.M0 + 1;
  if (need <= idx.scratchEf) return true;
  const mark = beginIndexChange(idx);
  const results = arenaGrow(idx.results, <u64>(need + 1) << 3);
  if (results == 0) return arenaEnd(mark, false);
  idx.results = results;
  const sorted = arenaGrow(idx.sorted, <u64>(need + 1) << 3);
  if (sorted == 0) return arenaEnd(mark, false);
  idx.sorted = sorted;
  idx.scratchEf = need;
  return arenaEnd(mark, true);
}

/** Makes the per-batch level array hold n entries. */
export function ensureLevels(idx: Index, n: u32): bool {
  if (n <= idx.levelsCap) return true;
  const p = arenaGrow(idx.levels, <u64>n);
  if (p == 0) return false;
  idx.levels = p;
  idx.levelsCap = n;
  return true;
}

/** Appends an upper record for a node of `level` (> 0), links empty; the words must be reserved. */
export function appendUpperRecord(idx: Index, level: i32): u32 {
  const at = idx.upperUsed;
  const words = upperWords(idx, level);
  const p = idx.upper + (<usize>at << 2);
  memory.fill(p, 0, <usize>words << 2);
  store<i32>(p, level);
  idx.upperUsed = at + words;
  return at;
}

/** Draws a level: floor(-ln(U) / ln(M)), U uniform in (0, 1], from the index's xorshift64*. */
export function drawLevel(idx: Index): i32 {
  let x = idx.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  idx.rng = x;
  const bits = (x * 0x2545F4914F6CDD1D) >> 11;
  const u = (<f64>bits + 1.0) / 9007199254740992.0;
  const level = <i32>Math.floor(-Math.log(u) * idx.levelMult);
  return level > MAX_LEVEL ? MAX_LEVEL : level;
}
