// Allow-list filters: the set of ids a search may return, marked in a per-index bitset.
//
//   allow        1 bit per node (graph.ts), all clear between calls. indexAllowBegin maps the
//                staged ids to nodes through the id map, drops unknown and removed ids and
//                duplicates, sets their bits and rewrites the staged list in place as the
//                allowed nodes (never longer than the ids); indexAllowEnd clears exactly those
//                bits again, so no call pays for clearing the whole set. A list of at least one
//                id a bitset word, in an index whose slots hold their own ids, sets its bits
//                alone and, when dense, keeps no node list (its bitset is cleared in one fill).
//   set          a resident allow set (an IdSet's engine side, setCreate): its own bitset and
//                node list in one block, built once and used by searches as it is (setUse).
//   allowBits    the bitset the search reads (allow or a set's), allowNodes its node list (0
//                for a dense set without one), allowCount nodes: what the exact scan scores.
//
// The host's planner (src/hnsw/filter.ts) picks one of three plans from allowCount:
//   MODE_EXACT    score every allowed node (the SIMD kernels of the walk), keep the k best
//   MODE_ACORN    the walk sees only allowed nodes: a rejected neighbour is not scored but its
//                 own neighbours are (two hops, ACORN-1), so the walk crosses rejected regions
//   MODE_ALLOW    the plain walk, rejected nodes scored and expanded, results from allowed only;
//                 as MODE_ADAPT (the planner's choice), it stops for MODE_EXACT when under 5% of
//                 the nodes it scores pass (search.ts)
// A walk that returns fewer than min(k, allowed) results falls back to the exact scan, so a
// search returns k results whenever k live ids are allowed.

import { Index, EXPAND_WIDTH, isTombstoned, vectorAt, labelAt } from "./graph";
import { mapGet } from "../util/idmap";
import { arenaGrow, arenaSave } from "../runtime/arena";
import { heapPush, heapPop, heapTopKey, heapDrainAscending } from "../util/heap";
import { queryDistance, scoreRow } from "./codes";
import { STATUS_BUDGET } from "../runtime/status";
import { QUANT_F32 } from "./vector-form";
import { CODES_MIN_ROWS, codesPass, passBuffer } from "./scan-codes";

/** Bits an allow set needs: one per slot. */
@inline function wordsFor(idx: Index): u32 {
  return (idx.capacity + 31) >> 5;
}

/** Whether node n is in the allow set being searched. */
@inline export function isAllowed(allow: usize, n: u32): bool {
  return (load<u32>(allow + (<usize>(n >> 5) << 2)) & (<u32>1 << (n & 31))) != 0;
}

/**
 * Makes the allow bitset cover every slot (grown, new words cleared). False over budget, with
 * the bitset as it was. Cost: O(1), or one copy when it grows.
 */
export function ensureAllow(idx: Index): bool {
  const words = wordsFor(idx);
  if (words <= idx.allowWords) return true;
  const p = arenaGrow(idx.allow, <u64>words << 2);
  if (p == 0) return false;
  // The host's transaction puts the header back with the blocks if the search then fails.
  arenaSave(changetype<usize>(idx), offsetof<Index>());
  memory.fill(p + (<usize>idx.allowWords << 2), 0, <usize>(words - idx.allowWords) << 2);
  idx.allow = p;
  idx.allowWords = words;
  return true;
}

/**
 * Sets the bits in `bits` of the nodes the n ids at list map to, dropping unknown and removed
 * ids and repeats, and writes those nodes to `nodes` (which may be `list`: never longer).
 * Returns how many. An id that is the label of its own slot number (an index filled with ids
 * 0, 1, 2, ... in order) is that slot, found without the map: a live slot's label maps to it.
 * While every slot is labelled so (!mixedLabels), an id below count is its slot, and no label
 * is read at all. Cost: O(n) label reads (none while no slot is labelled otherwise), and a map
 * lookup for each id not in its own slot.
 */
function markIds(idx: Index, bits: usize, list: usize, n: u32, nodes: usize): u32 {
  // The header's fields in locals: the stores below could alias it, so the engine would
  // otherwise reload each one per id.
  const slots = idx.count;
  const tombs = idx.tombs;
  const table = idx.segments;
  const shift = idx.segShift;
  const mask: u32 = (<u32>1 << shift) - 1;
  const ownLabels = !idx.mixedLabels;
  let count: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const id = load<u32>(list + (<usize>i << 2));
    let node = id;
    // A live slot whose label (at LABELS_AT = 0 of its segment) is its own number, or else the map's.
    if (id >= slots || (load<u32>(tombs + (<usize>(id >> 5) << 2)) & (<u32>1 << (id & 31))) != 0 ||
        (!ownLabels && load<u32>(<usize>load<u32>(table + (<usize>(id >> shift) << 2)) + (<usize>(id & mask) << 2)) != id)) {
      if (ownLabels) continue;
      const found = mapGet(idx.map, idx.mapCap, id);
      if (found < 0 || isTombstoned(idx, <u32>found)) continue;
      node = <u32>found;
    }
    const w = bits + (<usize>(node >> 5) << 2);
    const bit: u32 = 1 << (node & 31);
    const word = load<u32>(w);
    if ((word & bit) != 0) continue;
    store<u32>(w, word | bit);
    store<u32>(nodes + (<usize>count << 2), node);
    count++;
  }
  return count;
}

/**
 * markIds' bits for an index whose every slot holds its own id (!mixedLabels) and a list of at
 * least one id a bitset word: sets the bit of each id below the slot count as it comes (a repeat
 * sets it again), then clears the removed slots' bits a word at a time. Returns how many bits
 * are left set. Cost: O(n + slots / 32), with no test or second store per id: about 0.4x
 * markIds' time (1.0 against 2.3 ns an id, 50% and 10% of 100K).
 */
function markOwnIds(idx: Index, bits: usize, list: usize, n: u32): u32 {
  const slots = idx.count;
  for (let i: u32 = 0; i < n; i++) {
    const id = load<u32>(list + (<usize>i << 2));
    if (id < slots) {
      const w = bits + (<usize>(id >> 5) << 2);
      store<u32>(w, load<u32>(w) | (<u32>1 << (id & 31)));
    }
  }
  const tombs = idx.tombs;
  const words = (slots + 31) >> 5;
  let count: u32 = 0;
  for (let w: u32 = 0; w < words; w++) {
    const p = bits + (<usize>w << 2);
    const x = load<u32>(p) & ~load<u32>(tombs + (<usize>w << 2));
    store<u32>(p, x);
    count += <u32>popcnt(x);
  }
  return count;
}

/**
 * Whether a marked set of `count` nodes is dense: a bitset word for 4 of them or fewer, so the
 * exact scan reads the bitset (in memory order) and not the node list, which a list handed over
 * per query then does without (allowBegin).
 */
@inline export function denseSet(idx: Index, count: u32): bool {
  return (idx.count + 31) >> 5 <= count << 2;
}

/**
 * The i-th of `parts` allowed nodes spread over the allow set (the filtered walk's extra
 * starts): the first allowed slot from the i-th of `parts` equal parts of the bitset on;
 * 0xFFFFFFFF when there is none. Cost: O(slots / 32) at worst; about 1 / (32 x share) words for
 * a set spread evenly.
 */
export function spreadAllowed(idx: Index, i: u32, parts: u32): u32 {
  const words = (idx.count + 31) >> 5;
  for (let w = <u32>(<u64>words * i / parts); w < words; w++) {
    const x = load<u32>(idx.allowBits + (<usize>w << 2));
    if (x != 0) return (w << 5) + <u32>ctz(x);
  }
  return 0xFFFFFFFF;
}

/**
 * Marks the n ids at list as the allow set in the index's own bitset, rewriting the list in
 * place as the allowed nodes (markIds). Returns how many, or STATUS_BUDGET over budget (nothing marked).
 * Pair with allowEnd. Cost: O(n) map lookups.
 */
export function allowBegin(idx: Index, list: usize, n: u32): i32 {
  if (!ensureAllow(idx)) return STATUS_BUDGET;
  const bits = idx.allow;
  let nodes: usize = 0;
  let count: u32 = 0;
  // A long list for an index whose every slot holds its own id: its bits alone, the set going
  // without a node list when dense (nothing reads it then); else (repeats or unknown ids left
  // too few) the bits cleared and the ids marked again, with their list.
  if (!idx.mixedLabels && n >= (idx.count + 31) >> 5) {
    count = markOwnIds(idx, bits, list, n);
    if (!denseSet(idx, count)) memory.fill(bits, 0, <usize>((idx.count + 31) >> 5) << 2);
  }
  if (!denseSet(idx, count)) {
    count = markIds(idx, bits, list, n, list);
    nodes = list;
  }
  idx.allowCount = count;
  idx.allowNodes = nodes;
  idx.allowBits = bits;
  return <i32>count;
}

/**
 * Clears the bits allowBegin set (the allowed nodes at allowNodes), a word per node, or the
 * whole bitset in one fill when that is fewer words; a resident set's stay. Cost:
 * O(min(allowed, slots / 32)).
 */
export function allowEnd(idx: Index): void {
  const allow = idx.allow;
  const list = idx.allowNodes;
  if (idx.allowBits == allow) {
    const words = (idx.count + 31) >> 5;
    if (list == 0 || idx.allowCount >= words) {
      memory.fill(allow, 0, <usize>words << 2);
    } else {
      for (let i: u32 = 0; i < idx.allowCount; i++) {
        const node = load<u32>(list + (<usize>i << 2));
        store<u32>(allow + (<usize>(node >> 5) << 2), 0);
      }
    }
  }
  idx.allowCount = 0;
  idx.allowNodes = 0;
  idx.allowBits = 0;
}

/**
 * Runs of neighbouring slots in the allow set being searched (allowBits): each set bit whose
 * slot before it is clear starts one. The exact scan reads a run's rows in memory order, which
 * the hardware streams after its first few (SCAN_RUN). Cost: O(slots / 32).
 */
export function allowRuns(idx: Index): u32 {
  const bits = idx.allowBits;
  const words = (idx.count + 31) >> 5;
  let runs: u32 = 0;
  let carry: u32 = 0;
  for (let w: u32 = 0; w < words; w++) {
    const x = load<u32>(bits + (<usize>w << 2));
    runs += <u32>popcnt(x & ~((x << 1) | carry));
    carry = x >> 31;
  }
  return runs;
}

/**
 * A resident allow set (an IdSet's engine side), one block: [u32 count, u32 words][bitset of
 * `words` words over the slots][count u32 nodes]. Built from the n ids at list as allowBegin
 * maps them; valid while the index does not change (the host rebuilds it then). Returns the
 * block, or 0 over budget with nothing allocated. Cost: O(n) map lookups + O(slots / 32).
 */
export function setCreate(idx: Index, list: usize, n: u32): usize {
  const words = wordsFor(idx);
  const block = arenaGrow(0, 8 + (<u64>words << 2) + (<u64>n << 2));
  if (block == 0) return 0;
  const bits = block + 8;
  memory.fill(bits, 0, <usize>words << 2);
  const count = markIds(idx, bits, list, n, bits + (<usize>words << 2));
  store<u32>(block, count);
  store<u32>(block, words, 4);
  return block;
}

/**
 * A resident set (setCreate's block) of the allow set marked now (attrWhere's, or allowBegin's):
 * its bitset and nodes copied, so an evaluated `where` becomes a set without its ids being
 * listed and mapped again. Returns the block, or 0 over budget with nothing allocated. Cost:
 * O(slots / 32 + allowed).
 */
export function setFromAllow(idx: Index): usize {
  const words = wordsFor(idx);
  const count = idx.allowCount;
  const block = arenaGrow(0, 8 + (<u64>words << 2) + (<u64>count << 2));
  if (block == 0) return 0;
  store<u32>(block, count);
  store<u32>(block, words, 4);
  // Past the slots in use the allow bits are clear (all clear between calls).
  memory.copy(block + 8, idx.allowBits, <usize>words << 2);
  memory.copy(block + 8 + (<usize>words << 2), idx.allowNodes, <usize>count << 2);
  return block;
}

/** Makes the resident set at `block` the allow set of the next searches; returns its count. Pair with allowEnd. */
export function setUse(idx: Index, block: usize): u32 {
  const words = load<u32>(block, 4);
  idx.allowBits = block + 8;
  idx.allowNodes = block + 8 + (<usize>words << 2);
  idx.allowCount = load<u32>(block);
  return idx.allowCount;
}

/**
 * queryDistance to node n's vector: one shared copy of every stored form's kernels for the cold
 * call sites (the filtered walk's seeds, a descent's first step, compaction's orphan searches),
 * where the hot loops inline their own. Cost: one kernel.
 */
export function nodeDistance(idx: Index, q: usize, n: u32): f32 {
  return queryDistance(idx, q, vectorAt(idx, n));
}

let scanSink: u32 = 0;

/**
 * Rows the exact scan touches together, a group ahead of scoring them (wasm has no prefetch; see
 * searchLayer); at most half of fresh's pairs (6 at M 2). GloVe-100 100K, random 10% set, time
 * against groups of 8 touched just before scoring them (one probe run each): 8 a group ahead
 * 0.84x, 16 0.73x, 32 0.91x. Touching fewer lines of each row does not leave the rest to the
 * hardware: cold sets per query (GloVe 100K, 9 passes, IdSets, plan exact), the first line only
 * took 1.22-1.44x the time of every line, every other line 1.31-1.60x; 8 a group 1.00-1.07x.
 */
const SCAN_GROUP: u32 = 16;

/**
 * From this many rows into a run of neighbouring slots, the exact scan touches no more rows
 * ahead: the hardware's stream prefetch has them, and the touches only got in its way (GloVe
 * 100K, a band of 1,000 neighbouring rows: 0.62x the time of touching every row, 10,000 rows
 * 0.80x; the category filter's shorter runs 1.0-1.08x, within the noise).
 */
const SCAN_RUN: u32 = 8;

/**
 * The k nearest allowed nodes to q (prepared as codes.ts says), by scoring every one: writes
 * min(k, allowed) (f32 distance, u32 label) pairs, nearest first, to out; returns how many.
 * When the set is dense enough (a bitset word per 4 allowed nodes or fewer) it walks the bitset,
 * so the rows come in memory order; else the list. Either way it takes SCAN_GROUP nodes at a
 * time (into the fresh scratch, unused outside a walk) and touches their rows' cache lines one
 * group ahead (except deep in runs of neighbouring slots, SCAN_RUN): the misses of the next
 * group overlap the scoring of this one. The layout and the kernel's parameters are read into
 * locals once. From CODES_MIN_ROWS allowed rows of an f32 index whose scan codes cover every
 * slot, their first pass (scan-codes.ts) leaves only the rows that can be among the k nearest,
 * and those are scored so; otherwise the scan asks for the codes (wantCodes). Needs the results
 * heap sized for k + 1 entries. Cost: allowed kernel calls + O(allowed log k) (+ O(slots / 32)
 * for the bitset), or allowed code rows + the rows left.
 */
export function exactScan(idx: Index, q: usize, k: u32, out: usize): u32 {
  const res = idx.results;
  let list = idx.allowNodes;
  let total = idx.allowCount;
  const allow = idx.allowBits;
  const words = (idx.count + 31) >> 5;
  let dense = denseSet(idx, total);
  // Many f32 rows: first their scan codes (scan-codes.ts), then only the rows they cannot rule out.
  if (idx.quant == QUANT_F32 && total >= CODES_MIN_ROWS) {
    // Rows added since the codes were made (up to 1 in 32) are scored in f32 meanwhile.
    if (idx.codes != 0 && idx.codesRows <= idx.count && idx.count - idx.codesRows <= idx.codesRows >> 5) {
      total = codesPass(idx, q, k, dense ? 0 : list, total, allow);
      list = passBuffer(idx);
      dense = false;
    }
    if (idx.codes == 0 || idx.codesRows != idx.count || idx.codesStaleRows > idx.codesRows >> 5) idx.wantCodes = true;
  }
  const table = idx.segments;
  const shift = idx.segShift;
  const mask: u32 = (<u32>1 << shift) - 1;
  const recordBytes = <usize>idx.recordBytes;
  const vectorOffset = <usize>idx.sideBytes + <usize>idx.linkBytes;
  const vectorBytes = <usize>idx.vectorBytes;
  const metric = idx.metric;
  const quant = idx.quant;
  const dims = idx.codeDims;
  const qs = idx.queryScale;
  const qn = idx.queryNorm;
  // Two groups of (u32 node, u32 row address) pairs in fresh, which holds EXPAND_WIDTH * M0 pairs.
  const half = <u32>idx.M0 * EXPAND_WIDTH >> 1;
  const groupSize = half < SCAN_GROUP ? half : SCAN_GROUP;
  let group = idx.fresh;
  let next = group + (<usize>groupSize << 3);
  let touched: u32 = 0;
  let size: u32 = 0;
  let worst = Infinity;
  let i: u32 = 0;
  let word: u32 = 0;
  let bits: u32 = 0;
  let n: u32 = 0;
  let last: u32 = 0xFFFFFFFE;
  let run: u32 = 0;
  while (true) {
    // Gather and touch the next group.
    let m: u32 = 0;
    while (m < groupSize) {
      let node: u32;
      if (dense) {
        while (bits == 0 && word < words) {
          bits = load<u32>(allow + (<usize>word << 2));
          word++;
        }
        if (bits == 0) break;
        node = ((word - 1) << 5) + <u32>ctz(bits);
        bits &= bits - 1;
      } else {
        if (i >= total) break;
        node = load<u32>(list + (<usize>i << 2));
        i++;
      }
      const v = <usize>load<u32>(table + (<usize>(node >> shift) << 2)) + vectorOffset + <usize>(node & mask) * recordBytes;
      const e = next + (<usize>m << 3);
      store<u32>(e, node);
      store<u32>(e, <u32>v, 4);
      m++;
      // Rows well inside a run of neighbouring slots are left to the hardware's stream prefetch.
      run = node == last + 1 ? run + 1 : 0;
      last = node;
      if (run < SCAN_RUN) for (let line = v & ~63; line < v + vectorBytes; line += 64) touched ^= load<u32>(line);
    }
    // Score the group touched before it.
    for (let j: u32 = 0; j < n; j++) {
      const e = group + (<usize>j << 3);
      const d = scoreRow(quant, metric, dims, q, qs, qn, <usize>load<u32>(e, 4));
      if (size < k || d < worst) {
        size = heapPush(res, size, d, load<u32>(e));
        if (size > k) size = heapPop(res, size);
        if (size == k) worst = heapTopKey(res);
      }
    }
    if (m == 0) break;
    const t = group;
    group = next;
    next = t;
    n = m;
  }
  scanSink = touched;
  heapDrainAscending(res, size, out);
  for (let i: u32 = 0; i < size; i++) {
    const p = out + (<usize>i << 3) + 4;
    store<u32>(p, labelAt(idx, load<u32>(p)));
  }
  return size;
}
