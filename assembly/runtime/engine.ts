// The two setup exports every module built from assembly/ carries: the engine (assembly/index.ts)
// and the kernel probe (assembly/kernels/probe.ts), which re-export them from here.

import { arenaInit } from "./arena";

/** Sets up the arena under a budget of budgetBytes. Call once, before anything else. */
export function engineInit(budgetBytes: u32): void {
  arenaInit(budgetBytes);
}

/** 1 in the build compiled with f32x4 kernels, 0 in the scalar build. */
export function engineSimd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
