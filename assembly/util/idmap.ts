// A flat open-addressing map from u32 keys to u32 values, linear probing.
//
//   base: [u32 key0 | u32 value0 + 1][u32 key1 | u32 value1 + 1] ...   capacity a power of two
//
// A slot whose stored value is 0 is empty, so every u32 key (0 and 0xFFFFFFFF included) and
// every value below 0xFFFFFFFF can be stored. Deletion shifts the following run back, so there
// are no tombstones and probes stay short. The owner keeps the count and grows (rehashes) the
// map before it would pass MAP_MAX_LOAD.

import { arenaGrow, arenaRetire } from "../runtime/arena";

export const MAP_MAX_LOAD: f64 = 0.7;
export const MAP_NOT_FOUND: i32 = -1;

@inline function hashKey(key: u32): u32 {
  key ^= key >> 16;
  key *= 0x7FEB352D;
  key ^= key >> 15;
  key *= 0x846CA68B;
  key ^= key >> 16;
  return key;
}

@inline function slotAt(base: usize, i: u32): usize {
  return base + (<usize>i << 3);
}

/** Smallest power-of-two capacity that holds `count` keys under MAP_MAX_LOAD (at most 2^31). */
export function mapCapacityFor(count: u32): u32 {
  let cap: u32 = 16;
  while (cap < 0x80000000 && <f64>count > <f64>cap * MAP_MAX_LOAD) cap <<= 1;
  return cap;
}

/** Value stored for `key`, or MAP_NOT_FOUND (also for a map not allocated yet, cap 0). Cost: O(1) expected. */
export function mapGet(base: usize, cap: u32, key: u32): i32 {
  if (cap == 0) return MAP_NOT_FOUND;
  const mask = cap - 1;
  let i = hashKey(key) & mask;
  while (true) {
    const p = slotAt(base, i);
    const v = load<u32>(p, 4);
    if (v == 0) return MAP_NOT_FOUND;
    if (load<u32>(p) == key) return <i32>(v - 1);
    i = (i + 1) & mask;
  }
}

/** Stores key -> value, replacing an existing value; returns true if the key is new. Needs a free slot. */
export function mapSet(base: usize, cap: u32, key: u32, value: u32): bool {
  const mask = cap - 1;
  let i = hashKey(key) & mask;
  while (true) {
    const p = slotAt(base, i);
    const v = load<u32>(p, 4);
    if (v == 0 || load<u32>(p) == key) {
      store<u32>(p, key);
      store<u32>(p, value + 1, 4);
      return v == 0;
    }
    i = (i + 1) & mask;
  }
}

/** Removes `key` if present (backward-shift deletion); returns whether it was there. */
export function mapDelete(base: usize, cap: u32, key: u32): bool {
  const mask = cap - 1;
  let i = hashKey(key) & mask;
  while (true) {
    const p = slotAt(base, i);
    if (load<u32>(p, 4) == 0) return false;
    if (load<u32>(p) == key) break;
    i = (i + 1) & mask;
  }
  let hole = i;
  let j = (i + 1) & mask;
  while (true) {
    const pj = slotAt(base, j);
    if (load<u32>(pj, 4) == 0) break;
    const home = hashKey(load<u32>(pj)) & mask;
    // Move j back into the hole unless its home lies cyclically in (hole, j].
    const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (!inRange) {
      store<u64>(slotAt(base, hole), load<u64>(pj));
      hole = j;
    }
    j = (j + 1) & mask;
  }
  store<u64>(slotAt(base, hole), 0);
  return true;
}

/**
 * Moves the map at `from` (capacity fromCap, 0 for none) into a new block of capacity toCap and
 * retires the old one (freed now, or when the transaction ends: an undo finds it as it was).
 * Returns the new block, or 0 over budget with the old map untouched. Cost: O(fromCap + toCap).
 */
export function mapRehashed(from: usize, fromCap: u32, toCap: u32): usize {
  const to = arenaGrow(0, <u64>toCap << 3);
  if (to == 0) return 0;
  memory.fill(to, 0, <usize>toCap << 3);
  for (let i: u32 = 0; i < fromCap; i++) {
    const p = slotAt(from, i);
    const v = load<u32>(p, 4);
    if (v != 0) mapSet(to, toCap, load<u32>(p), v - 1);
  }
  arenaRetire(from);
  return to;
}
