// Link traces: what each insertion of a traced batch chose, so a replay can skip the searches.
//
// An insertion's expensive steps are finding neighbours (an efConstruction search per layer)
// and, for a slot that had a vector, the repair's heuristic over each old neighbour's
// candidates; linking in (reverse links, pruning) is cheap and depends only on what they chose.
// A traced batch writes, per item, those choices; replaying them (repairFromTrace, then
// connectTraced) makes the same lists in the same order, so it rebuilds the very graph the
// insert made, at a fraction of the cost (the index store's log segments keep traces,
// src/hnsw/store/oplog.ts).
//
//   per item:  u32 lists        layers linked: min(level, maxLevel) + 1, or 0 (first node, or
//                               the only node replaced)
//              u32 R            words of the repair record that follows (0 unless the item
//                               took a slot that had a vector: repair.ts)
//              R words          per layer of the slot's old node, per old neighbour: u32 kept,
//                               then kept u16 positions in its sorted candidate set, 2 a word
//              lists x [u32 kept <= M, kept x u32 node]   from the top layer down to layer 0
//
// The block is reserved with the batch for as many items as one insert call takes (worst case:
// every item links every layer up to the batch's top level and keeps M on each), so recording
// cannot fail; each call starts it afresh, and the host copies it out after each call.

import { arenaFree, arenaGrow } from "../runtime/arena";
import { Index, levelOf, vectorAt } from "./graph";
import { rowDistance } from "./codes";

/** Words the trace of an item linking (and repairing) layers 0..level takes at most. */
@inline export function traceWordsFor(idx: Index, level: i32): u64 {
  const M0 = <u64>idx.M0;
  const M = <u64>idx.M;
  const repair = M0 * (1 + ((M0 + 1) >> 1)) + <u64>level * M * (1 + ((M + 1) >> 1));
  return 2 + <u64>(level + 1) * (1 + M) + repair;
}

/** Makes the trace hold `words` words and starts it empty, tracing on. False over budget. Cost: O(1), or one growth. */
export function beginTrace(idx: Index, words: u64): bool {
  if (words > <u64>idx.traceCap) {
    if (words > 0x3fffffff) return false;
    const p = arenaGrow(idx.trace, words << 2);
    if (p == 0) return false;
    idx.trace = p;
    idx.traceCap = <u32>words;
  }
  idx.traceUsed = 0;
  idx.tracing = true;
  return true;
}

/** Frees the trace block (after a large batch); tracing off. */
export function releaseTrace(idx: Index): void {
  arenaFree(idx.trace);
  idx.trace = 0;
  idx.traceCap = 0;
  idx.traceUsed = 0;
  idx.tracing = false;
}

/** Starts an item's record (no repair, no layers yet); returns its address. Cost: O(1). */
export function traceItem(idx: Index): usize {
  const at = idx.trace + (<usize>idx.traceUsed << 2);
  store<u32>(at, 0);
  store<u32>(at, 0, 4);
  idx.traceUsed += 2;
  return at;
}

/**
 * Appends to the item record at `item` one repaired list: `kept` nodes of idx.pruned, each as its
 * position in the `size` sorted candidates at `set`. Cost: O(kept log size).
 */
export function traceRepair(idx: Index, item: usize, set: usize, size: u32, kept: u32): void {
  let at = idx.trace + (<usize>idx.traceUsed << 2);
  store<u32>(at, kept);
  const words = (kept + 1) >> 1;
  memory.fill(at + 4, 0, <usize>words << 2);
  for (let i: u32 = 0; i < kept; i++) {
    store<u16>(at + 4 + (<usize>i << 1), <u16>positionIn(set, size, load<u32>(idx.pruned + (<usize>i << 3), 4)));
  }
  idx.traceUsed += 1 + words;
  store<u32>(item, load<u32>(item, 4) + 1 + words, 4);
}

/** Position of x in the `size` ascending u32s at set (x is one of them). Cost: O(log size). */
function positionIn(set: usize, size: u32, x: u32): u32 {
  let lo: u32 = 0;
  let hi = size;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (load<u32>(set + (<usize>mid << 2)) <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Reads a repaired list recorded at tp (end = past the repair record) into idx.pruned: the
 * nodes at the recorded positions of the `size` candidates at set (lastTracedKept() of them).
 * Returns the address past it, or 0 when it does not fit (more than max, a position past the
 * set, past the end). Cost: O(kept).
 */
export function readTracedRepair(idx: Index, set: usize, size: u32, max: u32, tp: usize, end: usize): usize {
  if (tp + 4 > end) return 0;
  const kept = load<u32>(tp);
  const words = (kept + 1) >> 1;
  if (kept > max || tp + ((<usize>words + 1) << 2) > end) return 0;
  for (let i: u32 = 0; i < kept; i++) {
    const at = <u32>load<u16>(tp + 4 + (<usize>i << 1));
    if (at >= size) return 0;
    store<u32>(idx.pruned + (<usize>i << 3), load<u32>(set + (<usize>at << 2)), 4);
  }
  tracedKept = kept;
  return tp + ((<usize>words + 1) << 2);
}

let tracedKept: u32 = 0;

/** How many nodes the last readTracedRepair put in idx.pruned. */
@inline export function lastTracedKept(): u32 {
  return tracedKept;
}

/** Appends a layer's `kept` chosen (distance, node) entries to the item record at `item`. Cost: O(kept). */
export function traceLayer(idx: Index, item: usize, chosen: usize, kept: u32): void {
  let at = idx.trace + (<usize>idx.traceUsed << 2);
  store<u32>(at, kept);
  for (let i: u32 = 0; i < kept; i++) {
    at += 4;
    store<u32>(at, load<u32>(chosen + (<usize>i << 3), 4));
  }
  idx.traceUsed += 1 + kept;
  store<u32>(item, load<u32>(item) + 1);
}

/**
 * Reads one layer's list from a trace at tp (end = first word past the trace) into idx.chosen as
 * (distance to q, node) pairs, the same entries the search gave. Returns kept, or -1 when the
 * list is not one node n could have chosen on `level` (too long, past the end, a node that is
 * n itself, out of range or below the layer). Cost: kept distances.
 */
export function readTracedLayer(idx: Index, n: u32, level: i32, tp: usize, end: usize): i32 {
  if (tp + 4 > end) return -1;
  const kept = load<u32>(tp);
  if (kept > <u32>idx.M || tp + ((<usize>kept + 1) << 2) > end) return -1;
  const q = vectorAt(idx, n);
  for (let i: u32 = 0; i < kept; i++) {
    const c = load<u32>(tp + (<usize>(i + 1) << 2));
    if (c >= idx.count || c == n || levelOf(idx, c) < level) return -1;
    const e = idx.chosen + (<usize>i << 3);
    store<f32>(e, rowDistance(idx, q, vectorAt(idx, c)));
    store<u32>(e, c, 4);
  }
  return <i32>kept;
}
