/**
 * PostgresStore, two conditional writes in a row whose COMMIT landed but whose answer (and the
 * lookup of the first) was lost: the second continued from the first, and the key's next
 * conditional write from the version its caller gave settles both, so an agent cache's third
 * flush is no conflict, every op is stored once, and every lease's receipt is 'saved'. Against a
 * real PostgreSQL (tests/helpers/postgres.ts), the answers lost by a pool that drops them.
 */
import { Engine, StoreError, type Agent } from '../../src/index';
import { type PgClientLike, type PgPoolLike, PostgresStore } from '../../src/postgres';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';

const { describe: withServer, bin } = postgresOrSkip();
let server: PostgresServer;

withServer('PostgresStore: lost answers in a row (real server)', () => {
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 120_000);
  afterAll(() => server?.stop());

  test('two lost COMMIT answers in a row, then a flush: no conflict, every op stored once, every receipt saved', async () => {
    const { Pool } = require('pg');
    const inner = new Pool({ connectionString: server.connectionString, max: 4 });
    inner.on('error', () => undefined);
    const fault = { next: false, lookups: 0, skip: 0 };
    const pool: PgPoolLike = {
      end: () => Promise.resolve(),
      async connect(): Promise<PgClientLike> {
        const client = await inner.connect();
        let writing = false;
        return {
          on: (event, listener) => client.on(event, listener),
          release: (error) => client.release(error),
          async query(text, values) {
            if (text.includes('pg_stat_activity') && fault.skip > 0) fault.skip--;
            else if (text.includes('pg_stat_activity') && fault.lookups > 0) {
              fault.lookups--;
              throw new Error('connection lost (lookup)');
            }
            if (text.includes('txid_current')) writing = true;
            if (text === 'COMMIT' && fault.next && writing) {
              fault.next = false;
              writing = false;
              await client.query(text);
              throw new Error('connection lost (answer lost)');
            }
            if (text === 'COMMIT' || text === 'ROLLBACK') writing = false;
            return client.query(text, values);
          },
        };
      },
    };
    const store = new PostgresStore({ pool }, { table: 'dbl' });
    const engine = await Engine.create();
    const cache = engine.createAgentCache({ store, qtable: { actions: 2 } });
    const append = async (op: number) => {
      let lease!: Agent;
      await cache.use('x', (agent) => {
        lease = agent;
        agent.trajectory.push(op, 0, 0, 0);
      });
      return lease;
    };
    await append(1);
    await cache.flush();
    const l2 = await append(2);
    Object.assign(fault, { next: true, lookups: 1 });
    await expect(cache.flush()).rejects.toBeInstanceOf(StoreError);
    const l3 = await append(3);
    Object.assign(fault, { next: true, lookups: 1, skip: 1 }); // the first attempt's lookup works (it landed), this one's fails
    await expect(cache.flush()).rejects.toBeInstanceOf(StoreError);
    const l4 = await append(4);
    const third = await cache.flush().catch((e: unknown) => e);
    const outcomes = [l2.outcome, l3.outcome, l4.outcome];
    await cache.close().catch(() => undefined);
    engine.dispose();
    const fresh = await Engine.create();
    const stored = await fresh
      .createAgentCache({ store, qtable: { actions: 2 } })
      .use('x', (a) => Array.from(a.trajectory.toBatch().states));
    fresh.dispose();
    await store.close();
    await inner.end();
    expect(third).toBeUndefined(); // nobody else wrote x: no ConflictError
    expect(stored).toEqual([1, 2, 3, 4]);
    expect(outcomes).toEqual(['saved', 'saved', 'saved']);
  });
});
