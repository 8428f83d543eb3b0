/** The raw ABI of build/elex.*.wasm (assembly/index.ts). Pointers and handles are byte offsets. */
export interface ElexExports {
  engineInit(budgetBytes: number): void;
  engineSimd(): number;
  engineUsedBytes(): number;
  enginePeakUsedBytes(): number;
  engineResetPeak(): void;
  engineReservedBytes(): number;
  engineFailedRequest(): number;
  stagingReserve(slot: number, bytes: number): number;
  stagingRelease(): void;
  engineBegin(): number;
  engineEnd(mark: number, ok: number): number;
  monitorConfigure(keep: number): void;
  monitorRecord(): void;
  monitorRecordLevel(level: number): void;
  monitorCount(): number;
  monitorLevel(): number;
  monitorSlope(): number;
  monitorTrend(): number;
  monitorPressure(): number;
  evictionShare(pressure: number): number;
  cacheCreate(): number;
  cacheDispose(h: number): void;
  cacheReserve(h: number, n: number): number;
  cacheTouch(h: number, slot: number): void;
  cacheRemove(h: number, slot: number): void;
  cachePin(h: number, slot: number, delta: number): number;
  cacheResident(h: number): number;
  cacheNextVictim(h: number, after: number): number;
  kernelNorm(a: number, n: number): number;
  kernelNormalize(a: number, n: number): number;
  kernelBatch(kind: number, q: number, rows: number, n: number, count: number, out: number): void;
  kernelQuantBatch(kind: number, q: number, rows: number, n: number, count: number, out: number): void;
  kernelQuantPreparedRows(scalar: number, qp: number, addrs: number, addrStride: number, count: number, n: number, out: number): void;
  quantPreparedI8Bytes(n: number): number;
  /** assembly/kernels/ranges.ts: per-row outside counts (u32) to out; flags bit 0 clamp, bit 1 scalar twin; returns the total. */
  kernelRanges(values: number, rows: number, d: number, lower: number, upper: number, out: number, flags: number): number;
  /** assembly/kernels/counters.ts: sum | min | max | mean planes (windows x cols f32 each) to out; scalar != 0 runs the scalar twin. */
  kernelCounters(src: number, rows: number, cols: number, window: number, out: number, scalar: number): void;
  quantPrepareI8(q: number, n: number, dst: number): void;
  quantPrepareF32(src: number, n: number, dst: number): number;
  quantEncodeF16(src: number, n: number, dst: number): void;
  quantDecodeF16(src: number, n: number, dst: number): void;
  quantEncodeI8Affine(src: number, n: number, offset: number, scale: number, dst: number): number;
  quantEncodeI8AbsMax(src: number, n: number, dst: number): number;
  quantDecodeI8(src: number, n: number, offset: number, scale: number, dst: number): void;
  indexCreate(dim: number, metric: number, M: number, efConstruction: number, seed: number, quant: number): number;
  indexDispose(h: number): void;
  indexInput(h: number): number;
  indexReserve(h: number, idsPtr: number, n: number, traceRows: number): number;
  indexInsert(h: number, idsPtr: number, first: number, vecPtr: number, n: number): void;
  indexInsertTraced(h: number, idsPtr: number, first: number, vecPtr: number, n: number, tracePtr: number, traceWords: number): number;
  indexTrace(h: number): number;
  indexTraceWords(h: number): number;
  indexEndBatch(h: number): void;
  indexReserveCapacity(h: number, cap: number): number;
  indexCapacity(h: number): number;
  indexPrepareSearch(h: number, k: number, ef: number): number;
  indexPrepareQuery(h: number, k: number, ef: number): number;
  indexSearch(h: number, k: number, ef: number, filtered: number, out: number): number;
  indexSearchBatch(h: number, qPtr: number, n: number, k: number, ef: number, filtered: number, stride: number, out: number, counts: number): void;
  indexRemove(h: number, id: number): number;
  indexVector(h: number, id: number): number;
  indexSize(h: number): number;
  indexIds(h: number, from: number, slots: number, out: number): number;
  indexClearAll(h: number, seed: number): void;
  indexCompact(h: number): number;
  indexSnapshotInfo(h: number, efSearch: number, seed: number): number;
  indexSnapshotArea(): number;
  indexLoadBegin(): number;
  indexLoadFinish(h: number): number;
  qtableCreate(actions: number, alpha: number, gamma: number, epsilon: number, epsilonDecay: number,
    epsilonMin: number, initial: number, seed: number): number;
  qtableDispose(h: number): void;
  qtableActions(h: number): number;
  qtableParam(h: number, which: number): number;
  qtableSize(h: number): number;
  qtableGet(h: number, s: number, a: number): number;
  qtableVisits(h: number, s: number, a: number): number;
  qtableRow(h: number, s: number): number;
  qtableUpdate(h: number, s: number, a: number, r: number, s2: number, done: number): number;
  qtableLastValue(h: number): number;
  qtableBatchUpdate(h: number, batch: number, n: number): number;
  qtableBestAction(h: number, s: number): number;
  qtableSelectAction(h: number, s: number): number;
  qtableDecayEpsilon(h: number): number;
  qtableMerge(h: number, other: number, weight: number): number;
  qtableRows(h: number): number;
  qtableStride(h: number): number;
  qtableKeys(h: number): number;
  qtableRng(h: number): bigint;
  qtableFootprint(h: number): number;
  qtableSnapshotLength(p: number): number;
  qtableLoad(p: number, len: number): number;
  trajectoryCreate(capacity: number, seed: number): number;
  trajectoryDispose(h: number): void;
  trajectoryPush(h: number, s: number, a: number, r: number, s2: number, done: number): void;
  trajectorySize(h: number): number;
  trajectoryCapacity(h: number): number;
  trajectoryClear(h: number): void;
  trajectorySample(h: number, n: number, out: number): void;
  trajectoryOrdered(h: number, out: number): void;
  trajectoryHead(h: number): number;
  trajectoryRecords(h: number): number;
  trajectoryRng(h: number): bigint;
  trajectoryFootprint(h: number): number;
  trajectorySnapshotLength(p: number): number;
  trajectoryLoad(p: number, len: number): number;
}

/** Status codes the ABI returns. */
export const STATUS_OK = 0;
export const STATUS_BUDGET = -1;

/** What the snapshot loaders (qtableLoad, trajectoryLoad, indexLoad) return instead of a handle. */
export const LOAD_BUDGET = 0;
export const LOAD_CORRUPT = 1;

/** Staging slots (assembly/staging.ts). */
export const SLOT_IDS = 0;
export const SLOT_ROWS = 1;
export const SLOT_OUT = 2;
