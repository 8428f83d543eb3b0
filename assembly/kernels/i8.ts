// Int8 codes: the encoders, and the kernels between two code vectors, dot and squared L2, exact
// in integers. The kernels for one query prepared once against many rows (the fast ones) are in
// i8-prepared.ts, re-exported here.
//
//   codes a: [c0 c1 ... c15 | c16 ... c31 | ...]   n int8 (-128..127), any n, no alignment needed
//             \__ one v128 = 16 codes __/
//
// General pair: each v128 of 16 codes is sign-extended to two i16x8 halves on both sides, and
// i32x4.dot_i16x8_s multiplies and adds pairs into i32 lanes. Four i32x4 accumulators over 64
// codes a step, one over 16 a step, then a scalar tail.
// Exactness: |dot| <= n * 2^14 fits i32 for every n up to 65536, and an l2sq <= n * 255^2 fits
// u32 (lanes wrap as i32, the u32 total is exact), so a kernel, its scalar twin and both builds
// agree to the bit.
//
// What the codes mean is the encoder's: x = offset + scale * c (an affine map: a vector's own
// min..max onto -128..127, or one map for a whole index), or x = scale * c with scale =
// max|x| / 127 per vector. Values the map cannot represent clamp to -128 / 127 (never wrap).

export {
  preparedI8Bytes, prepareI8Query, prepareF32Query, preparedSquareSum, dotI8PreparedX16, dotI8PreparedScalar, dotI8Prepared,
  dotI8PreparedRowsX16, dotI8PreparedRowsScalar, dotI8PreparedRows,
} from "./i8-prepared";
import { subnormalStep, subnormalCode } from "./i8-prepared";

// ---------------------------------------------------------------------------------------------
// Encoders

/** The int8 code of r, a value already rounded: clamped to -128..127 (NaN, which the host refuses, gives 0). */
@inline function clampCode(r: f32): i8 {
  if (r >= 127) return 127;
  if (r <= -128) return -128;
  return <i8><i32>r;                                  // NaN: the saturating conversion gives 0
}

/**
 * Encodes n floats at src as int8 codes at dst under the affine map x = offset + scale * c:
 * c = round((x - offset) / scale) in float32, ties to even; values outside
 * offset + scale * [-128, 127] clamp to the nearest end. scale must be > 0. Returns how many
 * values were clamped (so a caller can count out-of-range input). Cost: n scalar steps.
 */
export function encodeI8Affine(src: usize, n: i32, offset: f32, scale: f32, dst: usize): i32 {
  let clamped = 0;
  for (let i = 0; i < n; i++) {
    const r = nearest((load<f32>(src + (<usize>i << 2)) - offset) / scale);
    clamped += i32(r > 127 || r < -128);
    store<i8>(dst + <usize>i, clampCode(r));
  }
  return clamped;
}

/**
 * Encodes n floats at src as int8 codes at dst with a scale of their own: c = round(x * 127 / m)
 * in float32, ties to even, m = max|x|, so every value is representable (codes -127..127,
 * nothing clamps). Returns the scale m / 127 (x = scale * c), 0 for a zero vector (all codes
 * 0) and only for it. Where m / 127 would be subnormal (m below ~1.5e-36) the scale is
 * k * 2^-149 with k = ceil(m / 127 / 2^-149) (subnormalStep) and c = round(x / scale): exact
 * scale, never 0, every value within half a step (a vector below ~1.9e-43 decodes to itself).
 * Cost: 2n scalar steps.
 */
export function encodeI8AbsMax(src: usize, n: i32, dst: usize): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, abs(load<f32>(src + (<usize>i << 2))));
  if (m == 0) {
    memory.fill(dst, 0, <usize>n);
    return 0;
  }
  const k = subnormalStep(m, 127);
  if (k != 0) {
    for (let i = 0; i < n; i++) {
      store<i8>(dst + <usize>i, clampCode(<f32>subnormalCode(load<f32>(src + (<usize>i << 2)), k)));
    }
    return reinterpret<f32>(k);
  }
  for (let i = 0; i < n; i++) {
    store<i8>(dst + <usize>i, clampCode(nearest(load<f32>(src + (<usize>i << 2)) * 127 / m)));
  }
  return m / 127;
}

/** Writes offset + scale * c for n codes at src to dst as floats. Cost: n scalar steps. */
export function decodeI8(src: usize, n: i32, offset: f32, scale: f32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), offset + scale * <f32>load<i8>(src + <usize>i));
  }
}

// ---------------------------------------------------------------------------------------------
// i8 x i8 kernels (exact integers)

/** Sum of a . b over 16 codes of each v128, pairwise, as i32x4. */
@inline function dot16(a: v128, b: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(a), i16x8.extend_low_i8x16_s(b)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(a), i16x8.extend_high_i8x16_s(b)));
}

/** Sum of (a - b)^2 over 16 codes of each v128 (differences in i16, -255..255), as i32x4. */
@inline function l2sq16(a: v128, b: v128): v128 {
  const lo = i16x8.sub(i16x8.extend_low_i8x16_s(a), i16x8.extend_low_i8x16_s(b));
  const hi = i16x8.sub(i16x8.extend_high_i8x16_s(a), i16x8.extend_high_i8x16_s(b));
  return i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi));
}

@inline function sumLanesI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) +
         i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** Exact dot product of n int8 codes at a and b, four i32x4 accumulators. Cost: ~n/64 steps. */
@inline export function dotI8x16(a: usize, b: usize, n: i32): i32 {
  let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    const pa = a + <usize>i, pb = b + <usize>i;
    acc0 = i32x4.add(acc0, dot16(v128.load(pa), v128.load(pb)));
    acc1 = i32x4.add(acc1, dot16(v128.load(pa, 16), v128.load(pb, 16)));
    acc2 = i32x4.add(acc2, dot16(v128.load(pa, 32), v128.load(pb, 32)));
    acc3 = i32x4.add(acc3, dot16(v128.load(pa, 48), v128.load(pb, 48)));
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = i32x4.add(acc0, dot16(v128.load(a + <usize>i), v128.load(b + <usize>i)));
  }
  let sum = sumLanesI32(i32x4.add(i32x4.add(acc0, acc1), i32x4.add(acc2, acc3)));
  for (; i < n; i++) sum += <i32>load<i8>(a + <usize>i) * <i32>load<i8>(b + <usize>i);
  return sum;
}

/** Exact squared L2 distance of n int8 codes at a and b, four i32x4 accumulators. Cost: ~n/64 steps. */
@inline export function l2sqI8x16(a: usize, b: usize, n: i32): u32 {
  let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0), acc2 = i32x4.splat(0), acc3 = i32x4.splat(0);
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    const pa = a + <usize>i, pb = b + <usize>i;
    acc0 = i32x4.add(acc0, l2sq16(v128.load(pa), v128.load(pb)));
    acc1 = i32x4.add(acc1, l2sq16(v128.load(pa, 16), v128.load(pb, 16)));
    acc2 = i32x4.add(acc2, l2sq16(v128.load(pa, 32), v128.load(pb, 32)));
    acc3 = i32x4.add(acc3, l2sq16(v128.load(pa, 48), v128.load(pb, 48)));
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = i32x4.add(acc0, l2sq16(v128.load(a + <usize>i), v128.load(b + <usize>i)));
  }
  let sum = <u32>sumLanesI32(i32x4.add(i32x4.add(acc0, acc1), i32x4.add(acc2, acc3)));
  for (; i < n; i++) {
    const d = <i32>load<i8>(a + <usize>i) - <i32>load<i8>(b + <usize>i);
    sum += <u32>(d * d);
  }
  return sum;
}

/** Exact dot product of n int8 codes, scalar, four sums. Cost: n multiply-adds. */
@inline export function dotI8Scalar(a: usize, b: usize, n: i32): i32 {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pa = a + <usize>i, pb = b + <usize>i;
    s0 += <i32>load<i8>(pa) * <i32>load<i8>(pb);
    s1 += <i32>load<i8>(pa, 1) * <i32>load<i8>(pb, 1);
    s2 += <i32>load<i8>(pa, 2) * <i32>load<i8>(pb, 2);
    s3 += <i32>load<i8>(pa, 3) * <i32>load<i8>(pb, 3);
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; i < n; i++) sum += <i32>load<i8>(a + <usize>i) * <i32>load<i8>(b + <usize>i);
  return sum;
}

/** Exact squared L2 distance of n int8 codes, scalar, four sums. Cost: n steps. */
@inline export function l2sqI8Scalar(a: usize, b: usize, n: i32): u32 {
  let s0: u32 = 0, s1: u32 = 0, s2: u32 = 0, s3: u32 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pa = a + <usize>i, pb = b + <usize>i;
    const d0 = <i32>load<i8>(pa) - <i32>load<i8>(pb);
    const d1 = <i32>load<i8>(pa, 1) - <i32>load<i8>(pb, 1);
    const d2 = <i32>load<i8>(pa, 2) - <i32>load<i8>(pb, 2);
    const d3 = <i32>load<i8>(pa, 3) - <i32>load<i8>(pb, 3);
    s0 += <u32>(d0 * d0);
    s1 += <u32>(d1 * d1);
    s2 += <u32>(d2 * d2);
    s3 += <u32>(d3 * d3);
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; i < n; i++) {
    const d = <i32>load<i8>(a + <usize>i) - <i32>load<i8>(b + <usize>i);
    sum += <u32>(d * d);
  }
  return sum;
}

/** Exact dot product of n int8 codes with the build's kernel (i16x8 dot in the SIMD build). */
@inline export function dotI8(a: usize, b: usize, n: i32): i32 {
  if (ASC_FEATURE_SIMD) return dotI8x16(a, b, n);
  return dotI8Scalar(a, b, n);
}

/** Exact squared L2 distance of n int8 codes with the build's kernel. */
@inline export function l2sqI8(a: usize, b: usize, n: i32): u32 {
  if (ASC_FEATURE_SIMD) return l2sqI8x16(a, b, n);
  return l2sqI8Scalar(a, b, n);
}
