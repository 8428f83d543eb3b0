/**
 * Plain-JS references and staging for the quantized kernels (assembly/kernels/), which the tests
 * call through the kernel probe (helpers/kernels.ts), not the engine.
 */
import type { Kernels } from './kernels';

/** kernelQuantBatch kinds (assembly/kernels/api.ts); the scalar twin of kind k is k + TWIN. */
export const KIND = { dotI8: 0, l2sqI8: 1, dotI8Prepared: 2, dotF32F16: 3, l2sqF32F16: 4 } as const;
export const TWIN = 5;

/**
 * Copies each array into its own staging slot (0, 1, 2 in order) and returns their addresses.
 * Reserves every slot before writing, since a reservation can grow memory.
 */
export function stageBytes(k: Kernels, ...arrays: ArrayBufferView[]): number[] {
  const ex = k.exports;
  const at = arrays.map((a, slot) => ex.stagingReserve(slot, a.byteLength + 16) >>> 0);
  const bytes = new Uint8Array(k.memory.buffer);
  arrays.forEach((a, i) => bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at[i]));
  return at;
}

/** Runs kernelQuantBatch over `count` rows and returns the raw 4-byte results as a Uint32Array. */
export function quantBatch(k: Kernels, kind: number, q: number, rows: number, n: number, count: number): Uint32Array {
  const ex = k.exports;
  const out = ex.stagingReserve(2, count * 4 + 16) >>> 0;
  ex.kernelQuantBatch(kind, q, rows, n, count, out);
  return new Uint32Array(k.memory.buffer, out, count).slice();
}

/** The value of f16 code h by the definition (sign, exponent, mantissa), every code. */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The codes the encoder may write for a magnitude: zero and every normal f16 (no subnormals, no Inf). */
const ENCODABLE = [0, ...Array.from({ length: 0x7c00 - 0x400 }, (_, i) => 0x400 + i)];
const ENCODABLE_VALUES = ENCODABLE.map(f16Value);

/**
 * The f16 code nearest x by search over zero and every normal f16 value, ties to the even code
 * (2^-15, halfway between 0 and 2^-14, to 2^-14); from 65504 up (and Infinity) the largest finite
 * code, as the engine documents (clamp, never Inf, no subnormals).
 */
export function f16Nearest(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65504) return sign | 0x7bff;
  let lo = 0;
  let hi = ENCODABLE.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ENCODABLE_VALUES[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - ENCODABLE_VALUES[lo];
  const dHi = ENCODABLE_VALUES[hi] - a;
  const tie = lo === 0 ? hi : ENCODABLE[lo] & 1 ? hi : lo;
  return sign | ENCODABLE[dLo < dHi ? lo : dHi < dLo ? hi : tie];
}

/** Round half to even, as wasm's f32.nearest. */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Seeded random integers in [lo, hi] (inclusive) from a uniform source. */
export function randomInts(next: () => number, count: number, lo: number, hi: number): number[] {
  return Array.from({ length: count }, () => lo + Math.floor(next() * (hi - lo + 1)));
}

/**
 * x encoded as the engine encodes an i8 row (levels 127) or a search's query (levels 2047): codes
 * round(x * levels / max|x|) in float32, ties to even, the scale max|x| / levels and the decoded
 * squared norm, both float32.
 */
export function absMaxCodes(x: Float32Array, levels: number) {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  const codes = Array.from(x, (v) => roundEven(Math.fround(Math.fround(v * levels) / m)));
  const scale = Math.fround(m / levels);
  const sqnorm = Math.fround(scale * scale * codes.reduce((sum, c) => sum + c * c, 0));
  return { codes, scale, sqnorm };
}
