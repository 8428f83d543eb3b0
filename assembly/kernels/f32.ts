// Distance kernels over raw f32 rows: f32x4 variants and their scalar twins.
//
//   row a: [a0 a1 a2 a3 | a4 a5 a6 a7 | ... | a(n-1) 0 0]   n floats, any n
//           \__ v128 __/ \__ v128 __/                        loads need no alignment; rows the
//                                                            index stores are padded to a
//                                                            multiple of 4 and 16-byte aligned
//
// Each f32x4 kernel runs four independent accumulators over 16 floats a step (so additions
// pipeline), then one accumulator over 4 floats a step, then a scalar tail. The scalar twins
// keep four accumulators too, so the SIMD-vs-scalar comparison measures the vector unit alone.
// `dot`, `l2sq` and friends pick the variant at compile time (ASC_FEATURE_SIMD).
// `normalize` works in float64 (f64x2 and its twin), summing in the same order in both builds,
// so both store a cosine row with the same bits.

/** The sum of v's four f32 lanes, in lane order (the scalar twins add in the same order). */
@inline export function sumLanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
         f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Dot product of n floats at a and b, four f32x4 accumulators. Cost: ~n/16 steps. */
@inline export function dotF32x4(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48)));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    sum += load<f32>(a + o) * load<f32>(b + o);
  }
  return sum;
}

/** Dot product of n floats, scalar, four accumulators. Cost: n multiply-adds. */
@inline export function dotScalar(a: usize, b: usize, n: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    s0 += load<f32>(a + o) * load<f32>(b + o);
    s1 += load<f32>(a + o, 4) * load<f32>(b + o, 4);
    s2 += load<f32>(a + o, 8) * load<f32>(b + o, 8);
    s3 += load<f32>(a + o, 12) * load<f32>(b + o, 12);
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    sum += load<f32>(a + o) * load<f32>(b + o);
  }
  return sum;
}

/** Squared Euclidean distance of n floats, four f32x4 accumulators. Cost: ~n/16 steps. */
@inline export function l2sqF32x4(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const d0 = f32x4.sub(v128.load(a + o), v128.load(b + o));
    const d1 = f32x4.sub(v128.load(a + o, 16), v128.load(b + o, 16));
    const d2 = f32x4.sub(v128.load(a + o, 32), v128.load(b + o, 32));
    const d3 = f32x4.sub(v128.load(a + o, 48), v128.load(b + o, 48));
    acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
    acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
    acc2 = f32x4.add(acc2, f32x4.mul(d2, d2));
    acc3 = f32x4.add(acc3, f32x4.mul(d3, d3));
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(v128.load(a + o), v128.load(b + o));
    acc0 = f32x4.add(acc0, f32x4.mul(d, d));
  }
  let sum = sumLanes(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(a + o) - load<f32>(b + o);
    sum += d * d;
  }
  return sum;
}

/** Squared Euclidean distance of n floats, scalar, four accumulators. Cost: n steps. */
@inline export function l2sqScalar(a: usize, b: usize, n: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d0 = load<f32>(a + o) - load<f32>(b + o);
    const d1 = load<f32>(a + o, 4) - load<f32>(b + o, 4);
    const d2 = load<f32>(a + o, 8) - load<f32>(b + o, 8);
    const d3 = load<f32>(a + o, 12) - load<f32>(b + o, 12);
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(a + o) - load<f32>(b + o);
    sum += d * d;
  }
  return sum;
}

/** Dot product with the build's kernel (f32x4 in the SIMD build). */
@inline export function dot(a: usize, b: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return dotF32x4(a, b, n);
  return dotScalar(a, b, n);
}

/** Squared L2 distance with the build's kernel (f32x4 in the SIMD build). */
@inline export function l2sq(a: usize, b: usize, n: i32): f32 {
  if (ASC_FEATURE_SIMD) return l2sqF32x4(a, b, n);
  return l2sqScalar(a, b, n);
}

/** Euclidean norm of n floats. Cost: one dot. */
export function norm(a: usize, n: i32): f32 {
  return Mathf.sqrt(dot(a, a, n));
}

/**
 * Sum of squares of n floats in float64: eight running sums, over 8 floats a step (four f64x2
 * accumulators, two lanes each), then a scalar tail. Cost: ~n/8 steps.
 */
@inline function sumSquaresF64x2(a: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0), acc2 = f64x2.splat(0), acc3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = a + (<usize>i << 2);
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const x0 = f64x2.promote_low_f32x4(v0);
    const x1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1));
    const x2 = f64x2.promote_low_f32x4(v1);
    const x3 = f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1));
    acc0 = f64x2.add(acc0, f64x2.mul(x0, x0));
    acc1 = f64x2.add(acc1, f64x2.mul(x1, x1));
    acc2 = f64x2.add(acc2, f64x2.mul(x2, x2));
    acc3 = f64x2.add(acc3, f64x2.mul(x3, x3));
  }
  const s = f64x2.add(f64x2.add(acc0, acc2), f64x2.add(acc1, acc3));
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const x = <f64>load<f32>(a + (<usize>i << 2));
    sum += x * x;
  }
  return sum;
}

/** sumSquaresF64x2's scalar twin: the same eight sums, added in the same order, so the same bits. */
@inline function sumSquaresScalar(a: usize, n: i32): f64 {
  let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0, s4: f64 = 0, s5: f64 = 0, s6: f64 = 0, s7: f64 = 0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = a + (<usize>i << 2);
    const x0 = <f64>load<f32>(p), x1 = <f64>load<f32>(p, 4), x2 = <f64>load<f32>(p, 8), x3 = <f64>load<f32>(p, 12);
    const x4 = <f64>load<f32>(p, 16), x5 = <f64>load<f32>(p, 20), x6 = <f64>load<f32>(p, 24), x7 = <f64>load<f32>(p, 28);
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
    s4 += x4 * x4;
    s5 += x5 * x5;
    s6 += x6 * x6;
    s7 += x7 * x7;
  }
  let sum = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
  for (; i < n; i++) {
    const x = <f64>load<f32>(a + (<usize>i << 2));
    sum += x * x;
  }
  return sum;
}

/** Multiplies n floats at a by s in float64, rounding each product to float32 once; f64x2. Cost: ~n/4 steps. */
@inline function scaleF64x2(a: usize, n: i32, s: f64): void {
  const sv = f64x2.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = a + (<usize>i << 2);
    const v = v128.load(p);
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v), sv));
    const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), sv));
    v128.store(p, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const p = a + (<usize>i << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) * s));
  }
}

/** scaleF64x2's scalar twin (each product is the same IEEE operation, so the same bits). */
@inline function scaleScalar(a: usize, n: i32, s: f64): void {
  for (let i = 0; i < n; i++) {
    const p = a + (<usize>i << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) * s));
  }
}

/**
 * Scales n floats at a to unit length, in float64: rows far below or above float32's range
 * (1e-30, 1e-40 or 1e30 a component) normalise too. Both builds sum in the same order and
 * round each product once, so they store the same bits. Returns the norm the row had; a zero
 * row is left as it is. Cost: ~n/8 + n/4 f64x2 steps (2n float64 steps in the scalar build).
 */
export function normalize(a: usize, n: i32): f64 {
  const len = Math.sqrt(ASC_FEATURE_SIMD ? sumSquaresF64x2(a, n) : sumSquaresScalar(a, n));
  if (len > 0) {
    if (ASC_FEATURE_SIMD) scaleF64x2(a, n, 1.0 / len);
    else scaleScalar(a, n, 1.0 / len);
  }
  return len;
}

/** Cosine distance 1 - a.b / (|a| |b|) of n floats; 1 when either is zero. Cost: three dots. */
export function cosineDistance(a: usize, b: usize, n: i32): f32 {
  const denom = Mathf.sqrt(dot(a, a, n) * dot(b, b, n));
  return denom > 0 ? <f32>1 - dot(a, b, n) / denom : <f32>1;
}

/** Cosine distance with scalar kernels only (the twin of cosineDistance). */
export function cosineDistanceScalar(a: usize, b: usize, n: i32): f32 {
  const denom = Mathf.sqrt(dotScalar(a, a, n) * dotScalar(b, b, n));
  return denom > 0 ? <f32>1 - dotScalar(a, b, n) / denom : <f32>1;
}
