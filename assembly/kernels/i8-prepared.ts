// Dot products of one query, prepared once, with many int8 code rows: one row a call, or four
// rows a call from a list of row addresses (the index's gathered neighbours), exact in integers.
//
//   row c:  [c0 c1 ... c15 | c16 ... c31 | ...]   n int8 codes, any n, any address
//   prepared query (preparedI8Bytes(n): PREPARED_HEADER + 32 bytes per block of 16 dims, the
//   last one padded with 0; blocks 16-aligned when dst is):
//     [16 bytes 0] [i16 q0 q1 ... q15] [i16 q16 ... q31] ...
//
// The query's codes are i16: a node's own int8 codes (prepareI8Query: the build links a node by
// searching with its stored form), or a float32 query encoded with a scale of its own at up to
// preparedCodeLimit(n) levels a side (prepareF32Query: 2047 for n <= 8256, 16x finer than the
// rows' int8 steps, so the query adds almost no rounding of its own to a distance).
// A row's v128 of 16 codes is sign-extended into two i16x8 halves, and two i32x4.dot_i16x8_s
// against the query's two i16x8 of that block sum products pairwise into i32 lanes: 16 codes
// cost 1 row load, 2 query loads, 6 ops. A dim tail of 4..15 codes is one more such block from
// 8- and 4-byte loads (nothing read past the row); the last n % 4 codes are scalar.
// The four-row kernel loads each query block once for four rows, runs four independent
// accumulator chains, and reduces the four rows' lanes together (two rounds of unpacks) into
// one v128 of results.
// Exactness: query codes are at most preparedCodeLimit(n) <= (2^31 - 1) / (128 n) in magnitude
// and row codes at least -128, so |q . c| and every partial sum of it stay below 2^31: a kernel,
// its scalar twin and both builds agree to the bit, and a node prepared as the query gives
// exactly dotI8 of the two code rows.

/** Bytes before the prepared query's first block (zero; the blocks start 16-aligned). */
const PREPARED_HEADER: usize = 16;

/** Levels a side of an encoded float32 query when the dimension allows it (11 bits). */
const QUERY_LEVELS: i32 = 2047;

/** Bytes of the prepared form of an n-dim query: header + 32 bytes per block of 16 dims (the last one padded). */
@inline export function preparedI8Bytes(n: i32): usize {
  return PREPARED_HEADER + (<usize>((n + 15) >> 4) << 5);
}

/**
 * The largest query code magnitude for n dims: 2047, or less where n * 128 * it would pass
 * 2^31 - 1 (n > 8256; 255 at n = 65536). Cost: O(1).
 */
@inline function preparedCodeLimit(n: i32): i32 {
  return <i32>min<i64>(QUERY_LEVELS, <i64>0x7fffffff / (<i64>128 * <i64>max(n, 1)));
}

/** Address of query code i in the prepared form at qp. */
@inline function preparedAt(qp: usize, i: i32): usize {
  return qp + PREPARED_HEADER + (<usize>i << 1);
}

/**
 * Writes the prepared form of n int8 codes at q (a stored row used as the query) to dst
 * (preparedI8Bytes(n) bytes, 16-byte aligned for aligned loads; any address works). Cost: n
 * scalar steps, once per query.
 */
export function prepareI8Query(q: usize, n: i32, dst: usize): void {
  memory.fill(dst, 0, preparedI8Bytes(n));
  for (let i = 0; i < n; i++) store<i16>(preparedAt(dst, i), <i16>load<i8>(q + <usize>i));
}

/** 2^149: x * UNITS is float32 x in units of 2^-149, the smallest subnormal (an exact integer). */
const UNITS: f64 = reinterpret<f64>(<u64>(1023 + 149) << 52);

/**
 * The scale for a per-vector encoder of `levels` levels a side when m / levels (m = max|x| > 0)
 * is below float32's smallest normal 2^-126, where m / levels would keep too few bits (or be
 * 0): as a whole number k of 2^-149 units, k = ceil(m / levels / 2^-149) >= 1, so the scale
 * k * 2^-149 is exact, never 0, and codes x / scale stay within levels. 0 when m / levels is
 * normal (the ordinary path). Cost: O(1).
 */
@inline export function subnormalStep(m: f32, levels: f64): u32 {
  const units = <f64>m * UNITS;
  return units < levels * 8388608 ? <u32>Math.ceil(units / levels) : 0;
}

/** The code round(x / (k * 2^-149)), ties to even, in float64 (exact: both are whole units). */
@inline export function subnormalCode(x: f32, k: u32): f64 {
  return nearest<f64>(<f64>x * UNITS / <f64>k);
}

/**
 * Encodes n floats at src as the prepared query at dst with a scale of their own: code
 * round(x * L / m) in float32, ties to even, m = max|x|, L = preparedCodeLimit(n), so nothing
 * clamps. Returns the scale m / L (x ~ scale * code), 0 for a zero vector (all codes 0) and
 * only for it: where m / L would be subnormal, the scale is k * 2^-149 and the codes x / scale
 * (i8.ts, subnormalStep). Cost: 2n scalar steps, once per query.
 */
export function prepareF32Query(src: usize, n: i32, dst: usize): f32 {
  memory.fill(dst, 0, preparedI8Bytes(n));
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, abs(load<f32>(src + (<usize>i << 2))));
  if (m == 0) return 0;
  const levels = <f32>preparedCodeLimit(n);
  const k = subnormalStep(m, <f64>levels);        // m / levels subnormal: an exact scale, never 0
  if (k != 0) {
    for (let i = 0; i < n; i++) {
      store<i16>(preparedAt(dst, i), <i16><i32>subnormalCode(load<f32>(src + (<usize>i << 2)), k));
    }
    return reinterpret<f32>(k);
  }
  for (let i = 0; i < n; i++) {
    store<i16>(preparedAt(dst, i), <i16><i32>nearest(load<f32>(src + (<usize>i << 2)) * levels / m));
  }
  return m / levels;
}

/** Sum of the squares of the n codes of the prepared query at qp, exact (below 2^53). Cost: n scalar steps. */
export function preparedSquareSum(qp: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const c = <f64>load<i16>(preparedAt(qp, i));
    s += c * c;
  }
  return s;
}

/** acc + q . c over the 16 codes of v against the query block at pq, as i32x4 (pairs summed). */
@inline function block16(acc: v128, pq: usize, v: v128): v128 {
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), v128.load(pq));
  return i32x4.add(acc, i32x4.add(lo, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), v128.load(pq, 16))));
}

/** One step of a four-row kernel: acc + q . c over the 16 codes of v, query block halves (ql, qh). */
@inline function rowStep(acc: v128, ql: v128, qh: v128, v: v128): v128 {
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), ql);
  return i32x4.add(acc, i32x4.add(lo, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), qh)));
}

/** The first `dims` codes at p (dims = 4, 8 or 12; 0 past them), read without touching byte p + dims. */
@inline function tailCodes(p: usize, dims: i32): v128 {
  if (dims == 4) return v128.load32_zero(p);
  const v = v128.load64_zero(p);
  return dims == 8 ? v : v128.load32_lane(p, v, 2, 8);
}

/** Sums, in lane order, of each of four i32x4 (lane r of the result: a_r's lanes added). */
@inline function sumLanes4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const t23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t01, t23, 0, 1, 4, 5), v128.shuffle<i32>(t01, t23, 2, 3, 6, 7));
}

@inline function sumLanesI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) +
         i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** q . c over the last n % 4 codes of an n-dim row at c, scalar. */
@inline function scalarRest(qp: usize, c: usize, n: i32): i32 {
  let sum = 0;
  for (let i = n & ~3; i < n; i++) sum += <i32>load<i16>(preparedAt(qp, i)) * <i32>load<i8>(c + <usize>i);
  return sum;
}

/** Exact dot product of a prepared query qp and n int8 codes at c. Cost: ~n/32 steps of 6 loads, 12 ops. */
@inline export function dotI8PreparedX16(qp: usize, c: usize, n: i32): i32 {
  const blocks = qp + PREPARED_HEADER;
  const whole = n & ~15;
  let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0);
  let i = 0;
  for (; i + 32 <= whole; i += 32) {
    const pq = blocks + (<usize>i << 1);
    acc0 = block16(acc0, pq, v128.load(c + <usize>i));
    acc1 = block16(acc1, pq + 32, v128.load(c + <usize>i, 16));
  }
  if (i < whole) acc0 = block16(acc0, blocks + (<usize>i << 1), v128.load(c + <usize>i));
  const tail = n & 12;
  if (tail != 0) acc1 = block16(acc1, blocks + (<usize>whole << 1), tailCodes(c + <usize>whole, tail));
  const sum = sumLanesI32(i32x4.add(acc0, acc1));
  return n & 3 ? sum + scalarRest(qp, c, n) : sum;
}

/** dotI8PreparedX16's scalar twin (the same integer). Cost: n multiply-adds. */
@inline export function dotI8PreparedScalar(qp: usize, c: usize, n: i32): i32 {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    s0 += <i32>load<i16>(preparedAt(qp, i)) * <i32>load<i8>(c + <usize>i);
    s1 += <i32>load<i16>(preparedAt(qp, i), 2) * <i32>load<i8>(c + <usize>i, 1);
  }
  if (i < n) s0 += <i32>load<i16>(preparedAt(qp, i)) * <i32>load<i8>(c + <usize>i);
  return s0 + s1;
}

/** Exact dot product of a prepared query and n int8 codes with the build's kernel. */
@inline export function dotI8Prepared(qp: usize, c: usize, n: i32): i32 {
  if (ASC_FEATURE_SIMD) return dotI8PreparedX16(qp, c, n);
  return dotI8PreparedScalar(qp, c, n);
}

/** Exact dot products of a prepared query with the four n-code rows at c0..c3, as i32x4 (lane r: row r). */
@inline function dotI8Prepared4(qp: usize, c0: usize, c1: usize, c2: usize, c3: usize, n: i32): v128 {
  const blocks = qp + PREPARED_HEADER;
  const whole = n & ~15;
  const tail = n & 12;
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= whole; i += 16) {
    const pq = blocks + (<usize>i << 1);
    const o = <usize>i;
    const ql = v128.load(pq), qh = v128.load(pq, 16);
    a0 = rowStep(a0, ql, qh, v128.load(c0 + o));
    a1 = rowStep(a1, ql, qh, v128.load(c1 + o));
    a2 = rowStep(a2, ql, qh, v128.load(c2 + o));
    a3 = rowStep(a3, ql, qh, v128.load(c3 + o));
  }
  if (tail != 0) {
    const pq = blocks + (<usize>i << 1);
    const o = <usize>i;
    const ql = v128.load(pq), qh = v128.load(pq, 16);
    a0 = rowStep(a0, ql, qh, tailCodes(c0 + o, tail));
    a1 = rowStep(a1, ql, qh, tailCodes(c1 + o, tail));
    a2 = rowStep(a2, ql, qh, tailCodes(c2 + o, tail));
    a3 = rowStep(a3, ql, qh, tailCodes(c3 + o, tail));
  }
  return sumLanes4(a0, a1, a2, a3);
}

/**
 * Exact dot products of a prepared query qp with `count` rows of n int8 codes whose addresses
 * are u32s at addrs, addrs + addrStride, ... (e.g. the address field of (node, address) pairs),
 * written as i32 to out (4 bytes a row). Four rows a step share each query load. Cost: ~n/16
 * steps of 6 loads, 24 ops per four rows.
 */
@inline export function dotI8PreparedRowsX16(qp: usize, addrs: usize, addrStride: usize, count: i32, n: i32, out: usize): void {
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const p = addrs + <usize>j * addrStride;
    const c0 = <usize>load<u32>(p), c1 = <usize>load<u32>(p + addrStride);
    const c2 = <usize>load<u32>(p + 2 * addrStride), c3 = <usize>load<u32>(p + 3 * addrStride);
    const o = out + (<usize>j << 2);
    v128.store(o, dotI8Prepared4(qp, c0, c1, c2, c3, n));
    if (n & 3) {
      store<i32>(o, load<i32>(o) + scalarRest(qp, c0, n));
      store<i32>(o, load<i32>(o, 4) + scalarRest(qp, c1, n), 4);
      store<i32>(o, load<i32>(o, 8) + scalarRest(qp, c2, n), 8);
      store<i32>(o, load<i32>(o, 12) + scalarRest(qp, c3, n), 12);
    }
  }
  for (; j < count; j++) {
    store<i32>(out + (<usize>j << 2), dotI8PreparedX16(qp, <usize>load<u32>(addrs + <usize>j * addrStride), n));
  }
}

/** dotI8PreparedRowsX16's scalar twin (the same integers). Cost: count * n multiply-adds. */
@inline export function dotI8PreparedRowsScalar(qp: usize, addrs: usize, addrStride: usize, count: i32, n: i32, out: usize): void {
  for (let j = 0; j < count; j++) {
    store<i32>(out + (<usize>j << 2), dotI8PreparedScalar(qp, <usize>load<u32>(addrs + <usize>j * addrStride), n));
  }
}

/** Exact dot products of a prepared query with `count` listed rows (see dotI8PreparedRowsX16), the build's kernel. */
@inline export function dotI8PreparedRows(qp: usize, addrs: usize, addrStride: usize, count: i32, n: i32, out: usize): void {
  if (ASC_FEATURE_SIMD) dotI8PreparedRowsX16(qp, addrs, addrStride, count, n, out);
  else dotI8PreparedRowsScalar(qp, addrs, addrStride, count, n, out);
}
