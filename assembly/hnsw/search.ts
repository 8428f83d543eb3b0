// HNSW search: greedy descent through the upper layers, then an ef-bounded best-first walk.
//
//   cand    min-heap of nodes still to expand, over the segments (candidates.ts); one entry per
//           visited node at most
//   results max-heap of the best ef accepted nodes; its top is the distance to beat
//   visit tags  a node counts as visited when its u16 tag (in its segment) == epoch; a new search
//            bumps the epoch instead of clearing the tags (cleared once when the u16 wraps)
//
// Which nodes may enter `results` depends on the mode: while building, any node but the one
// being linked; for a query, live nodes only, and with a filter, only ids the host's predicate
// accepts (checked during the walk, so rejected nodes still guide it); with an allow-list
// (filter.ts), only nodes in its bitset: MODE_ALLOW walks as a query does, MODE_ACORN walks the
// allowed nodes only, two hops through rejected ones. Nothing here allocates.

import { heapPop, heapPush, heapTopKey, heapDrainAscending } from "../util/heap";
import { Index, VISIT_TAGS_AT, EXPAND_WIDTH, vectorAt, labelAt, isTombstoned, linksAt, visitTagAt, clearVisitTags, sideTableOf } from "./graph";
import { candPush, candPop, candTop } from "./candidates";
import { queryDistance, scoreRow } from "./codes";
import { isAllowed, exactScan, nodeDistance, spreadAllowed } from "./filter";
import { whereAccepts, whereTouch } from "./attributes";

export const MODE_BUILD: i32 = 0;
export const MODE_QUERY: i32 = 1;
export const MODE_FILTER: i32 = 2;
/** Results from the allow set only; the walk as MODE_QUERY's (the planner's 'walk'). */
export const MODE_ALLOW: i32 = 3;
/** Results and scored candidates from the allow set only, two hops through rejected nodes ('filtered-walk'). */
export const MODE_ACORN: i32 = 4;
/** No walk: the exact scan of the allow set ('exact'). */
export const MODE_EXACT: i32 = 5;
/**
 * The plain walk with a `where` program checked at each node the walk considers (attributes.ts
 * attrWhereUse; a node is considered once a walk, so nothing is memoized): the predicate's walk,
 * no allow set evaluated first (the host's lazy walk). Never falls back: the host does.
 */
export const MODE_WHERE: i32 = 6;
/**
 * The planner's walk (the host's 'walk' on 'auto'): MODE_ALLOW (at the ef the host narrowed),
 * counting how many of the nodes it scores pass. From ADAPT_AFTER scored on, it stops for the
 * exact scan as soon as fewer than ADAPT_EXACT_BELOW of them have: the allowed rows lie away
 * from the query, and the walk would score much of the graph to reach them (searchLayer,
 * searchKnn; measured in docs/vector-index.md#the-walks-stop-for-the-exact-scan).
 */
export const MODE_ADAPT: i32 = 7;
/**
 * The lazy walk of a `where` the planner picked (the host's plan code 7): MODE_WHERE, counting as
 * MODE_ADAPT does while its results are not yet full (the nodes it checks anyway); where it would
 * stop it returns nothing, and the host scans the `where`'s rows exactly.
 */
export const MODE_WHERE_WATCH: i32 = 8;
/** Nodes the planner's walk scores before it compares the share of them passing with ADAPT_EXACT_BELOW. */
const ADAPT_AFTER: u32 = 256;
/** Under this share of its scored nodes passing, the planner's walk stops for the exact scan. */
const ADAPT_EXACT_BELOW: f64 = 0.05;
/** Allowed nodes a filtered walk also starts from (spread over the allow list), besides the entry point. */
const ACORN_SEEDS: u32 = 8;

/** The host's predicate on ids, called only in MODE_FILTER. */
@external("env", "filterAccept")
declare function filterAccept(id: u32): bool;

/** Starts a new visit epoch; clears the visit tags when the u16 counter wraps. */
export function nextEpoch(idx: Index): u32 {
  let e = (idx.epoch + 1) & 0xFFFF;
  if (e == 0) {
    clearVisitTags(idx);
    e = 1;
  }
  idx.epoch = e;
  return e;
}

@inline function accepts(idx: Index, n: u32, mode: i32, exclude: u32): bool {
  if (mode == MODE_BUILD) return n != exclude;
  if (mode == MODE_WHERE) return !isTombstoned(idx, n) && whereAccepts(idx, n);
  if (mode >= MODE_ALLOW) return isAllowed(idx.allowBits, n);
  if (isTombstoned(idx, n)) return false;
  return mode == MODE_QUERY || filterAccept(labelAt(idx, n));
}

let greedyDist: f32 = 0;
/** Whether the last MODE_ADAPT or MODE_WHERE_WATCH layer search stopped for the exact scan. */
let adaptExact = false;
/** Whether the MODE_WHERE walk searchKnn runs counts (MODE_WHERE_WATCH). */
let whereWatch = false;

/**
 * Walks `level` from ep (at distance epDist from q, a query prepared as codes.ts says) to the
 * closest node it can reach greedily.
 * Returns that node; its distance is left in greedyDist. Cost: O(steps * links).
 */
export function greedyClosest(idx: Index, q: usize, ep: u32, epDist: f32, level: i32): u32 {
  let best = ep;
  let bestDist = epDist;
  let changed = true;
  while (changed) {
    changed = false;
    const links = linksAt(idx, best, level);
    const n = load<u32>(links);
    for (let j: u32 = 1; j <= n; j++) {
      const nb = load<u32>(links + (<usize>j << 2));
      const d = queryDistance(idx, q, vectorAt(idx, nb));
      if (d < bestDist) {
        bestDist = d;
        best = nb;
        changed = true;
      }
    }
  }
  greedyDist = bestDist;
  return best;
}

/**
 * Descends greedily from the entry point through the layers above `level`; returns the node it
 * ends at (where a search of `level` starts), its distance to q left in greedyDist. Cost:
 * O(layers * steps * links).
 */
export function descendTo(idx: Index, q: usize, level: i32): u32 {
  let ep = <u32>idx.entry;
  let d = nodeDistance(idx, q, ep);
  for (let l = idx.maxLevel; l > level; l--) {
    ep = greedyClosest(idx, q, ep, d, l);
    d = greedyDist;
  }
  greedyDist = d;
  return ep;
}

/** Distance of the node greedyClosest (or descendTo) returned last. */
@inline export function lastGreedyDist(): f32 {
  return greedyDist;
}

/** Where searchLayer leaves the words it touched ahead of use (so the loads are not dropped). */
let touchSink: u32 = 0;

/**
 * Appends the neighbours of c on `level` whose visit tag is not `epoch` to the fresh list (from
 * entry n) as (node, vector address) pairs, tagging them. Returns the new length. Cost: O(links).
 */
@inline function gatherUnvisited(idx: Index, c: u32, level: i32, epoch: u16, fresh: usize, n: u32,
                                 table: usize, side: usize, shift: u32, mask: u32, tagAt: usize,
                                 recordBytes: usize, vectorOffset: usize): u32 {
  const links = linksAt(idx, c, level);
  const count = load<u32>(links);
  for (let j: u32 = 1; j <= count; j++) {
    const nb = load<u32>(links + (<usize>j << 2));
    const segment = <usize>load<u32>(table + (<usize>(nb >> shift) << 2));
    const slot = <usize>(nb & mask);
    const tag = <usize>load<u32>(side + (<usize>(nb >> shift) << 2)) + tagAt + (slot << 1);
    if (load<u16>(tag) == epoch) continue;
    store<u16>(tag, epoch);
    const e = fresh + (<usize>n << 3);
    store<u32>(e, nb);
    store<u32>(e, <u32>(segment + vectorOffset + slot * recordBytes), 4);
    n++;
  }
  return n;
}

/** Where gatherAllowed leaves the words it touched ahead of use (so the loads are not dropped). */
let acornSink: u32 = 0;

/**
 * gatherUnvisited for a filtered walk (ACORN-1), layer 0: appends c's unvisited allowed
 * neighbours, then the unvisited allowed neighbours of its rejected neighbours (two hops), at
 * most `cap` in all, tagging what it appends (a node left out stays reachable). Rejected nodes
 * are never scored. While it takes the allowed neighbours it touches the link lists of the
 * rejected ones, so the misses of the second hop overlap. Returns the new length. Cost:
 * O(M0^2) link reads.
 */
@inline function gatherAllowed(idx: Index, c: u32, epoch: u16, fresh: usize, cap: u32, allow: usize,
                               table: usize, side: usize, shift: u32, mask: u32, tagAt: usize,
                               recordBytes: usize, vectorOffset: usize, listBytes: usize): u32 {
  const links = linksAt(idx, c, 0);
  const count = load<u32>(links);
  let n: u32 = 0;
  let touched: u32 = 0;
  for (let j: u32 = 1; j <= count && n < cap; j++) {
    const nb = load<u32>(links + (<usize>j << 2));
    if (isAllowed(allow, nb)) {
      n = appendUnvisited(nb, epoch, fresh, n, table, side, shift, mask, tagAt, recordBytes, vectorOffset);
    } else {
      const second = linksAt(idx, nb, 0);
      for (let line = second & ~63; line < second + listBytes; line += 64) touched ^= load<u32>(line);
    }
  }
  acornSink = touched;
  for (let j: u32 = 1; j <= count && n < cap; j++) {
    const nb = load<u32>(links + (<usize>j << 2));
    if (isAllowed(allow, nb)) continue;
    const second = linksAt(idx, nb, 0);
    const count2 = load<u32>(second);
    for (let i: u32 = 1; i <= count2 && n < cap; i++) {
      const nb2 = load<u32>(second + (<usize>i << 2));
      if (isAllowed(allow, nb2)) n = appendUnvisited(nb2, epoch, fresh, n, table, side, shift, mask, tagAt, recordBytes, vectorOffset);
    }
  }
  return n;
}

/** Appends nb to the fresh list (as gatherUnvisited does) unless its tag is `epoch`; returns the new length. */
@inline function appendUnvisited(nb: u32, epoch: u16, fresh: usize, n: u32, table: usize, side: usize, shift: u32, mask: u32,
                                 tagAt: usize, recordBytes: usize, vectorOffset: usize): u32 {
  const segment = <usize>load<u32>(table + (<usize>(nb >> shift) << 2));
  const slot = <usize>(nb & mask);
  const tag = <usize>load<u32>(side + (<usize>(nb >> shift) << 2)) + tagAt + (slot << 1);
  if (load<u16>(tag) == epoch) return n;
  store<u16>(tag, epoch);
  const e = fresh + (<usize>n << 3);
  store<u32>(e, nb);
  store<u32>(e, <u32>(segment + vectorOffset + slot * recordBytes), 4);
  return n + 1;
}

/**
 * Best-first search of one layer from ep, keeping the ef best accepted nodes in idx.results.
 * Returns how many it holds. Cost: O(visited * (links + log ef)) distance evaluations.
 *
 * The layout (segment table, shift, record geometry) is read into locals once: every visit-tag
 * and heap store would otherwise make the engine reload it from the header. Expanding a node
 * first checks the visit tags of all its neighbours (small, in the segments' side arrays),
 * keeping each unvisited one with its vector's address, then touches every cache line of those
 * vectors and scores them in list order, so their cache misses overlap instead of coming one
 * after another. A query (not a build, whose graphs stay as they were) expands up to
 * EXPAND_WIDTH nearest candidates a step, each one still within reach when it is popped: their
 * link lists and then their neighbours' vectors are fetched together, so a query waits on a
 * third as many chains of misses (GloVe 100K, i8: 1.055x the QPS of one a step; 2: 1.037x).
 */
export function searchLayer(idx: Index, q: usize, ep: u32, epDist: f32, ef: u32,
                            level: i32, mode: i32, exclude: u32): u32 {
  const epoch = <u16>nextEpoch(idx);
  const res = idx.results;
  const fresh = idx.fresh;
  const table = idx.segments;
  // Visit tags and the candidate heap: in the segments, or a thread's own side arrays (shadow.ts).
  const side = sideTableOf(idx);
  const shift = idx.segShift;
  const mask: u32 = (<u32>1 << shift) - 1;
  const tagAt: usize = <usize>VISIT_TAGS_AT << shift;
  const recordBytes = <usize>idx.recordBytes;
  const vectorOffset = <usize>idx.sideBytes + <usize>idx.linkBytes;
  const metric = idx.metric;
  const quant = idx.quant;
  const dims = idx.codeDims;
  const qs = idx.queryScale;
  const qn = idx.queryNorm;
  const vectorBytes = <usize>idx.vectorBytes;
  const width = mode != MODE_BUILD && mode != MODE_ACORN ? EXPAND_WIDTH : 1;
  const allow = idx.allowBits;
  const acornCap = <u32>idx.M0;
  const listBytes = <usize>(1 + (level == 0 ? idx.M0 : idx.M)) << 2;
  const expanding = fresh + (<usize>idx.M0 * EXPAND_WIDTH << 3);
  const top = candTop(side, shift);
  let touched: u32 = 0;
  // MODE_ADAPT (and a watching MODE_WHERE): nodes scored and how many of them pass.
  const watching = mode == MODE_ADAPT || (mode == MODE_WHERE && whereWatch);
  let scored: u32 = 0;
  let passed: u32 = 0;
  adaptExact = false;
  store<u16>(visitTagAt(idx, ep), epoch);
  let candSize = candPush(side, shift, top, 0, epDist, ep);
  let resSize: u32 = 0;
  if (accepts(idx, ep, mode, exclude)) resSize = heapPush(res, 0, epDist, ep);
  if (mode == MODE_ACORN) {
    // A few allowed nodes spread over the slots as extra starts: an allowed region the entry
    // point's neighbourhood does not reach is still searched.
    const seeds = idx.allowCount < ACORN_SEEDS ? idx.allowCount : ACORN_SEEDS;
    for (let i: u32 = 0; i < seeds; i++) {
      const s = spreadAllowed(idx, i, seeds);
      if (s == 0xFFFFFFFF) continue;
      const tag = visitTagAt(idx, s);
      if (load<u16>(tag) == epoch) continue;
      store<u16>(tag, epoch);
      const ds = nodeDistance(idx, q, s);
      candSize = candPush(side, shift, top, candSize, ds, s);
      resSize = heapPush(res, resSize, ds, s);
      if (resSize > ef) resSize = heapPop(res, resSize);
    }
  }
  while (candSize > 0) {
    const d = load<f32>(top);
    if (resSize >= ef && d > heapTopKey(res)) break;
    const c = load<u32>(top, 4);
    candSize = candPop(side, shift, top, candSize);
    // Pop every candidate within reach, up to `width`, touching every line of their link lists
    // (never past a list's end: an upper list can end its block, and the block memory).
    store<u32>(expanding, c);
    let w: u32 = 1;
    while (w < width && candSize > 0 && (resSize < ef || load<f32>(top) <= heapTopKey(res))) {
      const cw = load<u32>(top, 4);
      candSize = candPop(side, shift, top, candSize);
      const lw = linksAt(idx, cw, level);
      for (let line = lw & ~63; line < lw + listBytes; line += 64) touched ^= load<u32>(line);
      store<u32>(expanding + (<usize>w << 2), cw);
      w++;
    }
    let n: u32 = 0;
    if (mode == MODE_ACORN) n = gatherAllowed(idx, c, epoch, fresh, acornCap, allow, table, side, shift, mask, tagAt, recordBytes, vectorOffset, listBytes);
    else for (let i: u32 = 0; i < w; i++) {
      n = gatherUnvisited(idx, load<u32>(expanding + (<usize>i << 2)), level, epoch, fresh, n, table, side, shift, mask, tagAt, recordBytes, vectorOffset);
    }
    // Touch every cache line of the vectors about to be scored first: wasm has no prefetch,
    // and these loads overlap the misses that scoring them one by one would wait for in turn.
    // A vector spans the lines from its first byte's to its last's, whatever its alignment.
    for (let j: u32 = 0; j < n; j++) {
      const v = <usize>load<u32>(fresh + (<usize>j << 3), 4);
      const end = v + vectorBytes;
      for (let line = v & ~63; line < end; line += 64) touched ^= load<u32>(line);
    }
    if (mode == MODE_WHERE) touched ^= whereTouch(idx, fresh, n);
    for (let j: u32 = 0; j < n; j++) {
      const e = fresh + (<usize>j << 3);
      const nb = load<u32>(e);
      const dn = scoreRow(quant, metric, dims, q, qs, qn, <usize>load<u32>(e, 4));
      if (resSize < ef || dn < heapTopKey(res)) {
        candSize = candPush(side, shift, top, candSize, dn, nb);
        if (accepts(idx, nb, mode, exclude)) {
          resSize = heapPush(res, resSize, dn, nb);
          if (resSize > ef) resSize = heapPop(res, resSize);
        }
      }
    }
    if (watching && (mode == MODE_ADAPT || resSize < ef)) {
      scored += n;
      if (mode == MODE_ADAPT) {
        for (let j: u32 = 0; j < n; j++) passed += <u32>isAllowed(allow, load<u32>(fresh + (<usize>j << 3)));
      } else {
        for (let j: u32 = 0; j < n; j++) passed += <u32>accepts(idx, load<u32>(fresh + (<usize>j << 3)), mode, exclude);
      }
      if (scored >= ADAPT_AFTER && <f64>passed < ADAPT_EXACT_BELOW * <f64>scored) {
        adaptExact = true;
        break;
      }
    }
  }
  touchSink = touched;
  return resSize;
}

/**
 * k nearest accepted nodes to q (prepared as codes.ts says): descends from the entry point, searches layer 0
 * with max(ef, k), and writes min(k, found) (f32 distance, u32 label) pairs, nearest first, to
 * out. Returns how many it wrote. The caller has sized the scratch for max(ef, k).
 */
export function searchKnn(idx: Index, q: usize, k: u32, ef: u32, mode: i32, out: usize): u32 {
  whereWatch = mode == MODE_WHERE_WATCH;
  if (whereWatch) mode = MODE_WHERE;
  idx.lastPlan = mode;
  if (idx.entry < 0 || k == 0) return 0;
  if (mode >= MODE_ALLOW && mode != MODE_WHERE) {
    if (mode == MODE_EXACT) return exactScan(idx, q, k, out);
    // A walk that finds fewer than min(k, allowed) falls back to the exact scan, and so does the
    // planner's walk that meets too few allowed nodes.
    const size = walkKnn(idx, q, k, ef, mode, out);
    const want = k < idx.allowCount ? k : idx.allowCount;
    if (!adaptExact && size >= want) return size;
    idx.lastPlan = MODE_EXACT;
    return exactScan(idx, q, k, out);
  }
  const size = walkKnn(idx, q, k, ef, mode, out);
  if (!adaptExact) return size;
  // A watching lazy walk that stopped: nothing, and plan 4 for the host to scan the rows.
  idx.lastPlan = MODE_EXACT;
  return 0;
}

/** searchKnn by the walk alone. */
function walkKnn(idx: Index, q: usize, k: u32, ef: u32, mode: i32, out: usize): u32 {
  const ep = descendTo(idx, q, 0);
  let size = searchLayer(idx, q, ep, greedyDist, ef > k ? ef : k, 0, mode, 0xFFFFFFFF);
  while (size > k) size = heapPop(idx.results, size);
  heapDrainAscending(idx.results, size, out);
  for (let i: u32 = 0; i < size; i++) {
    const p = out + (<usize>i << 3) + 4;
    store<u32>(p, labelAt(idx, load<u32>(p)));
  }
  return size;
}
