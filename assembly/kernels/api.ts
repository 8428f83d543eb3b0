// The kernels' ABI for the tests and the simd benchmark: plain functions on addresses, exported
// only by the kernel probe (probe.ts, built to build/elex.kernels.simd.wasm and
// build/elex.kernels.scalar.wasm), never by the engine: its index calls the kernels directly and
// the host calls none of these, so the engine a page downloads is smaller without them. Nothing
// here allocates or fails.
//
//   kernelBatch kinds (f32 rows of n floats, contiguous; out 4 bytes a row, f32)
//     0 dot, 1 squared L2, 2 cosine distance with the build's kernels; 3, 4, 5 their scalar twins
//
//   kernelQuantBatch kinds (rows contiguous: n bytes an i8 row, 2n bytes an f16 row; out 4 bytes a row)
//     kind  kernel          q                        result
//     0     dotI8           n i8 codes               i32   i8 . i8        5 .. 9: the same with
//     1     l2sqI8          n i8 codes               u32   |i8 - i8|^2    the scalar twins
//     2     dotI8Prepared   a prepared query (i16)   i32   i16 . i8
//     3     dotF32F16       n f32                    f32   f32 . f16
//     4     l2sqF32F16      n f32                    f32   |f32 - f16|^2
//
//   kernelQuantPreparedRows: dotI8PreparedRows, rows by a list of u32 addresses (four a step)

import {
  dotI8, l2sqI8, dotI8Prepared, dotI8Scalar, l2sqI8Scalar, dotI8PreparedScalar,
  dotI8PreparedRows, dotI8PreparedRowsScalar,
  encodeI8Affine, encodeI8AbsMax, decodeI8, prepareI8Query, prepareF32Query, preparedI8Bytes,
} from "./i8";
import { dotF32F16, l2sqF32F16, dotF32F16Scalar, l2sqF32F16Scalar, encodeF16, decodeF16 } from "./f16";
import {
  dotScalar, l2sqScalar, cosineDistance, cosineDistanceScalar, dot, l2sq, norm, normalize,
} from "./f32";

/** Euclidean norm of n floats. */
export function kernelNorm(a: usize, n: i32): f32 {
  return norm(a, n);
}

/** Scales n floats to unit length in place (in float64); returns the old norm. */
export function kernelNormalize(a: usize, n: i32): f64 {
  return normalize(a, n);
}

@inline function scoreRows(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  const rowBytes = <usize>n << 2;
  for (let i = 0; i < count; i++) {
    const r = rows + <usize>i * rowBytes;
    let d: f32;
    switch (kind) {
      case 0: d = dot(q, r, n); break;
      case 1: d = l2sq(q, r, n); break;
      case 2: d = cosineDistance(q, r, n); break;
      case 3: d = dotScalar(q, r, n); break;
      case 4: d = l2sqScalar(q, r, n); break;
      default: d = cosineDistanceScalar(q, r, n);
    }
    store<f32>(out + (<usize>i << 2), d);
  }
}

/**
 * Distances from the row at q to `count` rows of n floats at rows (contiguous), written as f32
 * to out. kind: 0 dot, 1 squared L2, 2 cosine distance with the build's kernels; 3, 4, 5 the
 * same with the scalar twins. One call for many rows, so the JS->WASM crossing is paid once.
 * Cost: count kernel calls.
 */
export function kernelBatch(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  // Each case inlines scoreRows with a constant kind, so the per-row switch folds away.
  switch (kind) {
    case 0: scoreRows(0, q, rows, n, count, out); break;
    case 1: scoreRows(1, q, rows, n, count, out); break;
    case 2: scoreRows(2, q, rows, n, count, out); break;
    case 3: scoreRows(3, q, rows, n, count, out); break;
    case 4: scoreRows(4, q, rows, n, count, out); break;
    default: scoreRows(5, q, rows, n, count, out);
  }
}

/** Kernels of kind and kind + 5 are a kernel and its scalar twin. */
const TWIN: i32 = 5;

@inline function scoreQuantRows(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  const rowBytes: usize = kind % TWIN >= 3 ? <usize>n << 1 : <usize>n;
  for (let i = 0; i < count; i++) {
    const r = rows + <usize>i * rowBytes;
    const o = out + (<usize>i << 2);
    switch (kind) {
      case 0: store<i32>(o, dotI8(q, r, n)); break;
      case 1: store<u32>(o, l2sqI8(q, r, n)); break;
      case 2: store<i32>(o, dotI8Prepared(q, r, n)); break;
      case 3: store<f32>(o, dotF32F16(q, r, n)); break;
      case 4: store<f32>(o, l2sqF32F16(q, r, n)); break;
      case 5: store<i32>(o, dotI8Scalar(q, r, n)); break;
      case 6: store<u32>(o, l2sqI8Scalar(q, r, n)); break;
      case 7: store<i32>(o, dotI8PreparedScalar(q, r, n)); break;
      case 8: store<f32>(o, dotF32F16Scalar(q, r, n)); break;
      default: store<f32>(o, l2sqF32F16Scalar(q, r, n));
    }
  }
}

/**
 * Scores the vector at q against `count` quantized rows at rows (kinds in the table above),
 * writing one 4-byte result a row to out: i32 (kinds 0, 2, 5, 7), u32 (1, 6) or f32 (the rest).
 * One call for many rows, so the JS->WASM crossing is paid once. Cost: count kernel calls.
 */
export function kernelQuantBatch(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  // Each case inlines scoreQuantRows with a constant kind, so the per-row switch folds away.
  switch (kind) {
    case 0: scoreQuantRows(0, q, rows, n, count, out); break;
    case 1: scoreQuantRows(1, q, rows, n, count, out); break;
    case 2: scoreQuantRows(2, q, rows, n, count, out); break;
    case 3: scoreQuantRows(3, q, rows, n, count, out); break;
    case 4: scoreQuantRows(4, q, rows, n, count, out); break;
    case 5: scoreQuantRows(5, q, rows, n, count, out); break;
    case 6: scoreQuantRows(6, q, rows, n, count, out); break;
    case 7: scoreQuantRows(7, q, rows, n, count, out); break;
    case 8: scoreQuantRows(8, q, rows, n, count, out); break;
    default: scoreQuantRows(9, q, rows, n, count, out);
  }
}

/**
 * Exact dot products of the prepared query qp with `count` rows of n int8 codes, the rows' u32
 * addresses at addrs + j * addrStride, written as i32 to out (4 bytes a row): the build's
 * four-rows-a-step kernel, or its scalar twin when scalar != 0. Cost: count kernel rows.
 */
export function kernelQuantPreparedRows(scalar: i32, qp: usize, addrs: usize, addrStride: usize, count: i32, n: i32, out: usize): void {
  if (scalar) dotI8PreparedRowsScalar(qp, addrs, addrStride, count, n, out);
  else dotI8PreparedRows(qp, addrs, addrStride, count, n, out);
}

/** Bytes of the prepared form of an n-dim query (16 + 32 per block of 16 dims). Cost: O(1). */
export function quantPreparedI8Bytes(n: i32): u32 {
  return <u32>preparedI8Bytes(n);
}

/** Writes the prepared form of n int8 query codes at q to dst, for kind 2. Cost: n steps, once per query. */
export function quantPrepareI8(q: usize, n: i32, dst: usize): void {
  prepareI8Query(q, n, dst);
}

/**
 * Encodes n floats at src as a prepared query at dst (i16 codes at up to 2047 levels a side, a
 * scale of their own, i8-prepared.ts) for kind 2; returns the scale. Cost: 2n steps, once per query.
 */
export function quantPrepareF32(src: usize, n: i32, dst: usize): f32 {
  return prepareF32Query(src, n, dst);
}

/** f16 codes (round to nearest even, clamped to +-65504, no subnormals) of n floats at src, to dst. Cost: n steps. */
export function quantEncodeF16(src: usize, n: i32, dst: usize): void {
  encodeF16(src, n, dst);
}

/** Floats of n f16 codes at src (every code, Inf and NaN included), to dst. Cost: n steps. */
export function quantDecodeF16(src: usize, n: i32, dst: usize): void {
  decodeF16(src, n, dst);
}

/** int8 codes of n floats under x = offset + scale * c (clamped); returns how many clamped. Cost: n steps. */
export function quantEncodeI8Affine(src: usize, n: i32, offset: f32, scale: f32, dst: usize): i32 {
  return encodeI8Affine(src, n, offset, scale, dst);
}

/** int8 codes of n floats scaled by 127 / max|x|; returns the scale max|x| / 127. Cost: 2n steps. */
export function quantEncodeI8AbsMax(src: usize, n: i32, dst: usize): f32 {
  return encodeI8AbsMax(src, n, dst);
}

/** Floats offset + scale * c of n int8 codes at src, to dst. Cost: n steps. */
export function quantDecodeI8(src: usize, n: i32, offset: f32, scale: f32, dst: usize): void {
  decodeI8(src, n, offset, scale, dst);
}
