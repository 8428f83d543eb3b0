// The candidate heap of a layer search: a min-heap of (distance, node) over the segments.
//
//   entry i (8 bytes: f32 distance, u32 node) lives in segment i >> segShift's cand slice
//   (graph.ts, candidateAt): the heap spans as many segments as it has entries, so it holds up
//   to `capacity` entries (a search pushes each node once at most) and never needs a flat block
//   that grows by copying. Entry 0, the nearest candidate, is in segment 0.
//
// Unlike heap.ts's max-heaps over one block, keys are stored as they are (nearest on top).

import { Index, candidateAt } from "./graph";

/** Distance of the nearest candidate (entry 0). */
@inline export function candTopDist(idx: Index): f32 {
  return load<f32>(candidateAt(idx, 0));
}

/** Node of the nearest candidate (entry 0). */
@inline export function candTopNode(idx: Index): u32 {
  return load<u32>(candidateAt(idx, 0), 4);
}

@inline function put(p: usize, dist: f32, node: u32): void {
  store<f32>(p, dist);
  store<u32>(p, node, 4);
}

/** Pushes (dist, node) onto a heap of `size` entries; returns the new size. Cost: O(log size). */
export function candPush(idx: Index, size: u32, dist: f32, node: u32): u32 {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pp = candidateAt(idx, parent);
    const pd = load<f32>(pp);
    if (pd <= dist) break;
    put(candidateAt(idx, i), pd, load<u32>(pp, 4));
    i = parent;
  }
  put(candidateAt(idx, i), dist, node);
  return size + 1;
}

/** Removes the nearest entry of a heap of `size` (> 0) entries; returns the new size. Cost: O(log size). */
export function candPop(idx: Index, size: u32): u32 {
  const last = size - 1;
  if (last == 0) return 0;
  const lp = candidateAt(idx, last);
  const dist = load<f32>(lp);
  const node = load<u32>(lp, 4);
  let i: u32 = 0;
  while (true) {
    let child = (i << 1) + 1;
    if (child >= last) break;
    let cp = candidateAt(idx, child);
    let cd = load<f32>(cp);
    const right = child + 1;
    if (right < last) {
      const rp = candidateAt(idx, right);
      const rd = load<f32>(rp);
      if (rd < cd) {
        child = right;
        cp = rp;
        cd = rd;
      }
    }
    if (cd >= dist) break;
    put(candidateAt(idx, i), cd, load<u32>(cp, 4));
    i = child;
  }
  put(candidateAt(idx, i), dist, node);
  return last;
}
