// The candidate heap of a layer search: a min-heap of (distance, node) over the segments.
//
//   entry i (8 bytes: f32 distance, u32 node) lives in segment i >> segShift's cand slice
//   (graph.ts): the heap spans as many segments as it has entries, so it holds up
//   to `capacity` entries (a search pushes each node once at most) and never needs a flat block
//   that grows by copying. Entry 0, the nearest candidate, is in segment 0.
//
// Unlike heap.ts's max-heaps over one block, keys are stored as they are (nearest on top). The
// functions take the segment table and shift (the search keeps them in locals) rather than the
// index, whose fields the engine would reload after every store.

import { CANDIDATES_AT } from "./graph";

/**
 * Address of entry i: in segment i >> shift, after its labels and upperAt (8 bytes a node each).
 * The first segment's slice (`first`, entries below 1 << shift, where nearly every search stays)
 * needs no table lookup.
 */
@inline function entryAt(table: usize, shift: u32, first: usize, i: u32): usize {
  const mask = (<u32>1 << shift) - 1;
  if (i <= mask) return first + (<usize>i << 3);
  return <usize>load<u32>(table + (<usize>(i >> shift) << 2)) + (<usize>CANDIDATES_AT << shift) + (<usize>(i & mask) << 3);
}

/** Address of entry 0, the nearest candidate, [f32 distance, u32 node]: the start of the first segment's slice. */
@inline export function candTop(table: usize, shift: u32): usize {
  return <usize>load<u32>(table) + (<usize>CANDIDATES_AT << shift);
}

/** Address of entry i's u32 word (its node's place): relist's layer-0 walk uses the slices as its queue between searches (indegree.ts). */
@inline export function candWordAt(table: usize, shift: u32, i: u32): usize {
  return entryAt(table, shift, <usize>load<u32>(table) + (<usize>8 << shift), i) + 4;
}

@inline function put(p: usize, dist: f32, node: u32): void {
  store<f32>(p, dist);
  store<u32>(p, node, 4);
}

/** Pushes (dist, node) onto a heap of `size` entries; returns the new size. Cost: O(log size). */
export function candPush(table: usize, shift: u32, first: usize, size: u32, dist: f32, node: u32): u32 {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pp = entryAt(table, shift, first, parent);
    const pd = load<f32>(pp);
    if (pd <= dist) break;
    put(entryAt(table, shift, first, i), pd, load<u32>(pp, 4));
    i = parent;
  }
  put(entryAt(table, shift, first, i), dist, node);
  return size + 1;
}

/** Removes the nearest entry of a heap of `size` (> 0) entries; returns the new size. Cost: O(log size). */
export function candPop(table: usize, shift: u32, first: usize, size: u32): u32 {
  const last = size - 1;
  if (last == 0) return 0;
  const lp = entryAt(table, shift, first, last);
  const dist = load<f32>(lp);
  const node = load<u32>(lp, 4);
  let i: u32 = 0;
  while (true) {
    let child = (i << 1) + 1;
    if (child >= last) break;
    let cp = entryAt(table, shift, first, child);
    let cd = load<f32>(cp);
    const right = child + 1;
    if (right < last) {
      const rp = entryAt(table, shift, first, right);
      const rd = load<f32>(rp);
      if (rd < cd) {
        child = right;
        cp = rp;
        cd = rd;
      }
    }
    if (cd >= dist) break;
    put(entryAt(table, shift, first, i), cd, load<u32>(cp, 4));
    i = child;
  }
  put(entryAt(table, shift, first, i), dist, node);
  return last;
}
