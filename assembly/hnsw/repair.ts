// Repair before a node is relinked: when a slot gets a new vector (an id added again, or a new
// id taking a removed slot), the nodes it linked to lose that in-link when its lists are
// rewritten, and a node whose only way in was through it would become unreachable. So, layer by
// layer, each of its old neighbours gets a fresh list chosen by the heuristic among its own
// list, the node (at its new place) and the node's old list: the old neighbours link among
// themselves where the heuristic finds it useful, which keeps the region connected once the node
// moves away (hnswlib's updatePoint repairs the same way, over two hops instead of one).
//
//   around   u32[3 * M0 + 1]   the node's old list (M0), then one neighbour's candidate set:
//                              its list, the node, the node's old list, sorted and deduplicated;
//                              then relist's copy of the list it replaces (M0, indegree.ts)
//
// Cost per layer: |list| * (2 |list| + 1) distances plus the heuristic, so a replacement costs
// about two inserts; an add of a new id into a fresh slot never comes here.

import { arenaGrow } from "../runtime/arena";
import { heapPush, heapPop, heapDrainAscending } from "../util/heap";
import { Index, levelOf, linksAt, vectorAt } from "./graph";
import { rowDistance } from "./codes";
import { selectNeighbours, writePruned } from "./select";
import { lastTracedKept, readTracedRepair, traceRepair } from "./trace";

/** Words the repair scratch takes, with relist's copy of the old list after them (indegree.ts). */
@inline function aroundWords(idx: Index): u64 {
  return 4 * <u64>idx.M0 + 1;
}

/** Makes the candidate-set scratch fit; false over budget (nothing changed). Cost: O(1), or one growth. */
export function ensureRepairScratch(idx: Index): bool {
  const words = aroundWords(idx);
  if (words <= <u64>idx.aroundCap) return true;
  const p = arenaGrow(idx.around, words << 2);
  if (p == 0) return false;
  idx.around = p;
  idx.aroundCap = <u32>words;
  return true;
}

/**
 * Gives every old neighbour of node n (whose new vector is in place, its lists still the old
 * ones) a fresh list on each of n's layers, recording each in the trace item at `record` unless
 * it is 0. Needs ensureRepairScratch. Cost: see the header.
 */
export function repairNeighbours(idx: Index, n: u32, record: usize): void {
  walkRepair(idx, n, record, 0, 0);
}

/**
 * repairNeighbours with the lists read from a trace's repair record (tp..end, which it must use
 * up exactly) instead of chosen by the heuristic. False when the record does not fit. Cost: the
 * candidate sets, no distances.
 */
export function repairFromTrace(idx: Index, n: u32, tp: usize, end: usize): bool {
  return walkRepair(idx, n, 0, tp, end) == end;
}

/**
 * The repair's walk over n's layers and old neighbours: each list is chosen by the heuristic
 * (and recorded at `record` unless 0), or, when tp is not 0, read from the record at tp..end.
 * Returns the address past what it read (tp when it read nothing), 0 when a record did not fit.
 */
function walkRepair(idx: Index, n: u32, record: usize, tp: usize, end: usize): usize {
  const level = levelOf(idx, n);
  const old = idx.around;
  const set = old + (<usize>idx.M0 << 2);
  for (let l = 0; l <= level; l++) {
    const links = linksAt(idx, n, l);
    const count = load<u32>(links);
    if (count == 0) continue;
    // Relinking may rescue orphans into n's own list: walk a copy of the old one.
    memory.copy(old, links + 4, <usize>count << 2);
    const max = <u32>(l == 0 ? idx.M0 : idx.M);
    for (let i: u32 = 0; i < count; i++) {
      const nb = load<u32>(old + (<usize>i << 2));
      const size = collectFor(idx, nb, n, old, count, set, l);
      let kept: u32;
      if (tp != 0) {
        tp = readTracedRepair(idx, set, size, max, tp, end);
        if (tp == 0) return 0;
        kept = lastTracedKept();
      } else {
        kept = chooseFrom(idx, nb, set, size, max);
        if (record != 0) traceRepair(idx, record, set, size, kept);
      }
      writePruned(idx, linksAt(idx, nb, l), l, kept);
    }
  }
  return tp;
}

/** Writes nb's list on `level`, n and n's `count` old neighbours at `old` to `set`, sorted and unique; returns how many. */
function collectFor(idx: Index, nb: u32, n: u32, old: usize, count: u32, set: usize, level: i32): u32 {
  const links = linksAt(idx, nb, level);
  const own = load<u32>(links);
  memory.copy(set, links + 4, <usize>own << 2);
  store<u32>(set + (<usize>own << 2), n);
  memory.copy(set + (<usize>(own + 1) << 2), old, <usize>count << 2);
  return sortUnique(set, own + 1 + count);
}

/** Sorts `size` u32s at p ascending (Shell sort: at most 2 M0 + 1 of them) and drops repeats; returns the new size. */
function sortUnique(p: usize, size: u32): u32 {
  for (let gap = size >> 1; gap > 0; gap >>= 1) {
    for (let i = gap; i < size; i++) {
      const v = load<u32>(p + (<usize>i << 2));
      let j = i;
      while (j >= gap && load<u32>(p + (<usize>(j - gap) << 2)) > v) {
        store<u32>(p + (<usize>j << 2), load<u32>(p + (<usize>(j - gap) << 2)));
        j -= gap;
      }
      store<u32>(p + (<usize>j << 2), v);
    }
  }
  let kept: u32 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const v = load<u32>(p + (<usize>i << 2));
    if (kept == 0 || load<u32>(p + (<usize>(kept - 1) << 2)) != v) {
      store<u32>(p + (<usize>kept << 2), v);
      kept++;
    }
  }
  return kept;
}

/**
 * Picks into idx.pruned at most `max` nodes by the heuristic among the efConstruction nearest
 * to nb of the `size` candidates at `set` (nb itself excluded; every one lives on the layer,
 * as lists of a layer only name such nodes), after the `already` nodes kept there before;
 * returns how many are kept in all. Cost: `size` distances plus the heuristic.
 */
export function chooseFrom(idx: Index, nb: u32, set: usize, size: u32, max: u32, already: u32 = 0): u32 {
  const v = vectorAt(idx, nb);
  const keep = <u32>idx.efConstruction;
  let found: u32 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const c = load<u32>(set + (<usize>i << 2));
    if (c == nb) continue;
    found = heapPush(idx.results, found, rowDistance(idx, v, vectorAt(idx, c)), c);
    if (found > keep) found = heapPop(idx.results, found);
  }
  heapDrainAscending(idx.results, found, idx.sorted);
  return selectNeighbours(idx, idx.sorted, found, max, idx.pruned, already);
}
