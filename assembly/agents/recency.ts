// An agent cache's recency order: which resident agents were used least recently, and which
// are pinned (in use by the caller) and so never chosen for eviction. One header per cache.
//
//   header (Recency): entries, slots (capacity), lru, mru, resident
//   entries: per agent slot s (the host numbers its agents 0..), 12 bytes at entries + s*12:
//     +0 u32 prev   slot used just before s (NONE = s is the least recent)
//     +4 u32 next   slot used just after s  (NONE = s is the most recent)
//     +8 u32 flags  bit 31 = resident, bits 0..30 = pin count
//   lru .. mru: a doubly linked list through the resident slots, oldest first
//
// Touch, pin and removal are O(1); victims are walked from the oldest end, skipping pins.

import { arenaAlloc, arenaFree, arenaRealloc } from "../runtime/arena";
import { NONE } from "../runtime/status";

const RESIDENT: u32 = 0x80000000;
const ENTRY: u32 = 12;
// Entry fields (byte offsets from an entry's address; see the layout above).
const ENTRY_PREV: u32 = 0;
const ENTRY_NEXT: u32 = 4;
const ENTRY_FLAGS: u32 = 8;

@unmanaged class Recency {
  entries: usize;
  slots: u32;
  lru: u32;
  mru: u32;
  resident: u32;
}

@inline function entry(c: Recency, s: u32): usize {
  return c.entries + <usize>s * <usize>ENTRY;
}

@inline function asRecency(h: usize): Recency {
  return changetype<Recency>(h);
}

/** A new, empty recency order; its handle, or 0 over budget. */
export function cacheCreate(): usize {
  const h = arenaAlloc(offsetof<Recency>());
  if (h == 0) return 0;
  const c = asRecency(h);
  c.entries = 0;
  c.slots = 0;
  c.lru = NONE;
  c.mru = NONE;
  c.resident = 0;
  return h;
}

/** Frees a recency order. */
export function cacheDispose(h: usize): void {
  arenaFree(asRecency(h).entries);
  arenaFree(h);
}

/** Makes room for slots 0..n-1. Returns false over budget (nothing changed). Cost: O(n) when growing. */
export function cacheReserve(h: usize, n: u32): bool {
  const c = asRecency(h);
  if (n <= c.slots) return true;
  let cap: u32 = c.slots < 16 ? 16 : c.slots * 2;
  if (cap < n) cap = n;
  const p = arenaRealloc(c.entries, cap * ENTRY);
  if (p == 0) return false;
  c.entries = p;
  memory.fill(entry(c, c.slots), 0, <usize>(cap - c.slots) * <usize>ENTRY);
  c.slots = cap;
  return true;
}

function unlink(c: Recency, s: u32): void {
  const e = entry(c, s);
  const prev = load<u32>(e, ENTRY_PREV);
  const next = load<u32>(e, ENTRY_NEXT);
  if (prev != NONE) store<u32>(entry(c, prev), next, ENTRY_NEXT);
  else c.lru = next;
  if (next != NONE) store<u32>(entry(c, next), prev, ENTRY_PREV);
  else c.mru = prev;
}

/** Marks slot s (reserved) the most recently used, making it resident if it was not. Cost: O(1). */
export function cacheTouch(h: usize, s: u32): void {
  const c = asRecency(h);
  const e = entry(c, s);
  const flags = load<u32>(e, ENTRY_FLAGS);
  if ((flags & RESIDENT) != 0) {
    if (c.mru == s) return;
    unlink(c, s);
  } else {
    store<u32>(e, RESIDENT, ENTRY_FLAGS);
    c.resident++;
  }
  store<u32>(e, c.mru, ENTRY_PREV);
  store<u32>(e, NONE, ENTRY_NEXT);
  if (c.mru != NONE) store<u32>(entry(c, c.mru), s, ENTRY_NEXT);
  else c.lru = s;
  c.mru = s;
}

/** Takes slot s out of the order (after eviction); its pins are dropped. Cost: O(1). */
export function cacheRemove(h: usize, s: u32): void {
  const c = asRecency(h);
  if (s >= c.slots) return;
  const e = entry(c, s);
  if ((load<u32>(e, ENTRY_FLAGS) & RESIDENT) == 0) return;
  unlink(c, s);
  store<u32>(e, 0, ENTRY_FLAGS);
  c.resident--;
}

/** Adds delta to slot s's pin count (never below 0); returns the new count. Cost: O(1). */
export function cachePin(h: usize, s: u32, delta: i32): u32 {
  const e = entry(asRecency(h), s);
  const flags = load<u32>(e, ENTRY_FLAGS);
  let pins = <i32>(flags & ~RESIDENT) + delta;
  if (pins < 0) pins = 0;
  store<u32>(e, (flags & RESIDENT) | <u32>pins, ENTRY_FLAGS);
  return <u32>pins;
}

/** Resident slots. */
export function cacheResident(h: usize): u32 {
  return asRecency(h).resident;
}

/**
 * The least recently used unpinned resident slot used after slot `after` (NONE: from the
 * oldest), or NONE when there is none: the host walks victims one call at a time, so choosing
 * them needs no memory. Cost: O(1 + pinned slots skipped).
 */
export function cacheNextVictim(h: usize, after: u32): u32 {
  const c = asRecency(h);
  let s = after == NONE ? c.lru : load<u32>(entry(c, after), ENTRY_NEXT);
  while (s != NONE && (load<u32>(entry(c, s), ENTRY_FLAGS) & ~RESIDENT) != 0) s = load<u32>(entry(c, s), ENTRY_NEXT);
  return s;
}
