/**
 * The async batch calls on an engine's threads (docs/threads.md): searchBatchAsync splits the
 * rows over the threads, addBatchAsync splits each chunk's neighbour searches
 * (assembly/hnsw/parallel.ts). The calling thread does its share between posting the workers'
 * calls and awaiting them; each worker searches through its own shadow of the index
 * (assembly/hnsw/shadow.ts), made here before the work and freed after it.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { ThreadPool } from '../runtime/threads.js';
import { SLOT_IDS, SLOT_OUT, SLOT_ROWS, STATUS_OK } from '../runtime/wasm/exports.js';

/** Items a parallel build searches together against the graph as it stands (its chunk). */
export const BUILD_CHUNK = 128;
/** Items a parallel build inserts one by one first, so the first chunks have a graph to search. */
export const BUILD_WARMUP = 1024;
/** Layers (0..5) a link record has room for at least; an item above what it holds links serially. */
const RECORD_LAYERS = 6;
/** Query rows staged at a time per thread. */
const SEARCH_ROWS_PER_THREAD = 1024;

/**
 * One shadow per worker with scratch for `ef` candidates, or null (nothing kept) when they do
 * not fit the budget: the call then runs on the calling thread alone.
 */
function makeShadows(rt: Runtime, handle: number, pool: ThreadPool, ef: number): number[] | null {
  const ex = rt.exports;
  const shadows: number[] = [];
  for (let i = 0; i < pool.size; i++) {
    const s = ex.indexShadowCreate(handle, ef) >>> 0;
    if (s === 0) {
      freeShadows(rt, shadows);
      return null;
    }
    shadows.push(s);
  }
  return shadows;
}

function freeShadows(rt: Runtime, shadows: number[]): void {
  for (const s of shadows) rt.exports.indexShadowFree(s);
  shadows.length = 0;
}

/** Syncs every shadow to the index as it is now (between chunks of a build). */
function syncShadows(rt: Runtime, handle: number, shadows: number[]): void {
  for (const s of shadows) {
    if (rt.exports.indexShadowSync(s, handle) !== 1) throw new Error('elex: a shadow does not cover the index');
  }
}

/**
 * Searches the n rows of `queries` (checked) for k each with `ef` and plan `code` (as
 * indexSearchBatch takes them, after indexPrepareSearch gave `stride`) on every thread: rows are
 * staged a block at a time, and every thread takes the block's rows one at a time from a shared
 * counter (so none waits on another's share); `read(out, counts, rows, first)` copies a block's
 * results out. Runs inside the caller's owned transaction.
 */
export async function searchRowsParallel(
  rt: Runtime,
  handle: number,
  dim: number,
  queries: ArrayLike<number>,
  n: number,
  search: { k: number; ef: number; code: number; stride: number },
  read: (out: number, counts: number, rows: number, first: number) => void,
): Promise<void> {
  const pool = rt.pool!;
  const ex = rt.exports;
  const { k, ef, code, stride } = search;
  const shadows = makeShadows(rt, handle, pool, Math.max(k, ef));
  const parts = shadows === null ? 1 : shadows.length + 1;
  try {
    const block = Math.min(n, SEARCH_ROWS_PER_THREAD * parts);
    const qPtr = rt.stage(SLOT_ROWS, block * dim * 4, 'searchBatchAsync');
    const out = rt.stage(SLOT_OUT, block * stride * 8, 'searchBatchAsync');
    // The rows' counts, then the shared row counter.
    const counts = rt.stage(SLOT_IDS, block * 4 + 4, 'searchBatchAsync');
    const next = counts + block * 4;
    if (shadows !== null) syncShadows(rt, handle, shadows);
    for (let first = 0; first < n; first += block) {
      const rows = Math.min(block, n - first);
      const f32 = rt.f32();
      for (let i = 0, at = qPtr >>> 2, from = first * dim; i < rows * dim; i++) f32[at + i] = queries[from + i];
      rt.u32()[next >>> 2] = 0;
      const args = [qPtr, rows, k, ef, code, stride, out, counts, next];
      const workers =
        shadows === null
          ? Promise.resolve()
          : pool.run(shadows.map((s) => ({ fn: 'indexSearchBatch', args: [s, ...args] })));
      try {
        ex.indexSearchBatch(handle, qPtr, rows, k, ef, code, stride, out, counts, next);
      } finally {
        await workers;
      }
      read(out, counts, rows, first);
    }
  } finally {
    if (shadows !== null) freeShadows(rt, shadows);
  }
}

/**
 * Adds the n new ids (checked: new to the index, no repeats, no removed slot to reuse; see
 * VectorIndex.addBatchAsync) on every thread: reserves the batch, inserts the first items one by
 * one while the graph is small (BUILD_WARMUP), then places, searches (every thread taking the
 * chunk's items one at a time) and links BUILD_CHUNK items at a time. Pipelined (the default),
 * the calling thread links chunk c while the workers already search chunk c + 1, then joins
 * them; `reproducible` waits for each chunk's links before the next chunk's searches (the same
 * graph on any number of threads), as does a build without room for two chunks' link records.
 * Everything that can run out of budget is taken before the index changes, so a
 * BudgetExceededError leaves it as it was; without room for the workers' scratch the batch runs
 * on the calling thread. `prepare` runs once the batch is reserved,
 * before the index changes (it may throw BudgetExceededError: the caller's extra memory, such
 * as attributes), `finish` once every row is in. Runs inside the caller's owned transaction.
 */
export async function buildParallel(
  rt: Runtime,
  handle: number,
  dim: number,
  ids: ArrayLike<number>,
  vectors: ArrayLike<number>,
  reproducible: boolean,
  prepare: () => void,
  finish: () => void,
): Promise<void> {
  const pool = rt.pool!;
  const ex = rt.exports;
  const what = 'addBatchAsync';
  const n = ids.length;
  const idsPtr = rt.stage(SLOT_IDS, n * 4, what);
  rt.u32().set(ids, idsPtr >>> 2);
  if (ex.indexReserve(handle, idsPtr, n, 0) !== STATUS_OK) throw rt.budgetError(what);
  prepare();
  const rowsPtr = rt.stage(SLOT_ROWS, BUILD_CHUNK * dim * 4, what);
  // The index has not changed yet: from here on nothing may fail on budget. Without room for
  // the link records or the workers' shadows, the batch runs on the calling thread.
  const stride = ex.indexLinkStride(handle, RECORD_LAYERS) >>> 0;
  const chunkBytes = BUILD_CHUNK * 4 * (1 + stride);
  // The shared item counter (8 bytes), then a chunk's nodes and link records, or two chunks'
  // when pipelined (one chunk's searched while the other's are linked): without room for two,
  // the build runs in lockstep.
  let lockstep = reproducible;
  let area = lockstep ? 0 : ex.stagingReserve(SLOT_OUT, 8 + 2 * chunkBytes) >>> 0;
  if (area === 0) {
    lockstep = true;
    area = ex.stagingReserve(SLOT_OUT, 8 + chunkBytes) >>> 0;
  }
  const shadows = area === 0 ? null : makeShadows(rt, handle, pool, 0);
  const next = area;
  const buffers = lockstep ? [area + 8] : [area + 8, area + 8 + chunkBytes];
  const stageRows = (first: number, rows: number): void => {
    const f32 = rt.f32();
    const at = rowsPtr >>> 2;
    if (ArrayBuffer.isView(vectors)) f32.set((vectors as Float32Array).subarray(first * dim, (first + rows) * dim), at);
    else for (let i = 0; i < rows * dim; i++) f32[at + i] = vectors[first * dim + i];
  };
  try {
    const size = ex.indexSize(handle) >>> 0;
    const serial = shadows === null ? n : Math.min(n, Math.max(0, BUILD_WARMUP - size));
    for (let first = 0; first < serial; first += BUILD_CHUNK) {
      const rows = Math.min(BUILD_CHUNK, serial - first);
      stageRows(first, rows);
      ex.indexInsert(handle, idsPtr, first, rowsPtr, rows);
    }
    if (shadows !== null) {
      /** A chunk searched and not yet linked: its nodes (its link records follow them) and size. */
      let unlinked: { nodes: number; rows: number } | null = null;
      const link = (searched: { nodes: number; rows: number }): void =>
        ex.indexLinkChunk(handle, searched.nodes, searched.rows, searched.nodes + BUILD_CHUNK * 4, stride);
      for (let first = serial, c = 0; first < n; first += BUILD_CHUNK, c++) {
        const chunk = { nodes: buffers[c % buffers.length], rows: Math.min(BUILD_CHUNK, n - first) };
        const records = chunk.nodes + BUILD_CHUNK * 4;
        stageRows(first, chunk.rows);
        ex.indexPlaceChunk(handle, idsPtr, first, rowsPtr, chunk.rows, chunk.nodes);
        syncShadows(rt, handle, shadows);
        rt.u32()[next >>> 2] = 0;
        const workers = pool.run(
          shadows.map((s) => ({ fn: 'indexFindLinks', args: [s, chunk.nodes, next, chunk.rows, records, stride] })),
        );
        try {
          if (unlinked !== null) link(unlinked);
          ex.indexFindLinks(handle, chunk.nodes, next, chunk.rows, records, stride);
        } finally {
          await workers;
        }
        if (lockstep) link(chunk);
        unlinked = lockstep ? null : chunk;
      }
      if (unlinked !== null) link(unlinked);
    }
    ex.indexEndBatch(handle);
    finish();
    // The link records are staged: the call gives them back with the rest of its staging
    // (docs/threads.md, "Budget"), as it does the shadows below.
    ex.stagingRelease();
  } finally {
    if (shadows !== null) freeShadows(rt, shadows);
  }
}
