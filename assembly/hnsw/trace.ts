// Link traces: what each insertion of a traced batch chose, so a replay can skip the searches.
//
// An insertion's only expensive step is finding neighbours (an efConstruction search per layer);
// linking them in (reverse links, pruning) is cheap and depends only on the chosen lists. A
// traced batch writes, per item, the lists it chose; replaying them with connectTraced links the
// same nodes in the same order, so it rebuilds the very graph the search would have, at a
// fraction of the cost (the index store's log segments keep traces, src/persist/oplog.ts).
//
//   per item:  u32 lists        layers linked: min(level, maxLevel) + 1, or 0 (first node, or
//                               the only node replaced)
//              lists x [u32 kept <= M, kept x u32 node]   from the top layer down to layer 0
//
// The block is reserved with the batch for as many items as one insert call takes (worst case:
// every item links every layer up to the batch's top level and keeps M on each), so recording
// cannot fail; each call starts it afresh, and the host copies it out after each call.

import { arenaFree, arenaGrow } from "../alloc";
import { Index, levelOf, vectorAt } from "./graph";
import { distance } from "./search";

/** Words the trace of an item linking layers 0..level takes at most. */
@inline export function traceWordsFor(idx: Index, level: i32): u64 {
  return 1 + <u64>(level + 1) * <u64>(1 + idx.M);
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

/** Starts an item's record (no layers yet); returns its address. Cost: O(1). */
export function traceItem(idx: Index): usize {
  const at = idx.trace + (<usize>idx.traceUsed << 2);
  store<u32>(at, 0);
  idx.traceUsed++;
  return at;
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
    store<f32>(e, distance(idx, q, vectorAt(idx, c)));
    store<u32>(e, c, 4);
  }
  return <i32>kept;
}
