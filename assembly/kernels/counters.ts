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
// column, so both give the same bits. mean = sum / m (float32 division).
// min and max use wasm's pmin/pmax, (b < a ? b : a) and (a < b ? b : a), over the same rows in a
// fixed tree (per four rows: pmin(acc, pmin(pmin(r0, r1), pmin(r2, r3))), then one row at a time),
// which the scalar twin repeats; they are exact (of -0 and +0 either may be reported). A NaN row
// makes the sum NaN (the host rejects it) and min/max undefined.

@inline function pminS(a: f32, b: f32): f32 {
  return b < a ? b : a;
}

@inline function pmaxS(a: f32, b: f32): f32 {
  return a < b ? b : a;
}

/** One column (p: its first row) over m rows of rowBytes: writes sum, min, max, mean at o, o+plane, ... */
@inline function columnScalar(p: usize, m: i32, rowBytes: usize, o: usize, plane: usize): void {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let mn: f32 = Infinity, mx: f32 = -Infinity;
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const q = p + <usize>r * rowBytes;
    const v0 = load<f32>(q), v1 = load<f32>(q + rowBytes), v2 = load<f32>(q + 2 * rowBytes), v3 = load<f32>(q + 3 * rowBytes);
    s0 += v0;
    s1 += v1;
    s2 += v2;
    s3 += v3;
    mn = pminS(mn, pminS(pminS(v0, v1), pminS(v2, v3)));
    mx = pmaxS(mx, pmaxS(pmaxS(v0, v1), pmaxS(v2, v3)));
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (; r < m; r++) {
    const v = load<f32>(p + <usize>r * rowBytes);
    sum += v;
    mn = pminS(mn, v);
    mx = pmaxS(mx, v);
  }
  store<f32>(o, sum);
  store<f32>(o + plane, mn);
  store<f32>(o + 2 * plane, mx);
  store<f32>(o + 3 * plane, sum / <f32>m);
}

/** Four adjacent columns (p: their first row) at once, one lane a column; columnScalar's order. */
@inline function columnsF32x4(p: usize, m: i32, rowBytes: usize, o: usize, plane: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let mn = f32x4.splat(Infinity), mx = f32x4.splat(-Infinity);
  let r = 0;
  for (; r + 4 <= m; r += 4) {
    const q = p + <usize>r * rowBytes;
    const v0 = v128.load(q), v1 = v128.load(q + rowBytes), v2 = v128.load(q + 2 * rowBytes), v3 = v128.load(q + 3 * rowBytes);
    s0 = f32x4.add(s0, v0);
    s1 = f32x4.add(s1, v1);
    s2 = f32x4.add(s2, v2);
    s3 = f32x4.add(s3, v3);
    mn = f32x4.pmin(mn, f32x4.pmin(f32x4.pmin(v0, v1), f32x4.pmin(v2, v3)));
    mx = f32x4.pmax(mx, f32x4.pmax(f32x4.pmax(v0, v1), f32x4.pmax(v2, v3)));
  }
  let sum = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  for (; r < m; r++) {
    const v = v128.load(p + <usize>r * rowBytes);
    sum = f32x4.add(sum, v);
    mn = f32x4.pmin(mn, v);
    mx = f32x4.pmax(mx, v);
  }
  v128.store(o, sum);
  v128.store(o + plane, mn);
  v128.store(o + 2 * plane, mx);
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
