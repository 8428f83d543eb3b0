/**
 * Processes saving one index through one PostgresStore table lose no acknowledged save: 4
 * writer processes (tests/hnsw/writers/index-writer.cjs, the built package) x 12 rounds, each
 * round two new ids and a save, a conflicting save reopening and adding its ids again; one
 * writer SIGKILLed mid-run. Every open afterwards succeeds and holds every acknowledged id, and
 * ids nobody acknowledged only from the killed writer (its save in flight). A later save removes
 * what the killed writer left. Against a real PostgreSQL (tests/helpers/postgres.ts: skipped
 * with the reason when no server can be started, a failure under CI=true).
 */
import { join } from 'node:path';
import { Engine } from '../../src/index';
import { PostgresStore } from '../../src/postgres';
import { decodeManifest } from '../../src/hnsw/store/manifest';
import { spawnLineChild, type LineChild } from '../helpers/line-child';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';

const root = join(__dirname, '..', '..');
const writerScript = join(__dirname, 'writers', 'index-writer.cjs');
const WRITERS = 4;
const ROUNDS = 12;
const DIM = 8;
const row = (id: number) => Array.from({ length: DIM }, (_, j) => Math.sin(id * (j + 1) * 0.37));

interface Writer extends LineChild {
  acks: number[];
  conflicts: number;
  onAck?: () => void;
}

function startWriter(connection: string, table: string, id: number): Writer {
  const args = [connection, table, String(id), String(ROUNDS)];
  const child = spawnLineChild(`writer ${id}`, writerScript, args, root, ([word, a]) => {
    if (word === 'ack') {
      writer.acks.push(Number(a));
      writer.onAck?.();
    } else if (word === 'done') writer.conflicts = Number(a);
  });
  const writer: Writer = { ...child, acks: [], conflicts: 0 };
  return writer;
}

const { describe: withServer, bin } = postgresOrSkip();

withServer('processes saving one index through PostgresStore (real server)', () => {
  let server: PostgresServer;
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 120_000);
  afterAll(() => server?.stop());

  test('4 writer processes, one SIGKILLed mid-run: every acknowledged save kept, the store always opens', async () => {
    const table = 'index_writers';
    const store = new PostgresStore({ connectionString: server.connectionString }, { table });
    const engine = await Engine.create();
    try {
      const seed = engine.createIndex({ dim: DIM, metric: 'l2', seed: 2 });
      for (let id = 0; id < 40; id++) seed.add(id, row(id));
      await seed.save(store, 'docs');
      seed.dispose();

      const writers = Array.from({ length: WRITERS }, (_, id) => startWriter(server.connectionString, table, id + 1));
      const victim = writers[0];
      const killed = new Promise<void>((resolve) => {
        victim.onAck = () => {
          if (victim.acks.length >= 8) {
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
      await Promise.all(writers.map((w) => w.ready));
      for (const w of writers) w.proc.stdin.write('go\n');
      // While they run, every open succeeds (never a manifest naming a missing chunk).
      let opens = 0;
      let running = true;
      const done = Promise.all(writers.slice(1).map((w) => w.closed)).finally(() => (running = false));
      while (running) {
        const ix = await engine.openIndex(store, 'docs');
        expect(ix.size).toBeGreaterThanOrEqual(40);
        ix.dispose();
        opens++;
      }
      await killed;
      expect(await victim.closed).toBe('SIGKILL');
      for (const c of await done) expect(c).toBeNull();
      expect(opens).toBeGreaterThan(0);

      const acked = writers.flatMap((w) => w.acks);
      expect(acked.length).toBeGreaterThanOrEqual((WRITERS - 1) * ROUNDS * 2);
      const ix = await engine.openIndex(store, 'docs');
      const ids = new Set(Array.from(ix.ids()));
      for (let id = 0; id < 40; id++) expect(ids.has(id)).toBe(true);
      expect(acked.filter((id) => !ids.has(id))).toEqual([]);
      const ackedSet = new Set(acked);
      // Unacknowledged ids present: only the killed writer's (a save it had in flight).
      expect([...ids].filter((id) => id >= 40 && !ackedSet.has(id) && Math.floor(id / 100000) !== 1)).toEqual([]);
      for (const id of ids) if (id < 100000) expect(id).toBeLessThan(40);
      expect(writers.reduce((n, w) => n + w.conflicts, 0)).toBeGreaterThan(0);

      // A later save removes what the killed writer left: every key is the manifest or a chunk it names.
      ix.add(99, row(99));
      await ix.save(store, 'docs');
      ix.dispose();
      const key = '@index/docs/manifest';
      const m = decodeManifest((await store.read(key))!, key);
      const named = m.parts.flatMap((p) =>
        p.chunks.map((_, i) => `@index/docs/${p.stamp.generation}-${p.stamp.token.toString(16).padStart(8, '0')}/${i}`),
      );
      expect((await store.keys()).sort()).toEqual([key, ...named].sort());
    } finally {
      await store.close();
      engine.dispose();
    }
  }, 120_000);
});
