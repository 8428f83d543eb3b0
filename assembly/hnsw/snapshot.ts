// Index snapshots: the bytes `index.serialize()` returns and `engine.loadIndex` takes.
// Little-endian; n = count, S = stride (dim padded to 4), M0 = 2M, T = ceil(n / 32).
//
//   off  size  field
//   0    4     magic "EXIX" (45 58 49 58)
//   4    4     u32 format version (1)
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
//   60   4     reserved, zero
//   64   8     u64 level PRNG state   non-zero
//   72   8     reserved, zero
//   80         f32 vectors[n * S]          rows as stored (unit length under cosine), zero padding
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
// The loader checks every size, the checksum and every structural invariant the search and
// insert paths rely on (bounds, levels, tiling, tombstone count) on the staged bytes before it
// allocates; only label uniqueness is found while the id map is rebuilt, and then it frees all.

import { crc32 } from "../crc32";
import { mapSet } from "../idmap";
import { LOAD_BUDGET, LOAD_CORRUPT } from "../qlearn/snapshot";
import {
  Index, indexAlloc, indexFree, ensureCapacity, ensureMap, ensureUpper, linksAt, MAX_LEVEL,
} from "./graph";

const MAGIC: u32 = 0x58495845;
const VERSION: u32 = 1;
const KIND_HNSW: u32 = 1;
const HEADER: usize = 80;
const MAX_DIM: u32 = 65536;
const MAX_M: u32 = 128;
const MAX_EF: u32 = 100000;
const F32_MAX: f64 = 3.4028234663852886e38;

// Byte offsets of the sections of the snapshot last laid out (see layout).
let secVectors: u64 = 0;
let secLinks0: u64 = 0;
let secUpperAt: u64 = 0;
let secUpper: u64 = 0;
let secLabels: u64 = 0;
let secTombs: u64 = 0;
let secCrc: u64 = 0;

/** Lays out the sections for n slots of `stride` floats, M0 layer-0 links, upperUsed upper words; returns the CRC's offset. */
function layout(n: u32, stride: u32, M0: u32, upperUsed: u32): u64 {
  secVectors = <u64>HEADER;
  secLinks0 = secVectors + ((<u64>n * <u64>stride) << 2);
  secUpperAt = secLinks0 + ((<u64>n * <u64>(1 + M0)) << 2);
  secUpper = secUpperAt + (<u64>n << 2);
  secLabels = secUpper + (<u64>(upperUsed - 1) << 2);
  secTombs = secLabels + (<u64>n << 2);
  secCrc = secTombs + (((<u64>n + 31) >> 5) << 2);
  return secCrc;
}

/** Bytes `writeIndexSnapshot` will write for idx. Cost: O(1). */
export function indexSnapshotBytes(idx: Index): u64 {
  return layout(idx.count, <u32>idx.stride, <u32>idx.M0, idx.upperUsed) + 4;
}

/** Copies a [count, ids...] list of `slots` ids to `to`, zeroing the unused slots. */
@inline function copyList(to: usize, from: usize, slots: u32): void {
  const used = load<u32>(from);
  memory.copy(to, from, (<usize>used + 1) << 2);
  memory.fill(to + ((<usize>used + 1) << 2), 0, <usize>(slots - used) << 2);
}

/**
 * Writes idx's snapshot (indexSnapshotBytes(idx) bytes) to out, with the host's efSearch and
 * the creation seed in the header. Cost: O(bytes).
 */
export function writeIndexSnapshot(idx: Index, efSearch: u32, seed: u32, out: usize): void {
  const n = idx.count;
  const M0 = <u32>idx.M0;
  const M = <u32>idx.M;
  layout(n, <u32>idx.stride, M0, idx.upperUsed);
  memory.fill(out, 0, HEADER);
  store<u32>(out, MAGIC);
  store<u32>(out, VERSION, 4);
  store<u32>(out, KIND_HNSW, 8);
  store<u32>(out, <u32>idx.dim, 12);
  store<u32>(out, <u32>idx.metric, 16);
  store<u32>(out, M, 20);
  store<u32>(out, <u32>idx.efConstruction, 24);
  store<u32>(out, efSearch, 28);
  store<u32>(out, seed, 32);
  store<u32>(out, n, 36);
  store<u32>(out, idx.deleted, 40);
  store<i32>(out, idx.entry, 44);
  store<i32>(out, idx.maxLevel, 48);
  store<u32>(out, idx.upperUsed, 52);
  store<u32>(out, idx.reuseHint, 56);
  store<u64>(out, idx.rng, 64);
  memory.copy(out + <usize>secVectors, idx.vectors, <usize>(secLinks0 - secVectors));
  const listBytes = (<usize>M0 + 1) << 2;
  for (let i: u32 = 0; i < n; i++) {
    copyList(out + <usize>secLinks0 + <usize>i * listBytes, linksAt(idx, i, 0), M0);
  }
  memory.copy(out + <usize>secUpperAt, idx.upperAt, <usize>n << 2);
  // Upper records tile words 1..upperUsed-1; copy each list without its stale tail.
  const upper = out + <usize>secUpper - 4;
  let w: u32 = 1;
  while (w < idx.upperUsed) {
    const level = load<u32>(idx.upper + (<usize>w << 2));
    store<u32>(upper + (<usize>w << 2), level);
    for (let l: u32 = 0; l < level; l++) {
      const at = <usize>w + 1 + <usize>l * (1 + <usize>M);
      copyList(upper + (at << 2), idx.upper + (at << 2), M);
    }
    w += 1 + level * (1 + M);
  }
  memory.copy(out + <usize>secLabels, idx.labels, <usize>n << 2);
  memory.copy(out + <usize>secTombs, idx.tombs, <usize>(secCrc - secTombs));
  store<u32>(out + <usize>secCrc, crc32(out, <usize>secCrc));
}

/** Whether the header at p is in range and announces exactly len bytes with a good checksum. */
function validHeader(p: usize, len: u32): bool {
  if (<usize>len < HEADER + 4 || load<u32>(p) != MAGIC || load<u32>(p, 4) != VERSION ||
      load<u32>(p, 8) != KIND_HNSW) return false;
  const dim = load<u32>(p, 12);
  const M = load<u32>(p, 20);
  const efC = load<u32>(p, 24);
  const efS = load<u32>(p, 28);
  const upperUsed = load<u32>(p, 52);
  if (dim == 0 || dim > MAX_DIM || load<u32>(p, 16) > 2 || M < 2 || M > MAX_M ||
      efC == 0 || efC > MAX_EF || efS == 0 || efS > MAX_EF || upperUsed == 0) return false;
  const n = load<u32>(p, 36);
  if (layout(n, (dim + 3) & ~3, M << 1, upperUsed) + 4 != <u64>len) return false;
  return crc32(p, <usize>len - 4) == load<u32>(p + <usize>len - 4);
}

/** Whether every row is finite with a float32 squared norm and zero padding. Cost: O(n * stride). */
function validVectors(p: usize, n: u32, dim: u32): bool {
  const stride = (dim + 3) & ~3;
  const rows = p + <usize>secVectors;
  for (let i: u32 = 0; i < n; i++) {
    const row = rows + ((<usize>i * <usize>stride) << 2);
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

/** Level of node i as the snapshot's upperAt and upper sections say (after validUpper). */
@inline function snapLevel(p: usize, i: u32): u32 {
  const at = load<u32>(p + <usize>secUpperAt + (<usize>i << 2));
  return at == 0 ? 0 : load<u32>(p + <usize>secUpper + ((<usize>at - 1) << 2));
}

/**
 * Whether the upper records tile words 1..upperUsed-1 in node order, each of level 1..maxLevel
 * (the maximum being reached), and every upper link points at a node of that layer or higher.
 * Cost: O(n + upper words).
 */
function validUpper(p: usize, n: u32, M: u32, upperUsed: u32, maxLevel: u32): bool {
  const upperAt = p + <usize>secUpperAt;
  const upper = p + <usize>secUpper - 4;
  let w: u32 = 1;
  let top: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const at = load<u32>(upperAt + (<usize>i << 2));
    if (at == 0) continue;
    if (at != w || w >= upperUsed) return false;
    const level = load<u32>(upper + (<usize>w << 2));
    if (level == 0 || level > <u32>MAX_LEVEL) return false;
    const words = <u64>1 + <u64>level * <u64>(1 + M);
    if (<u64>w + words > <u64>upperUsed) return false;
    if (level > top) top = level;
    w += <u32>words;
  }
  if (w != upperUsed || top != maxLevel) return false;
  for (let i: u32 = 0; i < n; i++) {
    const at = load<u32>(upperAt + (<usize>i << 2));
    if (at == 0) continue;
    const level = load<u32>(upper + (<usize>at << 2));
    for (let l: u32 = 1; l <= level; l++) {
      const list = upper + ((<usize>at + 1 + <usize>(l - 1) * (1 + <usize>M)) << 2);
      if (!validList(list, M, n)) return false;
      const used = load<u32>(list);
      for (let j: u32 = 1; j <= used; j++) {
        if (snapLevel(p, load<u32>(list + (<usize>j << 2))) < l) return false;
      }
    }
  }
  return true;
}

/** Whether the tombstones count `deleted` removed slots, none past n. Cost: O(n / 32). */
function validTombs(p: usize, n: u32, deleted: u32): bool {
  const tombs = p + <usize>secTombs;
  const words = (n + 31) >> 5;
  let set: u32 = 0;
  for (let k: u32 = 0; k < words; k++) set += popcnt(load<u32>(tombs + (<usize>k << 2)));
  if ((n & 31) != 0 && (load<u32>(tombs + (<usize>(words - 1) << 2)) >> (n & 31)) != 0) return false;
  return set == deleted;
}

/** Whether the len bytes at p are a well-formed snapshot (all but label uniqueness). Cost: O(len). */
function validSnapshot(p: usize, len: u32): bool {
  if (!validHeader(p, len)) return false;
  const dim = load<u32>(p, 12);
  const M = load<u32>(p, 20);
  const n = load<u32>(p, 36);
  const deleted = load<u32>(p, 40);
  const entry = load<i32>(p, 44);
  const maxLevel = load<u32>(p, 48);
  const reuseHint = load<u32>(p, 56);
  if (load<u32>(p, 60) != 0 || load<u64>(p, 64) == 0 || load<u64>(p, 72) != 0) return false;
  if (deleted > n || maxLevel > <u32>MAX_LEVEL) return false;
  if (reuseHint != 0 && reuseHint >= (n + 31) >> 5) return false;
  if (n == 0 ? entry != -1 || maxLevel != 0 : entry < 0 || <u32>entry >= n) return false;
  if (!validVectors(p, n, dim)) return false;
  const M0 = M << 1;
  const lists = p + <usize>secLinks0;
  for (let i: u32 = 0; i < n; i++) {
    if (!validList(lists + ((<usize>i * (1 + <usize>M0)) << 2), M0, n)) return false;
  }
  if (!validUpper(p, n, M, load<u32>(p, 52), maxLevel)) return false;
  if (n > 0 && snapLevel(p, <u32>entry) != maxLevel) return false;
  return validTombs(p, n, deleted);
}

/**
 * A new index from the len snapshot bytes at p; LOAD_CORRUPT (nothing left allocated) for
 * bytes that are not a valid snapshot, LOAD_BUDGET (nothing left allocated) when it does not
 * fit. The efSearch and seed stay in the bytes for the host. Cost: O(len).
 */
export function loadIndexSnapshot(p: usize, len: u32): usize {
  if (!validSnapshot(p, len)) return LOAD_CORRUPT;
  const n = load<u32>(p, 36);
  const upperUsed = load<u32>(p, 52);
  const idx = indexAlloc(load<i32>(p, 12), load<i32>(p, 16), load<i32>(p, 20), load<i32>(p, 24), load<u32>(p, 32));
  if (changetype<usize>(idx) == 0) return LOAD_BUDGET;
  if (!ensureCapacity(idx, n) || !ensureMap(idx, n) || !ensureUpper(idx, <u64>upperUsed - 1)) {
    indexFree(idx);
    return LOAD_BUDGET;
  }
  layout(n, <u32>idx.stride, <u32>idx.M0, upperUsed);
  memory.copy(idx.labels, p + <usize>secLabels, <usize>n << 2);
  for (let i: u32 = 0; i < n; i++) {
    if (!mapSet(idx.map, idx.mapCap, load<u32>(idx.labels + (<usize>i << 2)), i)) {
      indexFree(idx);
      return LOAD_CORRUPT;
    }
  }
  memory.copy(idx.vectors, p + <usize>secVectors, <usize>(secLinks0 - secVectors));
  memory.copy(idx.links0, p + <usize>secLinks0, <usize>(secUpperAt - secLinks0));
  memory.copy(idx.upperAt, p + <usize>secUpperAt, <usize>n << 2);
  memory.copy(idx.upper + 4, p + <usize>secUpper, <usize>(secLabels - secUpper));
  memory.copy(idx.tombs, p + <usize>secTombs, <usize>(secCrc - secTombs));
  idx.count = n;
  idx.deleted = load<u32>(p, 40);
  idx.entry = load<i32>(p, 44);
  idx.maxLevel = load<i32>(p, 48);
  idx.upperUsed = upperUsed;
  idx.reuseHint = load<u32>(p, 56);
  idx.rng = load<u64>(p, 64);
  return changetype<usize>(idx);
}
