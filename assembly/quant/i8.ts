// Int8 codes: the encoders, and the kernels between two code vectors (dot and squared L2, exact
// in integers) and between a float32 query and a code vector (dot and squared L2).
//
//   codes a: [c0 c1 ... c15 | c16 ... c31 | ...]   n int8 (-128..127), any n, no alignment needed
//             \__ one v128 = 16 codes __/
//   query q: [q0 q1 q2 q3 | q4 ... | ...]          n f32, any n (the f32 x i8 kernels)
//
// i8 x i8: each v128 of 16 codes is sign-extended to two i16x8 halves, and i32x4.dot_i16x8_s
// multiplies and adds pairs into i32 lanes. Four i32x4 accumulators over 64 codes a step, one
// over 16 a step, then a scalar tail. The sums are exact: |dot| <= n * 2^14 fits i32 for every
// n up to 65536, and an l2sq <= n * 255^2 fits u32 (the lanes wrap as i32 and the u32 total is
// exact), so a kernel, its scalar twin and both builds agree to the bit.
// f32 x i8: codes widened to i32 and converted to f32 (exactly), four f32x4 accumulators over
// 16 dims a step; the scalar twins keep the sixteen lane sums in the same order (same bits).
//
// What the codes mean is the encoder's: x = offset + scale * c (one affine map for a whole
// index), or x = scale * c with scale = max|x| / 127 per vector. Values the map cannot represent
// clamp to -128 / 127 (never wrap).

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
 * 0). Cost: 2n scalar steps.
 */
export function encodeI8AbsMax(src: usize, n: i32, dst: usize): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, abs(load<f32>(src + (<usize>i << 2))));
  if (m == 0) {
    memory.fill(dst, 0, <usize>n);
    return 0;
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

// ---------------------------------------------------------------------------------------------
// f32 x i8 kernels (the query stays float; same bits in both builds)

@inline function sumLanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
         f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** The four codes of i16x8 half h's low (or high) lanes as f32x4 (exact). */
@inline function lowF32x4(h: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(h));
}
@inline function highF32x4(h: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(h));
}

/** q . c over n dims (q f32, c int8 codes), four f32x4 accumulators. Cost: ~n/16 steps. */
@inline export function dotF32I8x4(q: usize, c: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pq = q + (<usize>i << 2);
    const v = v128.load(c + <usize>i);
    const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pq), lowF32x4(lo)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pq, 16), highF32x4(lo)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pq, 32), lowF32x4(hi)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(pq, 48), highF32x4(hi)));
  }
  for (; i + 4 <= n; i += 4) {
    const v = i16x8.extend_low_i8x16_s(v128.load32_zero(c + <usize>i));
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + (<usize>i << 2)), lowF32x4(v)));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) sum += load<f32>(q + (<usize>i << 2)) * <f32>load<i8>(c + <usize>i);
  return sum;
}

/** Squared L2 of q - c over n dims (q f32 in code units, c int8), four f32x4 accumulators. Cost: ~n/16 steps. */
@inline export function l2sqF32I8x4(q: usize, c: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pq = q + (<usize>i << 2);
    const v = v128.load(c + <usize>i);
    const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
    const d0 = f32x4.sub(v128.load(pq), lowF32x4(lo));
    const d1 = f32x4.sub(v128.load(pq, 16), highF32x4(lo));
    const d2 = f32x4.sub(v128.load(pq, 32), lowF32x4(hi));
    const d3 = f32x4.sub(v128.load(pq, 48), highF32x4(hi));
    acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
    acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
    acc2 = f32x4.add(acc2, f32x4.mul(d2, d2));
    acc3 = f32x4.add(acc3, f32x4.mul(d3, d3));
  }
  for (; i + 4 <= n; i += 4) {
    const v = i16x8.extend_low_i8x16_s(v128.load32_zero(c + <usize>i));
    const d = f32x4.sub(v128.load(q + (<usize>i << 2)), lowF32x4(v));
    acc0 = f32x4.add(acc0, f32x4.mul(d, d));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) {
    const d = load<f32>(q + (<usize>i << 2)) - <f32>load<i8>(c + <usize>i);
    sum += d * d;
  }
  return sum;
}

/** Term i of an f32 x i8 kernel: q_i * c_i (dot) or (q_i - c_i)^2 (l2). */
@inline function termI8(l2: bool, q: usize, c: usize, i: i32): f32 {
  const x = load<f32>(q + (<usize>i << 2));
  const y = <f32>load<i8>(c + <usize>i);
  if (l2) {
    const d = x - y;
    return d * d;
  }
  return x * y;
}

/** dotF32I8x4 / l2sqF32I8x4 in scalar code: the same sixteen lane sums in the same order. */
@inline function kernelF32I8Scalar(l2: bool, q: usize, c: usize, n: i32): f32 {
  // s<a><l>: accumulator a (the f32x4 kernel's acc0..acc3), lane l.
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0, s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  let s20: f32 = 0, s21: f32 = 0, s22: f32 = 0, s23: f32 = 0, s30: f32 = 0, s31: f32 = 0, s32: f32 = 0, s33: f32 = 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    s00 += termI8(l2, q, c, i);      s01 += termI8(l2, q, c, i + 1);
    s02 += termI8(l2, q, c, i + 2);  s03 += termI8(l2, q, c, i + 3);
    s10 += termI8(l2, q, c, i + 4);  s11 += termI8(l2, q, c, i + 5);
    s12 += termI8(l2, q, c, i + 6);  s13 += termI8(l2, q, c, i + 7);
    s20 += termI8(l2, q, c, i + 8);  s21 += termI8(l2, q, c, i + 9);
    s22 += termI8(l2, q, c, i + 10); s23 += termI8(l2, q, c, i + 11);
    s30 += termI8(l2, q, c, i + 12); s31 += termI8(l2, q, c, i + 13);
    s32 += termI8(l2, q, c, i + 14); s33 += termI8(l2, q, c, i + 15);
  }
  for (; i + 4 <= n; i += 4) {
    s00 += termI8(l2, q, c, i);     s01 += termI8(l2, q, c, i + 1);
    s02 += termI8(l2, q, c, i + 2); s03 += termI8(l2, q, c, i + 3);
  }
  let sum = (((s00 + s10) + (s20 + s30)) + ((s01 + s11) + (s21 + s31))) +
            ((s02 + s12) + (s22 + s32)) + ((s03 + s13) + (s23 + s33));
  for (; i < n; i++) sum += termI8(l2, q, c, i);
  return sum;
}

/** q . c (q f32, c int8), scalar twin of dotF32I8x4 (same bits). Cost: n scalar steps. */
@inline export function dotF32I8Scalar(q: usize, c: usize, n: i32): f32 {
  return kernelF32I8Scalar(false, q, c, n);
}

/** Squared L2 of q - c, scalar twin of l2sqF32I8x4 (same bits). Cost: n scalar steps. */
@inline export function l2sqF32I8Scalar(q: usize, c: usize, n: i32): f32 {
  return kernelF32I8Scalar(true, q, c, n);
}

/** q . c (q f32, c int8) with the build's kernel. */
@inline export function dotF32I8(q: usize, c: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return dotF32I8x4(q, c, n);
  return dotF32I8Scalar(q, c, n);
}

/** Squared L2 of q - c (q f32 in code units, c int8) with the build's kernel. */
@inline export function l2sqF32I8(q: usize, c: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return l2sqF32I8x4(q, c, n);
  return l2sqF32I8Scalar(q, c, n);
}
