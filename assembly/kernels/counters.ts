// Counter aggregation: per column of a rows x cols f32 matrix (row-major), and per window of
// `window` consecutive rows (the last window may be shorter), the sum, min, max and mean.
//
//   out: sum[W*C] | min[W*C] | max[W*C] | mean[W*C]     W = ceil(rows / window), C = cols,
//                                                        window w, column c at w*C + c
//
// Sum order (both builds, every column, every window of m rows, rows counted from the window's
// first): four running sums s0..s3 over the rows i < 4*floor(m/4), sk over the rows i = k mod 4
// in row order (each starting at +0), then sum = (s0 + s1) + (s2 + s3), then the last m mod 4
// rows added one by one in row order. Every addition is a float32 addition. The f32x4 kernel runs
// this for four adjacent columns at once (one lane a column); its scalar twin runs it column by
// column (faster in scalar code than four columns at once, whose 24 accumulators spill), so both
// give the same bits. mean = sum / m (float32 division).
// min and max compare order keys, the float's bits as an int32 with the magnitude bits flipped
// for negative values (k = i ^ ((i >> 31) >>> 1)): integer order is float order, with -0 below
// +0, so both are exact and branch-free (i32x4.min_s, and i32 selects in the scalar twin, where a
// float compare would be a branch the random data mispredicts). A NaN row makes the sum NaN (the
// host rejects it) and min/max undefined.

/** The order key of a float (an involution: keyS(keyS(x)) == x as bits). */
@inline function keyS(v: f32): i32 {
  const i = reinterpret<i32>(v);
  return i ^ ((i >> 31) >>> 1);
}

@inline function fromKeyS(k: i32): f32 {
  return reinterpret<f32>(k ^ ((k >> 31) >>> 1));
}

@inline function pminS(a: i32, b: i32): i32 {
  return min<i32>(a, b);
}

@inline function pmaxS(a: i32, b: i32): i32 {
  return max<i32>(a, b);
}

@inline function keyV(v: v128): v128 {
  return v128.xor(v, i32x4.shr_u(i32x4.shr_s(v, 31), 1));
}

/** One column (p: its first row) over m rows of rowBytes: writes sum, min, max, mean at o, o+plane, ... */
@inline function columnScalar(p: usize, m: i32, rowBytes: usize, o: usize, plane: usize): void {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let mn: i32 = i32.MAX_VALUE, mx: i32 = i32.MIN_VALUE;
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const q = p + <usize>r * rowBytes;
    const v0 = load<f32>(q), v1 = load<f32>(q + rowBytes), v2 = load<f32>(q + 2 * rowBytes), v3 = load<f32>(q + 3 * rowBytes);
    s0 += v0;
    s1 += v1;
    s2 += v2;
    s3 += v3;
    const k0 = keyS(v0), k1 = keyS(v1), k2 = keyS(v2), k3 = keyS(v3);
    mn = pminS(mn, pminS(pminS(k0, k1), pminS(k2, k3)));
    mx = pmaxS(mx, pmaxS(pmaxS(k0, k1), pmaxS(k2, k3)));
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; r < m; r++) {
    const v = load<f32>(p + <usize>r * rowBytes);
    sum += v;
    mn = pminS(mn, keyS(v));
    mx = pmaxS(mx, keyS(v));
  }
  store<f32>(o, sum);
  store<f32>(o + plane, fromKeyS(mn));
  store<f32>(o + 2 * plane, fromKeyS(mx));
  store<f32>(o + 3 * plane, sum / <f32>m);
}

/** Four adjacent columns (p: their first row) at once, one lane a column; columnScalar's order. */
@inline function columnsF32x4(p: usize, m: i32, rowBytes: usize, o: usize, plane: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let mn = i32x4.splat(i32.MAX_VALUE), mx = i32x4.splat(i32.MIN_VALUE);
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const q = p + <usize>r * rowBytes;
    const v0 = v128.load(q), v1 = v128.load(q + rowBytes), v2 = v128.load(q + 2 * rowBytes), v3 = v128.load(q + 3 * rowBytes);
    s0 = f32x4.add(s0, v0);
    s1 = f32x4.add(s1, v1);
    s2 = f32x4.add(s2, v2);
    s3 = f32x4.add(s3, v3);
    const k0 = keyV(v0), k1 = keyV(v1), k2 = keyV(v2), k3 = keyV(v3);
    mn = i32x4.min_s(mn, i32x4.min_s(i32x4.min_s(k0, k1), i32x4.min_s(k2, k3)));
    mx = i32x4.max_s(mx, i32x4.max_s(i32x4.max_s(k0, k1), i32x4.max_s(k2, k3)));
  }
  let sum = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  for (; r < m; r++) {
    const v = v128.load(p + <usize>r * rowBytes);
    sum = f32x4.add(sum, v);
    mn = i32x4.min_s(mn, keyV(v));
    mx = i32x4.max_s(mx, keyV(v));
  }
  v128.store(o, sum);
  v128.store(o + plane, keyV(mn));
  v128.store(o + 2 * plane, keyV(mx));
  v128.store(o + 3 * plane, f32x4.div(sum, f32x4.splat(<f32>m)));
}

@inline function aggregate(src: usize, rows: i32, cols: i32, window: i32, out: usize, scalar: bool): void {
  const rowBytes = <usize>cols << 2;
  const windows = (rows + window - 1) / window;
  const plane = <usize>windows * rowBytes;
  for (let w = 0; w < windows; w++) {
    const first = w * window;
    const m = min(window, rows - first);
    const p = src + <usize>first * rowBytes;
    const o = out + <usize>w * rowBytes;
    let c = 0;
    if (ASC_FEATURE_SIMD && !scalar) {
      for (; c + 4 <= cols; c += 4) columnsF32x4(p + (<usize>c << 2), m, rowBytes, o + (<usize>c << 2), plane);
    }
    for (; c < cols; c++) columnScalar(p + (<usize>c << 2), m, rowBytes, o + (<usize>c << 2), plane);
  }
}

/**
 * Aggregates `rows` rows of `cols` floats at src, per window of `window` rows (window >= 1), into
 * out (4 * ceil(rows / window) * cols floats: the layout above). scalar != 0 runs the scalar twin
 * (in the SIMD build). Nothing here allocates or fails. Cost: rows * cols steps.
 */
export function kernelCounters(src: usize, rows: i32, cols: i32, window: i32, out: usize, scalar: i32): void {
  if (!ASC_FEATURE_SIMD || scalar != 0) aggregate(src, rows, cols, window, out, true);
  else aggregate(src, rows, cols, window, out, false);
}
