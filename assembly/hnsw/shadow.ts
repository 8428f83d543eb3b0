// Per-thread shadows of an index, for the threads builds (one graph in shared memory, searched
// by several instances of the module at once; parallel.ts).
//
// A search writes only to scratch: the header's heaps (results, sorted), fresh, chosen, pruned,
// the query rows (input, query, decoded), the epoch and lastPlan, and, in the segments, the
// visit tags and the candidate heap's slices. A shadow is a copy of the index's header whose
// scratch is its own: its own blocks for the first group, and a side table (Index.sideTable)
// naming one block of side arrays per segment, where its visit tags and candidate slices live
// (graph.ts visitTagAt, search.ts). Everything else (segment table, records, upper links, id map,
// tombstones, allow set) is the index's, read and never written by a shadow's searches. So
// threads searching through their own shadows share the graph and nothing they write.
//
// A shadow is made, synced and freed by the calling thread (the arena is not thread-safe; a
// worker never allocates). It covers the segments the index had when it was made: the host
// makes shadows after any growth of a call (a batch's reserve) and frees them when the call ends.

import { arenaAlloc, arenaBegin, arenaEnd, arenaFree } from "../runtime/arena";
import { Index, EXPAND_WIDTH, ensureSearchScratch } from "./graph";
import { QUANT_F16, QUANT_I8 } from "./vector-form";
import { preparedI8Bytes } from "../kernels/i8";

/** The scratch fields a sync keeps (everything else is copied from the index). */
@unmanaged class Scratch {
  results: usize;
  sorted: usize;
  scratchEf: u32;
  chosen: usize;
  pruned: usize;
  fresh: usize;
  input: usize;
  query: usize;
  queryScale: f32;
  queryNorm: f32;
  decoded: usize;
  decodedAt: usize;
  epoch: u32;
  lastPlan: i32;
  sideTable: usize;
}

/** Scratch of a sync in progress (one thread syncs at a time: the calling thread). */
const kept = memory.data(offsetof<Scratch>());

function keep(s: Index): void {
  const k = changetype<Scratch>(kept);
  k.results = s.results;
  k.sorted = s.sorted;
  k.scratchEf = s.scratchEf;
  k.chosen = s.chosen;
  k.pruned = s.pruned;
  k.fresh = s.fresh;
  k.input = s.input;
  k.query = s.query;
  k.queryScale = s.queryScale;
  k.queryNorm = s.queryNorm;
  k.decoded = s.decoded;
  k.decodedAt = s.decodedAt;
  k.epoch = s.epoch;
  k.lastPlan = s.lastPlan;
  k.sideTable = s.sideTable;
}

function restore(s: Index): void {
  const k = changetype<Scratch>(kept);
  s.results = k.results;
  s.sorted = k.sorted;
  s.scratchEf = k.scratchEf;
  s.chosen = k.chosen;
  s.pruned = k.pruned;
  s.fresh = k.fresh;
  s.input = k.input;
  s.query = k.query;
  s.queryScale = k.queryScale;
  s.queryNorm = k.queryNorm;
  s.decoded = k.decoded;
  s.decodedAt = k.decodedAt;
  s.epoch = k.epoch;
  s.lastPlan = k.lastPlan;
  s.sideTable = k.sideTable;
  s.tracing = false;
}

/**
 * A shadow of idx (see the top) with search scratch for max(ef, idx's, M0 + 1) candidates, or 0 over
 * budget with nothing allocated. Cost: O(segments * side bytes) to clear its visit tags.
 */
export function shadowCreate(idx: Index, ef: u32): Index {
  const mark = arenaBegin();
  const ptr = arenaAlloc(offsetof<Index>());
  if (ptr == 0) {
    arenaEnd(mark, false);
    return changetype<Index>(0);
  }
  memory.copy(ptr, changetype<usize>(idx), offsetof<Index>());
  const s = changetype<Index>(ptr);
  s.results = 0;
  s.sorted = 0;
  s.scratchEf = 0;
  s.query = 0;
  s.decoded = 0;
  s.decodedAt = 0;
  s.epoch = 0;
  s.tracing = false;
  s.codes = 0; // a shadow never reads the scan codes (their pass buffer is the index's)
  const entryBytes = <u32>(idx.M0 + 1) << 3;
  s.chosen = arenaAlloc(entryBytes);
  s.pruned = arenaAlloc(entryBytes);
  s.fresh = arenaAlloc(<u32>idx.M0 * EXPAND_WIDTH * 8 + EXPAND_WIDTH * 4);
  s.input = arenaAlloc(<u32>idx.codeDims << 2);
  const segs = idx.segCount > 0 ? idx.segCount : 1;
  s.sideTable = arenaAlloc(segs << 2);
  const side = arenaAlloc(<u32>(<u64>segs * <u64>idx.sideBytes));
  let ok: bool = s.chosen != 0 && s.pruned != 0 && s.fresh != 0 && s.input != 0 && s.sideTable != 0 && side != 0;
  if (ok && idx.quant == QUANT_I8) ok = (s.query = arenaAlloc(<u32>preparedI8Bytes(idx.codeDims))) != 0;
  if (ok && idx.quant == QUANT_F16) ok = (s.decoded = arenaAlloc(<u32>idx.codeDims << 2)) != 0;
  if (ok) ok = ensureSearchScratch(s, ef > idx.scratchEf ? ef : idx.scratchEf);
  if (!ok) {
    arenaEnd(mark, false);
    return changetype<Index>(0);
  }
  memory.fill(s.input, 0, <usize>idx.codeDims << 2);
  memory.fill(side, 0, <usize>segs * <usize>idx.sideBytes);
  for (let i: u32 = 0; i < segs; i++) store<u32>(s.sideTable + (<usize>i << 2), <u32>(side + <usize>i * <usize>idx.sideBytes));
  arenaEnd(mark, true);
  return s;
}

/**
 * Copies idx's header into the shadow s, keeping s's scratch: s then sees the graph as it is
 * now. False (nothing copied) when idx has more segments than s was made for. Cost: O(1).
 */
export function shadowSync(s: Index, idx: Index): bool {
  const segs = s.segCount > 0 ? s.segCount : 1;
  if (idx.segCount > segs) return false;
  keep(s);
  memory.copy(changetype<usize>(s), changetype<usize>(idx), offsetof<Index>());
  restore(s);
  s.codes = 0;
  // The side arrays cover the segments s was made with; clearVisitTags walks idx's count.
  s.segCount = idx.segCount;
  return true;
}

/** Frees a shadow's own blocks and its header (never the index's). Cost: O(1). */
export function shadowFree(s: Index): void {
  arenaFree(s.results);
  arenaFree(s.sorted);
  arenaFree(s.chosen);
  arenaFree(s.pruned);
  arenaFree(s.fresh);
  arenaFree(s.input);
  arenaFree(s.query);
  arenaFree(s.decoded);
  if (s.sideTable != 0) arenaFree(<usize>load<u32>(s.sideTable));
  arenaFree(s.sideTable);
  arenaFree(changetype<usize>(s));
}
