// Index snapshots: the bytes `index.serialize()` returns and `engine.loadIndex` takes.
// Little-endian; n = count, V = bytes of a vector part (vector-form.ts: 4 * (dim padded to 4)
// for f32), M0 = 2M, T = ceil(n / 32).
//
//   off  size  field
//   0    4     magic "EXIX" (45 58 49 58)
//   4    4     u32 format version: 1 (f32 indexes, written), 2 (any quantization, written by f16/i8)
//   8    4     u32 kind (1 = HNSW over flat blocks)
//   12   4     u32 dim                1..65536
//   16   4     u32 metric             0 cosine, 1 l2, 2 dot
//   20   4     u32 M                  2..128
//   24   4     u32 efConstruction     1..100000
//   28   4     u32 efSearch           1..100000 (the host's default; kept so a load behaves the same)
//   32   4     u32 seed               as given at creation (the level generator's state is below)
//   36   4     u32 count n            slots, live and removed
//   40   4     u32 deleted            removed slots = set bits of the tombstones
//   44   4     i32 entry              entry node, -1 exactly when n = 0
//   48   4     u32 maxLevel           0..31, the entry's level and the highest of all nodes
//   52   4     u32 upperUsed          words of the upper block in use, word 0 included (>= 1)
//   56   4     u32 reuseHint          tombstone word where slot reuse looks first (< T, or 0)
//   60   4     u32 quantization       0 f32, 1 f16, 2 i8 (version 2; reserved, zero in version 1)
//   64   8     u64 level PRNG state   non-zero
//   72   8     reserved, zero
//   80         vectors[n * V]              vector parts as stored (vector-form.ts; f32 rows unit
//                                          length under cosine), zero padding
//              u32 links0[n * (1 + M0)]    [count <= M0, targets < n, zero tail] per node
//              u32 upperAt[n]              0, or the word offset of the node's upper record
//              u32 upper[upperUsed - 1]    words 1.. of the upper block: records [level][count,
//                                          M ids] x level, one per node of level > 0, in node
//                                          order, tiling the block; targets have level >= layer
//              u32 labels[n]               the caller's id per slot, all distinct
//              u32 tombs[T]                bit n set = slot n removed; bits past n clear
//   end-4 4    u32 CRC-32 of every byte before it
//
// Unused link slots are written as zeros, so a snapshot of a loaded index repeats its bytes.
// The layout in memory (segments of node records, graph.ts) is not the layout of the bytes: the
// vectors and links0 sections gather each node's record parts, labels and upperAt each
// segment's side array, in node order.
// The host moves the bytes (src/hnsw/snapshot.ts): the engine never stages a snapshot. To save,
// snapshotInfo writes the header and the memory layout (LAYOUT_WORDS below) into a small static
// area and the host copies the sections out of linear memory. To load, the host puts the header there,
// loadBegin checks it and allocates the index's final blocks (nothing else), the host copies the
// sections straight into them and checks the CRC, and loadFinish checks every structural
// invariant the search and insert paths rely on (bounds, levels, tiling, tombstone count, label
// uniqueness) in place; a failure frees everything.

import { LOAD_BUDGET, LOAD_CORRUPT } from "../runtime/status";
import {
  Index, indexAlloc, indexFree, reserveCapacity, ensureMap, ensureUpper, MAX_LEVEL, vectorAt, linksAt, upperAtOf, mapLabels,
} from "./graph";
import { countInDegrees } from "./indegree";
import { QUANT_F32, QUANT_I8, vectorBytesFor } from "./vector-form";
import { validStoredRow } from "./codes";

const MAGIC: u32 = 0x58495845;
const VERSION_F32: u32 = 1;
const VERSION_QUANT: u32 = 2;
const KIND_HNSW: u32 = 1;
const HEADER: usize = 80;
const MAX_DIM: u32 = 65536;
const MAX_M: u32 = 128;
const MAX_EF: u32 = 100000;
const F32_MAX: f64 = 3.4028234663852886e38;

/**
 * Shared with the host: the 80-byte header, then the layout of the index in memory, u32 words:
 * segment table address, segments, segment shift, side bytes, record bytes, link bytes (the
 * vector part's offset in a record), address of upper word 1, tombstones address. A Q-table or
 * trajectory load puts its snapshot header (80 or 32 bytes) here too (qlearn/snapshot.ts): static
 * memory, so a load stages nothing in the budget.
 */
const LAYOUT_WORDS = 8;
const info = memory.data(<i32>HEADER + LAYOUT_WORDS * 4, 16);

/** Writes idx's 80-byte header to out, with the host's efSearch and the creation seed. */
function writeHeader(idx: Index, efSearch: u32, seed: u32, out: usize): void {
  memory.fill(out, 0, HEADER);
  store<u32>(out, MAGIC);
  store<u32>(out, idx.quant == QUANT_F32 ? VERSION_F32 : VERSION_QUANT, 4);
  store<u32>(out, KIND_HNSW, 8);
  store<u32>(out, <u32>idx.dim, 12);
  store<u32>(out, <u32>idx.metric, 16);
  store<u32>(out, <u32>idx.M, 20);
  store<u32>(out, <u32>idx.efConstruction, 24);
  store<u32>(out, efSearch, 28);
  store<u32>(out, seed, 32);
  store<u32>(out, idx.count, 36);
  store<u32>(out, idx.deleted, 40);
  store<i32>(out, idx.entry, 44);
  store<i32>(out, idx.maxLevel, 48);
  store<u32>(out, idx.upperUsed, 52);
  store<u32>(out, idx.reuseHint, 56);
  store<u32>(out, <u32>idx.quant, 60);
  store<u64>(out, idx.rng, 64);
}

/** Writes idx's memory layout after the header in the info area (upper from word 1). */
function writeAddresses(idx: Index): void {
  const p = info + HEADER;
  store<u32>(p, <u32>idx.segments);
  store<u32>(p, idx.segCount, 4);
  store<u32>(p, idx.segShift, 8);
  store<u32>(p, idx.sideBytes, 12);
  store<u32>(p, idx.recordBytes, 16);
  store<u32>(p, idx.linkBytes, 20);
  store<u32>(p, <u32>(idx.upper + 4), 24);
  store<u32>(p, <u32>idx.tombs, 28);
}

/**
 * Describes idx's snapshot for the host: header and memory layout in the info area, whose
 * address it returns. Lists keep stale ids past their count (the host writes zeros there). Cost: O(1).
 */
export function snapshotInfo(idx: Index, efSearch: u32, seed: u32): usize {
  writeHeader(idx, efSearch, seed, info);
  writeAddresses(idx);
  return info;
}

/** The info area, where the host puts a header before loadBegin. Cost: O(1). */
export function snapshotArea(): usize {
  return info;
}

/** The byte length a header announces for n slots of dim, quant, M links, upperUsed upper words. */
function snapshotLength(n: u32, dim: u32, quant: i32, M: u32, upperUsed: u32): u64 {
  return <u64>HEADER + <u64>n * <u64>vectorBytesFor(<i32>dim, quant) + ((<u64>n * <u64>(1 + 2 * M)) << 2) + (<u64>n << 2) +
    (<u64>(upperUsed - 1) << 2) + (<u64>n << 2) + (((<u64>n + 31) >> 5) << 2) + 4;
}

/**
 * Whether the header in the info area is an index header whose fields are in range and
 * consistent with each other (what can be checked before any section is read). Cost: O(1).
 */
function validHeader(p: usize): bool {
  const version = load<u32>(p, 4);
  if (load<u32>(p) != MAGIC || (version != VERSION_F32 && version != VERSION_QUANT) || load<u32>(p, 8) != KIND_HNSW) return false;
  const quant = load<u32>(p, 60);
  if (version == VERSION_F32 ? quant != 0 : quant > <u32>QUANT_I8) return false;
  const dim = load<u32>(p, 12);
  const M = load<u32>(p, 20);
  const efC = load<u32>(p, 24);
  const efS = load<u32>(p, 28);
  const n = load<u32>(p, 36);
  const deleted = load<u32>(p, 40);
  const entry = load<i32>(p, 44);
  const maxLevel = load<u32>(p, 48);
  const upperUsed = load<u32>(p, 52);
  const reuseHint = load<u32>(p, 56);
  if (dim == 0 || dim > MAX_DIM || load<u32>(p, 16) > 2 || M < 2 || M > MAX_M ||
      efC == 0 || efC > MAX_EF || efS == 0 || efS > MAX_EF || upperUsed == 0) return false;
  if (load<u64>(p, 64) == 0 || load<u64>(p, 72) != 0) return false;
  if (deleted > n || maxLevel > <u32>MAX_LEVEL) return false;
  if (reuseHint != 0 && reuseHint >= (n + 31) >> 5) return false;
  if (n == 0 ? entry != -1 || maxLevel != 0 : entry < 0 || <u32>entry >= n) return false;
  return snapshotLength(n, dim, <i32>quant, M, upperUsed) <= 0xFFFFFFFF;
}

/**
 * The index the header at p describes, with room for its nodes and upper links; 0 over budget,
 * with nothing left allocated. Between the blocks of other objects the room may be holes: the
 * segments can split into groups that fit small holes (graph.ts, appendSegments), the id map
 * and the upper block cannot. So with `flatFirst` those two take their holes first; loadBegin
 * tries the other order too, since the segments' groups may need those holes instead, then the
 * first order with `tightMap`: the id map at the capacity an index near the budget keeps
 * (graph.ts, ensureMap), which the normal one, in a hole the segments needed, can leave them short of.
 */
function allocFor(p: usize, flatFirst: bool, tightMap: bool): Index {
  const n = load<u32>(p, 36);
  const upper = <u64>load<u32>(p, 52) - 1;
  const idx = indexAlloc(load<i32>(p, 12), load<i32>(p, 16), load<i32>(p, 20), load<i32>(p, 24), load<u32>(p, 32), load<i32>(p, 60));
  if (changetype<usize>(idx) == 0) return idx;
  if (flatFirst ? ensureMap(idx, n, tightMap) && ensureUpper(idx, upper) && reserveCapacity(idx, n)
                : reserveCapacity(idx, n) && ensureUpper(idx, upper)) return idx;
  indexFree(idx);
  return changetype<Index>(0);
}

/**
 * Starts loading the snapshot whose header the host put in the info area: checks the header,
 * allocates the index and its final blocks (nothing more), sets its fields, and writes the
 * memory layout after the header for the host to copy the sections into. Returns the
 * half-built index (only loadFinish or indexFree may touch it), LOAD_CORRUPT or LOAD_BUDGET,
 * with nothing left allocated. Cost: O(blocks).
 */
export function loadBegin(): usize {
  const p = info;
  if (!validHeader(p)) return LOAD_CORRUPT;
  const n = load<u32>(p, 36);
  const upperUsed = load<u32>(p, 52);
  let idx = allocFor(p, true, false);
  if (changetype<usize>(idx) == 0) idx = allocFor(p, false, false);
  if (changetype<usize>(idx) == 0) idx = allocFor(p, true, true);
  if (changetype<usize>(idx) == 0) return LOAD_BUDGET;
  idx.count = n;
  idx.deleted = load<u32>(p, 40);
  idx.entry = load<i32>(p, 44);
  idx.maxLevel = load<i32>(p, 48);
  idx.upperUsed = upperUsed;
  idx.reuseHint = load<u32>(p, 56);
  idx.rng = load<u64>(p, 64);
  writeAddresses(idx);
  return changetype<usize>(idx);
}

/**
 * Whether every vector part is one the index could have stored: f32 rows finite with a float32
 * squared norm and zero padding, f16/i8 as validStoredRow says. Cost: O(n * stride).
 */
function validVectors(idx: Index): bool {
  if (idx.quant != QUANT_F32) {
    for (let i: u32 = 0; i < idx.count; i++) {
      if (!validStoredRow(idx, vectorAt(idx, i))) return false;
    }
    return true;
  }
  const dim = <u32>idx.dim;
  const stride = <u32>idx.stride;
  for (let i: u32 = 0; i < idx.count; i++) {
    const row = vectorAt(idx, i);
    let sumSq: f64 = 0;
    for (let j: u32 = 0; j < dim; j++) {
      const x = <f64>load<f32>(row + (<usize>j << 2));
      if (x - x != 0) return false;
      sumSq += x * x;
    }
    if (sumSq > F32_MAX) return false;
    for (let j = dim; j < stride; j++) {
      if (load<u32>(row + (<usize>j << 2)) != 0) return false;
    }
  }
  return true;
}

/** Whether a [count, ids...] list of `slots` holds <= slots targets < n and a zero tail. */
function validList(list: usize, slots: u32, n: u32): bool {
  const used = load<u32>(list);
  if (used > slots) return false;
  for (let j: u32 = 1; j <= slots; j++) {
    const v = load<u32>(list + (<usize>j << 2));
    if (j <= used ? v >= n : v != 0) return false;
  }
  return true;
}

/** Level of node i as its upperAt and upper record say (after the tiling is checked). */
@inline function recordLevel(idx: Index, i: u32): u32 {
  const at = upperAtOf(idx, i);
  return at == 0 ? 0 : load<u32>(idx.upper + (<usize>at << 2));
}

/**
 * Whether the upper records tile words 1..upperUsed-1 in node order, each of level 1..maxLevel
 * (the maximum being reached), and every upper link points at a node of that layer or higher.
 * Cost: O(n + upper words).
 */
function validUpper(idx: Index): bool {
  const n = idx.count;
  const M = <u32>idx.M;
  let w: u32 = 1;
  let top: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const at = upperAtOf(idx, i);
    if (at == 0) continue;
    if (at != w || w >= idx.upperUsed) return false;
    const level = load<u32>(idx.upper + (<usize>w << 2));
    if (level == 0 || level > <u32>MAX_LEVEL) return false;
    const words = <u64>1 + <u64>level * <u64>(1 + M);
    if (<u64>w + words > <u64>idx.upperUsed) return false;
    if (level > top) top = level;
    w += <u32>words;
  }
  if (w != idx.upperUsed || top != <u32>idx.maxLevel) return false;
  for (let i: u32 = 0; i < n; i++) {
    const at = upperAtOf(idx, i);
    if (at == 0) continue;
    const level = load<u32>(idx.upper + (<usize>at << 2));
    for (let l: u32 = 1; l <= level; l++) {
      const list = idx.upper + ((<usize>at + 1 + <usize>(l - 1) * (1 + <usize>M)) << 2);
      if (!validList(list, M, n)) return false;
      const used = load<u32>(list);
      for (let j: u32 = 1; j <= used; j++) {
        if (recordLevel(idx, load<u32>(list + (<usize>j << 2))) < l) return false;
      }
    }
  }
  return true;
}

/** Whether the tombstones count `deleted` removed slots, none past n. Cost: O(n / 32). */
function validTombs(idx: Index): bool {
  const n = idx.count;
  const words = (n + 31) >> 5;
  let set: u32 = 0;
  for (let k: u32 = 0; k < words; k++) set += popcnt(load<u32>(idx.tombs + (<usize>k << 2)));
  if ((n & 31) != 0 && (load<u32>(idx.tombs + (<usize>(words - 1) << 2)) >> (n & 31)) != 0) return false;
  return set == idx.deleted;
}

/**
 * Finishes a load once the host has copied every section and checked the CRC: checks every
 * structural invariant in place and rebuilds the id map. True with the index ready; false
 * (corrupt) with everything freed. Cost: O(snapshot bytes).
 */
export function loadFinish(idx: Index): bool {
  const n = idx.count;
  let ok = validVectors(idx);
  const M0 = <u32>idx.M0;
  for (let i: u32 = 0; ok && i < n; i++) {
    ok = validList(linksAt(idx, i, 0), M0, n);
  }
  ok = ok && validUpper(idx) && (n == 0 || recordLevel(idx, <u32>idx.entry) == <u32>idx.maxLevel) && validTombs(idx);
  ok = ok && mapLabels(idx, n);
  if (ok) countInDegrees(idx);
  else indexFree(idx);
  return ok;
}
