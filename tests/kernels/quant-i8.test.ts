/**
 * The int8 kernels (assembly/kernels/i8.ts) on both builds: i8 x i8 dot and squared L2, for a pair
 * and for a prepared query, are exact integers (compared for equality with a plain-JS sum), the
 * kernel and its scalar twin alike; the encoders against a plain-JS encoder of the documented
 * rule (round to nearest even in float32, clamp). The prepared-query kernels also score rows by
 * a list of their addresses, four a step. The kernels are called through the kernel probe of each
 * build (helpers/kernels.ts: the engine does not export them).
 */
import { BUILDS } from '../helpers/engines';
import { kernels, type Kernels } from '../helpers/kernels';
import { rng, randomVectors } from '../helpers/random';
import { KIND, TWIN, quantBatch, randomInts, roundEven, stageBytes } from '../helpers/quant';

const DIMS = Array.from({ length: 300 }, (_, i) => i + 1);

function intDot(a: Int8Array, b: Int8Array, offB = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[offB + i];
  return s;
}

function intL2sq(a: Int8Array, b: Int8Array, offB = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[offB + i]) ** 2;
  return s;
}

/** Random codes over the whole int8 range, with every fourth vector of only extremes (-128, 127, -127). */
function codes(next: () => number, n: number, extreme: boolean): Int8Array {
  if (!extreme) return Int8Array.from(randomInts(next, n, -128, 127));
  return Int8Array.from(randomInts(next, n, 0, 2).map((k) => [-128, 127, -127][k]));
}

/**
 * Stages q, its prepared form, `rows` at unaligned addresses, and a list of those addresses in
 * reverse order (u32 at offset `at` of entries `stride` bytes apart, like the index's (node,
 * address) pairs). Returns the prepared query's address, the list's, an output block's, and the
 * rows in list order.
 */
function stageListed(probe: Kernels, q: Int8Array, rows: Int8Array[], stride: number, at: number) {
  const ex = probe.exports;
  const n = q.length;
  const size = ex.quantPreparedI8Bytes(n);
  const rowBytes = n + 3;
  const b0 = ex.stagingReserve(0, n + size + 32) >>> 0;
  const b1 = ex.stagingReserve(1, rows.length * rowBytes + 16) >>> 0;
  const b2 = ex.stagingReserve(2, rows.length * (stride + 4) + 32) >>> 0;
  const bytes = new Uint8Array(probe.memory.buffer);
  const view = new DataView(probe.memory.buffer);
  bytes.set(new Uint8Array(q.buffer, q.byteOffset, n), b0);
  const pp = (b0 + n + 15) & ~15;
  ex.quantPrepareI8(b0, n, pp);
  const listed = [...rows].reverse();
  listed.forEach((r, j) => {
    const addr = b1 + (rows.length - 1 - j) * rowBytes + 1;
    bytes.set(new Uint8Array(r.buffer, r.byteOffset, n), addr);
    view.setUint32(b2 + j * stride + at, addr, true);
  });
  return { pp, addrs: b2 + at, out: b2 + rows.length * stride + 4, listed };
}

describe.each(BUILDS)('int8 kernels (simd %s)', (simd) => {
  let probe: Kernels;
  beforeAll(() => {
    probe = kernels(simd);
  });

  test('i8 . i8 and |i8 - i8|^2 are the exact integers, kernel and scalar twin, dims 1..300, 8 rows each', () => {
    const next = rng(13);
    for (const n of DIMS) {
      const rows = 8;
      const extreme = n % 4 === 0;
      const q = codes(next, n, extreme);
      const r = new Int8Array(rows * n);
      for (let k = 0; k < rows; k++) r.set(codes(next, n, extreme || k === 0), k * n);
      const [pq, pr] = stageBytes(probe, q, r);
      const dots = Array.from({ length: rows }, (_, k) => intDot(q, r, k * n));
      const l2s = Array.from({ length: rows }, (_, k) => intL2sq(q, r, k * n));
      for (const twin of [0, TWIN]) {
        expect(Array.from(new Int32Array(quantBatch(probe, KIND.dotI8 + twin, pq, pr, n, rows).buffer))).toEqual(dots);
        expect(Array.from(quantBatch(probe, KIND.l2sqI8 + twin, pq, pr, n, rows))).toEqual(l2s);
      }
    }
  });

  test('the extremes of 65536 dims do not overflow: -128 . -128 = 2^30, |127 - (-128)|^2 = 65536 * 255^2 (above 2^31, as u32)', () => {
    const n = 65536;
    const low = new Int8Array(n).fill(-128);
    const high = new Int8Array(n).fill(127);
    const [pl, ph] = stageBytes(probe, low, high);
    for (const twin of [0, TWIN]) {
      expect(new Int32Array(quantBatch(probe, KIND.dotI8 + twin, pl, pl, n, 1).buffer)[0]).toBe(2 ** 30);
      expect(new Int32Array(quantBatch(probe, KIND.dotI8 + twin, pl, ph, n, 1).buffer)[0]).toBe(-128 * 127 * n);
      expect(quantBatch(probe, KIND.l2sqI8 + twin, pl, ph, n, 1)[0]).toBe(n * 255 * 255);
      expect(quantBatch(probe, KIND.l2sqI8 + twin, ph, ph, n, 1)[0]).toBe(0);
    }
  });

  test('a prepared query gives the exact dot with every row, kernel and scalar twin, dims 1..300', () => {
    const ex = probe.exports;
    const next = rng(29);
    for (const n of DIMS) {
      const rows = 6;
      const q = codes(next, n, n % 4 === 0);
      const r = new Int8Array(rows * n);
      for (let k = 0; k < rows; k++) r.set(codes(next, n, n % 4 === 0 || k < 2), k * n);
      const size = ex.quantPreparedI8Bytes(n);
      expect(size).toBe(16 + 32 * Math.ceil(n / 16));
      const [pq, pr, pp] = stageBytes(probe, q, r, new Uint8Array(size).fill(0xee)); // garbage the prepare must overwrite
      ex.quantPrepareI8(pq, n, pp);
      const dots = Array.from({ length: rows }, (_, k) => intDot(q, r, k * n));
      const out = ex.stagingReserve(0, rows * 4) >>> 0; // slot 0 (the raw query) is no longer needed
      for (const twin of [0, TWIN]) {
        ex.kernelQuantBatch(KIND.dotI8Prepared + twin, pp, pr, n, rows, out);
        expect(Array.from(new Int32Array(probe.memory.buffer, out, rows))).toEqual(dots);
      }
    }
  });

  test('the prepared form is 16 zero bytes, then the codes as i16 in order, 0 past the last block of 16', () => {
    const ex = probe.exports;
    const next = rng(41);
    for (const n of [1, 2, 15, 16, 17, 100, 128, 131]) {
      const q = codes(next, n, n === 16);
      const size = ex.quantPreparedI8Bytes(n);
      const [pq, pp] = stageBytes(probe, q, new Uint8Array(size).fill(0xee));
      ex.quantPrepareI8(pq, n, pp);
      const expected = new Int16Array(size / 2);
      expected.set(q, 8);
      expect(Array.from(new Int16Array(probe.memory.buffer.slice(pp, pp + size)))).toEqual(Array.from(expected));
    }
  });

  test('a float32 query is encoded as i16 codes at min(2047, (2^31 - 1) / (128 n)) levels, as the plain-JS encoder does, and scores every row exactly', () => {
    const ex = probe.exports;
    const next = rng(43);
    for (const n of [...DIMS.filter((d) => d % 7 === 1 || d < 20), 8256, 8257, 20000, 65536]) {
      const levels = Math.min(2047, Math.floor((2 ** 31 - 1) / (128 * n)));
      const x = randomVectors(1, n, n);
      if (n % 3 === 0) x[n >> 1] = 0;
      const size = ex.quantPreparedI8Bytes(n);
      const rows = [codes(next, n, false), codes(next, n, true), new Int8Array(n).fill(-128)];
      // quantBatch's output takes slot 2: the query, no longer needed once prepared.
      const [pr, pp, px] = stageBytes(
        probe,
        new Int8Array(rows.flatMap((r) => Array.from(r))),
        new Uint8Array(size).fill(0xee),
        x,
      );
      const scale = ex.quantPrepareF32(px, n, pp);
      let m = 0;
      for (const v of x) m = Math.max(m, Math.abs(v));
      const want = Int16Array.from(x, (v) => roundEven(Math.fround(Math.fround(v * levels) / m)));
      expect(scale).toBe(Math.fround(m / levels));
      const got = new Int16Array(probe.memory.buffer.slice(pp, pp + size));
      expect(Array.from(got.subarray(8, 8 + n))).toEqual(Array.from(want));
      expect(got.subarray(0, 8).every((c) => c === 0) && got.subarray(8 + n).every((c) => c === 0)).toBe(true);
      expect(Math.max(...Array.from(want, Math.abs))).toBe(levels);
      const dots = rows.map((r) => want.reduce((s, c, i) => s + c * r[i], 0));
      expect(Math.max(...dots.map(Math.abs))).toBeLessThan(2 ** 31);
      for (const twin of [0, TWIN]) {
        const out = quantBatch(probe, KIND.dotI8Prepared + twin, pp, pr, n, rows.length);
        expect(Array.from(new Int32Array(out.buffer))).toEqual(dots);
      }
    }
  });

  test('a float32 query of 65536 extremes scores extreme rows exactly (|q . c| = 255 * 128 * 65536 < 2^31)', () => {
    const ex = probe.exports;
    const n = 65536;
    for (const [xv, cv] of [
      [1, -128],
      [-1, -128],
      [1, 127],
      [-2.5, 127],
    ]) {
      const [pr, pp, px] = stageBytes(
        probe,
        new Int8Array(n).fill(cv),
        new Uint8Array(ex.quantPreparedI8Bytes(n)),
        new Float32Array(n).fill(xv),
      );
      ex.quantPrepareF32(px, n, pp);
      for (const twin of [0, TWIN]) {
        expect(new Int32Array(quantBatch(probe, KIND.dotI8Prepared + twin, pp, pr, n, 1).buffer)[0]).toBe(
          Math.sign(xv) * 255 * cv * n,
        );
      }
    }
  });

  test('a zero float32 query prepares to all-zero codes and scale 0', () => {
    const ex = probe.exports;
    const n = 37;
    const size = ex.quantPreparedI8Bytes(n);
    const [px, pp] = stageBytes(probe, new Float32Array(n), new Uint8Array(size).fill(0xee));
    expect(ex.quantPrepareF32(px, n, pp)).toBe(0);
    expect(new Uint8Array(probe.memory.buffer.slice(pp, pp + size)).every((b) => b === 0)).toBe(true);
  });

  test('a prepared query of 65536 extreme codes stays exact (|q . c| = 2^30), one row a call and listed', () => {
    const ex = probe.exports;
    const n = 65536;
    for (const [qv, cv] of [
      [-128, -128],
      [127, 127],
      [-128, 127],
      [127, -128],
    ]) {
      const [pq, pr, pp] = stageBytes(
        probe,
        new Int8Array(n).fill(qv),
        new Int8Array(n).fill(cv),
        new Uint8Array(ex.quantPreparedI8Bytes(n)),
      );
      ex.quantPrepareI8(pq, n, pp);
      const out = ex.stagingReserve(0, 16) >>> 0;
      for (const twin of [0, TWIN]) {
        ex.kernelQuantBatch(KIND.dotI8Prepared + twin, pp, pr, n, 1, out);
        expect(new Int32Array(probe.memory.buffer, out, 1)[0]).toBe(qv * cv * n);
      }
      const list = ex.stagingReserve(0, 64) >>> 0; // slot 0 (the raw query) is no longer needed
      new Uint32Array(probe.memory.buffer, list, 4).fill(pr);
      for (const scalar of [0, 1]) {
        ex.kernelQuantPreparedRows(scalar, pp, list, 4, 4, n, list + 16);
        expect(Array.from(new Int32Array(probe.memory.buffer, list + 16, 4))).toEqual(
          [1, 2, 3, 4].map(() => qv * cv * n),
        );
      }
    }
  });

  test('listed rows (addresses in a u32 list, any stride) give the exact dots in list order, kernel and scalar twin, dims 1..300 and past the 256-dim reductions', () => {
    const ex = probe.exports;
    const next = rng(31);
    for (const n of [...DIMS, 511, 512, 1031, 4108]) {
      const count = 1 + (n % 9); // 1..9 rows: whole groups of four and every remainder
      const extreme = n % 4 === 0;
      const q = codes(next, n, extreme);
      const rows = Array.from({ length: count }, (_, k) => codes(next, n, extreme || k === 0));
      for (const [stride, at] of [
        [8, 4],
        [4, 0],
      ]) {
        const { pp, addrs, out, listed } = stageListed(probe, q, rows, stride, at);
        const dots = listed.map((r) => intDot(q, r));
        for (const scalar of [0, 1]) {
          new Int32Array(probe.memory.buffer, out, count).fill(0x5eed);
          ex.kernelQuantPreparedRows(scalar, pp, addrs, stride, count, n, out);
          expect(Array.from(new Int32Array(probe.memory.buffer, out, count))).toEqual(dots);
        }
      }
    }
  });

  test('the prepared-query kernels read nothing past a row: rows ending at the last byte of memory, every tail length', () => {
    const ex = probe.exports;
    const next = rng(37);
    for (const n of [1, 4, 8, 12, 15, 16, 20, 28, 100, 131]) {
      const q = codes(next, n, false);
      const row = codes(next, n, n === 100);
      const size = ex.quantPreparedI8Bytes(n);
      const base = ex.stagingReserve(0, n + size + 32 + 64) >>> 0;
      const pp = (base + n + 15) & ~15;
      const list = pp + size;
      const bytes = new Uint8Array(probe.memory.buffer);
      bytes.set(new Uint8Array(q.buffer), base);
      ex.quantPrepareI8(base, n, pp);
      const end = bytes.length;
      const saved = bytes.slice(end - n); // memory's last n bytes, put back after
      bytes.set(new Uint8Array(row.buffer), end - n);
      try {
        new Uint32Array(probe.memory.buffer, list, 4).fill(end - n);
        for (const twin of [0, TWIN]) {
          ex.kernelQuantBatch(KIND.dotI8Prepared + twin, pp, end - n, n, 1, list + 16);
          expect(new Int32Array(probe.memory.buffer, list + 16, 1)[0]).toBe(intDot(q, row));
        }
        for (const scalar of [0, 1]) {
          ex.kernelQuantPreparedRows(scalar, pp, list, 4, 4, n, list + 16);
          expect(Array.from(new Int32Array(probe.memory.buffer, list + 16, 4))).toEqual(
            [0, 1, 2, 3].map(() => intDot(q, row)),
          );
        }
      } finally {
        bytes.set(saved, end - n);
      }
    }
  });

  test('the affine encoder rounds (x - offset) / scale to nearest even in float32 and clamps, counting the clamped', () => {
    const ex = probe.exports;
    const f = Math.fround;
    const cases: Array<[number, number, number[]]> = [
      [0, 1, [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 127.5, -127.5, -128.5, 127.49, -128.49]], // ties and the ends
      [f(0.1), f(0.25), [1e30, -1e30, 3.4e38, -3.4e38, 31.9, -32.1, 0.225, f(0.1) + f(0.125)]], // far outside: clamp, never wrap
      [f(-3.7), f(0.0123), Array.from(randomVectors(1, 297, 9)).map((x) => x * 2)],
    ];
    for (const [offset, scale, values] of cases) {
      const src = Float32Array.from(values);
      const [ps, pd] = stageBytes(probe, src, new Int8Array(src.length));
      const clamped = ex.quantEncodeI8Affine(ps, src.length, offset, scale, pd);
      const got = Array.from(new Int8Array(probe.memory.buffer, pd, src.length));
      const unclamped = Array.from(src, (x) => roundEven(f(f(x - offset) / scale)));
      expect(got).toEqual(unclamped.map((c) => Math.max(-128, Math.min(127, c)) + 0));
      expect(clamped).toBe(unclamped.filter((c) => c > 127 || c < -128).length);
      // decodeI8 gives offset + scale * c in float32
      const [pc, po] = stageBytes(probe, Int8Array.from(got), new Float32Array(src.length));
      ex.quantDecodeI8(pc, src.length, offset, scale, po);
      expect(Array.from(new Float32Array(probe.memory.buffer, po, src.length))).toEqual(
        got.map((c) => f(offset + f(scale * c))),
      );
    }
  });

  test('the per-vector encoder maps max|x| to +-127, rounds x * 127 / max|x| to nearest even, and leaves a zero vector zero', () => {
    const ex = probe.exports;
    const f = Math.fround;
    for (const n of [1, 2, 15, 16, 17, 100, 128, 300]) {
      const src = randomVectors(1, n, 70 + n).map((x, i) => (i === n >> 1 ? -1.5 : x));
      const [ps, pd] = stageBytes(probe, src, new Int8Array(n));
      const scale = ex.quantEncodeI8AbsMax(ps, n, pd);
      const m = Math.max(...Array.from(src, Math.abs));
      expect(scale).toBe(f(m / 127));
      const got = Array.from(new Int8Array(probe.memory.buffer, pd, n));
      expect(got).toEqual(Array.from(src, (x) => roundEven(f(f(x * 127) / m)) + 0));
      expect(got[n >> 1]).toBe(-127);
    }
    const [pz, pd] = stageBytes(probe, new Float32Array(7), new Int8Array(7).fill(5));
    expect(ex.quantEncodeI8AbsMax(pz, 7, pd)).toBe(0);
    expect(Array.from(new Int8Array(probe.memory.buffer, pd, 7))).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
