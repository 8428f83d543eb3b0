// Parameter-range validation: for each row of d floats, how many components lie outside
// [lower, upper] (NaN counts as outside), optionally clamping the row in place.
//
//   row r: values + r*d*4   [v0 v1 v2 v3 | v4 .. v7 | ... | tail]   lower, upper: d floats each
//                            \_ f32x4 _/                 scalar
//
// A component is inside when v >= lower && v <= upper (both false for NaN). Clamping writes
// `upper` where v > upper and `lower` everywhere else outside (below lower, or NaN); an inside
// component is left as it is (-0 stays -0). The f32x4 kernel and its scalar twin make the same
// comparisons, so both builds count and clamp alike.

/** Outside components of the row at p (d floats), f32x4; clamps them when `clamp`. Cost: ~d/4 steps. */
@inline function rowF32x4(p: usize, lo: usize, hi: usize, d: i32, clamp: bool): i32 {
  // Inside lanes are all ones (-1), so acc holds minus the inside count of each lane.
  let acc = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(p + o);
    const l = v128.load(lo + o);
    const h = v128.load(hi + o);
    const inside = v128.and(f32x4.ge(v, l), f32x4.le(v, h));
    acc = i32x4.add(acc, inside);
    if (clamp) v128.store(p + o, v128.bitselect(v, v128.bitselect(h, l, f32x4.gt(v, h)), inside));
  }
  let outside = i + (i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) +
                     i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3));
  return outside + rowScalar(p, lo, hi, i, d, clamp);
}

/** The scalar twin: outside components of floats i..d-1 of the row at p. Cost: d - i steps. */
@inline function rowScalar(p: usize, lo: usize, hi: usize, i: i32, d: i32, clamp: bool): i32 {
  let outside = 0;
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(p + o);
    const l = load<f32>(lo + o);
    const h = load<f32>(hi + o);
    // Both compares as ints, and'ed without a branch (random data would mispredict one).
    const inside = i32(v >= l) & i32(v <= h);
    outside += inside ^ 1;
    if (clamp && !inside) store<f32>(p + o, v > h ? h : l);
  }
  return outside;
}

@inline function checkRows(values: usize, rows: i32, d: i32, lo: usize, hi: usize, out: usize, clamp: bool, scalar: bool): i32 {
  const rowBytes = <usize>d << 2;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const p = values + <usize>r * rowBytes;
    const n = ASC_FEATURE_SIMD && !scalar ? rowF32x4(p, lo, hi, d, clamp) : rowScalar(p, lo, hi, 0, d, clamp);
    store<u32>(out + (<usize>r << 2), n);
    total += n;
  }
  return total;
}

/**
 * Counts, for each of `rows` rows of d floats at values, the components outside [lower, upper]
 * (d floats each at lower and upper), writing one u32 a row to out; returns the total.
 * flags: bit 0 clamps the rows in place, bit 1 runs the scalar twin (in the SIMD build).
 * Nothing here allocates or fails. Cost: rows * d comparisons.
 */
export function kernelRanges(values: usize, rows: i32, d: i32, lower: usize, upper: usize, out: usize, flags: i32): i32 {
  // Each case inlines checkRows with constant flags, so the per-component branches fold away.
  // The scalar build has only the scalar kernel: flags without bit 1 run it too.
  switch (ASC_FEATURE_SIMD ? flags & 3 : (flags & 1) | 2) {
    case 0: return checkRows(values, rows, d, lower, upper, out, false, false);
    case 1: return checkRows(values, rows, d, lower, upper, out, true, false);
    case 2: return checkRows(values, rows, d, lower, upper, out, false, true);
    default: return checkRows(values, rows, d, lower, upper, out, true, true);
  }
}
