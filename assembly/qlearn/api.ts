// The Q-learning ABI: flat functions over handles (header addresses) of Q-tables and
// trajectory buffers. Status codes are the engine's (runtime/status.ts); loaders return a handle,
// or LOAD_BUDGET (0) over budget, or LOAD_CORRUPT (1) for bytes that are not a valid snapshot (handles are 16-byte aligned,
// never 1). The host validates every argument before it calls in.

import { QTable, qtableAlloc, qtableFree, qtableBytes, findRow, rowValues, rowVisits } from "./qtable";
import { updateOne, updateBatch, bestAction, selectAction, decayEpsilon } from "./learn";
import { mergeTables } from "./merge";
import { loadBegin, loadFinish, announcedLength } from "./snapshot";
import {
  Trajectory, trajAlloc, trajFree, trajPush, trajClear, trajSample, trajOrdered,
  trajBytes, trajLoadBegin, trajAnnouncedLength,
} from "./trajectory";
import { STATUS_OK, STATUS_BUDGET } from "../runtime/status";


@inline function asTable(h: usize): QTable {
  return changetype<QTable>(h);
}

@inline function asTrajectory(h: usize): Trajectory {
  return changetype<Trajectory>(h);
}

/** Creates an empty Q-table; returns its handle, or 0 over budget. Cost: O(actions). */
export function qtableCreate(
  actions: i32, alpha: f64, gamma: f64, epsilon: f64, epsilonDecay: f64, epsilonMin: f64,
  initial: f64, seed: u32,
): usize {
  return changetype<usize>(qtableAlloc(actions, alpha, gamma, epsilon, epsilonDecay, epsilonMin, initial, seed));
}

/** Frees a Q-table and all its blocks. */
export function qtableDispose(h: usize): void {
  qtableFree(asTable(h));
}

/** Number of actions of a table. */
export function qtableActions(h: usize): i32 {
  return asTable(h).actions;
}

/** Parameter `which` of a table: 0 alpha, 1 gamma, 2 initial, 3 epsilon, 4 epsilonDecay, 5 epsilonMin. */
export function qtableParam(h: usize, which: i32): f64 {
  const t = asTable(h);
  switch (which) {
    case 0: return t.alpha;
    case 1: return t.gamma;
    case 2: return t.initial;
    case 3: return t.epsilon;
    case 4: return t.epsilonDecay;
    default: return t.epsilonMin;
  }
}

/** States with a row. Cost: O(1). */
export function qtableSize(h: usize): u32 {
  return asTable(h).count;
}

/** Q(s, a), `initial` when s has no row. Cost: O(1). */
export function qtableGet(h: usize, s: u32, a: u32): f32 {
  const t = asTable(h);
  const r = findRow(t, s);
  return r < 0 ? <f32>t.initial : load<f32>(rowValues(t, <u32>r) + (<usize>a << 2));
}

/** Visits of (s, a), 0 when s has no row. Cost: O(1). */
export function qtableVisits(h: usize, s: u32, a: u32): u32 {
  const t = asTable(h);
  const r = findRow(t, s);
  return r < 0 ? 0 : load<u32>(rowVisits(t, <u32>r) + (<usize>a << 2));
}

/** Address of s's row (actions floats), or 0 when s has no row. Cost: O(1). */
export function qtableRow(h: usize, s: u32): usize {
  const t = asTable(h);
  const r = findRow(t, s);
  return r < 0 ? 0 : rowValues(t, <u32>r);
}

/** Applies one transition; 0, or -1 over budget (table unchanged). Then qtableLastValue gives the new Q. */
export function qtableUpdate(h: usize, s: u32, a: u32, r: f32, s2: u32, done: bool): i32 {
  return updateOne(asTable(h), s, a, r, s2, done) ? STATUS_OK : STATUS_BUDGET;
}

/** The Q value the last qtableUpdate wrote. */
export function qtableLastValue(h: usize): f32 {
  return asTable(h).lastValue;
}

/**
 * Applies the n transitions of the batch block at `batch` (layout in batch.ts) in order; 0, or
 * -1 over budget (table unchanged). Consumes the block. Cost: O(n * actions).
 */
export function qtableBatchUpdate(h: usize, batch: usize, n: u32): i32 {
  return updateBatch(asTable(h), batch, n) ? STATUS_OK : STATUS_BUDGET;
}

/** Greedy action of s (lowest on ties). Cost: O(actions). */
export function qtableBestAction(h: usize, s: u32): u32 {
  return bestAction(asTable(h), s);
}

/** Epsilon-greedy action of s from the table's PRNG. Cost: O(actions). */
export function qtableSelectAction(h: usize, s: u32): u32 {
  return selectAction(asTable(h), s);
}

/** Decays epsilon (floored at epsilonMin); returns the new epsilon. */
export function qtableDecayEpsilon(h: usize): f64 {
  const t = asTable(h);
  decayEpsilon(t);
  return t.epsilon;
}

/** Merges table `other` into h with `weight` (merge.ts); 0, or -1 over budget (h unchanged). */
export function qtableMerge(h: usize, other: usize, weight: f64): i32 {
  return mergeTables(asTable(h), asTable(other), weight) ? STATUS_OK : STATUS_BUDGET;
}

// What the host's snapshot writer (src/qlearn/snapshot.ts) reads a table's blocks through.

/** Address of row 0 (rows are qtableStride(h) * 8 bytes: stride f32 values, then stride u32 visits). */
export function qtableRows(h: usize): usize {
  return asTable(h).rows;
}

/** Floats per row: actions padded to a multiple of 4. */
export function qtableStride(h: usize): i32 {
  return asTable(h).stride;
}

/** Address of the u32 state keys, one per row. */
export function qtableKeys(h: usize): usize {
  return asTable(h).keys;
}

/** The state of the table's generator (selectAction). */
export function qtableRng(h: usize): u64 {
  return asTable(h).rng;
}

/** Arena bytes the table holds, header and blocks. Cost: O(1). */
export function qtableFootprint(h: usize): u32 {
  return qtableBytes(asTable(h));
}

/** Bytes the 80-byte table snapshot header at p announces, or 0 for a header out of range. Cost: O(1). */
export function qtableSnapshotLength(p: usize): f64 {
  return <f64>announcedLength(p);
}

/**
 * Checks the 80-byte table snapshot header at p and allocates its table with room for every row:
 * a handle (the host writes the rows into its blocks, then calls qtableLoadFinish), 0 over
 * budget, 1 corrupt, nothing allocated. Cost: O(actions).
 */
export function qtableLoadBegin(p: usize): usize {
  return loadBegin(p);
}

/** Builds the state map of a table qtableLoadBegin made: 1, or 0 for a repeated key (the table freed). Cost: O(rows). */
export function qtableLoadFinish(h: usize): i32 {
  return loadFinish(asTable(h)) ? 1 : 0;
}

/** Creates an empty trajectory ring of `capacity` records; its handle, or 0 over budget. */
export function trajectoryCreate(capacity: u32, seed: u32): usize {
  return changetype<usize>(trajAlloc(capacity, seed));
}

/** Frees a trajectory ring. */
export function trajectoryDispose(h: usize): void {
  trajFree(asTrajectory(h));
}

/** Appends a transition, overwriting the oldest when full. Cost: O(1). */
export function trajectoryPush(h: usize, s: u32, a: u32, r: f32, s2: u32, done: bool): void {
  trajPush(asTrajectory(h), s, a, r, s2, done);
}

/** Records held. */
export function trajectorySize(h: usize): u32 {
  return asTrajectory(h).size;
}

/** Records the ring holds at most. */
export function trajectoryCapacity(h: usize): u32 {
  return asTrajectory(h).capacity;
}

/** Forgets every record. */
export function trajectoryClear(h: usize): void {
  trajClear(asTrajectory(h));
}

/** Writes n uniform draws (with replacement; size must be > 0) as a batch block at out. Cost: O(n). */
export function trajectorySample(h: usize, n: u32, out: usize): void {
  trajSample(asTrajectory(h), n, out);
}

/** Writes every record, oldest first, as a batch block of `size` transitions at out. Cost: O(size). */
export function trajectoryOrdered(h: usize, out: usize): void {
  trajOrdered(asTrajectory(h), out);
}

/** Slot the next push writes (the oldest record is at (head - size) mod capacity). */
export function trajectoryHead(h: usize): u32 {
  return asTrajectory(h).head;
}

/** Address of slot 0 of the ring (16 bytes a record: state, action | done << 31, reward, nextState). */
export function trajectoryRecords(h: usize): usize {
  return asTrajectory(h).records;
}

/** The state of the ring's generator (sample). */
export function trajectoryRng(h: usize): u64 {
  return asTrajectory(h).rng;
}

/** Arena bytes the ring holds, header and records. Cost: O(1). */
export function trajectoryFootprint(h: usize): u32 {
  return trajBytes(asTrajectory(h));
}

/** Bytes the 32-byte ring snapshot header at p announces, or 0 for a header out of range. Cost: O(1). */
export function trajectorySnapshotLength(p: usize): f64 {
  return <f64>trajAnnouncedLength(p);
}

/**
 * Checks the 32-byte ring snapshot header at p and allocates its ring, size and head set: a handle
 * (the host writes the records, oldest first, from slot 0), 0 over budget, 1 corrupt, nothing
 * allocated. Cost: O(1).
 */
export function trajectoryLoadBegin(p: usize): usize {
  return trajLoadBegin(p);
}
