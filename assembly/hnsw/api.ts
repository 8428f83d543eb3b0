// The index's ABI: flat functions over a handle (the header's address). Status codes are the
// engine's (runtime/status.ts); the host validates every argument before it calls in.

import {
  Index, indexAlloc, reserveCapacity, indexFree, indexClear, vectorAt, isTombstoned, ensureSearchScratch,
} from "./graph";
import { reserveAdds, insertItem, insertTracedItem, removeId, releaseLevels } from "./insert";
import { releaseTrace } from "./trace";
import { searchKnn, MODE_QUERY, MODE_FILTER, MODE_ALLOW } from "./search";
import { allowBegin, allowEnd, allowRuns, setCreate, setFromAllow, setUse } from "./filter";
import { buildCodes, dropCodes } from "./scan-codes";
import { compactIndex } from "./compact";
import { takeItem } from "../util/counter";
import { snapshotInfo, snapshotArea, loadBegin, loadFinish } from "./snapshot";
import { mapGet } from "../util/idmap";
import { arenaBegin, arenaEnd, arenaFree } from "../runtime/arena";
import { stagingReserve } from "../runtime/staging";
import { STATUS_OK, STATUS_BUDGET, TRACE_MISMATCH, SLOT_OUT } from "../runtime/status";
import { decodedRow, prepareInputQuery } from "./codes";

const LARGE_BATCH: u32 = 4096;

@inline function asIndex(h: usize): Index {
  return changetype<Index>(h);
}

/**
 * Creates an empty index; returns its handle, or 0 over budget. metric: 0 cosine, 1 l2, 2 dot;
 * quant: 0 f32, 1 f16, 2 i8 (the stored form of the vectors, vector-form.ts).
 */
export function indexCreate(dim: i32, metric: i32, M: i32, efConstruction: i32, seed: u32, quant: i32): usize {
  return changetype<usize>(indexAlloc(dim, metric, M, efConstruction, seed, quant));
}

/** Frees an index and all its blocks. */
export function indexDispose(h: usize): void {
  indexFree(asIndex(h));
}

/** Address of the index's input row: dim floats the host writes before indexSearch. */
export function indexInput(h: usize): usize {
  return asIndex(h).input;
}

/**
 * Reserves room for adding the n ids at idsPtr (levels drawn now); with traceRows > 0, each
 * indexInsert call of the batch (of at most traceRows items) also records the neighbours its
 * items chose (indexTrace). 0, or -1 over budget. Cost: O(n).
 */
export function indexReserve(h: usize, idsPtr: usize, n: u32, traceRows: u32): i32 {
  return reserveAdds(asIndex(h), idsPtr, n, traceRows) ? STATUS_OK : STATUS_BUDGET;
}

/**
 * Inserts items [first, first + n) of the reserved batch: ids at idsPtr (the whole batch), their
 * vectors at vecPtr (n rows of dim floats). Cannot fail. Cost: n graph insertions.
 */
export function indexInsert(h: usize, idsPtr: usize, first: u32, vecPtr: usize, n: u32): void {
  const idx = asIndex(h);
  idx.traceUsed = 0;
  const rowBytes = <usize>idx.dim << 2;
  for (let i: u32 = 0; i < n; i++) {
    const item = first + i;
    insertItem(idx, load<u32>(idsPtr + (<usize>item << 2)), vecPtr + <usize>i * rowBytes, item);
  }
}

/**
 * indexInsert linking each item to the lists of a trace (tracePtr, traceWords long, from a
 * traced batch of the same ids and vectors on the same state) instead of searching: the same
 * graph, minus the searches. Returns the trace words it used, or -1 when the trace does not
 * fit the index (TRACE_MISMATCH; the index must then be disposed). Cost: n * O(M * links) distances.
 */
export function indexInsertTraced(h: usize, idsPtr: usize, first: u32, vecPtr: usize, n: u32,
                                  tracePtr: usize, traceWords: u32): i32 {
  const idx = asIndex(h);
  const rowBytes = <usize>idx.dim << 2;
  const end = tracePtr + (<usize>traceWords << 2);
  let tp = tracePtr;
  for (let i: u32 = 0; i < n; i++) {
    const item = first + i;
    tp = insertTracedItem(idx, load<u32>(idsPtr + (<usize>item << 2)), vecPtr + <usize>i * rowBytes, item, tp, end);
    if (tp == 0) return TRACE_MISMATCH;
  }
  return <i32>((tp - tracePtr) >> 2);
}

/** Address of the trace the last indexInsert of a traced batch recorded (valid until the next call). */
export function indexTrace(h: usize): usize {
  return asIndex(h).trace;
}

/** Words of that trace (0 when the batch is not traced). */
export function indexTraceWords(h: usize): u32 {
  return asIndex(h).traceUsed;
}

/** Grows the index to hold `cap` slots up front (exact, no later copies). 0, or -1 over budget. */
export function indexReserveCapacity(h: usize, cap: u32): i32 {
  return reserveCapacity(asIndex(h), cap) ? STATUS_OK : STATUS_BUDGET;
}

/** Slots the index holds without growing (live and removed ids share them). */
export function indexCapacity(h: usize): u32 {
  return asIndex(h).capacity;
}

/** Ends a batch: tracing off, and frees its level array and trace if they were large. */
export function indexEndBatch(h: usize): void {
  const idx = asIndex(h);
  if (idx.levelsCap > LARGE_BATCH) releaseLevels(idx);
  if (idx.traceCap > LARGE_BATCH) releaseTrace(idx);
  idx.tracing = false;
}

/** How many results a query for k can have: min(k, live ids). */
@inline function resultsFor(idx: Index, k: u32): u32 {
  const live = idx.count - idx.deleted;
  return k < live ? k : live;
}

/**
 * Prepares a batch search for k results with ef candidates: sizes the scratch by what the index
 * can return (max(ef, k) candidates, but no more than its slots) and returns how many results
 * a query can have, min(k, live ids), or -1 over budget with nothing changed. Cost: O(1), or
 * one growth of the scratch.
 */
export function indexPrepareSearch(h: usize, k: u32, ef: u32): i32 {
  const idx = asIndex(h);
  let candidates = ef > k ? ef : k;
  if (candidates > idx.count) candidates = idx.count;
  if (!ensureSearchScratch(idx, candidates)) return STATUS_BUDGET;
  return <i32>resultsFor(idx, k);
}

/**
 * indexPrepareSearch for one query, with its output staged too (min(k, live ids) pairs), both
 * or neither: returns the output's address, or 0 over budget with nothing changed. Cost: as
 * indexPrepareSearch.
 */
export function indexPrepareQuery(h: usize, k: u32, ef: u32): usize {
  const mark = arenaBegin();
  let out: usize = 0;
  if (indexPrepareSearch(h, k, ef) >= 0) out = stagingReserve(SLOT_OUT, resultsFor(asIndex(h), k) << 3);
  arenaEnd(mark, out != 0);
  return out;
}

/**
 * search.ts's mode for a plan code of the ABI: 0 plain, 1 the host's predicate, 2 allow-list walk, 3 filtered walk, 4 exact
 * scan, 5 the lazy walk (the plain walk checking the `where` program attrWhereUse set at each node it considers), 6 the
 * planner's walk (2, which stops for the exact scan when it meets almost no allowed nodes: MODE_ADAPT), 7 the
 * planner's lazy walk (5, which returns nothing where 6 would stop, leaving the exact scan to the host: MODE_WHERE_WATCH).
 */
@inline function modeOf(plan: i32): i32 {
  return plan == 0 ? MODE_QUERY : plan == 1 ? MODE_FILTER : plan + 1;
}

/**
 * Searches for the k nearest to the input row; writes (f32 distance, u32 id) pairs to out, at
 * most what indexPrepareSearch(k, ef) returned, and returns how many. plan: modeOf's codes
 * (2..4 need indexAllowBegin, 5 attrWhereUse). Cost: one HNSW query, or the exact scan of the allow set.
 */
export function indexSearch(h: usize, k: u32, ef: u32, plan: i32, out: usize): u32 {
  const idx = asIndex(h);
  return searchKnn(idx, prepareInputQuery(idx), k, ef, modeOf(plan), out);
}

/**
 * Marks the allow set of the next searches: the n ids at list, rewritten in place as the
 * allowed nodes (hnsw/filter.ts). Returns how many live ids it allows, or -1 over budget with
 * nothing changed (the bitset, 1 bit a slot, is grown on first use). Pair with indexAllowEnd.
 * Cost: O(n) map lookups.
 */
export function indexAllowBegin(h: usize, list: usize, n: u32): i32 {
  return allowBegin(asIndex(h), list, n);
}

/**
 * Builds a resident allow set of the n ids at list (hnsw/filter.ts setCreate): its block (free
 * it with indexSetFree), or 0 over budget with nothing allocated. Valid until the index changes.
 * Cost: O(n) map lookups + O(slots / 32).
 */
export function indexSetCreate(h: usize, list: usize, n: u32): usize {
  return setCreate(asIndex(h), list, n);
}

/**
 * A resident set (as indexSetCreate's) of the allow set marked now (attrWhere's, before
 * indexAllowEnd): its block, or 0 over budget with nothing allocated. Cost: O(slots / 32 + allowed).
 */
export function indexSetFromAllow(h: usize): usize {
  return setFromAllow(asIndex(h));
}

/** Makes a resident set the allow set of the next searches (until indexAllowEnd); returns how many live ids it allows. */
export function indexSetUse(h: usize, set: usize): u32 {
  return setUse(asIndex(h), set);
}

/** Frees a resident set's block. */
export function indexSetFree(set: usize): void {
  arenaFree(set);
}

/**
 * Runs of neighbouring slots in the allow set (hnsw/filter.ts allowRuns): the planner's measure
 * of how much of an exact scan streams. Cost: O(slots / 32).
 */
export function indexAllowRuns(h: usize): u32 {
  return allowRuns(asIndex(h));
}

/** Clears the allow set (the bits indexAllowBegin set). Cost: O(allowed). */
export function indexAllowEnd(h: usize): void {
  allowEnd(asIndex(h));
}

/**
 * The plan code (modeOf) the last search ran: an allow-list walk that fell back to the exact scan,
 * or the planner's walk that stopped for it, says 4; a lazy walk 5, or 4 when it stopped (code 7).
 */
export function indexLastPlan(h: usize): i32 {
  const mode = asIndex(h).lastPlan;
  return mode >= MODE_ALLOW ? mode - 1 : mode == MODE_FILTER ? 1 : 0;
}

/**
 * Searches n queries (rows of dim floats at qPtr), k each: row i's results, nearest first, go to
 * out + i * stride pairs of (f32 distance, u32 id) (stride = what indexPrepareSearch returned,
 * min(k, live ids)) and their count to counts[i]; plan as indexSearch's, for every row. With
 * `next` (a u32 counter shared by the threads searching the batch, each through its own
 * shadow), the rows are taken one at a time from it (util/counter.ts); with 0, in order.
 * Needs indexPrepareSearch(k, ef). Cost: one HNSW query per row.
 */
export function indexSearchBatch(h: usize, qPtr: usize, n: u32, k: u32, ef: u32, plan: i32,
                                 stride: u32, out: usize, counts: usize, next: usize): void {
  const idx = asIndex(h);
  const rowBytes = <usize>idx.dim << 2;
  for (let i: u32 = next ? takeItem(next) : 0; i < n; i = next ? takeItem(next) : i + 1) {
    memory.copy(idx.input, qPtr + <usize>i * rowBytes, rowBytes);
    store<u32>(counts + (<usize>i << 2), indexSearch(h, k, ef, plan, out + ((<usize>i * <usize>stride) << 3)));
  }
}

/** Removes id; 1 if it was live, else 0. Cost: O(1). */
export function indexRemove(h: usize, id: u32): i32 {
  return removeId(asIndex(h), id) ? 1 : 0;
}

/**
 * Address of id's stored vector as dim floats (f16 and i8: decoded into the input row, valid
 * until the next call), or 0 when absent or removed. Cost: O(1), O(dim) to decode.
 */
export function indexVector(h: usize, id: u32): usize {
  const idx = asIndex(h);
  const node = mapGet(idx.map, idx.mapCap, id);
  if (node < 0 || isTombstoned(idx, <u32>node)) return 0;
  return decodedRow(idx, vectorAt(idx, <u32>node));
}

/**
 * Drops every node and gives their memory back; keeps the parameters, and restarts the level
 * generator from `seed` (the creation seed), so the index is as it was created. Cannot fail.
 * Cost: O(segments).
 */
export function indexClearAll(h: usize, seed: u32): void {
  indexClear(asIndex(h), seed);
}

/**
 * Drops the removed nodes, relinks their live neighbours, renumbers the live nodes
 * breadth-first from the entry point and gives the freed slots back (compact.ts). 0, or -1
 * over budget with nothing changed. Cost: O(slots * M0^2) distances, O(slots * record) bytes.
 */
export function indexCompact(h: usize): i32 {
  return compactIndex(asIndex(h)) ? STATUS_OK : STATUS_BUDGET;
}

/** Live ids in the index. */
export function indexSize(h: usize): u32 {
  const idx = asIndex(h);
  return idx.count - idx.deleted;
}

/**
 * Describes the index's snapshot for the host, which copies it out of linear memory: the
 * 80-byte header (with the host's efSearch and the creation seed) then the memory layout (eight u32
 * words, see snapshot.ts), in a static area whose address it returns. Cost: O(1).
 */
export function indexSnapshotInfo(h: usize, efSearch: u32, seed: u32): usize {
  return snapshotInfo(asIndex(h), efSearch, seed);
}

/** The static area (112 bytes) where the host puts a snapshot header before indexLoadBegin, qtableLoadBegin or trajectoryLoadBegin. Cost: O(1). */
export function indexSnapshotArea(): usize {
  return snapshotArea();
}

/**
 * Checks the header in the snapshot area and allocates the index's final blocks; returns the
 * half-built index (memory layout after the header), 0 over budget or 1 corrupt, with
 * nothing allocated. Cost: O(blocks).
 */
export function indexLoadBegin(): usize {
  return loadBegin();
}

/** Checks the copied sections in place and builds the id map: 1 ready, 0 corrupt (all freed). Cost: O(size). */
export function indexLoadFinish(h: usize): i32 {
  return loadFinish(asIndex(h)) ? 1 : 0;
}

/**
 * Makes or extends the index's scan codes (hnsw/scan-codes.ts) to every slot. Returns 1, or 0
 * over budget with nothing changed. Call outside a transaction (never inside engineBegin/End).
 * Cost: O(dim) a row encoded.
 */
export function indexBuildCodes(h: usize): i32 {
  return buildCodes(asIndex(h));
}

/** Frees the index's scan codes; returns 1 when it had some. Cost: O(1). */
export function indexDropCodes(h: usize): i32 {
  const idx = asIndex(h);
  const had = idx.codes != 0;
  dropCodes(idx);
  return had ? 1 : 0;
}

/** 1 when an exact scan since the last build wanted the scan codes made or extended. */
export function indexWantsCodes(h: usize): i32 {
  return asIndex(h).wantCodes ? 1 : 0;
}
