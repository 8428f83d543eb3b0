// HNSW storage v2: one header per index, node records in fixed-size segments, all in the arena.
//
//   segments  u32[segCap]: address of segment s, which holds nodes [s << segShift, (s + 1) << segShift)
//   segment   (SEG = 1 << segShift nodes; while it is the only one, segment 0 may hold fewer records)
//     +0           u32 labels[SEG]     the caller's id per node
//     +4 SEG       u32 upperAt[SEG]    word offset of n's record in `upper`, 0 = n lives on layer 0 only
//     +8 SEG       cand[SEG]           8 bytes each: slice s of the candidate heap (candidates.ts;
//                                      a search reaches a node once, so SEG entries a segment do)
//     +16 SEG      u32 inDegree[SEG]   layer-0 lists naming n (indegree.ts)
//     +20 SEG      u16 visitTag[SEG]   visit epoch of the last search that reached n
//     +sideBytes   record[...]         (sideBytes = 22 SEG rounded up to 16)
//   record    recordBytes each, a multiple of 16, 16-byte aligned for v128.load:
//     +0           u32 count, u32 links[M0], zero pad (to linkBytes)
//     +linkBytes   the vector part (vector-form.ts; unit length under cosine before encoding):
//                  f32: f32 vector[stride] (stride = dim padded to 4, zero tail), linkBytes a
//                  multiple of 16; f16: u16 codes[dim padded to 8], linkBytes a multiple of 16;
//                  i8: f32 scale, f32 sqnorm, i8 codes[dim padded to 16], linkBytes + 8 a
//                  multiple of 16 (the codes are aligned, the parameters sit in the links' pad)
//   (the side words of the slots past count are zero, as in a new segment: an appended node
//   starts with in-degree 0; compaction puts them back, resetSlotsFrom)
//   tombs     1 bit per node, flat: set = removed (still used to navigate, never returned)
//   upper     u32 words: word 0 unused; a record is [level][count, M ids] x level (layers 1..level)
//   map       open-addressing id -> node (idmap.ts); every node's label is in it
//   results   (ef + 1) heap entries; sorted: ef ascending entries (also the search output,
//             as (f32 distance, u32 label) pairs); chosen, pruned: M0 + 1 entries each;
//             fresh: EXPAND_WIDTH * M0 (u32 node, u32 vector address) pairs, the unvisited
//             neighbours of the nodes a search expands in a step, then those nodes (u32 each)
//   input     f32[codeDims]  the query searched (f16: also a node's decoded vector while it
//             is linked; f32 staging of a row being encoded), zero past dim
//   query     i8: the prepared i16 codes (i8-prepared.ts) of the query or of the node being
//             linked (its scale and squared norm in queryScale, queryNorm)
//   decoded   f16: f32[codeDims], the decoded vector part at decodedAt (0: none), for distances
//             between two stored rows
//   levels    u8 per item of the batch being added (levels drawn when it was reserved)
//   trace     u32 words: the neighbours each item of a traced batch chose (trace.ts)
//   around    u32 words: the candidate sets of a replaced node's repair (repair.ts)
//   dropped   u32[M0]: the layer-0 list being replaced (indegree.ts)
//   allow     1 bit per node, flat, all clear between calls: the nodes of the allow-list being
//             searched (filter.ts), set by indexAllowBegin and cleared by indexAllowEnd; grown
//             (never shrunk) to cover the capacity the first time an allow-list is searched;
//             allowBits is the bitset a search reads: this one, or a resident set's (filter.ts)
//
// Growth allocates one more segment and copies nothing, so the budget fills to the last segment
// (only the lone first segment grows by copying, 1.5x, until it is whole). A segment's records
// take at most a segment target: 1/64 of the engine's budget, within [64 KiB, 1 MiB] (SEG is the
// largest power of two in [16, 4096] that keeps them there: 1024 nodes of 128 floats from a
// 48 MiB budget up). So the unused tail of the last segment stays under 2% of the budget (above
// 4 MiB) while the table stays under a thousand words for a 500 MiB engine. A node's links
// and vector share a record: a search step touches one place per neighbour (plus its visit tag).

import { arenaAlloc, arenaBegin, arenaEnd, arenaFree, arenaGrow, arenaLargestFree, arenaLimit, arenaSave, arenaShrink } from "../runtime/arena";
import { mapCapacityFor, mapRehashed, mapSet } from "../util/idmap";
import { QUANT_F16, QUANT_I8, I8_PARAM_BYTES, codeDimsFor, vectorBytesFor } from "./vector-form";
import { preparedI8Bytes } from "../kernels/i8";

/** Candidates a query expands together in one step (search.ts): fresh holds EXPAND_WIDTH * M0 pairs, then those candidates. */
export const EXPAND_WIDTH: u32 = 3;

export const METRIC_COSINE: i32 = 0;
export const METRIC_L2: i32 = 1;
export const METRIC_DOT: i32 = 2;

export const MAX_LEVEL: i32 = 31;
const MIN_CAPACITY: u32 = 16;
const MAX_SEGMENT_TARGET: u64 = 1 << 20;
const MIN_SEGMENT_TARGET: u64 = 1 << 14;
const MIN_SEG_SHIFT: u32 = 4;
const MAX_SEG_SHIFT: u32 = 12;
const MIN_TABLE: u32 = 8;
const MAP_TIGHT_LOAD: f64 = 0.9;

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
  segShift: u32;
  sideBytes: u32;
  linkBytes: u32;
  recordBytes: u32;
  segments: usize;
  segCount: u32;
  segCap: u32;
  tombs: usize;
  tombWords: u32;
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
  fresh: usize;
  input: usize;
  levels: usize;
  levelsCap: u32;
  trace: usize;
  traceUsed: u32;
  traceCap: u32;
  tracing: bool;
  around: usize;
  aroundCap: u32;
  dropped: usize;
  quant: i32;
  codeDims: i32;
  vectorBytes: u32;
  query: usize;
  queryScale: f32;
  queryNorm: f32;
  decoded: usize;
  decodedAt: usize;
  allow: usize;
  allowWords: u32;
  allowBits: usize;
  allowNodes: usize;
  allowCount: u32;
  /**
   * False while every slot's label is its own number (ids 0, 1, 2, ... added in order, as a new
   * index starts), so an id below count names its slot (filter.ts markIds). Set by an add that
   * labels a slot otherwise (insert.ts placeItem), worked out again by compaction and loads.
   */
  mixedLabels: bool;
  /**
   * Scan codes (scan-codes.ts): the block (0: none), the rows it holds, the slots [0, codesRows)
   * encoded, how many of those were marked stale since, and whether an exact scan wanted the codes made or extended (the host then calls indexBuildCodes).
   */
  codes: usize;
  codesCap: u32;
  codesRows: u32;
  codesStaleRows: u32;
  wantCodes: bool;
  lastPlan: i32;
  /** The `where` program of the lazy walk (search.ts MODE_WHERE; attributes.ts attrWhereUse): its table, address and words. */
  whereTable: usize;
  whereProg: usize;
  whereWords: u32;
  /**
   * 0 for an index; for a per-thread shadow of one (shadow.ts), its own segment-like table whose
   * entries hold the visit tags and candidate slices of that thread's searches.
   */
  sideTable: usize;
}

/** Address of segment s (s < segCount). */
@inline export function segmentAt(idx: Index, s: u32): usize {
  return <usize>load<u32>(idx.segments + (<usize>s << 2));
}

/** Address of node n's segment. */
@inline function segmentOf(idx: Index, n: u32): usize {
  return <usize>load<u32>(idx.segments + (<usize>(n >> idx.segShift) << 2));
}

/** n's position inside its segment. */
@inline function slotOf(idx: Index, n: u32): usize {
  return <usize>(n & ((<u32>1 << idx.segShift) - 1));
}

/** Address of node n's level-0 record: [count, links x M0][vector part]. */
@inline export function recordAt(idx: Index, n: u32): usize {
  return segmentOf(idx, n) + <usize>idx.sideBytes + slotOf(idx, n) * <usize>idx.recordBytes;
}

@inline export function vectorAt(idx: Index, n: u32): usize {
  return recordAt(idx, n) + <usize>idx.linkBytes;
}

// Where each side array of a segment starts, in bytes per node of the segment (shift left by
// segShift for the byte offset; see the layout at the top). SIDE_BYTES_PER_NODE is their total.
export const LABELS_AT: u32 = 0;
export const UPPER_AT_AT: u32 = 4;
export const CANDIDATES_AT: u32 = 8;
export const IN_DEGREE_AT: u32 = 16;
export const VISIT_TAGS_AT: u32 = 20;
const SIDE_BYTES_PER_NODE: u32 = 22;

@inline export function labelAt(idx: Index, n: u32): u32 {
  return load<u32>(segmentOf(idx, n) + (slotOf(idx, n) << 2)); // labels are at LABELS_AT = 0
}

@inline export function setLabel(idx: Index, n: u32, id: u32): void {
  store<u32>(segmentOf(idx, n) + (slotOf(idx, n) << 2), id); // at LABELS_AT = 0
}

/** Word offset of node n's upper record, 0 when it lives on layer 0 only. */
@inline export function upperAtOf(idx: Index, n: u32): u32 {
  return load<u32>(segmentOf(idx, n) + (<usize>UPPER_AT_AT << idx.segShift) + (slotOf(idx, n) << 2));
}

@inline export function setUpperAt(idx: Index, n: u32, at: u32): void {
  store<u32>(segmentOf(idx, n) + (<usize>UPPER_AT_AT << idx.segShift) + (slotOf(idx, n) << 2), at);
}


/** Address of node n's layer-0 in-degree (indegree.ts). */
@inline export function inDegreeAt(idx: Index, n: u32): usize {
  return segmentOf(idx, n) + (<usize>IN_DEGREE_AT << idx.segShift) + (slotOf(idx, n) << 2);
}

/** Address of node n's u16 visit tag. */
@inline export function visitTagAt(idx: Index, n: u32): usize {
  return sideOf(idx, n) + (<usize>VISIT_TAGS_AT << idx.segShift) + (slotOf(idx, n) << 1);
}

/** The table holding idx's visit tags and candidate slices: its segments', or a shadow's own (shadow.ts). */
@inline export function sideTableOf(idx: Index): usize {
  return idx.sideTable != 0 ? idx.sideTable : idx.segments;
}

/** Where node n's visit tag and candidate slice side arrays start (its segment, or a shadow's side block). */
@inline function sideOf(idx: Index, n: u32): usize {
  return <usize>load<u32>(sideTableOf(idx) + (<usize>(n >> idx.segShift) << 2));
}

/**
 * Puts the labels of slots [0, n) into the id map (cleared, with room for them) and works out
 * mixedLabels. False at the first label already there (a load's repeated id). Cost: O(n).
 */
export function mapLabels(idx: Index, n: u32): bool {
  idx.mixedLabels = false;
  for (let i: u32 = 0; i < n; i++) {
    const label = labelAt(idx, i);
    if (!mapSet(idx.map, idx.mapCap, label, i)) return false;
    if (label != i) idx.mixedLabels = true;
  }
  return true;
}

@inline export function isTombstoned(idx: Index, n: u32): bool {
  return (load<u32>(idx.tombs + (<usize>(n >> 5) << 2)) & (1 << (n & 31))) != 0;
}

export function setTombstone(idx: Index, n: u32, on: bool): void {
  const p = idx.tombs + (<usize>(n >> 5) << 2);
  const bit: u32 = 1 << (n & 31);
  store<u32>(p, on ? load<u32>(p) | bit : load<u32>(p) & ~bit);
}

/** Level of node n: 0 unless it has an upper record. */
@inline export function levelOf(idx: Index, n: u32): i32 {
  const at = upperAtOf(idx, n);
  return at == 0 ? 0 : load<i32>(idx.upper + (<usize>at << 2));
}

/** [count, ids...] list of node n on `level` (which must be <= levelOf(n)). */
@inline export function linksAt(idx: Index, n: u32, level: i32): usize {
  if (level == 0) return recordAt(idx, n);
  const at = upperAtOf(idx, n);
  return idx.upper + ((<usize>at + 1 + <usize>(level - 1) * <usize>(1 + idx.M)) << 2);
}

/**
 * Sets the member count of the list at links, once its members are written: on the threads
 * builds an atomic store, so a thread reading the list while the calling thread links it
 * (parallel.ts, a pipelined build) that sees the count also sees the members.
 */
@inline export function publishCount(links: usize, count: u32): void {
  if (ASC_FEATURE_THREADS) atomic.store<u32>(links, count);
  else store<u32>(links, count);
}

/** Words an upper record of `level` takes. */
@inline export function upperWords(idx: Index, level: i32): u32 {
  return level == 0 ? 0 : 1 + <u32>level * <u32>(1 + idx.M);
}

/** Sets the record geometry: linkBytes, recordBytes, and the segment size that keeps a segment's records within the target. */
function setGeometry(idx: Index): void {
  const lists = <u32>(1 + idx.M0) << 2;
  idx.vectorBytes = vectorBytesFor(idx.dim, idx.quant);
  idx.linkBytes = idx.quant == QUANT_I8 ? ((lists + I8_PARAM_BYTES + 15) & ~15) - I8_PARAM_BYTES : (lists + 15) & ~15;
  idx.recordBytes = idx.linkBytes + idx.vectorBytes;
  let target = <u64>arenaLimit() >> 8;
  if (target > MAX_SEGMENT_TARGET) target = MAX_SEGMENT_TARGET;
  if (target < MIN_SEGMENT_TARGET) target = MIN_SEGMENT_TARGET;
  let shift = MAX_SEG_SHIFT;
  while (shift > MIN_SEG_SHIFT && (<u64>idx.recordBytes << shift) > target) shift--;
  idx.segShift = shift;
  idx.sideBytes = ((SIDE_BYTES_PER_NODE << shift) + 63) & ~63;
}

/**
 * Allocates a header and its fixed scratch (quant: vector-form.ts). Returns 0 when the budget
 * does not allow it.
 */
export function indexAlloc(dim: i32, metric: i32, M: i32, efConstruction: i32, seed: u32, quant: i32): Index {
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
  idx.quant = quant;
  idx.codeDims = codeDimsFor(dim, quant);
  setGeometry(idx);
  const entryBytes = <u32>(idx.M0 + 1) << 3;
  idx.chosen = arenaAlloc(entryBytes);
  idx.pruned = arenaAlloc(entryBytes);
  idx.fresh = arenaAlloc(<u32>idx.M0 * EXPAND_WIDTH * 8 + EXPAND_WIDTH * 4);
  idx.input = arenaAlloc(<u32>idx.codeDims << 2);
  idx.upper = arenaAlloc(64);
  idx.dropped = arenaAlloc(<u32>idx.M0 << 2);
  if (idx.chosen == 0 || idx.pruned == 0 || idx.fresh == 0 || idx.input == 0 || idx.upper == 0 || idx.dropped == 0 ||
      !allocQuantScratch(idx) || !ensureSearchScratch(idx, <u32>efConstruction)) {
    indexFree(idx);
    return changetype<Index>(0);
  }
  memory.fill(idx.input, 0, <usize>idx.codeDims << 2);
  idx.upperUsed = 1;
  idx.upperCap = 16;
  return idx;
}

/** Allocates the scratch a quantization needs (the header's query, decoded); f32 needs none. */
function allocQuantScratch(idx: Index): bool {
  if (idx.quant == QUANT_I8) {
    idx.query = arenaAlloc(<u32>preparedI8Bytes(idx.codeDims));
    return idx.query != 0;
  }
  if (idx.quant == QUANT_F16) {
    idx.decoded = arenaAlloc(<u32>idx.codeDims << 2);
    return idx.decoded != 0;
  }
  return true;
}

/** Frees every segment block (a block may hold several segments) and the segment table. */
function freeSegments(idx: Index): void {
  for (let s: u32 = 0; s < idx.segCount; s++) {
    if (s == 0 || !sharesBlock(idx, s)) arenaFree(segmentAt(idx, s));
  }
  arenaFree(idx.segments);
}

/** Frees every block of an index and its header. */
export function indexFree(idx: Index): void {
  freeSegments(idx);
  arenaFree(idx.tombs);
  arenaFree(idx.upper);
  arenaFree(idx.map);
  arenaFree(idx.results);
  arenaFree(idx.sorted);
  arenaFree(idx.chosen);
  arenaFree(idx.pruned);
  arenaFree(idx.fresh);
  arenaFree(idx.input);
  arenaFree(idx.levels);
  arenaFree(idx.trace);
  arenaFree(idx.around);
  arenaFree(idx.dropped);
  arenaFree(idx.query);
  arenaFree(idx.decoded);
  arenaFree(idx.allow);
  arenaFree(idx.codes);
  arenaFree(changetype<usize>(idx));
}

/**
 * Drops every node: frees the segments, the table, the tombstones, the upper links and the id
 * map, and starts the level generator again from `seed`, so the index is as indexAlloc made it
 * (its search scratch kept). Cannot fail: the one block it takes (the empty upper block) comes
 * after the frees. Cost: O(segments).
 */
export function indexClear(idx: Index, seed: u32): void {
  freeSegments(idx);
  arenaFree(idx.tombs);
  arenaFree(idx.map);
  arenaFree(idx.upper);
  arenaFree(idx.levels);
  idx.segments = 0;
  idx.segCount = 0;
  idx.segCap = 0;
  idx.capacity = 0;
  idx.tombs = 0;
  idx.tombWords = 0;
  idx.map = 0;
  idx.mapCap = 0;
  idx.levels = 0;
  idx.levelsCap = 0;
  idx.upper = arenaAlloc(64);
  idx.upperUsed = 1;
  idx.upperCap = 16;
  idx.count = 0;
  idx.deleted = 0;
  idx.mixedLabels = false;
  idx.codesRows = 0;
  idx.entry = -1;
  idx.maxLevel = 0;
  idx.reuseHint = 0;
  idx.decodedAt = 0;
  idx.rng = (<u64>seed << 32) ^ 0x9E3779B97F4A7C15;
}

/** Opens a transaction that saves idx's header: an undo puts the index back as it was. */
export function beginIndexChange(idx: Index): u32 {
  const mark = arenaBegin();
  arenaSave(changetype<usize>(idx), offsetof<Index>());
  return mark;
}

/** Bytes of a segment holding `nodes` records (its side arrays are always whole). */
@inline function segmentBytes(idx: Index, nodes: u32): u64 {
  return <u64>idx.sideBytes + <u64>nodes * <u64>idx.recordBytes;
}

/** Grows the lone first segment (allocating it if there is none) to `nodes` records. */
function growFirstSegment(idx: Index, nodes: u32): bool {
  if (idx.segCap == 0) {
    const table = arenaGrow(0, <u64>MIN_TABLE << 2);
    if (table == 0) return false;
    idx.segments = table;
    idx.segCap = MIN_TABLE;
  }
  const old: usize = idx.segCount == 0 ? 0 : segmentAt(idx, 0);
  const p = arenaGrow(old, segmentBytes(idx, nodes));
  if (p == 0) return false;
  if (old == 0) memory.fill(p, 0, idx.sideBytes);
  arenaSave(idx.segments, 4);
  store<u32>(idx.segments, <u32>p);
  idx.segCount = 1;
  idx.capacity = nodes;
  return true;
}

/**
 * Appends `k` whole segments, growing the table to fit: as one block (one allocation, however
 * many segments a batch or a reserve needs) where one hole or the tail holds them, else as many
 * as the largest room holds, again and again (each hole then keeps less than a segment; groups
 * halved until they fit left more: with them 10 of 45 fragmented loads failed), so a load or
 * a batch fits the holes another index's growth left between its blocks. Copies no node. Inside a transaction
 * (ensureCapacity, reserveCapacity): a failure part way is undone by it.
 */
function appendSegments(idx: Index, k: u32): bool {
  const wanted = <u64>idx.segCount + <u64>k;
  if (wanted > <u64>idx.segCap) {
    let cap = <u64>idx.segCap << 1;
    if (cap < wanted) cap = wanted;
    const table = arenaGrow(idx.segments, cap << 2);
    if (table == 0) return false;
    idx.segments = table;
    idx.segCap = <u32>cap;
  }
  const seg: u32 = 1 << idx.segShift;
  const bytes = segmentBytes(idx, seg);
  for (let left = k; left > 0; ) {
    // All that are left where one block holds them, else as many as the largest room holds.
    let p = arenaGrow(0, bytes * <u64>left);
    let group = left;
    if (p == 0) {
      group = <u32>(<u64>arenaLargestFree() / bytes);
      if (group == 0) return false;
      p = arenaGrow(0, bytes * <u64>group);
      if (p == 0) return false;
    }
    for (let i: u32 = 0; i < group; i++) {
      const at = p + <usize>(bytes * <u64>i);
      memory.fill(at, 0, idx.sideBytes);
      store<u32>(idx.segments + (<usize>(idx.segCount + i) << 2), <u32>at);
    }
    idx.segCount += group;
    idx.capacity = idx.segCount << idx.segShift;
    left -= group;
  }
  return true;
}

/**
 * Whether segment s (> 0) was allocated with segment s - 1, in one block: it starts right where
 * s - 1 ends (separate blocks are always apart by a block header).
 */
@inline function sharesBlock(idx: Index, s: u32): bool {
  return segmentAt(idx, s) == segmentAt(idx, s - 1) + <usize>segmentBytes(idx, <u32>1 << idx.segShift);
}

/**
 * Adds node slots until capacity >= needed: the lone first segment grows (1.5x, exactly `needed`
 * as a fallback near the budget, never past one segment), then whole segments are appended.
 */
function growSegments(idx: Index, needed: u32): bool {
  const seg: u32 = 1 << idx.segShift;
  if (needed <= idx.capacity) return true;
  if (idx.capacity < seg) {
    let nodes = idx.capacity + (idx.capacity >> 1);
    if (nodes < needed) nodes = needed;
    if (nodes < MIN_CAPACITY) nodes = MIN_CAPACITY;
    if (nodes > seg) nodes = seg;
    if (!growFirstSegment(idx, nodes) && (nodes <= needed || !growFirstSegment(idx, needed))) return false;
  }
  if (needed <= idx.capacity) return true;
  return appendSegments(idx, <u32>((<u64>needed - <u64>idx.capacity + <u64>seg - 1) >> idx.segShift));
}

/** Makes the tombstone bitset (the one flat per-node block) cover `capacity` nodes. */
function growTombstones(idx: Index): bool {
  const words = (idx.capacity + 31) >> 5;
  if (words <= idx.tombWords) return true;
  const tombs = arenaGrow(idx.tombs, <u64>words << 2);
  if (tombs == 0) return false;
  idx.tombs = tombs;
  // Bits past `count` must be clear (the partial last word was cleared when it was new).
  memory.fill(tombs + (<usize>idx.tombWords << 2), 0, <usize>(words - idx.tombWords) << 2);
  idx.tombWords = words;
  return true;
}

/**
 * Gives back the slots past the first `nodes` (which must hold every node: count <= nodes): frees
 * the segments past the last one they need, cuts a block that also holds kept segments at its
 * last kept one, cuts a lone first segment to `nodes` records (at least MIN_CAPACITY), and cuts
 * the table and the tombstones to fit. Outside a transaction only. Cost: O(segments).
 */
export function releaseSlotsFrom(idx: Index, nodes: u32): void {
  if (idx.segCount == 0) return;
  const seg: u32 = 1 << idx.segShift;
  let keep = (nodes + seg - 1) >> idx.segShift;
  if (keep == 0) keep = 1;
  let s = <i32>idx.segCount - 1;
  while (s >= <i32>keep) {
    let first = s;
    while (first > 0 && sharesBlock(idx, <u32>first)) first--;
    if (first >= <i32>keep) arenaFree(segmentAt(idx, <u32>first));
    else arenaShrink(segmentAt(idx, <u32>first), <u32>(segmentBytes(idx, seg) * <u64>(keep - <u32>first)));
    s = first - 1;
  }
  idx.segCount = keep;
  idx.capacity = keep << idx.segShift;
  if (keep == 1) {
    const lone = nodes < MIN_CAPACITY ? MIN_CAPACITY : nodes;
    if (lone < idx.capacity) {
      arenaShrink(segmentAt(idx, 0), <u32>segmentBytes(idx, lone));
      idx.capacity = lone;
    }
  }
  const table = keep < MIN_TABLE ? MIN_TABLE : keep;
  if (table < idx.segCap) {
    arenaShrink(idx.segments, table << 2);
    idx.segCap = table;
  }
  const words = (idx.capacity + 31) >> 5;
  if (words < idx.tombWords) {
    arenaShrink(idx.tombs, words << 2);
    idx.tombWords = words;
  }
}

/**
 * Puts the side arrays (label, upperAt, candidate slice, in-degree, visit tag) of every slot from
 * `from` on, in every segment, back to zero, as a new segment has them: a node appended there
 * then starts as on an index that never held more nodes (an index loaded from a snapshot of this
 * one). For a compaction, which leaves renumbering marks and moved nodes' side words past the live
 * nodes. Cost: O(slots past `from`).
 */
export function resetSlotsFrom(idx: Index, from: u32): void {
  const shift = idx.segShift;
  const seg: u32 = 1 << shift;
  for (let s: u32 = 0; s < idx.segCount; s++) {
    const first = s << shift;
    if (first + seg <= from) continue;
    const start = from > first ? from - first : 0;
    const p = segmentAt(idx, s);
    const n = <usize>(seg - start);
    memory.fill(p + (<usize>LABELS_AT << shift) + (<usize>start << 2), 0, n << 2);
    memory.fill(p + (<usize>UPPER_AT_AT << shift) + (<usize>start << 2), 0, n << 2);
    memory.fill(p + (<usize>CANDIDATES_AT << shift) + (<usize>start << 3), 0, n << 3);
    memory.fill(p + (<usize>IN_DEGREE_AT << shift) + (<usize>start << 2), 0, n << 2);
    memory.fill(p + (<usize>VISIT_TAGS_AT << shift) + (<usize>start << 1), 0, n << 1);
  }
}

/** Makes room for `needed` slots, all or none (a failure leaves the index and the arena as they were). */
export function ensureCapacity(idx: Index, needed: u32): bool {
  if (needed <= idx.capacity) return true;
  const mark = beginIndexChange(idx);
  return arenaEnd(mark, growSegments(idx, needed) && growTombstones(idx));
}

/**
 * Allocates the segments (and sizes the tombstones and the id map) for `cap` slots up front
 * (never shrinks; capacity rounds up to whole segments). A hint: growing step by step copies no
 * segment either. False over budget, with the index and the arena as they were.
 */
export function reserveCapacity(idx: Index, cap: u32): bool {
  const mark = beginIndexChange(idx);
  return arenaEnd(mark, growSegments(idx, cap) && growTombstones(idx) && ensureMap(idx, cap));
}

/**
 * Makes the id map hold `count` ids under its load limit (rehash into a new block). Near the
 * budget, when the rehash (old and new map at once) does not fit, the map may fill up to
 * MAP_TIGHT_LOAD instead: its copy is then not what stops the index from filling the budget
 * (probes get longer; lookups stay correct while a slot is empty). So may a new map (a load's)
 * or one past that load, made at the smallest capacity that holds `count` under it: a snapshot
 * of an index whose map stayed tight loads back into the room the index freed.
 */
export function ensureMap(idx: Index, count: u32, tightFirst: bool = false): bool {
  const cap = mapCapacityFor(count);
  if (cap <= idx.mapCap) return true;
  const tight = cap >> 1;
  const canTight = tight > idx.mapCap && <f64>count <= <f64>tight * MAP_TIGHT_LOAD;
  // With tightFirst (a load whose other tries failed) only the tight capacity: the normal one
  // may fit, but in a hole the segments need.
  if (!(tightFirst && canTight) && rehashMap(idx, cap)) return true;
  if (<f64>count <= <f64>idx.mapCap * MAP_TIGHT_LOAD) return true;
  return canTight && rehashMap(idx, tight);
}

/** Moves the id map into a new block of `cap` entries; false, changing nothing, over budget. */
function rehashMap(idx: Index, cap: u32): bool {
  const fresh = mapRehashed(idx.map, idx.mapCap, cap);
  if (fresh == 0) return false;
  idx.map = fresh;
  idx.mapCap = cap;
  return true;
}

/** Makes the upper-link block hold `extra` more words (1.5x growth, exact as a fallback near the budget). */
export function ensureUpper(idx: Index, extra: u64): bool {
  const needed = <u64>idx.upperUsed + extra;
  if (needed <= <u64>idx.upperCap) return true;
  let cap = <u64>idx.upperCap + (<u64>idx.upperCap >> 1);
  if (cap < needed) cap = needed;
  let p = arenaGrow(idx.upper, cap << 2);
  if (p == 0 && cap > needed) {
    cap = needed;
    p = arenaGrow(idx.upper, cap << 2);
  }
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

/** Clears every visit tag (when the u16 epoch wraps). Cost: O(segments). */
export function clearVisitTags(idx: Index): void {
  const side = sideTableOf(idx);
  for (let s: u32 = 0; s < idx.segCount; s++) {
    memory.fill(<usize>load<u32>(side + (<usize>s << 2)) + (<usize>VISIT_TAGS_AT << idx.segShift), 0, <usize>2 << idx.segShift);
  }
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
