// A smoke workload for other JavaScript runtimes (Bun, Deno; Node runs it too), driven by
// tests/package/runtimes.test.ts:   <runtime> tests/package/runtimes/smoke.mjs <workload.json>
// It imports the package by its name (self-reference through package.json "exports", so run it
// from inside the repo), runs the workload the test wrote, and prints one line of JSON:
//   { runtime, threads, simd, hnsw, hnswScalar: { size, ids, distances }, qtable: { size, values }, caches: { memory, file } }
// for the test to compare with results computed in the jest process.
import { readFile } from 'node:fs/promises';
import { Engine, FileStore, MemoryStore } from 'elex-wasm';

const runtime =
  typeof globalThis.Bun !== 'undefined'
    ? `bun ${globalThis.Bun.version}`
    : typeof globalThis.Deno !== 'undefined'
      ? `deno ${globalThis.Deno.version.deno}`
      : `node ${process.version}`;

const work = JSON.parse(await readFile(process.argv[2], 'utf8'));
const engine = await Engine.create({ budgetBytes: 64 << 20 }); // 'auto': SIMD where it runs correctly
const scalar = await Engine.create({ budgetBytes: 16 << 20, simd: 'off' });

/** HNSW in engine `e`: build over work.vectors, then search every query. */
function hnsw(e, { dim, metric, vectors, queries, k, ef, seed }) {
  const index = e.createIndex({ dim, metric, seed });
  const count = vectors.length / dim;
  index.addBatch(
    Uint32Array.from({ length: count }, (_, i) => i),
    Float32Array.from(vectors),
  );
  const ids = [];
  const distances = [];
  for (let q = 0; q < queries.length / dim; q++) {
    const r = index.search(Float32Array.from(queries.slice(q * dim, (q + 1) * dim)), k, { ef });
    ids.push(Array.from(r.ids));
    distances.push(Array.from(r.distances));
  }
  const size = index.size;
  index.dispose();
  return { size, ids, distances };
}

/** Q-table: single updates, then one batchUpdate; the rows of every state touched. */
function qtable({ options, updates, batch }) {
  const q = engine.createQTable(options);
  for (const [s, a, r, s2, done] of updates) q.update(s, a, r, s2, done);
  q.batchUpdate({
    states: Uint32Array.from(batch.map((t) => t[0])),
    actions: Uint32Array.from(batch.map((t) => t[1])),
    rewards: Float32Array.from(batch.map((t) => t[2])),
    nextStates: Uint32Array.from(batch.map((t) => t[3])),
    dones: Uint8Array.from(batch.map((t) => (t[4] ? 1 : 0))),
  });
  const states = [...new Set([...updates, ...batch].map((t) => t[0]))].sort((x, y) => x - y);
  const out = { size: q.size, values: Object.fromEntries(states.map((s) => [s, Array.from(q.values(s))])) };
  q.dispose();
  return out;
}

const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Agent cache over `store`: every agent gets its transitions (update + push), its bytes are
 * noted, and it is released; with maxAgents below the agent count most are evicted. Then each
 * agent is read back and compared byte for byte with what it held before eviction.
 */
async function cache(store, { options, agents }) {
  const cacheOf = engine.createAgentCache({ ...options, store });
  const before = {};
  for (const [id, transitions] of Object.entries(agents)) {
    const agent = await cacheOf.get(id);
    for (const [s, a, r, s2, done] of transitions) {
      agent.q.update(s, a, r, s2, done);
      agent.trajectory.push(s, a, r, s2, done);
    }
    before[id] = { q: agent.q.serialize(), trajectory: agent.trajectory.serialize() };
    agent.release();
  }
  const afterWrites = cacheOf.stats;
  const stored = (await store.keys()).sort();
  const restored = {};
  const values = {};
  for (const [id, transitions] of Object.entries(agents)) {
    const agent = await cacheOf.get(id);
    restored[id] =
      sameBytes(agent.q.serialize(), before[id].q) && sameBytes(agent.trajectory.serialize(), before[id].trajectory);
    values[id] = Object.fromEntries(
      [...new Set(transitions.map((t) => t[0]))].map((s) => [s, Array.from(agent.q.values(s))]),
    );
    values[id].trajectorySize = agent.trajectory.size;
    agent.release();
  }
  const stats = cacheOf.stats;
  await cacheOf.close();
  return { evictionsAfterWrites: afterWrites.evictions, stored, restored, values, stats };
}

/** The HNSW workload on a 2-thread engine (its workers: Web Workers in Bun, node:worker_threads in Deno), rows searched by searchBatchAsync. */
async function threaded({ dim, metric, vectors, queries, k, ef, seed }) {
  const e = await Engine.create({ budgetBytes: 64 << 20, threads: 2 });
  const index = e.createIndex({ dim, metric, seed });
  await index.addBatchAsync(
    Uint32Array.from({ length: vectors.length / dim }, (_, i) => i),
    Float32Array.from(vectors),
  );
  const r = await index.searchBatchAsync(Float32Array.from(queries), k, { ef });
  const ids = [];
  for (let q = 0; q < queries.length / dim; q++) ids.push(Array.from(r.ids.subarray(q * k, (q + 1) * k)));
  const result = { threads: e.threads, fallback: e.threadsFallback, workerCalls: e.runtime.pool?.callsRun ?? 0, ids };
  e.dispose();
  return result;
}

const out = {
  runtime,
  threads: await threaded(work.hnsw),
  simd: engine.simd,
  hnsw: hnsw(engine, work.hnsw),
  hnswScalar: hnsw(scalar, work.hnsw),
  qtable: qtable(work.qtable),
  caches: {
    memory: await cache(new MemoryStore(), work.cache),
    file: await cache(new FileStore(work.cache.dir), work.cache),
  },
  usedBytesAfter: engine.usedBytes,
};
engine.dispose();
scalar.dispose();
process.stdout.write(`${JSON.stringify(out)}\n`);
