// The neighbour-selection heuristic (Malkov & Yashunin, algorithm 4) and the list writer that
// applies its choice; insert.ts (new links, reverse links) and repair.ts (relinking) share them.

import { Index, publishCount, vectorAt } from "./graph";
import { rowDistance } from "./codes";
import { relist } from "./indegree";

/**
 * The neighbour-selection heuristic: walks `count` (distance, node) pairs in ascending order and
 * keeps a node only if it is closer to the base than to every node kept so far, up to `max`.
 * Writes the kept pairs to out after the `already` kept there before, and returns how many are
 * kept in all. Cost: O(count * max) distances.
 */
export function selectNeighbours(idx: Index, sorted: usize, count: u32, max: u32, out: usize, already: u32 = 0): u32 {
  let kept = already;
  for (let i: u32 = 0; i < count && kept < max; i++) {
    const e = sorted + (<usize>i << 3);
    const de = load<f32>(e);
    const node = load<u32>(e, 4);
    const v = vectorAt(idx, node);
    let good = true;
    for (let j: u32 = 0; j < kept; j++) {
      const r = load<u32>(out + (<usize>j << 3), 4);
      if (rowDistance(idx, v, vectorAt(idx, r)) < de) {
        good = false;
        break;
      }
    }
    if (good) {
      const o = out + (<usize>kept << 3);
      store<f32>(o, de);
      store<u32>(o, node, 4);
      kept++;
    }
  }
  return kept;
}

/** Sets the list at `links` on `level` to the `kept` nodes in idx.pruned (layer 0 through relist, which keeps in-degrees). */
export function writePruned(idx: Index, links: usize, level: i32, kept: u32): void {
  if (level == 0) {
    relist(idx, links, idx.pruned + 4, 8, kept);
    return;
  }
  for (let i: u32 = 0; i < kept; i++) {
    store<u32>(links + (<usize>(i + 1) << 2), load<u32>(idx.pruned + (<usize>i << 3), 4));
  }
  publishCount(links, kept);
}
