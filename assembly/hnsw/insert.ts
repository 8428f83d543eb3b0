// HNSW insertion, replacement and removal (Malkov & Yashunin, algorithms 1 and 4).
//
// An add is two steps. reserveAdds(ids) draws one level per item (a seeded xorshift64*, so the
// graph is reproducible) and grows every block the batch could need: slots, id map, upper-link
// words, all at worst case. Only if that all succeeds does insertItem run for each item, and it
// cannot fail. So a batch that does not fit the budget changes nothing.
//
// An item whose id exists (live or removed) takes its old slot; a new id reuses a removed slot
// when there is one (keeping that slot's level) or appends one. A slot that had a vector
// before first has its old neighbours relinked among themselves (repair.ts), so none is left
// reachable only through links the node is about to drop. Either way the node is then
// (re)linked: descend to its level, search each layer with efConstruction, keep M neighbours
// chosen by the heuristic, and add reverse links, pruning a full list with the same heuristic.
//
// A traced batch also records the lists each item chose (trace.ts); insertTracedItem links an
// item from such a record instead of searching, with the same result.

import { arenaEnd, arenaFree } from "../runtime/arena";
import { mapGet, mapSet, mapDelete } from "../util/idmap";
import { heapPush, heapDrainAscending } from "../util/heap";
import {
  Index, vectorAt, labelAt, isTombstoned, setTombstone, levelOf, linksAt,
  upperWords, ensureCapacity, ensureMap, ensureUpper, ensureLevels, appendUpperRecord, drawLevel,
  beginIndexChange, setLabel, setUpperAt, inDegreeAt, publishCount,
} from "./graph";
import { descendTo, lastGreedyDist, searchLayer, MODE_BUILD } from "./search";
import { beginTrace, readTracedLayer, traceItem, traceLayer, traceWordsFor } from "./trace";
import { ensureRepairScratch, repairFromTrace, repairNeighbours } from "./repair";
import { appendLink, linkIn, relist } from "./indegree";
import { prepareNodeQuery, rowDistance, storeRow } from "./codes";
import { codesStale } from "./scan-codes";
import { selectNeighbours, writePruned } from "./select";

/**
 * Draws levels for the n ids at idsPtr and reserves room for all of them, and, when traceRows
 * > 0, for the trace of that many items (each insert call of the batch then traces its items,
 * at most traceRows). Returns false, with the index (its PRNG included) and the arena as they
 * were, when the budget does not allow it. Cost: O(n).
 */
export function reserveAdds(idx: Index, idsPtr: usize, n: u32, traceRows: u32): bool {
  const mark = beginIndexChange(idx);
  idx.tracing = false;
  return arenaEnd(mark, ensureLevels(idx, n) && reserveDrawn(idx, idsPtr, n, traceRows));
}

/** reserveAdds' work once the level array holds n entries. */
function reserveDrawn(idx: Index, idsPtr: usize, n: u32, traceRows: u32): bool {
  // Items that may take a slot: new ids, and removed ids coming back (a new id earlier in the
  // batch may have taken a removed id's slot). Removed slots serve them in order while any
  // are left, so only takers past the first `deleted` can append a node (and its upper record).
  let takers: u32 = 0;
  let words: u64 = 0;
  // No item links above the highest level there will be (an item can get a slot of any level).
  let top = idx.maxLevel;
  for (let i: u32 = 0; i < n; i++) {
    const level = drawLevel(idx);
    store<u8>(idx.levels + i, <u8>level);
    if (level > top) top = level;
    const node = mapGet(idx.map, idx.mapCap, load<u32>(idAt(idsPtr, i)));
    if (node < 0 || isTombstoned(idx, <u32>node)) {
      if (takers >= idx.deleted) words += <u64>upperWords(idx, level);
      takers++;
    }
  }
  const appends = takers > idx.deleted ? takers - idx.deleted : 0;
  return ensureCapacity(idx, idx.count + appends) && ensureMap(idx, idx.count + appends) &&
    ensureUpper(idx, words) && ensureRepairScratch(idx) && (traceRows == 0 || beginTrace(idx, <u64>traceRows * traceWordsFor(idx, top)));
}

/** Address of id i in an id array (u32 each). */
@inline function idAt(idsPtr: usize, i: u32): usize {
  return idsPtr + (<usize>i << 2);
}

/** First removed slot at or after the reuse hint (there is one: idx.deleted > 0). */
function takeRemovedSlot(idx: Index): u32 {
  let word = idx.reuseHint;
  const words = (idx.count + 31) >> 5;
  while (true) {
    if (word >= words) word = 0;
    const bits = load<u32>(idx.tombs + (<usize>word << 2));
    if (bits != 0) {
      idx.reuseHint = word;
      return (word << 5) + ctz(bits);
    }
    word++;
  }
}

/**
 * Adds or replaces one item of a reserved batch: id, its vector (dim floats at vec), and the
 * level drawn for it at position `item`. Cost: O(efConstruction * M * log) distance evaluations.
 */
export function insertItem(idx: Index, id: u32, vec: usize, item: u32): void {
  const node = placeItem(idx, id, vec, item);
  const record = idx.tracing ? traceItem(idx) : 0;
  if (placedOverOld && idx.count > 1) repairNeighbours(idx, node, record);
  connect(idx, node, record);
}

/**
 * insertItem linking the node to the lists recorded at tp (a trace ending at end) instead of
 * searching for them. Returns the address past the item's record, or 0 when the record does not
 * fit the index (the batch must then be abandoned). Cost: O(M * links) distance evaluations.
 */
export function insertTracedItem(idx: Index, id: u32, vec: usize, item: u32, tp: usize, end: usize): usize {
  const node = placeItem(idx, id, vec, item);
  if (tp + 8 > end) return 0;
  const lists = load<u32>(tp);
  const repairEnd = tp + 8 + (<usize>load<u32>(tp, 4) << 2);
  if (repairEnd > end) return 0;
  if (placedOverOld && idx.count > 1) {
    if (!repairFromTrace(idx, node, tp + 8, repairEnd)) return 0;
  } else if (repairEnd != tp + 8) {
    return 0;
  }
  return connectTraced(idx, node, lists, repairEnd, end);
}

/** Whether the last placeItem gave its item a slot that had a vector before (so it repairs). */
let placedOverOld = false;

/**
 * Gives an item its slot (see the header), label and vector; returns the node, and says in
 * placedOverOld whether the slot had a vector before (its old neighbours then need the repair
 * of repair.ts). Cost: O(dim).
 */
export function placeItem(idx: Index, id: u32, vec: usize, item: u32): u32 {
  let node = mapGet(idx.map, idx.mapCap, id);
  const replaced = node >= 0 || idx.deleted > 0;
  if (node >= 0) {
    if (isTombstoned(idx, <u32>node)) {
      setTombstone(idx, <u32>node, false);
      idx.deleted--;
    }
  } else if (idx.deleted > 0) {
    node = <i32>takeRemovedSlot(idx);
    mapDelete(idx.map, idx.mapCap, labelAt(idx, <u32>node));
    setTombstone(idx, <u32>node, false);
    idx.deleted--;
    setLabel(idx, <u32>node, id);
    mapSet(idx.map, idx.mapCap, id, <u32>node);
    if (id != <u32>node) idx.mixedLabels = true;
  } else {
    node = <i32>idx.count;
    idx.count++;
    const level = <i32>load<u8>(idx.levels + item);
    const at = level > 0 ? appendUpperRecord(idx, level) : 0;
    setUpperAt(idx, <u32>node, at);
    setLabel(idx, <u32>node, id);
    store<u32>(linksAt(idx, <u32>node, 0), 0);
    setTombstone(idx, <u32>node, false);
    mapSet(idx.map, idx.mapCap, id, <u32>node);
    if (id != <u32>node) idx.mixedLabels = true;
  }
  storeRow(idx, vectorAt(idx, <u32>node), vec);
  codesStale(idx, <u32>node);
  placedOverOld = replaced;
  return <u32>node;
}

/**
 * Links node n (its vector and level already set) into every layer up to its level, recording
 * the lists it chose in the trace item at `record` unless that is 0.
 */
export function connect(idx: Index, n: u32, record: usize): void {
  const level = levelOf(idx, n);
  if (idx.entry < 0) {
    idx.entry = <i32>n;
    idx.maxLevel = level;
    return;
  }
  if (idx.count == 1) return;
  const q = prepareNodeQuery(idx, n);
  let ep = descendTo(idx, q, level);
  let d = lastGreedyDist();
  const top = level < idx.maxLevel ? level : idx.maxLevel;
  for (let l = top; l >= 0; l--) {
    const found = searchLayer(idx, q, ep, d, <u32>idx.efConstruction, l, MODE_BUILD, n);
    let kept: u32 = 0;
    if (found > 0) {
      heapDrainAscending(idx.results, found, idx.sorted);
      d = load<f32>(idx.sorted);
      ep = load<u32>(idx.sorted, 4);
      kept = selectNeighbours(idx, idx.sorted, found, <u32>idx.M, idx.chosen);
    }
    if (record != 0) traceLayer(idx, record, idx.chosen, kept);
    linkLayer(idx, n, l, kept);
  }
  joinIn(idx, n);
  raiseEntry(idx, n, level);
}

/** Links n from a neighbour when no layer-0 list names it (no reverse link took): see indegree.ts. */
@inline export function joinIn(idx: Index, n: u32): void {
  if (load<u32>(inDegreeAt(idx, n)) == 0) linkIn(idx, n);
}

/** connect with the `lists` layer lists recorded from tp on (see insertTracedItem). */
function connectTraced(idx: Index, n: u32, lists: u32, tp: usize, end: usize): usize {
  const level = levelOf(idx, n);
  if (idx.entry < 0) {
    idx.entry = <i32>n;
    idx.maxLevel = level;
    return lists == 0 ? tp : 0;
  }
  if (idx.count == 1) return lists == 0 ? tp : 0;
  const top = level < idx.maxLevel ? level : idx.maxLevel;
  if (lists != <u32>(top + 1)) return 0;
  for (let l = top; l >= 0; l--) {
    const kept = readTracedLayer(idx, n, l, tp, end);
    if (kept < 0) return 0;
    linkLayer(idx, n, l, <u32>kept);
    tp += (<usize>kept + 1) << 2;
  }
  joinIn(idx, n);
  raiseEntry(idx, n, level);
  return tp;
}

/** Makes node n of `level` the entry point if it is above every other. */
@inline function raiseEntry(idx: Index, n: u32, level: i32): void {
  if (level > idx.maxLevel) {
    idx.entry = <i32>n;
    idx.maxLevel = level;
  }
}

/**
 * Sets n's list on `level` to the `kept` nodes in idx.chosen and links each of them back to n.
 * `pre` (0: none): layer-0 prunes computed ahead for each of them (parallel.ts), preWords words
 * apart. Cost: kept reverse links.
 */
export function linkLayer(idx: Index, n: u32, level: i32, kept: u32, pre: usize = 0, preWords: u32 = 0): void {
  const links = linksAt(idx, n, level);
  if (level == 0) {
    relist(idx, links, idx.chosen + 4, 8, kept);
  } else {
    for (let i: u32 = 0; i < kept; i++) store<u32>(links + (<usize>(i + 1) << 2), load<u32>(idx.chosen + (<usize>i << 3), 4));
    publishCount(links, kept);
  }
  for (let i: u32 = 0; i < kept; i++) {
    const e = idx.chosen + (<usize>i << 3);
    addReverseLink(idx, load<u32>(e, 4), n, load<f32>(e), level, pre == 0 ? 0 : pre + ((<usize>i * <usize>preWords) << 2));
  }
}

/** A prune computed ahead's `kept` word when none was (the list had room). */
export const PRUNE_NONE: u32 = 0xFFFFFFFF;

/** A 64-bit FNV-1a hash of the `count` members of the list at links: tells a prune computed ahead that the list is still the one it saw. */
export function listHash(links: usize, count: u32): u64 {
  let h: u64 = 0xCBF29CE484222325 ^ <u64>count;
  for (let j: u32 = 1; j <= count; j++) h = (h ^ <u64>load<u32>(links + (<usize>j << 2))) * 0x100000001B3;
  return h;
}

/**
 * Adds n to c's list on `level` (dist = their distance), pruning a full list by the heuristic.
 * `pre` (layer 0; 0: none): a prune computed ahead (u64 listHash of the list it saw, u32 kept,
 * kept u32 ids), used when the list is still that one: the same list either way.
 */
function addReverseLink(idx: Index, c: u32, n: u32, dist: f32, level: i32, pre: usize = 0): void {
  const links = linksAt(idx, c, level);
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    if (load<u32>(links + (<usize>j << 2)) == n) return;
  }
  const max = <u32>(level == 0 ? idx.M0 : idx.M);
  if (count < max) {
    if (level == 0) {
      appendLink(idx, links, n);
    } else {
      store<u32>(links + (<usize>(count + 1) << 2), n);
      publishCount(links, count + 1);
    }
    return;
  }
  if (level == 0 && pre != 0 && load<u32>(pre, 8) != PRUNE_NONE && load<u64>(pre) == listHash(links, count)) {
    const kept = load<u32>(pre, 8);
    const walked = pre + 12 + (<usize>idx.M0 << 2);
    relist(idx, links, pre + 12, 4, kept, load<u32>(walked) == 1 && pathsHold(idx, links, count, pre + 12, kept, walked + 4));
    return;
  }
  writePruned(idx, links, level, prunedWith(idx, c, n, dist, links, count, max));
}

/** Nodes before the target a path found ahead holds at most (parallel.ts walkAhead). */
export const PATH_NODES: u32 = 3;

/** Whether the list at links names x. */
@inline function listNames(links: usize, x: u32): bool {
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    if (load<u32>(links + (<usize>j << 2)) == x) return true;
  }
  return false;
}

/** Whether the `kept` ids at ids include x. */
@inline export function idsHold(ids: usize, kept: u32, x: u32): bool {
  for (let i: u32 = 0; i < kept; i++) {
    if (load<u32>(ids + (<usize>i << 2)) == x) return true;
  }
  return false;
}

/**
 * Whether every member of the list at links (count of them) that the `kept` ids at ids drop is
 * still reached, on layer 0 as it is now, by the path found ahead for it: paths holds, per
 * dropped member in list order, PATH_NODES nodes (PRUNE_NONE past the path's end) from one of
 * the kept ids to the member. Cost: O(dropped * PATH_NODES * M0).
 */
function pathsHold(idx: Index, links: usize, count: u32, ids: usize, kept: u32, paths: usize): bool {
  let d: usize = 0;
  for (let j: u32 = 1; j <= count; j++) {
    const x = load<u32>(links + (<usize>j << 2));
    if (idsHold(ids, kept, x)) continue;
    const path = paths + ((d * <usize>PATH_NODES) << 2);
    d++;
    let v = load<u32>(path);
    if (v == PRUNE_NONE || !idsHold(ids, kept, v)) return false;
    for (let i: u32 = 1; i <= PATH_NODES; i++) {
      const next = i < PATH_NODES ? load<u32>(path + (<usize>i << 2)) : PRUNE_NONE;
      const to = next == PRUNE_NONE ? x : next;
      if (!listNames(linksAt(idx, v, 0), to)) return false;
      if (next == PRUNE_NONE) break;
      v = next;
    }
  }
  return true;
}

/**
 * The heuristic's choice among c's list (at links, count members) and n (at dist), at most max:
 * the kept pairs go to idx.pruned; returns how many. Writes nothing else but scratch.
 */
export function prunedWith(idx: Index, c: u32, n: u32, dist: f32, links: usize, count: u32, max: u32): u32 {
  const cv = vectorAt(idx, c);
  let size = heapPush(idx.results, 0, dist, n);
  for (let j: u32 = 1; j <= count; j++) {
    const other = load<u32>(links + (<usize>j << 2));
    size = heapPush(idx.results, size, rowDistance(idx, cv, vectorAt(idx, other)), other);
  }
  heapDrainAscending(idx.results, size, idx.sorted);
  return selectNeighbours(idx, idx.sorted, size, max, idx.pruned);
}

/** Tombstones the node of `id`; returns whether a live node had it. Cost: O(1). */
export function removeId(idx: Index, id: u32): bool {
  const node = mapGet(idx.map, idx.mapCap, id);
  if (node < 0 || isTombstoned(idx, <u32>node)) return false;
  setTombstone(idx, <u32>node, true);
  idx.deleted++;
  return true;
}

/** Frees the per-batch level array once a large batch is done. */
export function releaseLevels(idx: Index): void {
  arenaFree(idx.levels);
  idx.levels = 0;
  idx.levelsCap = 0;
}
