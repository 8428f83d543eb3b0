/**
 * Which module an Engine runs: the embedded build the SIMD probe picks (the default), one of
 * the caller's `{ simd, scalar }` sources picked the same way, or the caller's single source as is.
 */
import { InvalidArgumentError } from '../../errors.js';
import { builtinWasm } from './bytes.js';
import { simdSupported } from './probe.js';
import { compileWasm, isWasmBuilds, type WasmBuilds, type WasmSource } from './source.js';

/** Which build to run: 'auto' picks SIMD where the probe passes, 'on' demands it, 'off' forces scalar. */
export type SimdMode = 'auto' | 'on' | 'off';

/**
 * The compiled module for `wasm` (undefined: the embedded builds, the threads builds with `threads`) under `mode`. Throws
 * InvalidArgumentError for simd: 'on' where SIMD does not run correctly, or a bad source, and
 * WasmLoadError for a source that cannot be fetched or compiled.
 * Cost: the probe (~0.1 ms), then one fetch and/or compile.
 */
export async function engineModule(
  wasm: WasmSource | WasmBuilds | undefined,
  mode: SimdMode,
  threads = false,
): Promise<WebAssembly.Module> {
  if (wasm !== undefined && !isWasmBuilds(wasm)) return compileWasm(wasm);
  const supported = simdSupported();
  if (mode === 'on' && !supported)
    throw new InvalidArgumentError("simd: 'on' was asked for, but this engine does not run WebAssembly SIMD");
  const simd = mode !== 'off' && supported;
  if (wasm === undefined) return compileWasm(await builtinWasm(simd, threads));
  return compileWasm(simd ? wasm.simd : wasm.scalar);
}
