// Encoding rows into their stored form (vector-form.ts), preparing queries, and the distances
// the graph is built and searched with, for every quantization.
//
//   query q (what searchLayer scores rows against):
//     f32  the f32 row itself (the input, or the node's vector part)
//     f16  an f32 row: the input, or the node's codes decoded into the input (exact)
//     i8   idx.query: i16 codes prepared for the kernel (the input encoded at up to 2047 levels
//          a side with a scale of its own, or a node's own int8 codes), with their scale and
//          squared norm in idx.queryScale/queryNorm
//
//   distance  cosine: 1 - q . x (unit rows), dot: 1 - q . x, l2: |q - x|^2, where for
//     f16  q . x and |q - x|^2 by the f32 x f16 kernels (x decoded exactly in the kernel)
//     i8   q . x = sq * sx * (cq . cx), an exact integer dot (i16 query codes x int8 row codes); |q - x|^2 = |q|^2 + |x|^2 - 2 q . x
//          with the decoded vectors' squared norms, in float64, clamped at 0
//
// Distances between two stored rows (rowDistance) equal the query distance with the first row
// prepared as the query, to the bit: i8 dotI8(ca, cb) is dotI8Prepared(prepare(ca), cb), and f16
// decodes the first row into idx.decoded and runs the same kernel. So the graph is built with one
// distance, and a traced replay recomputes exactly the distances the search gave. Every kernel is
// exact or sums in a fixed order, so both builds give the same bits.

import { dot, l2sq, normalize } from "../kernels/f32";
import { dotI8, dotI8Prepared, encodeI8AbsMax, decodeI8, prepareI8Query, prepareF32Query, preparedSquareSum } from "../kernels/i8";
import { dotF32F16, l2sqF32F16, encodeF16, decodeF16 } from "../kernels/f16";
import { Index, METRIC_COSINE, METRIC_L2, vectorAt } from "./graph";
import { QUANT_F32, QUANT_F16, QUANT_I8, I8_PARAM_BYTES } from "./vector-form";

/** The i8 distance from the integer dot d of two code rows with scales sa, sb and squared norms na, nb. */
@inline function i8Distance(metric: i32, sa: f32, na: f32, sb: f32, nb: f32, d: i32): f32 {
  const p = <f64>sa * <f64>sb * <f64>d;
  if (metric == METRIC_L2) {
    const e = <f64>na + <f64>nb - 2 * p;
    return e > 0 ? <f32>e : 0;
  }
  return <f32>(1 - p);
}

/**
 * Distance between the query q (prepared for idx.quant, see the header) and the vector part at
 * row. The hot path: searchLayer inlines it with the header's fields read once. Cost: one kernel.
 */
@inline export function scoreRow(quant: i32, metric: i32, n: i32, q: usize, qs: f32, qn: f32, row: usize): f32 {
  if (quant == QUANT_I8) {
    const d = dotI8Prepared(q, row + I8_PARAM_BYTES, n);
    return i8Distance(metric, qs, qn, load<f32>(row), load<f32>(row, 4), d);
  }
  if (quant == QUANT_F16) {
    if (metric == METRIC_L2) return l2sqF32F16(q, row, n);
    return <f32>1 - dotF32F16(q, row, n);
  }
  if (metric == METRIC_L2) return l2sq(q, row, n);
  return <f32>1 - dot(q, row, n);
}

/** scoreRow with idx's fields. Cost: one kernel. */
@inline export function queryDistance(idx: Index, q: usize, row: usize): f32 {
  return scoreRow(idx.quant, idx.metric, idx.codeDims, q, idx.queryScale, idx.queryNorm, row);
}

/**
 * Distance between the stored vector parts at a and b: queryDistance with a prepared as the
 * query, bit for bit (see the header). f16 decodes a into idx.decoded unless it is already there.
 * Cost: one kernel (f16: plus a decode when a changes).
 */
export function rowDistance(idx: Index, a: usize, b: usize): f32 {
  const n = idx.codeDims;
  if (idx.quant == QUANT_I8) {
    const d = dotI8(a + I8_PARAM_BYTES, b + I8_PARAM_BYTES, n);
    return i8Distance(idx.metric, load<f32>(a), load<f32>(a, 4), load<f32>(b), load<f32>(b, 4), d);
  }
  if (idx.quant == QUANT_F16) {
    if (idx.decodedAt != a) {
      decodeF16(a, n, idx.decoded);
      idx.decodedAt = a;
    }
    return scoreRow(QUANT_F16, idx.metric, n, idx.decoded, 0, 0, b);
  }
  return scoreRow(QUANT_F32, idx.metric, n, a, 0, 0, b);
}

/**
 * Prepares node n's stored vector as the query of a build search and returns the q to pass
 * (f32: its row; f16: decoded into the input; i8: prepared into idx.query). Cost: O(dim).
 */
export function prepareNodeQuery(idx: Index, n: u32): usize {
  const row = vectorAt(idx, n);
  if (idx.quant == QUANT_I8) {
    prepareI8Query(row + I8_PARAM_BYTES, idx.codeDims, idx.query);
    idx.queryScale = load<f32>(row);
    idx.queryNorm = load<f32>(row, 4);
    return idx.query;
  }
  if (idx.quant == QUANT_F16) {
    decodeF16(row, idx.codeDims, idx.input);
    return idx.input;
  }
  return row;
}

/**
 * Prepares the f32 row the host wrote into the input (dim floats, zero past them) as a search's
 * query: normalized under cosine, then, under i8, encoded as prepared i16 codes with a scale of
 * its own (i8-prepared.ts: 2047 levels a side, so the query adds almost no rounding).
 * Returns the q to pass. Cost: O(dim).
 */
export function prepareInputQuery(idx: Index): usize {
  if (idx.metric == METRIC_COSINE) normalize(idx.input, idx.dim);
  if (idx.quant != QUANT_I8) return idx.input;
  const n = idx.codeDims;
  const scale = prepareF32Query(idx.input, n, idx.query);
  idx.queryScale = scale;
  idx.queryNorm = <f32>(<f64>scale * <f64>scale * preparedSquareSum(idx.query, n));
  return idx.query;
}

/** Squared norm of the decoded vector scale * c of n codes at c, as float32. Cost: one kernel. */
@inline function squaredNorm(c: usize, n: i32, scale: f32): f32 {
  return <f32>(<f64>scale * <f64>scale * <f64>dotI8(c, c, n));
}

/**
 * Writes the stored form of the dim floats at vec into the vector part at row (normalized first
 * under cosine). f16 and i8 stage the row in the input (f32, zero tail) before encoding. Cost: O(dim).
 */
export function storeRow(idx: Index, row: usize, vec: usize): void {
  const dimBytes = <usize>idx.dim << 2;
  idx.decodedAt = 0;
  if (idx.quant != QUANT_F16 && idx.quant != QUANT_I8) {
    memory.copy(row, vec, dimBytes);
    memory.fill(row + dimBytes, 0, <usize>(idx.stride - idx.dim) << 2);
    if (idx.metric == METRIC_COSINE) normalize(row, idx.dim);
    return;
  }
  const n = idx.codeDims;
  const staged = idx.input;
  memory.copy(staged, vec, dimBytes);
  memory.fill(staged + dimBytes, 0, <usize>(n - idx.dim) << 2);
  if (idx.metric == METRIC_COSINE) normalize(staged, idx.dim);
  if (idx.quant == QUANT_F16) {
    encodeF16(staged, n, row);
    return;
  }
  const codes = row + I8_PARAM_BYTES;
  const scale = encodeI8AbsMax(staged, n, codes);
  store<f32>(row, scale);
  store<f32>(row, squaredNorm(codes, n, scale), 4);
}

/**
 * The f32 vector of the vector part at row: itself (f32), or decoded into the input (f16, i8:
 * dim floats). Cost: O(dim) when decoded.
 */
export function decodedRow(idx: Index, row: usize): usize {
  if (idx.quant == QUANT_I8) {
    decodeI8(row + I8_PARAM_BYTES, idx.dim, 0, load<f32>(row), idx.input);
    return idx.input;
  }
  if (idx.quant == QUANT_F16) {
    decodeF16(row, idx.dim, idx.input);
    return idx.input;
  }
  return row;
}

/**
 * Whether the vector part at row is one storeRow could write (for a snapshot being loaded):
 * f16 codes finite and not subnormal with zero padding; i8 a finite scale >= 0, the squared norm
 * its codes give, zero padding (and all-zero codes for scale 0). f32 is checked by the snapshot.
 * Cost: O(dim).
 */
export function validStoredRow(idx: Index, row: usize): bool {
  const n = idx.codeDims;
  const dim = idx.dim;
  if (idx.quant == QUANT_F16) {
    for (let j = 0; j < n; j++) {
      const h = <u32>load<u16>(row + (<usize>j << 1));
      const exp = h & 0x7c00;
      if (j >= dim ? h != 0 : exp == 0x7c00 || (exp == 0 && (h & 0x3ff) != 0)) return false;
    }
    return true;
  }
  const codes = row + I8_PARAM_BYTES;
  const scale = load<f32>(row);
  if (!(scale >= 0 && scale < Infinity)) return false;
  let any = false;
  for (let j = 0; j < n; j++) {
    const c = load<i8>(codes + <usize>j);
    if (j >= dim && c != 0) return false;
    if (c == -128) return false;
    if (c != 0) any = true;
  }
  if (scale == 0 && any) return false;
  return reinterpret<u32>(load<f32>(row, 4)) == reinterpret<u32>(squaredNorm(codes, n, scale));
}
