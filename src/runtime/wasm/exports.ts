/**
 * The ABI of the engine's builds, build/elex.{simd,scalar}[.threads].wasm, as the host sees it (the
 * kernel probe, build/elex.kernels.*.wasm, is the tests' and benchmarks', not the host's). Both
 * halves are generated from the build by scripts/build-wasm.mjs (do not type exports by hand):
 * - `ElexExports`, the type of every exported function, from asc's bindings of assembly/index.ts
 *   (exports.generated.ts);
 * - the status codes, loader results, sentinel and staging slots, from
 *   assembly/runtime/status.ts (status.generated.ts).
 *
 * tests/runtime/abi.test.ts checks the type against the built modules' export signatures.
 */
export type { ElexExports } from './exports.generated.js';
export {
  LOAD_BUDGET,
  LOAD_CORRUPT,
  NONE,
  SLOT_FILTER,
  SLOT_IDS,
  SLOT_OUT,
  SLOT_ROWS,
  STATUS_BUDGET,
  STAGING_SLOTS,
  STATUS_OK,
  TRACE_MISMATCH,
} from './status.generated.js';
