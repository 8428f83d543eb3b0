// A work counter shared by the threads of a parallel call (hnsw/parallel.ts, hnsw/api.ts
// indexSearchBatch): each takes the next item not yet taken.

/** Takes the next item from the shared counter at `next` (atomically on the threads builds). */
@inline export function takeItem(next: usize): u32 {
  if (ASC_FEATURE_THREADS) return atomic.add<u32>(next, 1);
  const i = load<u32>(next);
  store<u32>(next, i + 1);
  return i;
}
