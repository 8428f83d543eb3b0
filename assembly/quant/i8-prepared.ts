// Int8 dot products of one query, prepared once, with many code rows: one row a call, or four
// rows a call from a list of row addresses (the index's gathered neighbours), exact in integers.
//
//   row c:  [c0 c1 ... c15 | c16 ... c31 | ...]   n int8 codes, any n, any address
//   prepared query (preparedI8Bytes(n): PREPARED_HEADER + 32 bytes per block of 16 dims, the
//   last one padded with 0; blocks 16-aligned when dst is):
//     [16 bytes 0]
//     [block 0: i16 q0 q2 q4 ... q14 | i16 256q1 256q3 ... 256q15] [block 1: q16 q18 ... | 256q17 ...] ...
//
// A row's v128 of 16 codes, read as eight i16 lanes 256 * c_odd + (c_even & 0xff), gives both
// factors in one op each: a byte swizzle with constant indices moves each even code to its
// lane's high byte (256 * c_even, one pshufb on x64, not on the shift/multiply ports) and an
// arithmetic shift right by 8 gives c_odd; two i32x4.dot_i16x8_s against the query's even codes
// and 256 x its odd codes sum 256 * (q . c) into i32 lanes. 16 codes cost 1 row load, 2 query
// loads, 6 ops (the old form, u = c xor 0x80 split by `and` and `shr_u`, cost 7 and a correction
// term). A dim tail of 4..15 codes is one more such block from 8- and 4-byte loads (nothing
// read past the row); the last n % 4 codes are scalar.
// The four-row kernel loads each query block once for four rows, runs four independent
// accumulator chains, and reduces the four rows' lanes together (two rounds of unpacks) into
// one v128 of results.
// Exactness: every product is a multiple of 256 and an i32 lane gains at most 4 * 2^14 * 256 =
// 2^24 a block, so each lane is shifted down by 8 (exactly) into a total every CHUNK dims (64
// blocks, 65 with the tail block: under 2^31 a lane); the total |q . c| <= n * 2^14 fits i32
// for every n up to 65536. So a kernel, its scalar twin and both builds agree to the bit.

/** Bytes before the prepared query's first block (zero; the blocks start 16-aligned). */
const PREPARED_HEADER: usize = 16;

/** Dims the accumulators take before they are shifted down into the totals, a power of 2 >= 32 (see Exactness above). */
const CHUNK: i32 = 1024;

/** Bytes of the prepared form of an n-dim query: header + 32 bytes per block of 16 dims (the last one padded). */
@inline export function preparedI8Bytes(n: i32): usize {
  return PREPARED_HEADER + (<usize>((n + 15) >> 4) << 5);
}

/** Offset of dim i's i16 in a prepared query: block i / 16, then even dims, then odd ones. */
@inline function preparedOffset(i: i32): usize {
  const j = i & 15;
  return PREPARED_HEADER + (<usize>(i >> 4) << 5) + (<usize>(j & 1) << 4) + (<usize>(j >> 1) << 1);
}

/** Query code i of a prepared query (odd dims are stored times 256). */
@inline function preparedCode(qp: usize, i: i32): i32 {
  return <i32>load<i16>(qp + preparedOffset(i)) >> ((i & 1) << 3);
}

/**
 * Writes the prepared form of n int8 query codes at q to dst (preparedI8Bytes(n) bytes, 16-byte
 * aligned for aligned loads; any address works). Cost: n scalar steps, once per query.
 */
export function prepareI8Query(q: usize, n: i32, dst: usize): void {
  memory.fill(dst, 0, preparedI8Bytes(n));
  for (let i = 0; i < n; i++) {
    const c = <i32>load<i8>(q + <usize>i);
    store<i16>(dst + preparedOffset(i), <i16>(c << ((i & 1) << 3)));
  }
}

/** 256 * (q . c) over the 16 codes of v against the query block at pq, as i32x4 (pairs summed). */
@inline function block16(pq: usize, v: v128): v128 {
  const even = i8x16.swizzle(v, i8x16(-128, 0, -128, 2, -128, 4, -128, 6, -128, 8, -128, 10, -128, 12, -128, 14));
  return i32x4.add(i32x4.dot_i16x8_s(even, v128.load(pq)), i32x4.dot_i16x8_s(i16x8.shr_s(v, 8), v128.load(pq, 16)));
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
  for (let i = n & ~3; i < n; i++) sum += preparedCode(qp, i) * <i32>load<i8>(c + <usize>i);
  return sum;
}

/** 256 * (q . c) over dims from..to (a multiple of 16 apart, at most CHUNK) of the row at c, as i32x4: two accumulators. */
@inline function span(blocks: usize, c: usize, from: i32, to: i32): v128 {
  let acc0 = i32x4.splat(0), acc1 = i32x4.splat(0);
  let i = from;
  for (; i + 32 <= to; i += 32) {
    const pq = blocks + (<usize>i << 1);
    acc0 = i32x4.add(acc0, block16(pq, v128.load(c + <usize>i)));
    acc1 = i32x4.add(acc1, block16(pq + 32, v128.load(c + <usize>i, 16)));
  }
  if (i < to) acc0 = i32x4.add(acc0, block16(blocks + (<usize>i << 1), v128.load(c + <usize>i)));
  return i32x4.add(acc0, acc1);
}

/** Exact dot product of a prepared query qp and n int8 codes at c. Cost: ~n/32 steps of 6 loads, 12 ops. */
@inline export function dotI8PreparedX16(qp: usize, c: usize, n: i32): i32 {
  const blocks = qp + PREPARED_HEADER;
  const whole = n & ~15;
  let total: v128;
  if (whole <= CHUNK) total = i32x4.shr_s(span(blocks, c, 0, whole), 8);   // the common case: one span, no chunk loop
  else {
    total = i32x4.splat(0);
    for (let i = 0; i < whole; i += CHUNK) total = i32x4.add(total, i32x4.shr_s(span(blocks, c, i, min(i + CHUNK, whole)), 8));
  }
  const tail = n & 12;
  if (tail != 0) total = i32x4.add(total, i32x4.shr_s(block16(blocks + (<usize>whole << 1), tailCodes(c + <usize>whole, tail)), 8));
  const sum = sumLanesI32(total);
  return n & 3 ? sum + scalarRest(qp, c, n) : sum;
}

/** dotI8PreparedX16's scalar twin (the same integer). Cost: n multiply-adds. */
@inline export function dotI8PreparedScalar(qp: usize, c: usize, n: i32): i32 {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pq = qp + PREPARED_HEADER + (<usize>i << 1);
    const pc = c + <usize>i;
    for (let j = 0; j < 8; j++) {
      s0 += <i32>load<i16>(pq + (<usize>j << 1)) * <i32>load<i8>(pc + (<usize>j << 1));
      s1 += (<i32>load<i16>(pq + (<usize>j << 1), 16) >> 8) * <i32>load<i8>(pc + (<usize>j << 1), 1);
    }
  }
  let sum = s0 + s1;
  for (; i < n; i++) sum += preparedCode(qp, i) * <i32>load<i8>(c + <usize>i);
  return sum;
}

/** Exact dot product of a prepared query and n int8 codes with the build's kernel. */
@inline export function dotI8Prepared(qp: usize, c: usize, n: i32): i32 {
  if (ASC_FEATURE_SIMD) return dotI8PreparedX16(qp, c, n);
  return dotI8PreparedScalar(qp, c, n);
}

/** One step of a four-row kernel: acc + 256 * (q . c) over the 16 codes of v, query block (qe, qo). */
@inline function rowStep(acc: v128, qe: v128, qo: v128, v: v128): v128 {
  const even = i8x16.swizzle(v, i8x16(-128, 0, -128, 2, -128, 4, -128, 6, -128, 8, -128, 10, -128, 12, -128, 14));
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(even, qe), i32x4.dot_i16x8_s(i16x8.shr_s(v, 8), qo)));
}

/** Exact dot products of a prepared query with the four n-code rows at c0..c3, as i32x4 (lane r: row r). */
@inline function dotI8Prepared4(qp: usize, c0: usize, c1: usize, c2: usize, c3: usize, n: i32): v128 {
  const blocks = qp + PREPARED_HEADER;
  const whole = n & ~15;
  const tail = n & 12;
  let sums = i32x4.splat(0);
  let i = 0;
  do {
    const end = min(i + CHUNK, whole);
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (; i + 32 <= end; i += 32) {
      const pq = blocks + (<usize>i << 1);
      const o = <usize>i;
      let qe = v128.load(pq), qo = v128.load(pq, 16);
      a0 = rowStep(a0, qe, qo, v128.load(c0 + o));
      a1 = rowStep(a1, qe, qo, v128.load(c1 + o));
      a2 = rowStep(a2, qe, qo, v128.load(c2 + o));
      a3 = rowStep(a3, qe, qo, v128.load(c3 + o));
      qe = v128.load(pq, 32);
      qo = v128.load(pq, 48);
      a0 = rowStep(a0, qe, qo, v128.load(c0 + o, 16));
      a1 = rowStep(a1, qe, qo, v128.load(c1 + o, 16));
      a2 = rowStep(a2, qe, qo, v128.load(c2 + o, 16));
      a3 = rowStep(a3, qe, qo, v128.load(c3 + o, 16));
    }
    if (i < end) {
      const pq = blocks + (<usize>i << 1);
      const o = <usize>i;
      const qe = v128.load(pq), qo = v128.load(pq, 16);
      a0 = rowStep(a0, qe, qo, v128.load(c0 + o));
      a1 = rowStep(a1, qe, qo, v128.load(c1 + o));
      a2 = rowStep(a2, qe, qo, v128.load(c2 + o));
      a3 = rowStep(a3, qe, qo, v128.load(c3 + o));
      i += 16;
    }
    if (i == whole && tail != 0) {
      const pq = blocks + (<usize>i << 1);
      const o = <usize>i;
      const qe = v128.load(pq), qo = v128.load(pq, 16);
      a0 = rowStep(a0, qe, qo, tailCodes(c0 + o, tail));
      a1 = rowStep(a1, qe, qo, tailCodes(c1 + o, tail));
      a2 = rowStep(a2, qe, qo, tailCodes(c2 + o, tail));
      a3 = rowStep(a3, qe, qo, tailCodes(c3 + o, tail));
    }
    sums = i32x4.add(sums, sumLanes4(i32x4.shr_s(a0, 8), i32x4.shr_s(a1, 8), i32x4.shr_s(a2, 8), i32x4.shr_s(a3, 8)));
  } while (i < whole);
  return sums;
}

/**
 * Exact dot products of a prepared query qp with `count` rows of n int8 codes whose addresses
 * are u32s at addrs, addrs + addrStride, ... (e.g. the address field of (node, address) pairs),
 * written as i32 to out (4 bytes a row). Four rows a step share each query load. Cost: ~n/32
 * steps of 12 loads, 48 ops per four rows.
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
