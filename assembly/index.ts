// The module's ABI: everything the host calls. Plain functions over handles (arena addresses);
// AssemblyScript never throws here, it returns status codes the host maps to typed errors
// (runtime/status.ts: STATUS_OK 0, STATUS_BUDGET -1, after which engineFailedRequest() tells how
// many bytes were asked for). scripts/build-wasm.mjs generates the host's type of these exports
// (src/runtime/wasm/exports.generated.ts) and its copy of the status table from the build.

// The kernels' own exports for the tests and the simd benchmark (kernelBatch, kernelQuantBatch,
// the encoders, ...) are not here: they are the kernel probe's (kernels/probe.ts, built to
// build/elex.kernels.*.wasm), so the engine a page downloads carries no code the host never calls.

export { arenaUsed as engineUsedBytes, arenaTop as engineReservedBytes,
         arenaFailedRequest as engineFailedRequest, arenaPeak as enginePeakUsedBytes,
         arenaResetPeak as engineResetPeak } from "./runtime/arena";
export { engineInit, engineSimd } from "./runtime/engine";
export { stagingReserve, stagingRelease } from "./runtime/staging";
export { arenaBegin as engineBegin, arenaEnd as engineEnd } from "./runtime/arena";
export * from "./hnsw/api";
export {
  attrCreate, attrFree, attrClear, attrReset, attrAddField, attrSet, attrGet, attrCover, attrWhere, attrForget,
  attrDictReserve, attrEstimate, attrWhereUse, attrRowIds,
} from "./hnsw/attributes";
export * from "./hnsw/parallel";
export * from "./qlearn/api";
export { kernelRanges } from "./kernels/ranges";
export { kernelCounters } from "./kernels/counters";

export {
  monitorConfigure, monitorRecord, monitorRecordLevel, monitorCount, monitorLevel, monitorSlope,
  monitorTrend, monitorPressure, evictionShare,
} from "./runtime/pressure";
export {
  cacheCreate, cacheDispose, cacheReserve, cacheTouch, cacheRemove, cachePin, cacheResident, cacheNextVictim,
} from "./agents/recency";
