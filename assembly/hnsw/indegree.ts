// Layer-0 reachability. The invariant (docs/vector-index.md, "Reachability"): layer 0, over every slot (removed
// ones included, as searches walk through them), is strongly connected, so every live node is
// reachable from wherever the upper-layer descent lands. It holds by construction:
// - a new node links to at least one node (the heuristic keeps its nearest) and, if no reverse
//   link took, is linked from one of its neighbours (linkIn), or else from the first list with
//   room a walk from it meets, so it joins the component (the one case left open: every list
//   that walk meets full, and no neighbour able to spare a member; never seen);
// - a layer-0 list only loses a member x when a path from the list's owner to x remains without
//   that link: relist() walks breadth-first from the new list (a bounded walk) and, for each
//   dropped member it does not reach, appends x back to the list when it has room, else to the
//   list of the new list's nearest member with room (a path of two hops), else keeps the old
//   list as it was. So a prune, a repair or a replaced node's new list never cuts a path.
// The in-degrees (how many layer-0 lists name each node) are kept too: a new node with none
// needs linkIn, and linkIn only displaces members that others also link to.
//
//   indeg    u32 per node       how many layer-0 lists name the node (graph.ts; recounted on load)
//   dropped  u32[M0]            the members relist() dropped
//   saved    u32[M0] after the repair scratch in idx.around (repair.ts): the list relist replaces
//   queue    a walk's queue: the candidate heap's slices in the segments (candidates.ts), which
//            hold a word for every node and are free between searches
//
// Cost: O(M0) per list change, plus, when it drops members, a walk that ends as soon as it has
// found them (usually in the first lists it reads; at most the queue's length lists). An orphan
// (in-degree 0) is first linked from its nearest neighbour that can take it, as before.

import { heapPush, heapDrainAscending } from "../util/heap";
import { Index, inDegreeAt, linksAt, publishCount, vectorAt, visitTagAt } from "./graph";
import { rowDistance } from "./codes";
import { nextEpoch } from "./search";
import { candWordAt } from "./candidates";

/**
 * Nodes a walk meets at most: SIFT 10K at M 16 builds the same graph as with an unbounded walk
 * (with 1,024 + M0^2, 18 lists of 10,000 differed). It bounds the cost of a walk that finds no
 * path (its fallbacks are safe whatever the bound), not memory.
 */
@inline function walkBound(idx: Index): u32 {
  return <u32>idx.M0 * <u32>idx.M0 + 16384;
}

/** Address of relist's copy of the list it replaces (M0 words after the repair's scratch). */
@inline function savedList(idx: Index): usize {
  return idx.around + (<usize>(3 * idx.M0 + 1) << 2);
}

/** Address of queue entry i of a walk: the candidate heap's slices (candidates.ts), free between searches, with room for every node. */
@inline function queueAt(idx: Index, i: u32): usize {
  return candWordAt(idx.segments, idx.segShift, i);
}

/** Recounts every node's in-degree from the layer-0 lists (after a load). Cost: O(n * M0). */
export function countInDegrees(idx: Index): void {
  for (let n: u32 = 0; n < idx.count; n++) store<u32>(inDegreeAt(idx, n), 0);
  for (let n: u32 = 0; n < idx.count; n++) {
    const links = linksAt(idx, n, 0);
    const count = load<u32>(links);
    for (let j: u32 = 1; j <= count; j++) {
      const p = inDegreeAt(idx, load<u32>(links + (<usize>j << 2)));
      store<u32>(p, load<u32>(p) + 1);
    }
  }
}

/**
 * Makes the layer-0 list at `links` hold the `count` nodes read from `src` (u32s `step` bytes
 * apart: for an (f32, u32) entry array pass its address + 4 and step 8), keeping in-degrees,
 * and keeps a path to every member it drops (see the header); `reachable` says the caller has
 * checked a path to each of them (parallel.ts), so no walk is needed. Needs ensureRepairScratch.
 * Cost: O(M0), plus the walk when it drops members.
 */
export function relist(idx: Index, links: usize, src: usize, step: usize, count: u32, reachable: bool = false): void {
  const old = load<u32>(links);
  const saved = savedList(idx);
  memory.copy(saved, links + 4, <usize>old << 2);
  for (let i: u32 = 0; i < count; i++) {
    const x = load<u32>(src + <usize>i * step);
    store<u32>(links + (<usize>(i + 1) << 2), x);
    addInDegree(idx, x, 1);
  }
  publishCount(links, count);
  let lost: u32 = 0;
  for (let j: u32 = 0; j < old; j++) {
    const x = load<u32>(saved + (<usize>j << 2));
    addInDegree(idx, x, -1);
    if (!names(links, x)) {
      store<u32>(idx.dropped + (<usize>lost << 2), x);
      lost++;
    }
  }
  if (lost == 0 || reachable) return;
  const epoch = walkFinds(idx, links, idx.dropped, lost);
  for (let j: u32 = 0; j < lost; j++) {
    const x = load<u32>(idx.dropped + (<usize>j << 2));
    if (load<u16>(visitTagAt(idx, x)) == epoch) continue;
    // An orphan is first linked from its nearest neighbour that can take it (as builds always did),
    // appended only: this list may still be restored below, and a member displaced elsewhere on
    // the strength of a path through its new members would then have lost its last way in.
    if (load<u32>(inDegreeAt(idx, x)) == 0) {
      linkIn(idx, x, false);
      if (walkMeets(idx, links, x)) continue;
    }
    if (load<u32>(links) < <u32>idx.M0) appendLink(idx, links, x);
    else if (!adoptNear(idx, links, x)) {
      restore(idx, links, saved, old);
      return;
    }
  }
}

/** Whether the list at `links` names x. */
@inline function names(links: usize, x: u32): bool {
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    if (load<u32>(links + (<usize>j << 2)) == x) return true;
  }
  return false;
}

/** Sets the layer-0 list at `links` back to the `old` nodes at saved, keeping in-degrees. */
function restore(idx: Index, links: usize, saved: usize, old: u32): void {
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) addInDegree(idx, load<u32>(links + (<usize>j << 2)), -1);
  memory.copy(links + 4, saved, <usize>old << 2);
  publishCount(links, old);
  for (let j: u32 = 0; j < old; j++) addInDegree(idx, load<u32>(saved + (<usize>j << 2)), 1);
}

/**
 * Walks layer 0 breadth-first from the members of the list at `links` (at most the queue's
 * length nodes), until it has met the `count` targets at `targets`; returns the visit epoch it
 * tagged the nodes it met with (a target it met has that tag). Cost: the lists it reads.
 */
function walkFinds(idx: Index, links: usize, targets: usize, count: u32): u16 {
  // Two epochs: targets are tagged with the first, met nodes with the second (no wrap between).
  let mark = nextEpoch(idx);
  if (mark == 0xFFFF) mark = nextEpoch(idx);
  const epoch = <u16>nextEpoch(idx);
  for (let j: u32 = 0; j < count; j++) store<u16>(visitTagAt(idx, load<u32>(targets + (<usize>j << 2))), <u16>mark);
  const cap = walkBound(idx);
  let left = count;
  let tail: u32 = 0;
  const members = load<u32>(links);
  for (let j: u32 = 1; j <= members && left > 0; j++) {
    const y = load<u32>(links + (<usize>j << 2));
    const tag = visitTagAt(idx, y);
    if (load<u16>(tag) == epoch) continue;
    if (load<u16>(tag) == <u16>mark) left--;
    store<u16>(tag, epoch);
    store<u32>(queueAt(idx, tail), y);
    tail++;
  }
  for (let head: u32 = 0; head < tail && left > 0; head++) {
    const list = linksAt(idx, load<u32>(queueAt(idx, head)), 0);
    const n = load<u32>(list);
    for (let j: u32 = 1; j <= n; j++) {
      const y = load<u32>(list + (<usize>j << 2));
      const tag = visitTagAt(idx, y);
      if (load<u16>(tag) == epoch) continue;
      if (load<u16>(tag) == <u16>mark) left--;
      store<u16>(tag, epoch);
      if (tail < cap) {
        store<u32>(queueAt(idx, tail), y);
        tail++;
      }
    }
  }
  return epoch;
}

/** Whether a walk from the members of the list at `links` meets x (see walkFinds). */
function walkMeets(idx: Index, links: usize, x: u32): bool {
  // The target is read before the queue is written over it.
  const target = queueAt(idx, 0);
  store<u32>(target, x);
  const epoch = walkFinds(idx, links, target, 1);
  return load<u16>(visitTagAt(idx, x)) == epoch;
}

/** Appends x to the list of the member (not x) of the list at `links` nearest to it whose list has room; false when none has. */
function adoptNear(idx: Index, links: usize, x: u32): bool {
  const xv = vectorAt(idx, x);
  const count = load<u32>(links);
  let best: u32 = 0;
  let bestDist: f32 = Infinity;
  let found = false;
  for (let j: u32 = 1; j <= count; j++) {
    const y = load<u32>(links + (<usize>j << 2));
    if (y == x || load<u32>(linksAt(idx, y, 0)) >= <u32>idx.M0) continue;
    const d = rowDistance(idx, xv, vectorAt(idx, y));
    if (!found || d < bestDist) {
      best = y;
      bestDist = d;
      found = true;
    }
  }
  if (!found) return false;
  appendLink(idx, linksAt(idx, best, 0), x);
  return true;
}

@inline function addInDegree(idx: Index, x: u32, delta: i32): void {
  const p = inDegreeAt(idx, x);
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}

/** Appends x to the layer-0 list at `links` (which has room). Cost: O(1). */
export function appendLink(idx: Index, links: usize, x: u32): void {
  const count = load<u32>(links);
  store<u32>(links + (<usize>(count + 1) << 2), x);
  publishCount(links, count + 1);
  addInDegree(idx, x, 1);
}

/**
 * Links node x, which no layer-0 list names (a new node none of whose reverse links took), from
 * the nearest of its own neighbours that can take it: appended to a list with room, or, with
 * `displace`, in place of a member that the list's other members still lead to (checked by the
 * walk). Uses idx.results and idx.sorted. Cost: O(M0) distances per neighbour tried, plus the walks.
 */
export function linkIn(idx: Index, x: u32, displace: bool = true): void {
  const links = linksAt(idx, x, 0);
  const count = load<u32>(links);
  const xv = vectorAt(idx, x);
  let size: u32 = 0;
  for (let j: u32 = 1; j <= count; j++) {
    const y = load<u32>(links + (<usize>j << 2));
    size = heapPush(idx.results, size, rowDistance(idx, xv, vectorAt(idx, y)), y);
  }
  heapDrainAscending(idx.results, size, idx.sorted);
  for (let i: u32 = 0; i < size; i++) {
    if (adoptInto(idx, load<u32>(idx.sorted + (<usize>i << 3), 4), x, displace)) return;
  }
  linkFromRoom(idx, x);
}

/**
 * linkIn's last resort: appends x to the first list with room a breadth-first walk from x's own
 * list meets (any node of the component leads to x then). Leaves x as it is only when every list
 * the walk meets is full (never seen). Cost: the lists it reads.
 */
function linkFromRoom(idx: Index, x: u32): void {
  const epoch = <u16>nextEpoch(idx);
  const cap = walkBound(idx);
  store<u16>(visitTagAt(idx, x), epoch);
  store<u32>(queueAt(idx, 0), x);
  let tail: u32 = 1;
  for (let head: u32 = 0; head < tail; head++) {
    const list = linksAt(idx, load<u32>(queueAt(idx, head)), 0);
    const n = load<u32>(list);
    for (let j: u32 = 1; j <= n; j++) {
      const y = load<u32>(list + (<usize>j << 2));
      const tag = visitTagAt(idx, y);
      if (load<u16>(tag) == epoch) continue;
      store<u16>(tag, epoch);
      const links = linksAt(idx, y, 0);
      if (load<u32>(links) < <u32>idx.M0) {
        appendLink(idx, links, x);
        return;
      }
      if (tail < cap) {
        store<u32>(queueAt(idx, tail), y);
        tail++;
      }
    }
  }
}

/**
 * Puts x into y's layer-0 list: appended if it has room, else (with `displace`) in place of its
 * farthest member still reached without that link. False when neither is possible.
 */
function adoptInto(idx: Index, y: u32, x: u32, displace: bool): bool {
  const links = linksAt(idx, y, 0);
  const count = load<u32>(links);
  if (count < <u32>idx.M0) {
    appendLink(idx, links, x);
    return true;
  }
  if (!displace) return false;
  // Members from the farthest, each tried in x's place until the walk still meets it.
  const yv = vectorAt(idx, y);
  let size: u32 = 0;
  for (let j: u32 = 1; j <= count; j++) {
    size = heapPush(idx.results, size, -rowDistance(idx, yv, vectorAt(idx, load<u32>(links + (<usize>j << 2)))), j);
  }
  heapDrainAscending(idx.results, size, idx.pruned);
  for (let i: u32 = 0; i < size; i++) {
    const at = links + (<usize>load<u32>(idx.pruned + (<usize>i << 3), 4) << 2);
    const z = load<u32>(at);
    if (load<u32>(inDegreeAt(idx, z)) < 2) continue;
    store<u32>(at, x);
    if (walkMeets(idx, links, z)) {
      addInDegree(idx, z, -1);
      addInDegree(idx, x, 1);
      return true;
    }
    store<u32>(at, z);
  }
  return false;
}
