/** Plain-JS references and staging for the quantized kernels (assembly/quant/). */
import type { Engine } from '../../src/index';

/** kernelQuantBatch kinds (assembly/quant/api.ts); the scalar twin of kind k is k + TWIN. */
export const KIND = { dotI8: 0, l2sqI8: 1, dotF32I8: 2, l2sqF32I8: 3, dotF32F16: 4, l2sqF32F16: 5 } as const;
export const TWIN = 6;

/**
 * Copies each array into its own staging slot (0, 1, 2 in order) and returns their addresses.
 * Reserves every slot before writing, since a reservation can grow memory.
 */
export function stageBytes(e: Engine, ...arrays: ArrayBufferView[]): number[] {
  const ex = e.runtime.exports;
  const at = arrays.map((a, slot) => ex.stagingReserve(slot, a.byteLength + 16) >>> 0);
  const bytes = new Uint8Array(e.runtime.memory.buffer);
  arrays.forEach((a, i) => bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at[i]));
  return at;
}

/** Runs kernelQuantBatch over `count` rows and returns the raw 4-byte results as a Uint32Array. */
export function quantBatch(e: Engine, kind: number, q: number, rows: number, n: number, count: number): Uint32Array {
  const ex = e.runtime.exports;
  const out = ex.stagingReserve(2, count * 4 + 16) >>> 0;
  ex.kernelQuantBatch(kind, q, rows, n, count, out);
  return new Uint32Array(e.runtime.memory.buffer, out, count).slice();
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

/** Every finite non-negative f16 value, ascending, indexed by its code (0 .. 0x7bff). */
const POSITIVE_F16 = Array.from({ length: 0x7c00 }, (_, h) => f16Value(h));

/**
 * The f16 code nearest x by search over every finite f16 value, ties to the even code; above
 * 65504 (and Infinity) the largest finite code, as the engine documents (clamp, never Inf).
 */
export function f16Nearest(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65504) return sign | 0x7bff;
  let lo = 0;
  let hi = 0x7bff;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (POSITIVE_F16[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - POSITIVE_F16[lo];
  const dHi = POSITIVE_F16[hi] - a;
  const code = dLo < dHi ? lo : dHi < dLo ? hi : (lo & 1 ? hi : lo);
  return sign | code;
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
