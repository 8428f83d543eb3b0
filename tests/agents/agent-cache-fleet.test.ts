/**
 * The fleet bar of issue 23: processes sharing agents through one PostgresStore never lose an
 * acknowledged update. 5 worker processes (tests/agents/fleet/fleet-worker.cjs, the built
 * package, each its own engine and agent cache) x 150 ops over 12 shared agents, each op `use`
 * (append its unique id to the agent) + `flush`, redone on ConflictError; two workers SIGKILLed
 * mid-run (after a seeded number of acknowledged ops) and replaced by workers doing the rest;
 * several seeds, a fresh table each, and once with the server itself SIGKILLed mid-run and
 * restarted (the workers wait out the StoreErrors: flush again, never redo), against a real PostgreSQL (tests/helpers/postgres.ts:
 * skipped with the reason when no server can be started, a failure under CI=true). Afterwards
 * every acknowledged op is in its agent exactly once, no op is anywhere twice, and the only
 * unacknowledged ops present are the killed workers' ops in flight. The same workload in one
 * process over a MemoryStore (five engines and caches, interleaved), and over the same store
 * without versions, which loses acknowledged ops: what the bar would see without them.
 */
import { join } from 'node:path';
import { Engine, MemoryStore, type AgentStore, type ByteStore } from '../../src/index';
import { PostgresStore } from '../../src/postgres';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';
import { rng } from '../helpers/random';
import { spawnLineChild, type LineChild } from '../helpers/line-child';

const { fleetOps } = require('./fleet/ops.cjs');

const root = join(__dirname, '..', '..');
const workerScript = join(__dirname, 'fleet', 'fleet-worker.cjs');
const WORKERS = 5;
const OPS = 150;
const AGENTS = 12;
const MAX_AGENTS = 8;

/** Every op id each agent of `store` holds, by agent id, read through a fresh engine. */
async function contents(store: ByteStore): Promise<Map<string, number[]>> {
  const engine = await Engine.create();
  try {
    const cache = engine.createAgentCache({ store, qtable: { actions: 2 }, trajectoryCapacity: 4096 });
    const out = new Map<string, number[]>();
    for (const id of (await store.keys()).sort())
      out.set(id, await cache.use(id, (agent) => Array.from(agent.trajectory.toBatch().states)));
    return out;
  } finally {
    engine.dispose();
  }
}

/**
 * Checks the bar: every acknowledged op in its agent exactly once; no op twice anywhere; every
 * other op present is one of `inFlight`. Returns the lost and the duplicated ops (both empty when it holds).
 */
async function audit(
  store: ByteStore,
  acks: Map<number, string>,
  inFlight: Set<number> = new Set(),
): Promise<{ lost: number[]; twice: number[]; stray: number[] }> {
  const where = new Map<number, string[]>();
  for (const [agent, ops] of await contents(store)) {
    for (const op of ops) where.set(op, [...(where.get(op) ?? []), agent]);
  }
  const lost = [...acks].filter(([op, agent]) => where.get(op)?.[0] !== agent).map(([op]) => op);
  const twice = [...where].filter(([, agents]) => agents.length > 1).map(([op]) => op);
  const stray = [...where.keys()].filter((op) => !acks.has(op) && !inFlight.has(op));
  return { lost, twice, stray };
}

/** A worker process and what it printed. */
interface Worker extends LineChild {
  id: number;
  acks: Map<number, string>;
  conflicts: number;
  onAck?: (count: number) => void;
}

function startWorker(connection: string, table: string, id: number, ops: number, seed: number): Worker {
  const args = [connection, table, String(id), String(ops), String(seed), String(AGENTS), String(MAX_AGENTS)];
  const acks = new Map<number, string>();
  const child = spawnLineChild(`worker ${id}`, workerScript, args, root, ([word, a, b]) => {
    if (word === 'ack') {
      acks.set(Number(a), b);
      worker.onAck?.(acks.size);
    } else if (word === 'done') worker.conflicts = Number(a);
  });
  const worker: Worker = { id, ...child, acks, conflicts: 0 };
  return worker;
}

/**
 * One fleet run over a fresh table: WORKERS workers started together; workers 0 and 1 SIGKILLed
 * after a seeded number of acknowledged ops and replaced (ids WORKERS, WORKERS + 1) by workers
 * doing their remaining ops. Returns every acknowledged op, the killed workers' ops that were in
 * flight, and the conflicts the surviving workers counted.
 */
async function fleetRun(
  server: PostgresServer,
  table: string,
  seed: number,
  restartServerAfter?: number,
): Promise<{ acks: Map<number, string>; inFlight: Set<number>; conflicts: number }> {
  const connection = server.connectionString;
  const next = rng(seed);
  const killAfter = [0, 1].map(() => 20 + Math.floor(next() * (OPS - 40)));
  const workers = Array.from({ length: WORKERS }, (_, id) => startWorker(connection, table, id, OPS, seed));
  if (restartServerAfter !== undefined) {
    // The server SIGKILLed once the workers acknowledged this many ops in all, then restarted (crash recovery).
    let acked = 0;
    let restarted = false;
    for (const w of workers.slice(2)) {
      w.onAck = () => {
        if (++acked < restartServerAfter || restarted) return;
        restarted = true;
        server.kill();
        server.restart();
      };
    }
  }
  const inFlight = new Set<number>();
  const replacements = killAfter.map(async (after, id) => {
    const victim = workers[id];
    await new Promise<void>((resolve) => {
      victim.onAck = (count) => {
        if (count >= after) {
          victim.onAck = undefined;
          victim.proc.kill('SIGKILL');
          resolve();
        }
      };
      void victim.closed.then(
        () => resolve(),
        () => resolve(),
      );
    });
    expect(await victim.closed).toBe('SIGKILL');
    inFlight.add(id * 100000 + victim.acks.size); // the op it was doing (maybe written, never acknowledged)
    const replacement = startWorker(connection, table, WORKERS + id, OPS - victim.acks.size, seed);
    await replacement.ready;
    replacement.proc.stdin.write('go\n');
    return replacement;
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.proc.stdin.write('go\n');
  const survivors = [...workers.slice(2), ...(await Promise.all(replacements))];
  for (const w of survivors) expect(await w.closed).toBeNull();
  const acks = new Map<number, string>();
  for (const w of [...workers, ...survivors]) for (const [op, agent] of w.acks) acks.set(op, agent);
  return { acks, inFlight, conflicts: survivors.reduce((n, w) => n + w.conflicts, 0) };
}

const { describe: withServer, bin } = postgresOrSkip();

withServer('fleet: worker processes sharing agents through PostgresStore (real server)', () => {
  let server: PostgresServer;
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 120_000);
  afterAll(() => server?.stop());

  test('5 processes x 150 ops over 12 agents, 2 SIGKILLed and replaced, 3 seeds: every acknowledged op exactly once', async () => {
    let conflicts = 0;
    for (const seed of [1, 2, 3]) {
      const table = `fleet_${seed}`;
      const { acks, inFlight, conflicts: seen } = await fleetRun(server, table, seed);
      conflicts += seen;
      expect(acks.size).toBe(WORKERS * OPS);
      const store = new PostgresStore({ connectionString: server.connectionString }, { table });
      try {
        expect(await audit(store, acks, inFlight)).toEqual({ lost: [], twice: [], stray: [] });
      } finally {
        await store.close();
      }
    }
    expect(conflicts).toBeGreaterThan(0); // the workers did write the same agents at once
  }, 120_000);

  test('the same with the server SIGKILLed mid-run and restarted: every acknowledged op exactly once', async () => {
    const table = 'fleet_restart';
    const { acks, inFlight } = await fleetRun(server, table, 4, 150);
    expect(acks.size).toBe(WORKERS * OPS);
    const store = new PostgresStore({ connectionString: server.connectionString }, { table });
    try {
      expect(await audit(store, acks, inFlight)).toEqual({ lost: [], twice: [], stray: [] });
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('fleet in one process: five engines and caches interleaved over one store', () => {
  /** Five caches (five engines) running the workload at once, each pausing a seeded number of turns between use and flush. */
  async function run(store: AgentStore, seed: number): Promise<Map<number, string>> {
    const acks = new Map<number, string>();
    const engines = await Promise.all(Array.from({ length: WORKERS }, () => Engine.create()));
    try {
      await Promise.all(
        engines.map((engine, worker) => {
          const next = rng(seed * 31 + worker);
          const cache = engine.createAgentCache({
            store,
            maxAgents: MAX_AGENTS,
            qtable: { actions: 2 },
            trajectoryCapacity: 4096,
          });
          return fleetOps({
            cache,
            worker,
            ops: OPS,
            seed,
            agents: AGENTS,
            onAck: (op: number, agent: string) => acks.set(op, agent),
            between: async () => {
              for (let turns = Math.floor(next() * 3); turns > 0; turns--) await new Promise((r) => setImmediate(r));
            },
          });
        }),
      );
    } finally {
      for (const engine of engines) engine.dispose();
    }
    return acks;
  }

  test.each([1, 2, 3])('MemoryStore (versioned), seed %i: every acknowledged op exactly once', async (seed) => {
    const store = new MemoryStore();
    const acks = await run(store, seed);
    expect(acks.size).toBe(WORKERS * OPS);
    expect(await audit(store, acks)).toEqual({ lost: [], twice: [], stray: [] });
  });

  test('the same store without versions loses acknowledged ops (last writer wins)', async () => {
    const inner = new MemoryStore();
    const plain: AgentStore = {
      read: (k) => inner.read(k),
      write: (k, b) => inner.write(k, b),
      delete: (k) => inner.delete(k),
      keys: () => inner.keys(),
    };
    const acks = await run(plain, 1);
    expect((await audit(inner, acks)).lost.length).toBeGreaterThan(0);
  });
});
