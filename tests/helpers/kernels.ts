/**
 * The kernel probe (assembly/kernels/probe.ts, built by `npm run build` to
 * build/elex.kernels.simd.wasm and build/elex.kernels.scalar.wasm): the kernels' exports the
 * engine does not carry (kernelBatch, kernelQuantBatch, the encoders, ...), with the engine's
 * own setup and staging code beside them. Loaded from disk and instantiated the way
 * src/runtime/runtime.ts instantiates the engine (an imported `env.memory` capped at the budget,
 * then engineInit), as an object shaped like an engine's `runtime` (exports, memory, fresh views).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BUDGET_BYTES } from '../../src/index';
import { exportedFunctions } from './wasm-signatures';

/** The probe's exports (addresses are usize: i32 in wasm32, unsigned once read with >>> 0). */
export interface KernelExports {
  /** Sets up the arena under a budget of budgetBytes (done by kernels()). */
  engineInit(budgetBytes: number): void;
  /** 1 in the SIMD probe, 0 in the scalar one. */
  engineSimd(): number;
  /** Address of a staging block of at least `bytes` for `slot` (0..3), or 0 over budget. */
  stagingReserve(slot: number, bytes: number): number;
  /** Gives every staging block back to the arena. */
  stagingRelease(): void;
  /** Euclidean norm of n floats. */
  kernelNorm(a: number, n: number): number;
  /** Scales n floats to unit length in place (in float64); returns the old norm. */
  kernelNormalize(a: number, n: number): number;
  /** f32 distances of q to `count` rows to out: 0 dot, 1 squared L2, 2 cosine; 3, 4, 5 the scalar twins. */
  kernelBatch(kind: number, q: number, rows: number, n: number, count: number, out: number): void;
  /** The quantized kernels over `count` rows to out, one 4-byte result a row (KIND in helpers/quant.ts). */
  kernelQuantBatch(kind: number, q: number, rows: number, n: number, count: number, out: number): void;
  /** Prepared-query i8 dots with rows by a u32 address list, four a step (or the scalar twin). */
  kernelQuantPreparedRows(
    scalar: number,
    qp: number,
    addrs: number,
    addrStride: number,
    count: number,
    n: number,
    out: number,
  ): void;
  /** Bytes of the prepared form of an n-dim query. */
  quantPreparedI8Bytes(n: number): number;
  /** Writes the prepared form of n int8 query codes at q to dst. */
  quantPrepareI8(q: number, n: number, dst: number): void;
  /** Encodes n floats at src as a prepared query at dst; returns the scale. */
  quantPrepareF32(src: number, n: number, dst: number): number;
  /** f16 codes of n floats at src, to dst. */
  quantEncodeF16(src: number, n: number, dst: number): void;
  /** Floats of n f16 codes at src, to dst. */
  quantDecodeF16(src: number, n: number, dst: number): void;
  /** int8 codes of n floats under x = offset + scale * c (clamped); returns how many clamped. */
  quantEncodeI8Affine(src: number, n: number, offset: number, scale: number, dst: number): number;
  /** int8 codes of n floats scaled by 127 / max|x|; returns the scale. */
  quantEncodeI8AbsMax(src: number, n: number, dst: number): number;
  /** Floats offset + scale * c of n int8 codes at src, to dst. */
  quantDecodeI8(src: number, n: number, offset: number, scale: number, dst: number): void;
}

/**
 * The wasm signature of each export (params -> results), checked against the built module on
 * load, so this file's type cannot drift from assembly/kernels/api.ts unnoticed.
 */
const SIGNATURES: Record<keyof KernelExports, string> = {
  engineInit: '(i32) -> void',
  engineSimd: '() -> i32',
  stagingReserve: '(i32, i32) -> i32',
  stagingRelease: '() -> void',
  kernelNorm: '(i32, i32) -> f32',
  kernelNormalize: '(i32, i32) -> f64',
  kernelBatch: '(i32, i32, i32, i32, i32, i32) -> void',
  kernelQuantBatch: '(i32, i32, i32, i32, i32, i32) -> void',
  kernelQuantPreparedRows: '(i32, i32, i32, i32, i32, i32, i32) -> void',
  quantPreparedI8Bytes: '(i32) -> i32',
  quantPrepareI8: '(i32, i32, i32) -> void',
  quantPrepareF32: '(i32, i32, i32) -> f32',
  quantEncodeF16: '(i32, i32, i32) -> void',
  quantDecodeF16: '(i32, i32, i32) -> void',
  quantEncodeI8Affine: '(i32, i32, f32, f32, i32) -> i32',
  quantEncodeI8AbsMax: '(i32, i32, i32) -> f32',
  quantDecodeI8: '(i32, i32, f32, f32, i32) -> void',
};

/** The probe's function exports. */
export const KERNEL_EXPORTS = Object.keys(SIGNATURES) as Array<keyof KernelExports>;

/** Those the engine exports too (the same code, assembly/runtime/): all the others are the probe's alone. */
export const SHARED_WITH_ENGINE: ReadonlyArray<keyof KernelExports> = [
  'engineInit',
  'engineSimd',
  'stagingReserve',
  'stagingRelease',
];

/** One instantiated probe and its memory. */
export interface Kernels {
  /** True for the SIMD probe (build/elex.kernels.simd.wasm). */
  readonly simd: boolean;
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Float32 view of all of memory, fresh (valid until memory grows). */
  f32(): Float32Array;
  /** Uint32 view of all of memory, fresh (valid until memory grows). */
  u32(): Uint32Array;
}

/** bench/lib/kernels.js, which loads and instantiates the probe (the simd bench's loader, shared). */
const bench: {
  loadKernels(
    build: 'simd' | 'scalar',
    budgetBytes: number,
  ): { exports: WebAssembly.Exports; memory: WebAssembly.Memory };
} = require('../../bench/lib/kernels.js');
const checked = new Set<'on' | 'off'>();

/** Checks once per build that the probe exports exactly SIGNATURES. */
function checkSignatures(simd: 'on' | 'off'): void {
  if (checked.has(simd)) return;
  const file = join(__dirname, '..', '..', 'build', `elex.kernels.${simd === 'on' ? 'simd' : 'scalar'}.wasm`);
  const found = [...exportedFunctions(readFileSync(file))].map(
    ([name, s]) => `${name}: (${s.params.join(', ')}) -> ${s.results.join(', ') || 'void'}`,
  );
  const declared = Object.entries(SIGNATURES).map(([name, s]) => `${name}: ${s}`);
  if (found.sort().join('\n') !== declared.sort().join('\n'))
    throw new Error(
      `${file} exports\n  ${found.join('\n  ')}\nbut tests/helpers/kernels.ts declares\n  ${declared.join('\n  ')}`,
    );
  checked.add(simd);
}

/**
 * A fresh instance of the probe of build `simd` ('on': SIMD, 'off': scalar, as the tests' BUILDS)
 * over its own memory capped at budgetBytes, engineInit done (bench/lib/kernels.js). Cost: a
 * compile of the probe, a few ms.
 */
export function kernels(simd: 'on' | 'off', budgetBytes = DEFAULT_BUDGET_BYTES): Kernels {
  checkSignatures(simd);
  const { exports, memory } = bench.loadKernels(simd === 'on' ? 'simd' : 'scalar', budgetBytes);
  const typed = exports as unknown as KernelExports;
  return {
    simd: typed.engineSimd() === 1,
    exports: typed,
    memory,
    f32: () => new Float32Array(memory.buffer),
    u32: () => new Uint32Array(memory.buffer),
  };
}
