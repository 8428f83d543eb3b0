// Layer-0 in-degrees and orphan rescue. The neighbour heuristic prunes lists, and a prune (or a
// replaced node's rewritten list) can drop a node's last in-link on layer 0: no search reaches
// it again, although it is live. So every layer-0 list change goes through relist(), which keeps
// each node's in-degree, and a node whose in-degree falls to 0 is linked again at once from the
// nearest of its own neighbours that can take it: appended to a list with room, or in place of
// that list's farthest member that other nodes also link to (which so keeps an in-link).
//
//   indeg    u32 per node       how many layer-0 lists name the node (graph.ts; recounted on load)
//   dropped  u32[M0]            the list relist() is replacing, to check what it dropped
//
// Cost: O(M0) per list change, plus a rescue's O(M0^2) distances in the rare case it is needed.

import { heapPush, heapDrainAscending } from "../util/heap";
import { Index, inDegreeAt, linksAt, vectorAt } from "./graph";
import { rowDistance } from "./codes";

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
 * then rescues every node of the old list that nobody links to now. Cost: O(M0), plus rescues.
 */
export function relist(idx: Index, links: usize, src: usize, step: usize, count: u32): void {
  const old = load<u32>(links);
  memory.copy(idx.dropped, links + 4, <usize>old << 2);
  for (let i: u32 = 0; i < count; i++) {
    const x = load<u32>(src + <usize>i * step);
    store<u32>(links + (<usize>(i + 1) << 2), x);
    addInDegree(idx, x, 1);
  }
  store<u32>(links, count);
  for (let j: u32 = 0; j < old; j++) addInDegree(idx, load<u32>(idx.dropped + (<usize>j << 2)), -1);
  for (let j: u32 = 0; j < old; j++) {
    const x = load<u32>(idx.dropped + (<usize>j << 2));
    if (load<u32>(inDegreeAt(idx, x)) == 0) rescue(idx, x);
  }
}

@inline function addInDegree(idx: Index, x: u32, delta: i32): void {
  const p = inDegreeAt(idx, x);
  store<u32>(p, <u32>(<i32>load<u32>(p) + delta));
}

/** Appends x to the layer-0 list at `links` (which has room). Cost: O(1). */
export function appendLink(idx: Index, links: usize, x: u32): void {
  const count = load<u32>(links);
  store<u32>(links + (<usize>(count + 1) << 2), x);
  store<u32>(links, count + 1);
  addInDegree(idx, x, 1);
}

/**
 * Links orphan x again from the nearest of its own layer-0 neighbours that can take it (see the
 * header); leaves it as it is when none can (each of those lists is full of nodes that only it
 * links to). Uses idx.results and idx.sorted. Cost: O(M0) distances per neighbour tried.
 */
function rescue(idx: Index, x: u32): void {
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
    if (adoptInto(idx, load<u32>(idx.sorted + (<usize>i << 3), 4), x)) return;
  }
}

/** Puts x into y's layer-0 list: appended if it has room, else in place of its farthest member whose in-degree is 2 or more. False when neither is possible. */
function adoptInto(idx: Index, y: u32, x: u32): bool {
  const links = linksAt(idx, y, 0);
  const count = load<u32>(links);
  if (count < <u32>idx.M0) {
    appendLink(idx, links, x);
    return true;
  }
  const yv = vectorAt(idx, y);
  let far: u32 = 0;
  let farDist: f32 = -Infinity;
  for (let j: u32 = 1; j <= count; j++) {
    const z = load<u32>(links + (<usize>j << 2));
    if (load<u32>(inDegreeAt(idx, z)) < 2) continue;
    const d = rowDistance(idx, yv, vectorAt(idx, z));
    if (d > farDist) {
      farDist = d;
      far = j;
    }
  }
  if (far == 0) return false;
  const at = links + (<usize>far << 2);
  addInDegree(idx, load<u32>(at), -1);
  store<u32>(at, x);
  addInDegree(idx, x, 1);
  return true;
}
