// Scan codes: an int8 copy of every f32 row in one dense block, in slot order, for the exact
// scan's first pass (filter.ts exactScan). A row's vector lies in its record among its links
// (7 cache lines a 100-d row, scattered), its codes in 2 lines next to its neighbouring slots',
// so a scan of many allowed rows reads a quarter of the bytes, and then scores in f32 only the
// rows the codes cannot rule out: the answer stays exact.
//
//   block      [rows: codesCap x rowBytes][pass buffer: codesCap x (f32 lower bound, u32 node)]
//              [prepared query: preparedI8Bytes(stride)]
//   row        f32 s (the codes' scale), f32 r = |x - s c| (+Infinity: stale, its vector was
//              written since), f32 a = |s c|, f32 |x|^2, then stride int8 codes c (encodeI8AbsMax),
//              zero up to rowBytes
//
// Bound. For the query q (prepared as int8-prepared codes qc with scale qs, residual
// |q - qs qc| <= rq = qs / 2 sqrt(stride)) and a row x: |q . x - qs s (qc . c)| <= |q| r + rq a,
// with qc . c an exact integer. cosine and dot: d = 1 - q . x; l2: d = |q|^2 + |x|^2 - 2 q . x,
// twice the bound. A margin of (stride + 16) 2^-23 of the terms' magnitudes covers the f32
// kernel's rounding (at most stride u of them) and the estimate's own.
//
// The block is the index's own (Index.codes), made and extended only by indexBuildCodes, a call
// the host makes outside any transaction (the arena would otherwise free it on an undo), after a
// search whose scan wanted it (wantCodes); the host drops it (indexDropCodes) when a call runs out
// of budget, so the codes never cost an add its room. A shadow (threads) never reads them. Adds
// mark a rewritten slot stale (placeItem); compaction and clear drop every row (codesRows 0).

import { arenaFree, arenaGrow } from "../runtime/arena";
import { encodeI8AbsMax, prepareF32Query, dotI8Prepared, preparedI8Bytes } from "../kernels/i8";
import { heapPush, heapPop, heapTopKey } from "../util/heap";
import { Index, METRIC_L2, vectorAt } from "./graph";

/** Bytes of a code row: 16 of parameters, then the codes, to a multiple of 16. */
@inline function codeRowBytes(idx: Index): usize {
  return 16 + ((<usize>idx.stride + 15) & ~15);
}

/** Node n's code row. */
@inline function codeRow(idx: Index, n: u32): usize {
  return idx.codes + <usize>n * codeRowBytes(idx);
}

/** The pass buffer (8 bytes a row of the block's capacity): after codesPass, the nodes it kept. */
@inline export function passBuffer(idx: Index): usize {
  return idx.codes + <usize>idx.codesCap * codeRowBytes(idx);
}

/** Marks node n's codes stale (its vector was written): the scan scores it in f32. Cost: O(1). */
@inline export function codesStale(idx: Index, n: u32): void {
  if (n < idx.codesRows) {
    store<f32>(codeRow(idx, n), Infinity, 4);
    idx.codesStaleRows++;
  }
}

/** Encodes node n's f32 row into its code row. Cost: O(dim). */
function encodeRow(idx: Index, n: u32): void {
  const v = vectorAt(idx, n);
  const r = codeRow(idx, n);
  const dims = idx.stride;
  memory.fill(r + 16, 0, codeRowBytes(idx) - 16);
  const s = encodeI8AbsMax(v, dims, r + 16);
  let e: f64 = 0;
  let a: f64 = 0;
  let xx: f64 = 0;
  for (let i = 0; i < dims; i++) {
    const x = <f64>load<f32>(v + (<usize>i << 2));
    const y = <f64>s * <f64>load<i8>(r + 16 + <usize>i);
    e += (x - y) * (x - y);
    a += y * y;
    xx += x * x;
  }
  store<f32>(r, s);
  store<f32>(r, <f32>Math.sqrt(e), 4);
  store<f32>(r, <f32>Math.sqrt(a), 8);
  store<f32>(r, <f32>xx, 12);
}

/**
 * Makes the codes cover every slot: grows the block to the slot count (a quarter more), encodes
 * the slots past codesRows and, when some are stale, re-encodes those. Returns 1, or 0 over budget
 * (the block and every field as they were). Outside a transaction only. Cost: O(dim) a row encoded
 * (+ O(slots) to find stale rows).
 */
export function buildCodes(idx: Index): i32 {
  idx.wantCodes = false;
  const count = idx.count;
  if (count > idx.codesCap) {
    const cap = (count + (count >> 2) + 1) & ~1; // even: the query after the pass buffer stays 16-aligned
    const bytes = <u64>cap * (<u64>codeRowBytes(idx) + 8) + <u64>preparedI8Bytes(idx.stride) + 16;
    const p = arenaGrow(idx.codes, bytes);
    if (p == 0) return 0;
    // The rows kept their place; the pass buffer and query are scratch.
    idx.codes = p;
    idx.codesCap = cap;
  }
  if (idx.codesStaleRows > 0) {
    for (let n: u32 = 0; n < idx.codesRows; n++) {
      if (load<f32>(codeRow(idx, n), 4) == Infinity) encodeRow(idx, n);
    }
    idx.codesStaleRows = 0;
  }
  for (let n = idx.codesRows; n < count; n++) encodeRow(idx, n);
  idx.codesRows = count;
  return 1;
}

/** Frees the codes. Cost: O(1). */
export function dropCodes(idx: Index): void {
  arenaFree(idx.codes);
  idx.codes = 0;
  idx.codesCap = 0;
  idx.codesRows = 0;
  idx.codesStaleRows = 0;
  idx.wantCodes = false;
}

/**
 * The first pass of the exact scan over the `total` allowed nodes (from the bitset in slot order
 * when list is 0, else the list): estimates each row's distance to q (f32, prepared as codes.ts
 * says) from its codes with a bound (a node past codesRows, added since, is kept as it is), keeps the k-th smallest upper bound U, and writes the nodes
 * whose lower bound is at most U to the pass buffer (passBuffer) as u32s, and returns how many.
 * Every node whose distance can be among the k smallest is there. Needs the
 * results heap for k + 1 entries (used as scratch). Cost: O(total) code rows.
 */
export function codesPass(idx: Index, q: usize, k: u32, list: usize, total: u32, bitsAt: usize): u32 {
  const dims = idx.stride;
  const rowBytes = codeRowBytes(idx);
  const codes = idx.codes;
  const rows = idx.codesRows;
  const buf = passBuffer(idx);
  const qp = buf + (<usize>idx.codesCap << 3);
  const qs = prepareF32Query(q, dims, qp);
  let qq: f64 = 0;
  for (let i = 0; i < dims; i++) qq += <f64>load<f32>(q + (<usize>i << 2)) * <f64>load<f32>(q + (<usize>i << 2));
  const qn = Math.sqrt(qq);
  const c: f64 = <f64>(dims + 16) * 1.1920928955078125e-7;
  const l2 = idx.metric == METRIC_L2;
  const g: f64 = l2 ? 2 : 1;
  // d ~ base + h |x|^2 - g qs s (qc . c), within r A1 + a A2 + h c (|q|^2 + |x|^2).
  const base = <f32>(l2 ? qq : 1);
  const h: f32 = l2 ? 1 : 0;
  const gqs = <f32>(g * <f64>qs);
  const A1 = <f32>(g * qn * (1 + c));
  const A2 = <f32>(g * (<f64>qs * 0.5009765625 * Math.sqrt(<f64>dims) + c * qn));
  const hc = <f32>(l2 ? c : 0);
  const qqc = <f32>(l2 ? c * qq : 0);
  const res = idx.results;
  let size: u32 = 0;
  let upperK: f32 = Infinity;
  let touched: u32 = 0;
  const words = (idx.count + 31) >> 5;
  // From the bitset, a second cursor runs AHEAD nodes in front of the first.
  let word: u32 = 0;
  let bits: u32 = 0;
  let aword: u32 = 0;
  let abits: u32 = 0;
  let j: u32 = 0;
  for (let i: u32 = 0; i < total + AHEAD; i++) {
    let node: u32;
    let ahead: u32 = 0xFFFFFFFF;
    if (list == 0) {
      while (abits == 0 && aword < words) {
        abits = load<u32>(bitsAt + (<usize>aword << 2));
        aword++;
      }
      if (abits != 0) {
        ahead = ((aword - 1) << 5) + <u32>ctz(abits);
        abits &= abits - 1;
      }
      if (i < AHEAD) {
        if (ahead < rows) touched ^= load<u32>(codes + <usize>ahead * rowBytes);
        continue;
      }
      while (bits == 0 && word < words) {
        bits = load<u32>(bitsAt + (<usize>word << 2));
        word++;
      }
      if (bits == 0) break;
      node = ((word - 1) << 5) + <u32>ctz(bits);
      bits &= bits - 1;
    } else {
      if (i >= total) break;
      node = load<u32>(list + (<usize>i << 2));
      if (i + AHEAD < total) ahead = load<u32>(list + (<usize>(i + AHEAD) << 2));
    }
    // The row AHEAD nodes on: its lines, so their misses overlap this row's work.
    if (ahead < rows) {
      const a = codes + <usize>ahead * rowBytes;
      for (let line = a & ~63; line < a + rowBytes; line += 64) touched ^= load<u32>(line);
    }
    if (node >= rows) {
      // Added since the codes were made: no row yet, scored in f32.
      store<f32>(buf + (<usize>j << 3), -Infinity);
      store<u32>(buf + (<usize>j << 3), node, 4);
      j++;
      continue;
    }
    const r = codes + <usize>node * rowBytes;
    const xx = load<f32>(r, 12);
    const est = base + h * xx - gqs * load<f32>(r) * <f32>dotI8Prepared(qp, r + 16, dims);
    const b = load<f32>(r, 4) * A1 + load<f32>(r, 8) * A2 + hc * xx + qqc;
    // A stale row (r Infinity) has lower -Infinity and upper Infinity: always scored in f32.
    const lower = est - b;
    let upper = est + b;
    if (upper != upper) upper = Infinity; // overflowed estimates: never a bound

    store<f32>(buf + (<usize>j << 3), lower);
    store<u32>(buf + (<usize>j << 3), node, 4);
    j++;
    if (size < k || upper < upperK) {
      size = heapPush(res, size, upper, node);
      if (size > k) size = heapPop(res, size);
      if (size == k) upperK = heapTopKey(res);
    }
  }
  codesSink = touched;
  // The nodes that can beat the k-th upper bound, in place (a node moves only down).
  let found: u32 = 0;
  for (let i: u32 = 0; i < j; i++) {
    if (!(load<f32>(buf + (<usize>i << 3)) > upperK)) {
      store<u32>(buf + (<usize>found << 2), load<u32>(buf + (<usize>i << 3), 4));
      found++;
    }
  }
  return found;
}

let codesSink: u32 = 0;

/** Rows the first pass touches ahead of the one it scores. */
const AHEAD: u32 = 8;

/** Allowed rows from which the exact scan takes the codes' first pass (and wants them made). */
export const CODES_MIN_ROWS: u32 = 4096;
