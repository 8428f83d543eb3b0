// Staging blocks: where the host writes a call's inputs (a batch of ids, vectors or queries)
// and reads its outputs. A few numbered slots, each one arena block grown on demand and kept
// for the next call, so a hot path allocates nothing once warm.
//
//   slot 0: ids / first input    slot 1: vectors / queries    slot 2: outputs
//   slot 3: a search's allow-list (hnsw/filter.ts)

import { arenaAlloc, arenaBegin, arenaCapacity, arenaEnd, arenaFree, arenaSave } from "./arena";
import { STAGING_SLOTS } from "./status";

const SLOTS: i32 = STAGING_SLOTS;
const slots = memory.data(SLOTS * 4);

@inline function slotAddr(slot: i32): usize {
  return slots + (<usize>slot << 2);
}

/**
 * Address of a staging block of at least `bytes` for `slot` (0..3), or 0 over budget with the
 * slot's block as it was. Contents are not kept. Cost: O(1) when the block is large enough.
 */
export function stagingReserve(slot: i32, bytes: u32): usize {
  if (slot < 0 || slot >= SLOTS) return 0;
  const at = slotAddr(slot);
  const old = load<u32>(at);
  if (old != 0 && bytes <= arenaCapacity(old)) return old;
  // Free first so the new block can reuse the old one's room; a failure brings the old back.
  const mark = arenaBegin();
  arenaSave(at, 4);
  arenaFree(old);
  const fresh = arenaAlloc(bytes < 64 ? 64 : bytes);
  if (fresh != 0) store<u32>(at, fresh);
  arenaEnd(mark, fresh != 0);
  return fresh;
}

/** Gives every staging block back to the arena (after a large batch). */
export function stagingRelease(): void {
  arenaSave(slots, SLOTS * 4);
  for (let s = 0; s < SLOTS; s++) {
    arenaFree(load<u32>(slotAddr(s)));
    store<u32>(slotAddr(s), 0);
  }
}

