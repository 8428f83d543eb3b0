// Trajectory buffer: a fixed-capacity ring of transitions for replay, and its snapshot.
//
//   records   16 bytes each, capacity of them, one block allocated up front:
//     +0 u32 state   +4 u32 action | done << 31   +8 f32 reward   +12 u32 nextState
//   head      slot the next push writes; the oldest record is at (head - size) mod capacity
//
// A push into a full ring overwrites the oldest record. Samples and in-order reads are written
// as transition batches (batch.ts).
//
// Snapshot (little-endian; the host writes it and loads the records, src/qlearn/snapshot.ts;
// trajLoadBegin reads its header):
//   0   4  magic "EXTB" (45 58 54 42)      4   4  u32 format version (1)
//   8   4  u32 capacity                    12  4  u32 size (<= capacity)
//   16  8  u64 PRNG state (non-zero)       24  8  reserved, zero
//   32     size records as above, oldest first (rewards finite)
//   end-4  u32 CRC-32 of every byte before it

import { arenaAlloc, arenaBlockBytes, arenaFree } from "../runtime/arena";
import { prngSeed, prngNext, prngBelow } from "./prng";
import { batchActions, batchRewards, batchNextStates, batchDones } from "./batch";
import { LOAD_BUDGET, LOAD_CORRUPT } from "../runtime/status";

const RECORD: usize = 16;
const DONE_BIT: u32 = 0x80000000;
const MAGIC: u32 = 0x42545845;
const VERSION: u32 = 1;
const HEADER: u32 = 32;
export const MAX_TRAJECTORY_CAPACITY: u32 = 1 << 26;

@unmanaged export class Trajectory {
  capacity: u32;
  size: u32;
  head: u32;
  rng: u64;
  records: usize;
}

@inline function recordAt(t: Trajectory, slot: u32): usize {
  return t.records + <usize>slot * RECORD;
}

/** Slot of the i-th oldest record (i < size). */
@inline function slotOf(t: Trajectory, i: u32): u32 {
  const s = t.head + t.capacity - t.size + i;
  return s >= t.capacity ? s - t.capacity : s;
}

/** An empty ring of `capacity` (1..MAX_TRAJECTORY_CAPACITY) records, or 0 over budget. Cost: O(1). */
export function trajAlloc(capacity: u32, seed: u32): Trajectory {
  const ptr = arenaAlloc(offsetof<Trajectory>());
  if (ptr == 0) return changetype<Trajectory>(0);
  const records = arenaAlloc(capacity * <u32>RECORD);
  if (records == 0) {
    arenaFree(ptr);
    return changetype<Trajectory>(0);
  }
  const t = changetype<Trajectory>(ptr);
  t.capacity = capacity;
  t.size = 0;
  t.head = 0;
  t.rng = prngSeed(seed);
  t.records = records;
  return t;
}

/** Frees the ring and its header. Cost: O(1). */
export function trajFree(t: Trajectory): void {
  arenaFree(t.records);
  arenaFree(changetype<usize>(t));
}

/** Appends a transition (action < 2^31), overwriting the oldest when full. Cost: O(1). */
export function trajPush(t: Trajectory, s: u32, a: u32, r: f32, s2: u32, done: bool): void {
  const p = recordAt(t, t.head);
  store<u32>(p, s);
  store<u32>(p, done ? a | DONE_BIT : a, 4);
  store<f32>(p, r, 8);
  store<u32>(p, s2, 12);
  t.head = t.head + 1 == t.capacity ? 0 : t.head + 1;
  if (t.size < t.capacity) t.size++;
}

/** Forgets every record (the PRNG keeps its state). Cost: O(1). */
export function trajClear(t: Trajectory): void {
  t.size = 0;
  t.head = 0;
}

/** Copies the record in `slot` to item i of the n-transition batch at out. */
@inline function copyOut(t: Trajectory, slot: u32, out: usize, n: u32, i: u32): void {
  const p = recordAt(t, slot);
  const o = <usize>i << 2;
  const word = load<u32>(p, 4);
  store<u32>(out + o, load<u32>(p));
  store<u32>(out + batchActions(n) + o, word & ~DONE_BIT);
  store<f32>(out + batchRewards(n) + o, load<f32>(p, 8));
  store<u32>(out + batchNextStates(n) + o, load<u32>(p, 12));
  store<u32>(out + batchDones(n) + o, word >> 31);
}

/** Writes n records drawn uniformly with replacement (size > 0) as a batch at out. Cost: O(n). */
export function trajSample(t: Trajectory, n: u32, out: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    t.rng = prngNext(t.rng);
    copyOut(t, slotOf(t, prngBelow(t.rng, t.size)), out, n, i);
  }
}

/** Writes every record, oldest first, as a batch of size transitions at out. Cost: O(size). */
export function trajOrdered(t: Trajectory, out: usize): void {
  for (let i: u32 = 0; i < t.size; i++) copyOut(t, slotOf(t, i), out, t.size, i);
}

/** Arena bytes the ring holds: its header and its records. Cost: O(1). */
export function trajBytes(t: Trajectory): u32 {
  return arenaBlockBytes(changetype<usize>(t)) + arenaBlockBytes(t.records);
}

/**
 * The byte length the HEADER bytes at p announce, or 0 when they are not a trajectory header
 * (magic, version, capacity, size <= capacity). Reads nothing past the header. Cost: O(1).
 */
export function trajAnnouncedLength(p: usize): u64 {
  const capacity = load<u32>(p, 8);
  const size = load<u32>(p, 12);
  if (load<u32>(p) != MAGIC || load<u32>(p, 4) != VERSION || capacity == 0 ||
      capacity > MAX_TRAJECTORY_CAPACITY || size > capacity) return 0;
  return <u64>HEADER + <u64>size * RECORD + 4;
}

/**
 * A ring for the snapshot whose header is at p, its size, head and generator set: the host
 * writes the size records, oldest first, into slots 0.. (the host checked the bytes' length,
 * checksum and rewards). LOAD_CORRUPT for a header out of range (also a zero generator state or
 * reserved word), LOAD_BUDGET when the ring does not fit; nothing allocated either way. Cost: O(1).
 */
export function trajLoadBegin(p: usize): usize {
  if (trajAnnouncedLength(p) == 0 || load<u64>(p, 16) == 0 || load<u64>(p, 24) != 0) return LOAD_CORRUPT;
  const t = trajAlloc(load<u32>(p, 8), 0);
  if (changetype<usize>(t) == 0) return LOAD_BUDGET;
  t.size = load<u32>(p, 12);
  t.head = t.size == t.capacity ? 0 : t.size;
  t.rng = load<u64>(p, 16);
  return changetype<usize>(t);
}
