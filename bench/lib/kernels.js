// The kernel probe (build/elex.kernels.simd.wasm, build/elex.kernels.scalar.wasm): the kernels'
// exports (kernelBatch, kernelQuantBatch, the encoders, ...) that the engine does not carry, for
// the simd suite. Read from the build/ folder next to this CLI's package.json and instantiated as
// the engine is (an imported env.memory capped at the budget, then engineInit).
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const PAGE = 65536;

/**
 * A fresh instance of the probe, 'simd' or 'scalar', over its own memory of at most budgetBytes:
 * { simd, exports, memory, f32(), u32() } (the views fresh each call, as an engine's runtime gives).
 */
function loadKernels(build, budgetBytes = 64 << 20) {
  const file = join(__dirname, '..', '..', 'build', `elex.kernels.${build}.wasm`);
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new Error(`the kernel probe ${file} cannot be read (npm run build writes it): ${error.message}`);
  }
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: Math.floor(budgetBytes / PAGE) });
  const abort = () => {
    throw new WebAssembly.RuntimeError('abort called in the kernel probe');
  };
  const exports = new WebAssembly.Instance(module, { env: { memory, abort } }).exports;
  exports.engineInit(budgetBytes);
  return {
    simd: exports.engineSimd() === 1,
    exports,
    memory,
    f32: () => new Float32Array(memory.buffer),
    u32: () => new Uint32Array(memory.buffer),
  };
}

module.exports = { loadKernels };
