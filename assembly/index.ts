// The module's ABI: everything the host calls. Plain functions over handles (arena addresses);
// AssemblyScript never throws here, it returns status codes the host maps to typed errors
// (runtime/status.ts: STATUS_OK 0, STATUS_BUDGET -1, after which engineFailedRequest() tells how
// many bytes were asked for). scripts/build-wasm.mjs generates the host's type of these exports
// (src/runtime/wasm/exports.generated.ts) and its copy of the status table from the build.

import { arenaInit } from "./runtime/arena";
import {
  dotScalar, l2sqScalar, cosineDistance, cosineDistanceScalar, dot, l2sq, norm, normalize,
} from "./kernels/f32";

export { arenaUsed as engineUsedBytes, arenaTop as engineReservedBytes,
         arenaFailedRequest as engineFailedRequest, arenaPeak as enginePeakUsedBytes,
         arenaResetPeak as engineResetPeak } from "./runtime/arena";
export { stagingReserve, stagingRelease } from "./runtime/staging";
export { arenaBegin as engineBegin, arenaEnd as engineEnd } from "./runtime/arena";
export * from "./hnsw/api";
export {
  attrCreate, attrFree, attrClear, attrReset, attrAddField, attrSet, attrGet, attrCover, attrWhere, attrForget,
  attrDictReserve, attrEstimate, attrWhereUse, attrRowIds,
} from "./hnsw/attributes";
export * from "./hnsw/parallel";
export * from "./qlearn/api";
export * from "./kernels/api";
export { kernelRanges } from "./kernels/ranges";
export { kernelCounters } from "./kernels/counters";

/** Sets up the arena under a budget of budgetBytes. Call once, before anything else. */
export function engineInit(budgetBytes: u32): void {
  arenaInit(budgetBytes);
}

/** 1 in the build compiled with f32x4 kernels, 0 in the scalar build. */
export function engineSimd(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** Euclidean norm of n floats. */
export function kernelNorm(a: usize, n: i32): f32 {
  return norm(a, n);
}

/** Scales n floats to unit length in place (in float64); returns the old norm. */
export function kernelNormalize(a: usize, n: i32): f64 {
  return normalize(a, n);
}

@inline function scoreRows(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  const rowBytes = <usize>n << 2;
  for (let i = 0; i < count; i++) {
    const r = rows + <usize>i * rowBytes;
    let d: f32;
    switch (kind) {
      case 0: d = dot(q, r, n); break;
      case 1: d = l2sq(q, r, n); break;
      case 2: d = cosineDistance(q, r, n); break;
      case 3: d = dotScalar(q, r, n); break;
      case 4: d = l2sqScalar(q, r, n); break;
      default: d = cosineDistanceScalar(q, r, n);
    }
    store<f32>(out + (<usize>i << 2), d);
  }
}

/**
 * Distances from the row at q to `count` rows of n floats at rows (contiguous), written as f32
 * to out. kind: 0 dot, 1 squared L2, 2 cosine distance with the build's kernels; 3, 4, 5 the
 * same with the scalar twins. One call for many rows, so the JS->WASM crossing is paid once.
 * Cost: count kernel calls.
 */
export function kernelBatch(kind: i32, q: usize, rows: usize, n: i32, count: i32, out: usize): void {
  // Each case inlines scoreRows with a constant kind, so the per-row switch folds away.
  switch (kind) {
    case 0: scoreRows(0, q, rows, n, count, out); break;
    case 1: scoreRows(1, q, rows, n, count, out); break;
    case 2: scoreRows(2, q, rows, n, count, out); break;
    case 3: scoreRows(3, q, rows, n, count, out); break;
    case 4: scoreRows(4, q, rows, n, count, out); break;
    default: scoreRows(5, q, rows, n, count, out);
  }
}

export {
  monitorConfigure, monitorRecord, monitorRecordLevel, monitorCount, monitorLevel, monitorSlope,
  monitorTrend, monitorPressure, evictionShare,
} from "./runtime/pressure";
export {
  cacheCreate, cacheDispose, cacheReserve, cacheTouch, cacheRemove, cachePin, cacheResident, cacheNextVictim,
} from "./agents/recency";
