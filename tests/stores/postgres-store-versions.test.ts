/**
 * PostgresStore's versions against a real PostgreSQL server (tests/helpers/postgres.ts; skipped
 * with the reason when none can be started, a failure under CI=true): readVersioned and
 * writeIfVersion (absent is null, insert-if-absent, a stale version refused with nothing written,
 * plain writes and deletes move the version, multi-chunk values), a table of an earlier release
 * (no version column) migrated on first use, read-modify-write by four pools of their own with
 * retries counting every increment once, and a COMMIT whose answer is lost: looked up
 * (settled on another connection), ok when it committed, StoreError with nothing written when it
 * did not; when that lookup fails too, the next conditional write from the same version settles it
 * first: a retry of the same bytes is not written twice (also with another write on top), other
 * bytes continue from it, a write of others on top of the expected version is a plain conflict,
 * two on top are `uncertain`; an agent cache's next flush writes the agent once (no conflict with
 * its own write, no update applied twice).
 */
import { ConflictError, Engine, StoreError } from '../../src/index';
import { type PgClientLike, type PgPoolLike, PostgresStore } from '../../src/postgres';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';

const { describe: withServer, bin } = postgresOrSkip();

let server: PostgresServer;
const stores: PostgresStore[] = [];
const pools: { end(): Promise<void> }[] = [];
let tables = 0;

function pgStore(table = `v${++tables}`, options: { chunkBytes?: number; timeoutMs?: number } = {}): PostgresStore {
  const store = new PostgresStore({ connectionString: server.connectionString }, { table, ...options });
  stores.push(store);
  return store;
}

/** A pg Pool of the test server (ended at the end). */
function pool() {
  const { Pool } = require('pg');
  const p = new Pool({ connectionString: server.connectionString, max: 4 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
}

const bytes = (...values: number[]) => new Uint8Array(values);

withServer('PostgresStore versions (real server)', () => {
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    server?.stop();
  });

  test('readVersioned / writeIfVersion: null for absent, insert-if-absent, stale refused, every write a new version', async () => {
    const store = pgStore(undefined, { chunkBytes: 3 });
    expect(await store.readVersioned('k')).toEqual({ bytes: undefined, version: null });
    const first = await store.writeIfVersion('k', bytes(1, 2, 3, 4, 5, 6, 7), null); // three chunks
    expect(first.ok).toBe(true);
    expect(await store.readVersioned('k')).toEqual({ bytes: bytes(1, 2, 3, 4, 5, 6, 7), version: first.version });
    expect(await store.writeIfVersion('k', bytes(9), null)).toEqual({ ok: false, version: first.version });
    const second = await store.writeIfVersion('k', bytes(8), first.version);
    expect(second.ok).toBe(true);
    expect(second.version).not.toBe(first.version);
    expect(await store.writeIfVersion('k', bytes(7), first.version)).toEqual({ ok: false, version: second.version });
    await store.write('k', bytes(6)); // a plain write moves the version
    const third = await store.readVersioned('k');
    expect(third.bytes).toEqual(bytes(6));
    expect([first.version, second.version]).not.toContain(third.version);
    await store.delete('k');
    expect(await store.writeIfVersion('k', bytes(5), third.version)).toEqual({ ok: false, version: null });
    const again = await store.writeIfVersion('k', bytes(4), null);
    expect(again.ok).toBe(true);
    expect([first.version, second.version, third.version]).not.toContain(again.version);
    expect(await store.read('k')).toEqual(bytes(4));
    await expect(store.writeIfVersion('k', bytes(1), 'not a version')).rejects.toMatchObject({ code: 'E_ARGUMENT' });
  });

  test('a table of an earlier release (no version column) is migrated; its old-style writers still move the version', async () => {
    const p = pool();
    await p.query(
      'CREATE TABLE old_release (key bytea NOT NULL, chunk integer NOT NULL, value bytea NOT NULL, PRIMARY KEY (key, chunk))',
    );
    await p.query("INSERT INTO old_release VALUES ('a'::bytea, 0, '\\x0102'::bytea)");
    const store = pgStore('old_release');
    const loaded = await store.readVersioned('a');
    expect(loaded.bytes).toEqual(bytes(1, 2));
    expect(loaded.version).toMatch(/^\d+$/);
    const written = await store.writeIfVersion('a', bytes(3), loaded.version);
    expect(written.ok).toBe(true);
    // An earlier release's write (delete, insert without a version): the default gives a new one.
    await p.query('BEGIN');
    await p.query("DELETE FROM old_release WHERE key = 'a'::bytea");
    await p.query("INSERT INTO old_release (key, chunk, value) VALUES ('a'::bytea, 0, '\\x04'::bytea)");
    await p.query('COMMIT');
    const now = await store.readVersioned('a');
    expect(now.bytes).toEqual(bytes(4));
    expect(now.version).not.toBe(written.version);
    expect((await store.writeIfVersion('a', bytes(5), written.version!)).ok).toBe(false);
    // A second store over the migrated table does not migrate again.
    expect((await pgStore('old_release').readVersioned('a')).version).toBe(now.version);
  });

  test('read-modify-write from four pools, retried on a refused version: every increment counted once', async () => {
    const table = `counter${++tables}`;
    const writers = Array.from({ length: 4 }, () => pgStore(table));
    let refused = 0;
    await Promise.all(
      writers.map(async (store) => {
        for (let n = 0; n < 15; n++) {
          for (;;) {
            const { bytes: b, version } = await store.readVersioned('c');
            const count = b === undefined ? 0 : new DataView(b.buffer, b.byteOffset).getUint32(0);
            const next = new Uint8Array(4);
            new DataView(next.buffer).setUint32(0, count + 1);
            if ((await store.writeIfVersion('c', next, version)).ok) break;
            refused++;
          }
        }
      }),
    );
    const final = (await writers[0].read('c'))!;
    expect(new DataView(final.buffer, final.byteOffset).getUint32(0)).toBe(60);
    expect(refused).toBeGreaterThan(0); // the writers did interleave
  });

  describe('a COMMIT whose answer is lost', () => {
    /** A pool whose next COMMIT is sent and its answer lost, not sent, or never answered. */
    type Fault = { next: 'answer lost' | 'not sent' | 'no answer' | null; lookups: number };
    /** ... and whose next `lookups` transaction status lookups fail. */
    function faultyPool(): { pool: PgPoolLike; fault: Fault } {
      const inner = pool();
      const fault: Fault = { next: null, lookups: 0 };
      return {
        fault,
        pool: {
          end: () => Promise.resolve(),
          async connect(): Promise<PgClientLike> {
            const client = await inner.connect();
            return {
              on: (event, listener) => client.on(event, listener),
              release: (error) => client.release(error),
              async query(text, values) {
                if (text.includes('pg_stat_activity') && fault.lookups > 0) {
                  fault.lookups--;
                  throw new Error('connection lost (lookup)');
                }
                if (text === 'COMMIT' && fault.next !== null) {
                  const kind = fault.next;
                  fault.next = null;
                  if (kind === 'answer lost') await client.query(text);
                  if (kind === 'no answer') return new Promise(() => undefined);
                  throw new Error(`connection lost (${kind})`);
                }
                return client.query(text, values);
              },
            };
          },
        },
      };
    }

    test('committed: looked up, resolves ok with its version', async () => {
      const { pool: p, fault } = faultyPool();
      const store = new PostgresStore({ pool: p }, { table: `lost${++tables}` });
      stores.push(store);
      const first = await store.writeIfVersion('k', bytes(1), null);
      fault.next = 'answer lost';
      const second = await store.writeIfVersion('k', bytes(2), first.version);
      expect(second.ok).toBe(true);
      expect(await store.readVersioned('k')).toEqual({ bytes: bytes(2), version: second.version });
    });

    test('committed, the lookup failing too: StoreError; the next write from the same version continues from it', async () => {
      const { pool: p, fault } = faultyPool();
      const store = new PostgresStore({ pool: p }, { table: `lost${++tables}` });
      stores.push(store);
      const first = await store.writeIfVersion('k', bytes(1), null);
      Object.assign(fault, { next: 'answer lost', lookups: 1 });
      await expect(store.writeIfVersion('k', bytes(2), first.version)).rejects.toThrow(/could not learn whether/);
      const landed = await store.readVersioned('k');
      expect(landed.bytes).toEqual(bytes(2)); // it did commit
      const third = await store.writeIfVersion('k', bytes(3), first.version); // the caller's lineage did not move
      expect(third.ok).toBe(true);
      expect(await store.readVersioned('k')).toEqual({ bytes: bytes(3), version: third.version });
      // Another writer's change since is still a conflict.
      await pgStore(store.table.slice(1, -1)).write('k', bytes(4));
      expect((await store.writeIfVersion('k', bytes(5), third.version!)).ok).toBe(false);
    });

    test.each([
      ['landed, one write on top: the same bytes again are that write', 'answer lost', 1, 2, { ok: true }],
      [
        'landed, one write on top, other bytes: refused, uncertain (it landed)',
        'answer lost',
        1,
        3,
        { ok: false, uncertain: true },
      ],
      ['not landed, one write on top: a plain conflict', 'not sent', 1, 2, { ok: false }],
      ['landed, two writes on top: uncertain', 'answer lost', 2, 2, { ok: false, uncertain: true }],
    ] as const)('lookup failing, then %s', async (_, kind, others, retryByte, expected) => {
      const { pool: p, fault } = faultyPool();
      const store = new PostgresStore({ pool: p }, { table: `lost${++tables}` });
      stores.push(store);
      const other = pgStore(store.table.slice(1, -1));
      const first = await store.writeIfVersion('k', bytes(1), null);
      Object.assign(fault, { next: kind, lookups: 1 });
      await expect(store.writeIfVersion('k', bytes(2), first.version)).rejects.toBeInstanceOf(StoreError);
      for (let n = 0; n < others; n++) {
        const now = await other.readVersioned('k');
        expect((await other.writeIfVersion('k', bytes(10 + n), now.version)).ok).toBe(true);
      }
      const current = await other.readVersioned('k');
      const retry = await store.writeIfVersion('k', bytes(retryByte), first.version);
      expect(retry).toMatchObject(expected);
      if (!retry.ok) expect(retry.version).toBe(current.version);
      expect(await store.readVersioned('k')).toEqual(current); // nothing written twice, nothing over the others
    });

    test('an agent cache: a flush whose outcome was not learned, then a flush: the agent written once, no conflict', async () => {
      const { pool: p, fault } = faultyPool();
      const store = new PostgresStore({ pool: p }, { table: `lost${++tables}` });
      stores.push(store);
      const engine = await Engine.create();
      try {
        const cache = engine.createAgentCache({ store, qtable: { actions: 2 } });
        const append = (op: number) => cache.use('x', (agent) => agent.trajectory.push(op, 0, 0, 0));
        await append(1);
        await cache.flush();
        await append(2);
        Object.assign(fault, { next: 'answer lost', lookups: 1 });
        const failed = await cache.flush().catch((error) => error);
        expect(failed).toBeInstanceOf(StoreError);
        expect(failed).not.toBeInstanceOf(ConflictError);
        await cache.flush(); // op 2 is not redone: the cache still holds it
        expect(cache.stats.conflicts).toBe(0);
        const fresh = await Engine.create();
        try {
          const reader = fresh.createAgentCache({ store, qtable: { actions: 2 } });
          expect(await reader.use('x', (agent) => Array.from(agent.trajectory.toBatch().states))).toEqual([1, 2]);
        } finally {
          fresh.dispose();
        }
      } finally {
        engine.dispose();
      }
    });

    test.each(['not sent', 'no answer'] as const)(
      '%s: StoreError, nothing written, the same version still writable',
      async (kind) => {
        const { pool: p, fault } = faultyPool();
        const store = new PostgresStore({ pool: p }, { table: `lost${++tables}`, timeoutMs: 1000 });
        stores.push(store);
        const first = await store.writeIfVersion('k', bytes(1), null);
        fault.next = kind;
        await expect(store.writeIfVersion('k', bytes(2), first.version)).rejects.toBeInstanceOf(StoreError);
        expect(await store.readVersioned('k')).toEqual({ bytes: bytes(1), version: first.version });
        expect((await store.writeIfVersion('k', bytes(3), first.version)).ok).toBe(true);
      },
    );
  });
});
