// docs/threads.md "Exiting", under Bun and Deno: an engine with threads that is never disposed
// lets the process exit by itself, and a call still in flight keeps it alive until it settles.
// Run by tests/package/runtimes.test.ts; prints one JSON line when the call settles.
import { Engine } from 'elex-wasm';

const engine = await Engine.create({ threads: 2, budgetBytes: 64 << 20 });
const dim = 32;
const n = 4000;
const vectors = new Float32Array(n * dim);
for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(i * 12.9898) * 0.5;
const index = engine.createIndex({ dim, metric: 'l2', seed: 1 });
await index.addBatchAsync(
  Uint32Array.from({ length: n }, (_, i) => i),
  vectors,
);
// Not awaited: nothing but the workers' call keeps the process alive until it settles.
index.searchBatchAsync(vectors.subarray(0, 500 * dim), 5, { ef: 64 }).then((r) => {
  const selfFound = Array.from({ length: 500 }, (_, q) => r.ids[q * 5] === q).filter(Boolean).length;
  console.log(
    JSON.stringify({ threads: engine.threads, fallback: engine.threadsFallback, rows: r.counts.length, selfFound }),
  );
});
