/** The raw ABI of build/elex.*.wasm (assembly/index.ts). Pointers and handles are byte offsets. */
export interface ElexExports {
  engineInit(budgetBytes: number): void;
  engineSimd(): number;
  engineUsedBytes(): number;
  engineLiveBytes(): number;
  engineFailedRequest(): number;
  stagingReserve(slot: number, bytes: number): number;
  stagingRelease(): void;
  kernelDot(a: number, b: number, n: number): number;
  kernelDotScalar(a: number, b: number, n: number): number;
  kernelL2sq(a: number, b: number, n: number): number;
  kernelL2sqScalar(a: number, b: number, n: number): number;
  kernelCosine(a: number, b: number, n: number): number;
  kernelCosineScalar(a: number, b: number, n: number): number;
  kernelNorm(a: number, n: number): number;
  kernelNormalize(a: number, n: number): number;
  indexCreate(dim: number, metric: number, M: number, efConstruction: number, seed: number): number;
  indexDispose(h: number): void;
  indexInput(h: number): number;
  indexReserve(h: number, idsPtr: number, n: number): number;
  indexInsert(h: number, idsPtr: number, first: number, vecPtr: number, n: number): void;
  indexEndBatch(h: number): void;
  indexPrepareSearch(h: number, k: number, ef: number): number;
  indexSearch(h: number, k: number, ef: number, filtered: number, out: number): number;
  indexSearchBatch(h: number, qPtr: number, n: number, k: number, ef: number, out: number): void;
  indexRemove(h: number, id: number): number;
  indexVector(h: number, id: number): number;
  indexSize(h: number): number;
}

/** Status codes the ABI returns. */
export const STATUS_OK = 0;
export const STATUS_BUDGET = -1;

/** Staging slots (assembly/staging.ts). */
export const SLOT_IDS = 0;
export const SLOT_ROWS = 1;
export const SLOT_OUT = 2;
