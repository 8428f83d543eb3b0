// The parallel entry points of the threads builds (src/runtime/threads.ts drives them).
//
// Batch search: every thread runs indexSearchBatch through its shadow (shadow.ts), the calling
// thread through the index itself, each taking the next row not yet taken from a shared counter
// (util/counter.ts), so no thread waits on another's share.
//
// Batch build, one chunk of new items at a time:
//   1. the calling thread places the chunk's items (slot, label, vector; no links): indexPlaceChunk
//   2. every thread takes the chunk's items one at a time (a shared counter) and searches each
//      one's neighbours (placed items have no links in or out, so no search reaches them),
//      writing the neighbours it chose on each layer to the item's link record: indexFindLinks
//   3. the calling thread links the items in order from their records (the new node's lists,
//      the reverse links with their pruning, the in-degree join): indexLinkChunk
// Step 2 is most of an insert's cost, and its result does not depend on the thread that ran
// it. Pipelined (the host's default), step 3 of a chunk runs on the calling thread while the
// workers already run step 2 of the next chunk, which then reads lists as they are being
// linked: every list write keeps its members valid nodes and publishes the count after them
// (graph.ts publishCount), so a reader only ever follows placed nodes, and what it read is
// checked where it matters (a prune's list hash, a walk's paths). The graph then depends on
// timing. Reproducible (steps in lockstep), a chunked build gives the same graph on any number
// of threads. Neither is addBatch's graph: an item does not see the items of its own chunk.
// An item whose level is above the graph's top (or an empty graph's first item) is linked by
// the calling thread as addBatch would.
//
//   link record (indexLinkStride words an item): u32 layers (LINK_SERIAL: link it serially), then
//   layer 0's list (u32 kept, M (f32 distance, u32 node) pairs) and a prune slot per listed
//   neighbour, then the lists of layers 1, 2 ... (no prune slots: few items have them).
//
// A reverse link into a full layer-0 list prunes it by the heuristic (most of step 3's cost).
// Step 2 also computes that prune for each neighbour it lists, against the list as it stands
// (with a hash of it); step 3 uses it when the list is still that one (an earlier item of the
// chunk may have changed it), else prunes again: the same graph either way, with most of the
// prunes' distances spread over the threads.

import { Index, levelOf, linksAt, visitTagAt, sideTableOf } from "./graph";
import { shadowCreate, shadowSync, shadowFree } from "./shadow";
import { heapDrainAscending } from "../util/heap";
import { descendTo, lastGreedyDist, searchLayer, MODE_BUILD } from "./search";
import { selectNeighbours } from "./select";
import { prepareNodeQuery } from "./codes";
import { placeItem, connect, linkLayer, joinIn, prunedWith, listHash, idsHold, PRUNE_NONE, PATH_NODES } from "./insert";
import { nextEpoch } from "./search";
import { candWordAt } from "./candidates";
import { takeItem } from "../util/counter";
import { mapGet } from "../util/idmap";

/** A link record's first word for an item the calling thread links itself. */
const LINK_SERIAL: u32 = 0xFFFFFFFF;

/** Words of a layer's list in a link record: kept, then M (f32 distance, u32 node) pairs. */
@inline function listWords(idx: Index): u32 {
  return 1 + (<u32>idx.M << 1);
}

/**
 * Words of a layer-0 prune computed ahead: u64 list hash, u32 kept (PRUNE_NONE: none), M0 ids,
 * u32 walked (1: a path to every member it drops was found), then PATH_NODES words a dropped
 * member, in list order: the path's nodes from one of the kept ids on (insert.ts pathsHold).
 */
@inline function pruneWords(idx: Index): u32 {
  return 4 + <u32>idx.M0 * (1 + PATH_NODES);
}

/** Nodes a walk ahead queues at most (it gives up past them: the calling thread then walks). */
const WALK_CAP: u32 = 2048;

/** Words of a record's layer-0 part: its list, then a prune slot per listed neighbour. */
@inline function layer0Words(idx: Index): u32 {
  return listWords(idx) + <u32>idx.M * pruneWords(idx);
}

/** Address of layer l's list in the record at rec (layer 0 first, then 1, 2 ...). */
@inline function listAt(idx: Index, rec: usize, l: i32): usize {
  return rec + 4 + (l == 0 ? 0 : ((<usize>layer0Words(idx) + <usize>(l - 1) * <usize>listWords(idx)) << 2));
}

/**
 * Words of one item's link record with room for max(layers, the graph's) layers (an item
 * above what its record holds is linked serially).
 */
export function indexLinkStride(h: usize, layers: u32): u32 {
  const idx = changetype<Index>(h);
  const have = <u32>(idx.maxLevel + 1);
  const n = layers > have ? layers : have;
  return 1 + layer0Words(idx) + (n - 1) * listWords(idx);
}

/**
 * Whether a batch of the n ids at idsPtr can be built in parallel: no removed slot to reuse, and
 * no id already in the index (live or removed): every item then appends a new node and nothing
 * needs a repair. The host checks the batch has no repeated id. Cost: O(n) map lookups.
 */
export function indexParallelEligible(h: usize, idsPtr: usize, n: u32): bool {
  const idx = changetype<Index>(h);
  if (idx.deleted > 0) return false;
  for (let i: u32 = 0; i < n; i++) {
    if (mapGet(idx.map, idx.mapCap, load<u32>(idsPtr + (<usize>i << 2))) >= 0) return false;
  }
  return true;
}

/** Places items [first, first + n) of a reserved batch (vectors at vecPtr) and writes their nodes to nodes. */
export function indexPlaceChunk(h: usize, idsPtr: usize, first: u32, vecPtr: usize, n: u32, nodes: usize): void {
  const idx = changetype<Index>(h);
  const rowBytes = <usize>idx.dim << 2;
  for (let i: u32 = 0; i < n; i++) {
    const item = first + i;
    const node = placeItem(idx, load<u32>(idsPtr + (<usize>item << 2)), vecPtr + <usize>i * rowBytes, item);
    store<u32>(nodes + (<usize>i << 2), node);
  }
}

/**
 * Searches neighbours for placed nodes of the list at nodes, through idx (an index or a shadow
 * synced to it: indexShadowSync), taking items from the u32 counter at `next` (shared by every
 * thread searching the chunk: each takes the next item not yet taken) until it reaches `to`,
 * writing item i's link record (stride words) to out + i * stride. Reads the graph, writes only
 * idx's scratch, the counter and the records. Cost: an insert's searches each.
 */
export function indexFindLinks(h: usize, nodes: usize, next: usize, to: u32, out: usize, stride: u32): void {
  const idx = changetype<Index>(h);
  const M = <u32>idx.M;
  const room = (stride - 1 - layer0Words(idx)) / listWords(idx) + 1;
  for (let i = takeItem(next); i < to; i = takeItem(next)) {
    const n = load<u32>(nodes + (<usize>i << 2));
    const rec = out + ((<usize>i * <usize>stride) << 2);
    const level = levelOf(idx, n);
    if (idx.entry < 0 || level > idx.maxLevel || <u32>(level + 1) > room) {
      store<u32>(rec, LINK_SERIAL);
      continue;
    }
    const q = prepareNodeQuery(idx, n);
    let ep = descendTo(idx, q, level);
    let d = lastGreedyDist();
    store<u32>(rec, <u32>(level + 1));
    for (let l = level; l >= 0; l--) {
      const found = searchLayer(idx, q, ep, d, <u32>idx.efConstruction, l, MODE_BUILD, n);
      let kept: u32 = 0;
      if (found > 0) {
        heapDrainAscending(idx.results, found, idx.sorted);
        d = load<f32>(idx.sorted);
        ep = load<u32>(idx.sorted, 4);
        kept = selectNeighbours(idx, idx.sorted, found, M, idx.chosen);
      }
      const p = listAt(idx, rec, l);
      store<u32>(p, kept);
      memory.copy(p + 4, idx.chosen, <usize>kept << 3);
      if (l == 0) prunesAhead(idx, n, p + 4, kept, p + (<usize>listWords(idx) << 2));
    }
  }
}

/**
 * For each of the `kept` (distance, node) pairs at chosen whose layer-0 list is full, the prune
 * the reverse link to n will make of it, computed now against the list as it is (linkChunk uses
 * it when the list has not changed since): slot j of `slots` (pruneWords each). Cost: a prune's
 * distances per full list.
 */
function prunesAhead(idx: Index, n: u32, chosen: usize, kept: u32, slots: usize): void {
  const max = <u32>idx.M0;
  for (let j: u32 = 0; j < kept; j++) {
    const slot = slots + ((<usize>j * <usize>pruneWords(idx)) << 2);
    const c = load<u32>(chosen + (<usize>j << 3), 4);
    const links = linksAt(idx, c, 0);
    const count = load<u32>(links);
    if (count < max) {
      store<u32>(slot, PRUNE_NONE, 8);
      continue;
    }
    // A pipelined build may be linking the list meanwhile: a prune is kept only if the list read
    // the same before and after it (step 3 then uses it only if the list still hashes so).
    const hash = listHash(links, count);
    const pruned = prunedWith(idx, c, n, load<f32>(chosen + (<usize>j << 3)), links, count, max);
    if (load<u32>(links) != count || listHash(links, count) != hash) {
      store<u32>(slot, PRUNE_NONE, 8);
      continue;
    }
    store<u64>(slot, hash);
    store<u32>(slot, pruned, 8);
    const ids = slot + 12;
    for (let i: u32 = 0; i < pruned; i++) store<u32>(ids + (<usize>i << 2), load<u32>(idx.pruned + (<usize>i << 3), 4));
    const walked = ids + (<usize>max << 2);
    store<u32>(walked, walkAhead(idx, c, links, count, ids, pruned, walked + 4) ? 1 : 0);
  }
}

/**
 * The walk relist() makes when c's layer-0 list (at links, count members) becomes the `kept`
 * ids at ids, made ahead on the graph as it stands: breadth-first from the kept ids, never
 * through c, until it has met every member they drop, writing for each the path that met it
 * (PATH_NODES nodes from a kept id; insert.ts pathsHold checks them again when the list is
 * linked). Returns false when it meets them not all within WALK_CAP nodes and PATH_NODES steps.
 * Reads the graph, writes only idx's scratch (visit tags, the candidate slices as its queue:
 * [u32 parent entry, u32 node] each). Cost: the lists it reads.
 */
function walkAhead(idx: Index, c: u32, links: usize, count: u32, ids: usize, kept: u32, paths: usize): bool {
  let mark = nextEpoch(idx);
  if (mark == 0xFFFF) mark = nextEpoch(idx);
  const epoch = <u16>nextEpoch(idx);
  let left: u32 = 0;
  for (let j: u32 = 1; j <= count; j++) {
    const x = load<u32>(links + (<usize>j << 2));
    if (idsHold(ids, kept, x)) continue;
    store<u16>(visitTagAt(idx, x), <u16>mark);
    left++;
  }
  if (left == 0) return true;
  store<u16>(visitTagAt(idx, c), epoch);
  const side = sideTableOf(idx);
  const shift = idx.segShift;
  let tail: u32 = 0;
  for (let i: u32 = 0; i < kept; i++) {
    const y = load<u32>(ids + (<usize>i << 2));
    const tag = visitTagAt(idx, y);
    if (load<u16>(tag) == epoch) continue;
    store<u16>(tag, epoch);
    const e = candWordAt(side, shift, tail) - 4;
    store<u32>(e, PRUNE_NONE);
    store<u32>(e, y, 4);
    tail++;
  }
  for (let head: u32 = 0; head < tail && left > 0; head++) {
    const v = load<u32>(candWordAt(side, shift, head));
    const list = linksAt(idx, v, 0);
    const n = load<u32>(list);
    for (let j: u32 = 1; j <= n; j++) {
      const y = load<u32>(list + (<usize>j << 2));
      const tag = visitTagAt(idx, y);
      const seen = load<u16>(tag);
      if (seen == epoch) continue;
      store<u16>(tag, epoch);
      if (seen == <u16>mark) {
        if (!writePath(idx, side, shift, head, links, count, ids, kept, y, paths)) return false;
        left--;
      } else if (tail < WALK_CAP) {
        const e = candWordAt(side, shift, tail) - 4;
        store<u32>(e, head);
        store<u32>(e, y, 4);
        tail++;
      }
    }
  }
  return left == 0;
}

/**
 * Writes the path to dropped member x (met from queue entry `head`) in x's place among the
 * dropped members of the list at links: the chain of queue entries up to a kept id, reversed,
 * PRUNE_NONE after its end. False when it is longer than PATH_NODES.
 */
function writePath(idx: Index, side: usize, shift: u32, head: u32, links: usize, count: u32, ids: usize, kept: u32,
                   x: u32, paths: usize): bool {
  let d: usize = 0;
  for (let j: u32 = 1; j <= count; j++) {
    const y = load<u32>(links + (<usize>j << 2));
    if (y == x) break;
    if (!idsHold(ids, kept, y)) d++;
  }
  const path = paths + ((d * <usize>PATH_NODES) << 2);
  let steps: u32 = 0;
  for (let e = head; e != PRUNE_NONE; e = load<u32>(candWordAt(side, shift, e) - 4)) steps++;
  if (steps > PATH_NODES) return false;
  for (let i = steps; i < PATH_NODES; i++) store<u32>(path + (<usize>i << 2), PRUNE_NONE);
  let i = steps;
  for (let e = head; e != PRUNE_NONE; e = load<u32>(candWordAt(side, shift, e) - 4)) {
    i--;
    store<u32>(path + (<usize>i << 2), load<u32>(candWordAt(side, shift, e)));
  }
  return true;
}

/**
 * Links the n placed nodes at nodes, in order, from their link records (findLinks): each one's
 * lists and the reverse links to it; an item marked serial is connected as addBatch would.
 * Cannot fail (the batch was reserved). Cost: n * kept reverse links, plus the serial items.
 */
export function indexLinkChunk(h: usize, nodes: usize, n: u32, out: usize, stride: u32): void {
  const idx = changetype<Index>(h);
  for (let i: u32 = 0; i < n; i++) {
    const node = load<u32>(nodes + (<usize>i << 2));
    const rec = out + ((<usize>i * <usize>stride) << 2);
    const layers = load<u32>(rec);
    if (layers == LINK_SERIAL) {
      connect(idx, node, 0);
      continue;
    }
    for (let l = <i32>layers - 1; l >= 0; l--) {
      const p = listAt(idx, rec, l);
      const kept = load<u32>(p);
      memory.copy(idx.chosen, p + 4, <usize>kept << 3);
      if (l == 0) linkLayer(idx, node, 0, kept, p + (<usize>listWords(idx) << 2), pruneWords(idx));
      else linkLayer(idx, node, l, kept);
    }
    joinIn(idx, node);
  }
}

/**
 * A per-thread shadow of the index (shadow.ts) with search scratch for ef candidates: its handle,
 * or 0 over budget with nothing allocated. Make it after the call's growth, free it at its end.
 * Cost: O(slots) to clear its visit tags.
 */
export function indexShadowCreate(h: usize, ef: u32): usize {
  return changetype<usize>(shadowCreate(changetype<Index>(h), ef));
}

/** Copies the index's header into its shadow s (the graph as it is now); 0 if it grew past what s covers, else 1. */
export function indexShadowSync(s: usize, h: usize): i32 {
  return shadowSync(changetype<Index>(s), changetype<Index>(h)) ? 1 : 0;
}

/** Frees a shadow (its own blocks only). */
export function indexShadowFree(s: usize): void {
  shadowFree(changetype<Index>(s));
}
