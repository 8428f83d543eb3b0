// Compaction: drops the removed nodes, relinks the live ones that linked to them, renumbers the
// live nodes breadth-first from the entry point (graph neighbours then sit near each other in
// memory) and gives the freed segments back to the arena.
//
//   perm      u32[count]   scratch: new position -> old node (the BFS order, then the removed
//                          nodes), the permutation the records move by
//   newOf     the nodes' in-degree words (graph.ts) hold old node -> new position meanwhile;
//             the in-degrees are recounted at the end
//   set       u32[M0 * (M0 + 1)]  one node's candidate set while it is relinked
//   upper     a new upper block, the live nodes' records in their new order (snapshots need
//             records in node order)
//   spare     one record, the one a permutation cycle carries
//   map       a smaller id map when one fits (else the old one is refilled)
//
// Steps, all infallible once the scratch is allocated (a shortfall changes nothing):
// 1. a removed entry point gives way to the live node of highest level;
// 2. every list of a live node that names removed nodes keeps its live members, and the places
//    of the removed ones go to the live nodes one hop away through them (two hops when those
//    and the members do not fill the list or it lost a third or more of its members: 4x faster
//    at 10% of GloVe removed than always two, as good; plus a search's results when that
//    leaves fewer than half a list) that the neighbour heuristic
//    accepts after those members; each newcomer links back when its list has room. (Choosing
//    whole lists again by the heuristic dropped the reverse links a build leaves, and with them
//    a tenth of the recall at low ef, at half of SIFT 10K removed);
// 3. breadth-first from the entry on layer 0; a live node no list reaches is linked from its
//    nearest reached node with room (or in place of that node's farthest link, which the orphan
//    then links to), so every live node is reachable when it ends;
// 4. links renamed, upper records copied in the new order, records moved along the
//    permutation's cycles, tombstones, id map and in-degrees rebuilt, slots past the live ones
//    given back and their side words zeroed (as a new segment's: an appended node there must
//    start as it would on this index loaded from its snapshot).
// 5. every live node made to reach the entry on layer 0 too (step 3 made the entry reach every
//    one), so layer 0 is strongly connected and every live node is reachable from wherever the
//    descent lands (docs/vector-index.md, "Reachability"): see leadBackToEntry.
// Cost: O(count * M0^2) distances for the relinking (plus rare searches), O(count * record)
// bytes moved; scratch 4 bytes a slot plus the upper block.

import { arenaAlloc, arenaBegin, arenaEnd, arenaFree } from "../runtime/arena";
import { mapCapacityFor } from "../util/idmap";
import { heapDrainAscending } from "../util/heap";
import {
  Index, isTombstoned, levelOf, linksAt, vectorAt, labelAt, setLabel, upperAtOf, setUpperAt, upperWords,
  inDegreeAt, recordAt, visitTagAt, clearVisitTags, releaseSlotsFrom, resetSlotsFrom, indexClear, mapLabels,
} from "./graph";
import { descendTo, lastGreedyDist, nextEpoch, searchLayer, MODE_QUERY } from "./search";
import { prepareNodeQuery, rowDistance } from "./codes";
import { nodeDistance } from "./filter";
import { chooseFrom } from "./repair";
import { countInDegrees } from "./indegree";
import { NONE } from "../runtime/status";


/** The scratch of one compaction (allocated by compactIndex, freed when it ends). */
let perm: usize = 0;
let set: usize = 0;
let setCap: u32 = 0;
let spare: usize = 0;
let smallerMap: usize = 0;

@inline function permAt(i: u32): usize {
  return perm + (<usize>i << 2);
}

@inline function newOf(idx: Index, n: u32): u32 {
  return load<u32>(inDegreeAt(idx, n));
}

/**
 * Compacts idx (see the header). False over budget, with the index and the arena as they were.
 * An index with no live node is cleared, its level generator kept. Cost: see the header.
 */
export function compactIndex(idx: Index): bool {
  const live = idx.count - idx.deleted;
  if (live == 0) {
    const rng = idx.rng;
    indexClear(idx, 0);
    idx.rng = rng;
    return true;
  }
  const mark = arenaBegin();
  setCap = <u32>idx.M0 * <u32>(idx.M0 + 1);
  perm = arenaAlloc(idx.count << 2);
  set = arenaAlloc(setCap << 2);
  spare = arenaAlloc(idx.recordBytes);
  const upper = arenaAlloc(idx.upperUsed << 2);
  if (!arenaEnd(mark, perm != 0 && set != 0 && spare != 0 && upper != 0)) return false;
  // Optional: without room for a smaller map, the old one is refilled in place.
  smallerMap = mapCapacityFor(live) < idx.mapCap ? arenaAlloc(mapCapacityFor(live) << 3) : 0;
  moveEntryToLive(idx);
  relinkAroundRemoved(idx);
  orderBreadthFirst(idx, live);
  renameLinks(idx);
  copyUpperInOrder(idx, live, upper);
  appendRemoved(idx, live);
  permuteNodes(idx);
  rebuild(idx, live);
  leadBackToEntry(idx, live);
  arenaFree(perm);
  arenaFree(set);
  arenaFree(spare);
  perm = 0;
  set = 0;
  spare = 0;
  return true;
}

/** Step 1: a removed entry point gives way to the first live node of the highest level. */
function moveEntryToLive(idx: Index): void {
  if (!isTombstoned(idx, <u32>idx.entry)) return;
  let best: i32 = -1;
  let bestLevel: i32 = -1;
  for (let n: u32 = 0; n < idx.count; n++) {
    if (isTombstoned(idx, n)) continue;
    const level = levelOf(idx, n);
    if (level > bestLevel) {
      best = <i32>n;
      bestLevel = level;
    }
  }
  idx.entry = best;
  idx.maxLevel = bestLevel;
}

/** Step 2: relinks every list of a live node that names a removed node. */
function relinkAroundRemoved(idx: Index): void {
  for (let n: u32 = 0; n < idx.count; n++) {
    if (isTombstoned(idx, n)) continue;
    const level = levelOf(idx, n);
    for (let l = 0; l <= level; l++) {
      if (namesRemoved(idx, linksAt(idx, n, l))) relinkList(idx, n, l);
    }
  }
}

@inline function namesRemoved(idx: Index, links: usize): bool {
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    if (isTombstoned(idx, load<u32>(links + (<usize>j << 2)))) return true;
  }
  return false;
}

/**
 * Relinks n's list on layer l (see step 2): its live members stay, and the places of the
 * removed ones go to candidates the heuristic accepts after those members; each newcomer links
 * back to n when its list has room. Lists are written as they are (in-degrees are recounted
 * later). Candidates are told apart by visit tags, so the set needs no sorting.
 */
function relinkList(idx: Index, n: u32, l: i32): void {
  const max = <u32>(l == 0 ? idx.M0 : idx.M);
  const links = linksAt(idx, n, l);
  const stay = keepLiveMembers(idx, n, links);
  let size = collectHops(idx, n, l, <u16>idx.epoch, false);
  const lost = load<u32>(links) - stay;   // its removed members
  if (stay + size < max || lost * 2 >= stay) size = collectHops(idx, n, l, <u16>idx.epoch, true, size);
  if (stay + size < (max >> 1)) size = addSearched(idx, n, l, size, stay);
  const kept = chooseFrom(idx, n, set, size, max, stay);
  store<u32>(links, 0);
  for (let i: u32 = 0; i < kept; i++) {
    const c = load<u32>(idx.pruned + (<usize>i << 3), 4);
    append(links, c);
    if (i < stay) continue;
    const back = linksAt(idx, c, l);
    if (load<u32>(back) < max && !names(back, n)) append(back, n);
  }
}

/** Starts a visit epoch with n and the live members of its list at `links` tagged, those written to idx.pruned as kept entries; returns how many. */
function keepLiveMembers(idx: Index, n: u32, links: usize): u32 {
  const epoch = <u16>nextEpoch(idx);
  const v = vectorAt(idx, n);
  store<u16>(visitTagAt(idx, n), epoch);
  let stay: u32 = 0;
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    const x = load<u32>(links + (<usize>j << 2));
    if (isTombstoned(idx, x)) continue;
    store<u16>(visitTagAt(idx, x), epoch);
    const e = idx.pruned + (<usize>stay << 3);
    store<f32>(e, rowDistance(idx, v, vectorAt(idx, x)));
    store<u32>(e, x, 4);
    stay++;
  }
  return stay;
}

/**
 * Adds to `set` (of `size`) the untagged live nodes one hop from n through the removed nodes
 * its list on l names, or with `twice`, two hops (tagging them); returns the new size.
 */
function collectHops(idx: Index, n: u32, l: i32, epoch: u16, twice: bool, size: u32 = 0): u32 {
  const links = linksAt(idx, n, l);
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    const x = load<u32>(links + (<usize>j << 2));
    if (!isTombstoned(idx, x)) continue;
    const hop = linksAt(idx, x, l);
    const hops = load<u32>(hop);
    for (let k: u32 = 1; k <= hops; k++) {
      const y = load<u32>(hop + (<usize>k << 2));
      if (!isTombstoned(idx, y)) {
        size = take(idx, y, epoch, size);
        continue;
      }
      if (!twice) continue;
      const far = linksAt(idx, y, l);
      const fars = load<u32>(far);
      for (let m: u32 = 1; m <= fars; m++) {
        const z = load<u32>(far + (<usize>m << 2));
        if (!isTombstoned(idx, z)) size = take(idx, z, epoch, size);
      }
    }
  }
  return size;
}

/** Appends x to `set` unless it is tagged with `epoch` or the set is full (setCap), tagging it; returns the new size. */
@inline function take(idx: Index, x: u32, epoch: u16, size: u32): u32 {
  const tag = visitTagAt(idx, x);
  if (load<u16>(tag) == epoch || size >= setCap) return size;
  store<u16>(tag, epoch);
  store<u32>(set + (<usize>size << 2), x);
  return size + 1;
}

/**
 * Appends to `set` the live nodes an efConstruction search of layer l finds for n that are not
 * n, its `stay` kept members or already in the set; returns the new size.
 */
function addSearched(idx: Index, n: u32, l: i32, size: u32, stay: u32): u32 {
  const q = prepareNodeQuery(idx, n);
  const ep = descendTo(idx, q, l);
  const found = searchLayer(idx, q, ep, lastGreedyDist(), <u32>idx.efConstruction, l, MODE_QUERY, n);
  const epoch = <u16>nextEpoch(idx);
  store<u16>(visitTagAt(idx, n), epoch);
  for (let i: u32 = 0; i < stay; i++) store<u16>(visitTagAt(idx, load<u32>(idx.pruned + (<usize>i << 3), 4)), epoch);
  for (let i: u32 = 0; i < size; i++) store<u16>(visitTagAt(idx, load<u32>(set + (<usize>i << 2))), epoch);
  for (let i: u32 = 0; i < found; i++) size = take(idx, load<u32>(idx.results + (<usize>i << 3), 4), epoch, size);
  return size;
}

/**
 * Step 3: breadth-first order of the live nodes from the entry on layer 0, into perm, with
 * newOf set for each; links every live node no list reaches (see linkOrphan) on the way.
 */
function orderBreadthFirst(idx: Index, live: u32): void {
  for (let n: u32 = 0; n < idx.count; n++) store<u32>(inDegreeAt(idx, n), NONE);
  let tail = place(idx, <u32>idx.entry, 0);
  let head: u32 = 0;
  let scan: u32 = 0;
  while (tail < live) {
    if (head == tail) {
      while (isTombstoned(idx, scan) || newOf(idx, scan) != NONE) scan++;
      linkOrphan(idx, scan);
      tail = place(idx, scan, tail);
    }
    const x = load<u32>(permAt(head++));
    const links = linksAt(idx, x, 0);
    const count = load<u32>(links);
    for (let j: u32 = 1; j <= count; j++) {
      const y = load<u32>(links + (<usize>j << 2));
      if (newOf(idx, y) == NONE) tail = place(idx, y, tail);
    }
  }
}

/** Gives node n the new position `at`; returns at + 1. */
@inline function place(idx: Index, n: u32, at: u32): u32 {
  store<u32>(inDegreeAt(idx, n), at);
  store<u32>(permAt(at), n);
  return at + 1;
}

/**
 * Links live node o, which no placed node's list names, from the nearest placed node whose list
 * has room; when none of those a layer-0 search from the entry finds has room, o takes the
 * place of the nearest one's farthest link, which o's own list then names (o's list is not yet
 * walked, so whatever it drops is placed later). Cost: one search.
 */
function linkOrphan(idx: Index, o: u32): void {
  const q = prepareNodeQuery(idx, o);
  const ep = <u32>idx.entry;
  const found = searchLayer(idx, q, ep, nodeDistance(idx, q, ep), <u32>idx.efConstruction, 0, MODE_QUERY, o);
  heapDrainAscending(idx.results, found, idx.sorted);
  let nearest = ep;
  for (let i: u32 = 0; i < found; i++) {
    const r = load<u32>(idx.sorted + (<usize>i << 3), 4);
    if (i == 0) nearest = r;
    const links = linksAt(idx, r, 0);
    if (load<u32>(links) < <u32>idx.M0) {
      append(links, o);
      return;
    }
  }
  const links = linksAt(idx, nearest, 0);
  const far = farthestIn(idx, nearest, links);
  const z = load<u32>(far);
  store<u32>(far, o);
  const own = linksAt(idx, o, 0);
  if (names(own, z)) return;
  if (load<u32>(own) < <u32>idx.M0) append(own, z);
  else store<u32>(farthestIn(idx, o, own), z);
}

@inline function names(links: usize, x: u32): bool {
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    if (load<u32>(links + (<usize>j << 2)) == x) return true;
  }
  return false;
}

@inline function append(links: usize, x: u32): void {
  const count = load<u32>(links);
  store<u32>(links + (<usize>(count + 1) << 2), x);
  store<u32>(links, count + 1);
}

/** Address of the member of n's (non-empty) list at `links` farthest from n. */
function farthestIn(idx: Index, n: u32, links: usize): usize {
  const v = vectorAt(idx, n);
  const count = load<u32>(links);
  let at = links + 4;
  let farDist: f32 = -Infinity;
  for (let j: u32 = 1; j <= count; j++) {
    const p = links + (<usize>j << 2);
    const d = rowDistance(idx, v, vectorAt(idx, load<u32>(p)));
    if (d > farDist) {
      farDist = d;
      at = p;
    }
  }
  return at;
}

/** Step 4a: every link of a live node, on every layer, renamed to its target's new position. */
function renameLinks(idx: Index): void {
  for (let n: u32 = 0; n < idx.count; n++) {
    if (isTombstoned(idx, n)) continue;
    const level = levelOf(idx, n);
    for (let l = 0; l <= level; l++) {
      const links = linksAt(idx, n, l);
      const count = load<u32>(links);
      for (let j: u32 = 1; j <= count; j++) {
        const p = links + (<usize>j << 2);
        store<u32>(p, newOf(idx, load<u32>(p)));
      }
    }
  }
}

/** Step 4b: the live nodes' upper records copied to `upper` in their new order; each node's upperAt set to its copy. */
function copyUpperInOrder(idx: Index, live: u32, upper: usize): void {
  let w: u32 = 1;
  for (let i: u32 = 0; i < live; i++) {
    const n = load<u32>(permAt(i));
    const at = upperAtOf(idx, n);
    if (at == 0) continue;
    const words = upperWords(idx, levelOf(idx, n));
    memory.copy(upper + (<usize>w << 2), idx.upper + (<usize>at << 2), <usize>words << 2);
    setUpperAt(idx, n, w);
    w += words;
  }
  store<u32>(upper, 0);
  arenaFree(idx.upper);
  idx.upper = upper;
  idx.upperCap = idx.upperUsed;
  idx.upperUsed = w;
}

/** Step 4c: the removed nodes take the positions past the live ones, so perm is a permutation of all slots. */
function appendRemoved(idx: Index, live: u32): void {
  let at = live;
  for (let n: u32 = 0; n < idx.count; n++) {
    if (isTombstoned(idx, n)) store<u32>(permAt(at++), n);
  }
}

/** Step 4d: position i gets old node perm[i]'s record, label and upperAt, cycle by cycle (perm[i] = i once done). */
function permuteNodes(idx: Index): void {
  const bytes = <usize>idx.recordBytes;
  for (let i: u32 = 0; i < idx.count; i++) {
    if (load<u32>(permAt(i)) == i) continue;
    memory.copy(spare, recordAt(idx, i), bytes);
    const label = labelAt(idx, i);
    const at = upperAtOf(idx, i);
    let j = i;
    while (true) {
      const from = load<u32>(permAt(j));
      store<u32>(permAt(j), j);
      if (from == i) {
        memory.copy(recordAt(idx, j), spare, bytes);
        setLabel(idx, j, label);
        setUpperAt(idx, j, at);
        break;
      }
      memory.copy(recordAt(idx, j), recordAt(idx, from), bytes);
      setLabel(idx, j, labelAt(idx, from));
      setUpperAt(idx, j, upperAtOf(idx, from));
      j = from;
    }
  }
}

/** Step 4e: the header, tombstones, id map, in-degrees and visit tags for `live` nodes in order; slots past them given back. */
function rebuild(idx: Index, live: u32): void {
  memory.fill(idx.tombs, 0, <usize>idx.tombWords << 2);
  idx.count = live;
  idx.deleted = 0;
  idx.reuseHint = 0;
  idx.entry = 0;
  releaseSlotsFrom(idx, live);
  resetSlotsFrom(idx, live);   // renumbering marks (newOf) and moved side words are stale there
  if (smallerMap != 0) {
    arenaFree(idx.map);
    idx.map = smallerMap;
    idx.mapCap = mapCapacityFor(live);
    smallerMap = 0;
  }
  memory.fill(idx.map, 0, <usize>idx.mapCap << 3);
  mapLabels(idx, live);
  idx.codesRows = 0; // the slots were renumbered
  countInDegrees(idx);
  clearVisitTags(idx);
  idx.epoch = 0;
  idx.decodedAt = 0;   // the f16 row cache names an address whose record may have moved
}

/**
 * Step 5: marks the nodes that reach the entry (node 0 now) on layer 0 and, while some do not,
 * links one of those, x, to the nearest marked node r a search finds: appended when x's list has
 * room, else in place of a member whose removal still leaves every node reached from the entry
 * (a full walk checks it). Each link marks x and everything that reaches it, so this ends.
 * Marks live in the in-degree words (recounted after), the walk's queue in perm. Cost: a few
 * sweeps of O(live * M0) list reads when nothing needs linking (the usual case), plus a search
 * and up to M0 walks for each link.
 */
function leadBackToEntry(idx: Index, live: u32): void {
  for (let n: u32 = 0; n < live; n++) store<u32>(inDegreeAt(idx, n), 0);
  store<u32>(inDegreeAt(idx, 0), 1);
  let marked = markReaching(idx, live, 1);
  while (marked < live) {
    if (!linkOneBack(idx, live)) break;   // not seen: every unmarked list full of links it cannot spare
    marked = markReaching(idx, live, marked);
  }
  countInDegrees(idx);
  clearVisitTags(idx);
  idx.epoch = 0;
}

@inline function isMarked(idx: Index, n: u32): bool {
  return load<u32>(inDegreeAt(idx, n)) != 0;
}

/** Marks every node whose layer-0 list names a marked node, until none is left (sweeps both ways); returns how many are marked. */
function markReaching(idx: Index, live: u32, marked: u32): u32 {
  let changed = true;
  while (changed) {
    changed = false;
    for (let i: u32 = 0; i < 2 * live; i++) {
      const n = i < live ? i : 2 * live - 1 - i;
      if (isMarked(idx, n)) continue;
      const links = linksAt(idx, n, 0);
      const count = load<u32>(links);
      for (let j: u32 = 1; j <= count; j++) {
        if (isMarked(idx, load<u32>(links + (<usize>j << 2)))) {
          store<u32>(inDegreeAt(idx, n), 1);
          marked++;
          changed = true;
          break;
        }
      }
    }
  }
  return marked;
}

/** Links one unmarked node to a marked one (see leadBackToEntry); false when no unmarked node can take a link. */
function linkOneBack(idx: Index, live: u32): bool {
  // An unmarked node with room first, else any whose list can spare a member.
  for (let pass = 0; pass < 2; pass++) {
    for (let x: u32 = 0; x < live; x++) {
      if (isMarked(idx, x)) continue;
      const links = linksAt(idx, x, 0);
      const full = load<u32>(links) >= <u32>idx.M0;
      if (pass == 0 && full) continue;
      const r = nearestMarked(idx, x);
      if (!full) {
        append(links, r);
        return true;
      }
      const count = load<u32>(links);
      for (let j: u32 = 1; j <= count; j++) {
        const at = links + (<usize>j << 2);
        const z = load<u32>(at);
        store<u32>(at, r);
        if (reachedFromEntry(idx, live) == live) return true;
        store<u32>(at, z);
      }
    }
  }
  return false;
}

/** The marked node nearest to x among those a layer-0 search from the entry finds (the entry when none). */
function nearestMarked(idx: Index, x: u32): u32 {
  const q = prepareNodeQuery(idx, x);
  const found = searchLayer(idx, q, 0, nodeDistance(idx, q, 0), <u32>idx.efConstruction, 0, MODE_QUERY, x);
  heapDrainAscending(idx.results, found, idx.sorted);
  for (let i: u32 = 0; i < found; i++) {
    const r = load<u32>(idx.sorted + (<usize>i << 3), 4);
    if (r != x && isMarked(idx, r)) return r;
  }
  return 0;
}

/** How many nodes a breadth-first walk of layer 0 from the entry reaches (queue in perm). */
function reachedFromEntry(idx: Index, live: u32): u32 {
  const epoch = <u16>nextEpoch(idx);
  store<u16>(visitTagAt(idx, 0), epoch);
  store<u32>(permAt(0), 0);
  let tail: u32 = 1;
  for (let head: u32 = 0; head < tail; head++) {
    const links = linksAt(idx, load<u32>(permAt(head)), 0);
    const count = load<u32>(links);
    for (let j: u32 = 1; j <= count; j++) {
      const y = load<u32>(links + (<usize>j << 2));
      const tag = visitTagAt(idx, y);
      if (load<u16>(tag) == epoch) continue;
      store<u16>(tag, epoch);
      store<u32>(permAt(tail++), y);
    }
  }
  return tail;
}
