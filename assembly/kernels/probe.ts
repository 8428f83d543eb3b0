// The kernel probe: a module of its own (build/elex.kernels.simd.wasm and
// build/elex.kernels.scalar.wasm, built by scripts/build-wasm.mjs with the engine's options) that
// exports the kernels' ABI (api.ts: kernelBatch, kernelQuantBatch, the encoders, ...) for the
// tests (tests/helpers/kernels.ts) and the simd benchmark (bench/lib/kernels.js). The engine
// (assembly/index.ts) does not export these: the host never calls them, and the bytes they took
// in every engine build a page downloads are better spent on features.
//
// Beside them, what a caller needs to stage inputs: engineInit (the arena under a budget),
// engineSimd and the staging slots, the same code the engine exports.

export { engineInit, engineSimd } from "../runtime/engine";
export { stagingReserve, stagingRelease } from "../runtime/staging";
export * from "./api";
