/**
 * loadIndex: an index rebuilt from its snapshot bytes, whole or in chunks (sync or async).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { EXIX_HEADER } from './layout.js';
import { METRICS, QUANTIZATIONS } from './options.js';
import { SnapshotLoader } from './snapshot.js';
import { VectorIndex } from './vector-index.js';

/** What {@link Engine.loadIndex} reads: snapshot bytes whole, or in chunks (any sizes, in order). */
export type SnapshotSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

function checkChunk(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `loadIndex expects Uint8Array chunks, got ${chunk === null ? 'null' : typeof chunk}`,
    );
  }
  return chunk;
}

/** The index a finished loader built, with the parameters its header holds. */
function loadedIndex(rt: Runtime, loader: SnapshotLoader): VectorIndex {
  const handle = loader.finish();
  const header = loader.headerView();
  const u32 = (field: keyof typeof EXIX_HEADER): number => header.getUint32(EXIX_HEADER[field], true);
  return new VectorIndex(rt, handle, {
    dim: u32('dim'),
    metric: METRICS[u32('metric')],
    M: u32('M'),
    efConstruction: u32('efConstruction'),
    efSearch: u32('efSearch'),
    seed: u32('seed'),
    quantization: QUANTIZATIONS[u32('quantization')],
  });
}

/**
 * Restores a version 3 snapshot's attributes into the index just loaded; on failure (corrupt,
 * over budget) disposes it, so nothing stays allocated.
 */
function withAttributes(index: VectorIndex, loader: SnapshotLoader): VectorIndex {
  const section = loader.attributes;
  if (section === undefined) return index;
  try {
    index.restoreAttributes(section, 'loadIndex');
  } catch (error) {
    index.dispose();
    throw error;
  }
  return index;
}

/**
 * Rebuilds an index from {@link VectorIndex.serialize} bytes, or from the chunks of
 * {@link VectorIndex.serializeChunks} (an iterable, or an async iterable: then it returns a
 * promise), copied straight into the index's final blocks: a load needs no more budget than
 * the index itself. CorruptSnapshotError or BudgetExceededError, with nothing left allocated,
 * for anything else. Cost: O(bytes).
 */
export function loadIndex(rt: Runtime, source: Uint8Array | Iterable<Uint8Array>): VectorIndex;
export function loadIndex(rt: Runtime, source: AsyncIterable<Uint8Array>): Promise<VectorIndex>;
export function loadIndex(rt: Runtime, source: SnapshotSource): VectorIndex | Promise<VectorIndex>;
export function loadIndex(rt: Runtime, source: SnapshotSource): VectorIndex | Promise<VectorIndex> {
  // A length known up front (bytes, or an array of chunks) lets a header that announces another
  // length be refused before anything is allocated; a stream's is known only at its end.
  const known =
    source instanceof Uint8Array
      ? source.length
      : Array.isArray(source) && source.every((c) => c instanceof Uint8Array)
        ? source.reduce((n, c) => n + c.length, 0)
        : undefined;
  // A load needs no more budget than its index: the room the scan codes of the engine's
  // indexes hold (Runtime.dropCaches) is given back first.
  rt.dropCaches();
  const loader = new SnapshotLoader(rt, 'loadIndex', known);
  if (isAsyncIterable(source)) return loadAsync(rt, loader, source);
  if (
    !(source instanceof Uint8Array) &&
    (typeof source !== 'object' ||
      source === null ||
      typeof (source as Iterable<unknown>)[Symbol.iterator] !== 'function')
  ) {
    throw new InvalidArgumentError(
      `loadIndex expects a Uint8Array or an iterable of them, got ${source === null ? 'null' : typeof source}`,
    );
  }
  // Each chunk is fed in its own call, so the source may itself read the engine between them
  // (as serializeChunks of another index does).
  try {
    for (const chunk of source instanceof Uint8Array ? [source] : source)
      rt.run('loadIndex', () => loader.feed(checkChunk(chunk)));
  } catch (error) {
    loader.abort();
    throw error;
  }
  return withAttributes(
    rt.run('loadIndex', () => loadedIndex(rt, loader)),
    loader,
  );
}

async function loadAsync(rt: Runtime, loader: SnapshotLoader, source: AsyncIterable<Uint8Array>): Promise<VectorIndex> {
  try {
    for await (const chunk of source) rt.run('loadIndex', () => loader.feed(checkChunk(chunk)));
  } catch (error) {
    loader.abort();
    throw error;
  }
  return withAttributes(
    rt.run('loadIndex', () => loadedIndex(rt, loader)),
    loader,
  );
}
