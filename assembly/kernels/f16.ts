// Half-precision (IEEE 754 binary16) storage: the encoder, the decoder, and dot / squared-L2
// kernels between a float32 query and f16 codes, decoding in the kernel.
//
//   query q: [q0 q1 q2 q3 | q4 ... q7 | ...]   n f32 (4 bytes each), any n, no alignment needed
//   codes h: [h0 h1 ... h7 | h8 ... h15 | ...]  n u16 (2 bytes each): one v128 = 8 codes
//            bit 15 sign | bits 14..10 exponent (bias 15) | bits 9..0 mantissa
//
// Decoding with integer ops (wasm SIMD has no f16): sign-extend the code to 32 bits, shift it
// left by 13 (exponent and mantissa land in f32's bits 13..27, the sign in bit 31) and clear bits
// 28..30; that is the f16 value times 2^-112 as an f32 (subnormal codes become normal f32), so
// one multiply by 2^112 gives the exact value: 4 ops for 4 codes, for normals, subnormals and
// zeros alike. A subnormal code makes that multiply's operand an f32 subnormal, which x64 runs
// ~30x slower (measured: 1.7 us instead of 55 ns a 128-d row), and a subnormal-safe decode
// (integer rebias, select) costs 2.5x on every row; so the encoder writes no subnormal codes
// (magnitudes below 2^-14 go to 0 or 2^-14) and the kernels stay exact, only slow, on one that
// comes from elsewhere. The encoder never writes exponent 31 (Inf/NaN) either; the kernels assume
// finite codes (such a code would read as 2^16 * (1 + m)), decodeF16 handles every code.
//
// Each f32x4 kernel runs four accumulators over 16 codes a step, one over 4 a step, then a
// scalar tail. The scalar twins keep sixteen sums (the f32x4 lanes) and add them in the same
// order, so a kernel and its twin return the same bits and both builds rank the same.

import { sumLanes } from "./f32";

/** 2^112 = 2^(127 - 15): rescales a shifted f16 pattern to its value. */
const F16_RESCALE: f32 = reinterpret<f32>(<u32>(127 + 112) << 23);
/** The largest finite f16, 65504, where the encoder clamps larger magnitudes. */
export const F16_MAX: f32 = 65504;

/** The value of f16 code h (any code, Inf and NaN included). Cost: a few integer ops. */
@inline export function f16ToF32(h: u32): f32 {
  const bits = ((<u32><i32><i16>h) << 13) & 0x8fffffff;
  if ((h & 0x7c00) == 0x7c00) return reinterpret<f32>(bits | 0x7f800000);
  return reinterpret<f32>(bits) * F16_RESCALE;
}

/**
 * The f16 code nearest x (round to nearest, ties to even) among zero and the normal f16 values:
 * magnitudes below 2^-14 (f16's smallest normal, ~6.1e-5) give +-0 below 2^-15 and +-2^-14 from
 * 2^-15 up, never a subnormal code, since the kernels' decode multiplies and an f32 subnormal
 * operand costs x64 ~30x (measured). Magnitudes from 65504 (the largest finite f16) up, Inf and
 * NaN clamp to +-65504: the encoder never writes Inf or NaN (the host rejects non-finite input
 * before it gets here). Cost: a few integer ops.
 */
@inline export function f32ToF16(x: f32): u32 {
  const b = reinterpret<u32>(x);
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x477fe000) return sign | 0x7bff;          // >= 65504, Inf, NaN: clamp
  if (a >= 0x38800000) {                              // normal f16: rebias, round 13 bits away
    return sign | ((a - (112 << 23) + 0xfff + ((a >>> 13) & 1)) >>> 13);
  }
  return a >= 0x38000000 ? sign | 0x0400 : sign;      // below 2^-14: the nearer of 2^-14 and 0
}

/** Writes the f16 codes of n floats at src to dst (2n bytes). Cost: n scalar steps. */
export function encodeF16(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    store<u16>(dst + (<usize>i << 1), <u16>f32ToF16(load<f32>(src + (<usize>i << 2))));
  }
}

/** Writes the values of n f16 codes at src to dst as floats. Cost: n scalar steps. */
export function decodeF16(src: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), f16ToF32(load<u16>(src + (<usize>i << 1))));
  }
}

/** Values of the four f16 codes in the low 64 bits of v, as f32x4 (finite codes). */
@inline function lowF16x4(v: v128): v128 {
  const bits = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v), 13), i32x4.splat(0x8fffffff));
  return f32x4.mul(bits, f32x4.splat(F16_RESCALE));
}

/** Values of the four f16 codes in the high 64 bits of v, as f32x4 (finite codes). */
@inline function highF16x4(v: v128): v128 {
  const bits = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(v), 13), i32x4.splat(0x8fffffff));
  return f32x4.mul(bits, f32x4.splat(F16_RESCALE));
}

/** The value of the finite f16 code at h + 2i (the kernels' scalar decode). */
@inline function codeAt(h: usize, i: i32): f32 {
  const bits = ((<u32><i32>load<i16>(h + (<usize>i << 1))) << 13) & 0x8fffffff;
  return reinterpret<f32>(bits) * F16_RESCALE;
}

/** q . decode(h) over n dims, four f32x4 accumulators. Cost: ~n/16 steps of 2 loads + 4 decodes. */
@inline export function dotF32F16x4(q: usize, h: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pq = q + (<usize>i << 2);
    const c0 = v128.load(h + (<usize>i << 1));
    const c1 = v128.load(h + (<usize>i << 1), 16);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pq), lowF16x4(c0)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pq, 16), highF16x4(c0)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pq, 32), lowF16x4(c1)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(pq, 48), highF16x4(c1)));
  }
  for (; i + 4 <= n; i += 4) {
    const c = v128.load64_zero(h + (<usize>i << 1));
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + (<usize>i << 2)), lowF16x4(c)));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) sum += load<f32>(q + (<usize>i << 2)) * codeAt(h, i);
  return sum;
}

/** Squared L2 between q and decode(h) over n dims, four f32x4 accumulators. Cost: ~n/16 steps. */
@inline export function l2sqF32F16x4(q: usize, h: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pq = q + (<usize>i << 2);
    const c0 = v128.load(h + (<usize>i << 1));
    const c1 = v128.load(h + (<usize>i << 1), 16);
    const d0 = f32x4.sub(v128.load(pq), lowF16x4(c0));
    const d1 = f32x4.sub(v128.load(pq, 16), highF16x4(c0));
    const d2 = f32x4.sub(v128.load(pq, 32), lowF16x4(c1));
    const d3 = f32x4.sub(v128.load(pq, 48), highF16x4(c1));
    acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
    acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
    acc2 = f32x4.add(acc2, f32x4.mul(d2, d2));
    acc3 = f32x4.add(acc3, f32x4.mul(d3, d3));
  }
  for (; i + 4 <= n; i += 4) {
    const d = f32x4.sub(v128.load(q + (<usize>i << 2)), lowF16x4(v128.load64_zero(h + (<usize>i << 1))));
    acc0 = f32x4.add(acc0, f32x4.mul(d, d));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) {
    const d = load<f32>(q + (<usize>i << 2)) - codeAt(h, i);
    sum += d * d;
  }
  return sum;
}

/**
 * Term i of a kernel: the product q_i * h_i (dot) or the squared difference (l2). The scalar
 * twins below sum these in the f32x4 kernels' lane order.
 */
@inline function termF16(l2: bool, q: usize, h: usize, i: i32): f32 {
  const x = load<f32>(q + (<usize>i << 2));
  const y = codeAt(h, i);
  if (l2) {
    const d = x - y;
    return d * d;
  }
  return x * y;
}

/** dotF32F16x4 / l2sqF32F16x4 in scalar code, the same sixteen sums in the same order: the same bits. */
@inline function kernelF16Scalar(l2: bool, q: usize, h: usize, n: i32): f32 {
  // s<a><l>: accumulator a (the f32x4 kernel's acc0..acc3), lane l.
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0, s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  let s20: f32 = 0, s21: f32 = 0, s22: f32 = 0, s23: f32 = 0, s30: f32 = 0, s31: f32 = 0, s32: f32 = 0, s33: f32 = 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    s00 += termF16(l2, q, h, i);      s01 += termF16(l2, q, h, i + 1);
    s02 += termF16(l2, q, h, i + 2);  s03 += termF16(l2, q, h, i + 3);
    s10 += termF16(l2, q, h, i + 4);  s11 += termF16(l2, q, h, i + 5);
    s12 += termF16(l2, q, h, i + 6);  s13 += termF16(l2, q, h, i + 7);
    s20 += termF16(l2, q, h, i + 8);  s21 += termF16(l2, q, h, i + 9);
    s22 += termF16(l2, q, h, i + 10); s23 += termF16(l2, q, h, i + 11);
    s30 += termF16(l2, q, h, i + 12); s31 += termF16(l2, q, h, i + 13);
    s32 += termF16(l2, q, h, i + 14); s33 += termF16(l2, q, h, i + 15);
  }
  for (; i + 4 <= n; i += 4) {
    s00 += termF16(l2, q, h, i);     s01 += termF16(l2, q, h, i + 1);
    s02 += termF16(l2, q, h, i + 2); s03 += termF16(l2, q, h, i + 3);
  }
  let sum = (((s00 + s10) + (s20 + s30)) + ((s01 + s11) + (s21 + s31))) +
            ((s02 + s12) + (s22 + s32)) + ((s03 + s13) + (s23 + s33));
  for (; i < n; i++) sum += termF16(l2, q, h, i);
  return sum;
}

/** q . decode(h), scalar twin of dotF32F16x4 (same bits). Cost: n scalar steps. */
@inline export function dotF32F16Scalar(q: usize, h: usize, n: i32): f32 {
  return kernelF16Scalar(false, q, h, n);
}

/** Squared L2 of q - decode(h), scalar twin of l2sqF32F16x4 (same bits). Cost: n scalar steps. */
@inline export function l2sqF32F16Scalar(q: usize, h: usize, n: i32): f32 {
  return kernelF16Scalar(true, q, h, n);
}

/** q . decode(h) with the build's kernel (f32x4 in the SIMD build). */
@inline export function dotF32F16(q: usize, h: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return dotF32F16x4(q, h, n);
  return dotF32F16Scalar(q, h, n);
}

/** Squared L2 of q - decode(h) with the build's kernel (f32x4 in the SIMD build). */
@inline export function l2sqF32F16(q: usize, h: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return l2sqF32F16x4(q, h, n);
  return l2sqF32F16Scalar(q, h, n);
}
