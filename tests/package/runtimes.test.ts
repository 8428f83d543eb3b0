/**
 * The package under Bun and Deno (the binaries in node_modules/.bin): tests/package/runtimes/smoke.mjs
 * imports 'elex-wasm' by name from the repo root, builds an HNSW index, updates a Q-table and
 * runs an agent cache over a MemoryStore and a FileStore, and the index on a 2-thread engine (its
 * workers are Web Workers in Bun, node:worker_threads in Deno: addBatchAsync, searchBatchAsync); its JSON is compared here with the
 * same workload run in this process, with an exact brute force, and with the plain Q-learning
 * formula. A runtime that is missing is skipped with the reason, except under CI=true, where it
 * fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/index';
import { ReferenceQLearner } from '../helpers/qlearner';
import { randomVectors, rng } from '../helpers/random';

const root = join(__dirname, '..', '..');
const script = join('tests', 'package', 'runtimes', 'smoke.mjs');
const inCi = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

interface Runtime {
  name: string;
  bin: string;
  version?: string;
  missing?: string;
  args: (work: string, dir: string) => string[];
}

/** The runtime's binary in node_modules/.bin (or on PATH) and its version, or why it is missing. */
function probe(name: string, args: Runtime['args']): Runtime {
  const local = join(root, 'node_modules', '.bin', name);
  const bin = existsSync(local) ? local : name;
  try {
    const version = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      timeout: 10000,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n')[0];
    return { name, bin, version, args };
  } catch (error) {
    const why =
      (error as { code?: string }).code === 'ENOENT'
        ? 'not installed'
        : String((error as Error).message).split('\n')[0];
    return { name, bin, args, missing: `${name} (${bin}): ${why}` };
  }
}

const RUNTIMES = [
  probe('bun', (work) => ['run', script, work]),
  // Deno finds 'elex-wasm' through the repo's package.json (self-reference) and node_modules;
  // it may read the repo (the package, node_modules) and the test's temp dir, and write only there.
  probe('deno', (work, dir) => [
    'run',
    '--no-prompt',
    `--allow-read=${root},${dir}`,
    `--allow-write=${dir}`,
    script,
    work,
  ]),
];

for (const rt of RUNTIMES) {
  if (rt.missing) process.stdout.write(`runtimes.test: ${inCi ? 'FAILING (CI)' : 'skipping'} ${rt.missing}\n`);
}

// The workload, small enough to check exactly: 300 x 16 vectors, 20 queries, k 10.
const f = Math.fround;
const DIM = 16;
const K = 10;
const next = rng(2024);
const transition = (states: number, actions: number): [number, number, number, number, boolean] => [
  Math.floor(next() * states),
  Math.floor(next() * actions),
  f(next() * 2 - 1),
  Math.floor(next() * states),
  next() < 0.1,
];
const workload = {
  hnsw: {
    dim: DIM,
    metric: 'l2' as const,
    vectors: Array.from(randomVectors(300, DIM, 7)),
    queries: Array.from(randomVectors(20, DIM, 8)),
    k: K,
    ef: 64,
    seed: 3,
  },
  qtable: {
    options: { actions: 4, alpha: 0.25, gamma: 0.9, epsilon: 0 },
    updates: Array.from({ length: 200 }, () => transition(30, 4)),
    batch: Array.from({ length: 50 }, () => transition(30, 4)),
  },
  cache: {
    dir: '',
    options: { maxAgents: 3, qtable: { actions: 3, alpha: 0.5, gamma: 0.8, epsilon: 0.2 }, trajectoryCapacity: 32 },
    agents: Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`agent/${i}`, Array.from({ length: 12 + i }, () => transition(10, 3))]),
    ),
  },
};

/** Exact top-k ids by squared L2 (float64), nearest first, ties by id. */
function bruteForce(vectors: number[], query: number[], k: number): number[] {
  const n = vectors.length / DIM;
  const d = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < DIM; j++) s += (vectors[i * DIM + j] - query[j]) ** 2;
    return { i, s };
  });
  return d
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .slice(0, k)
    .map((x) => x.i);
}

/** Q values of the plain formula (float32, one rounding per operation) after `transitions`. */
function reference(
  options: { actions: number; alpha: number; gamma: number },
  transitions: Array<[number, number, number, number, boolean]>,
): ReferenceQLearner {
  const ref = new ReferenceQLearner(options);
  for (const [s, a, r, s2, done] of transitions) ref.update(s, a, r, s2, done);
  return ref;
}

/** The same HNSW workload in this process, with the build the runtime used. */
async function hnswHere(simd: boolean): Promise<{ size: number; ids: number[][]; distances: number[][] }> {
  const engine = await Engine.create({ budgetBytes: 64 << 20, simd: simd ? 'on' : 'off' });
  const w = workload.hnsw;
  const index = engine.createIndex({ dim: w.dim, metric: w.metric, seed: w.seed });
  index.addBatch(
    Uint32Array.from({ length: w.vectors.length / DIM }, (_, i) => i),
    Float32Array.from(w.vectors),
  );
  const ids: number[][] = [];
  const distances: number[][] = [];
  for (let q = 0; q < w.queries.length / DIM; q++) {
    const r = index.search(Float32Array.from(w.queries.slice(q * DIM, (q + 1) * DIM)), K, { ef: w.ef });
    ids.push(Array.from(r.ids));
    distances.push(Array.from(r.distances));
  }
  const size = index.size;
  engine.dispose();
  return { size, ids, distances };
}

describe.each(RUNTIMES)('$name', (rt) => {
  const run = rt.missing && !inCi ? test.skip : test;

  run('HNSW search, Q-table updates and agent caches (MemoryStore, FileStore) match Node', async () => {
    if (rt.missing) throw new Error(`CI=true and a runtime is missing: ${rt.missing}`);
    const dir = mkdtempSync(join(tmpdir(), `elex-${rt.name}-`));
    try {
      const work = join(dir, 'workload.json');
      const agentsDir = join(dir, 'agents');
      writeFileSync(work, JSON.stringify({ ...workload, cache: { ...workload.cache, dir: agentsDir } }));
      const t0 = Date.now();
      let stdout: string;
      try {
        stdout = execFileSync(rt.bin, rt.args(work, dir), {
          cwd: root,
          encoding: 'utf8',
          timeout: 30000,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        const e = error as { stderr?: string; message: string };
        throw new Error(`${rt.name} failed: ${e.message}\n${e.stderr ?? ''}`);
      }
      const out = JSON.parse(stdout.trim().split('\n').pop()!);
      process.stdout.write(
        `runtimes.test: ${out.runtime} (${out.simd ? 'SIMD' : 'scalar'}) in ${Date.now() - t0} ms\n`,
      );
      expect(out.runtime.startsWith(rt.name)).toBe(true);

      // HNSW: the same graph as this process builds (same seed, same adds, same build), so the
      // same ids and distances to the bit, with the build 'auto' chose there and with the scalar
      // build; and near-exact against brute force on 300 vectors.
      expect(out.hnsw.size).toBe(300);
      expect(out.hnsw).toEqual(await hnswHere(out.simd));
      expect(out.hnswScalar).toEqual(await hnswHere(false));
      // Threads: two, searchBatchAsync's ids those of the same graph's searches.
      expect(out.threads).toEqual({ threads: 2, fallback: null, workerCalls: 2, ids: out.hnsw.ids });
      let hits = 0;
      workload.hnsw.queries.forEach((_, j) => {
        if (j % DIM !== 0) return;
        const q = j / DIM;
        const truth = new Set(bruteForce(workload.hnsw.vectors, workload.hnsw.queries.slice(j, j + DIM), K));
        hits += out.hnsw.ids[q].filter((id: number) => truth.has(id)).length;
      });
      expect(hits / (20 * K)).toBeGreaterThanOrEqual(0.95);

      // Q-table: the plain formula in float32, update after update, then the batch.
      const qt = workload.qtable;
      const ref = reference(qt.options, [...qt.updates, ...qt.batch]);
      expect(out.qtable.size).toBe(ref.rows.size);
      for (const [s, row] of Object.entries(out.qtable.values)) expect(row).toEqual(Array.from(ref.values(Number(s))));

      // Agent caches: 8 agents through 3 resident slots, so most were evicted and read back.
      for (const kind of ['memory', 'file']) {
        const c = out.caches[kind];
        expect(c.evictionsAfterWrites).toBeGreaterThanOrEqual(5);
        expect(c.stored.length).toBeGreaterThanOrEqual(5);
        expect(c.stats.misses).toBeGreaterThanOrEqual(5 + 8); // 8 new agents, then every evicted one reloaded
        for (const [id, transitions] of Object.entries(workload.cache.agents)) {
          expect([kind, id, c.restored[id]]).toEqual([kind, id, true]);
          const agentRef = reference(workload.cache.options.qtable, transitions);
          const { trajectorySize, ...rows } = c.values[id];
          expect(trajectorySize).toBe(transitions.length);
          for (const [s, row] of Object.entries(rows)) expect(row).toEqual(Array.from(agentRef.values(Number(s))));
        }
      }
      // The FileStore wrote its files into the temp dir: every agent once close() flushed.
      expect(readdirSync(agentsDir).sort()).toEqual(
        Object.keys(workload.cache.agents)
          .map((id) => `${encodeURIComponent(id)}.agent`)
          .sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // docs/threads.md "Exiting": idle workers keep nothing alive, a call in flight does.
  run('a 2-thread engine never disposed lets the process exit once its last call settles', () => {
    if (rt.missing) throw new Error(`CI=true and a runtime is missing: ${rt.missing}`);
    const exitScript = join('tests', 'package', 'runtimes', 'threads-exit.mjs');
    const args = rt.name === 'deno' ? ['run', '--no-prompt', `--allow-read=${root}`, exitScript] : ['run', exitScript];
    // Generous: a kept-alive process never exits, and is killed after this.
    const out = spawnSync(rt.bin, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect({ signal: out.signal, status: out.status, stderr: out.stderr }).toEqual({
      signal: null,
      status: 0,
      stderr: '',
    });
    // The call that was in flight when the script ended answered (every row finds itself).
    expect(JSON.parse(out.stdout.trim())).toEqual({ threads: 2, fallback: null, rows: 500, selfFound: 500 });
  });
});
