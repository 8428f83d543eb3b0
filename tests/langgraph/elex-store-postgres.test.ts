/**
 * ElexStore persisted to a PostgresStore on a real PostgreSQL server (tests/helpers/postgres.ts;
 * skipped with the reason when none can be started, a failure under CI=true): flushes (a full
 * items record, then a delta) reopen to the same items and answers, and a second open continues
 * the save.
 */
import { PostgresStore } from '../../src/postgres';
import { ElexStore, ITEMS_KEY_PREFIX } from '../../src/langgraph/index';
import { BUILDS, engine } from '../helpers/engines';
import { HashEmbeddings } from '../helpers/langgraph';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';

const { describe: withServer, bin } = postgresOrSkip();

withServer('ElexStore over PostgresStore', () => {
  let server: PostgresServer;
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 60_000);
  afterAll(() => server?.stop());

  test.each(BUILDS)(
    'flush, reopen, continue (simd %s)',
    async (simd) => {
      const e = await engine(simd);
      const store = new PostgresStore({ connectionString: server.connectionString }, { table: `memories_${simd}` });
      const index = { dims: 16, embeddings: new HashEmbeddings(16), fields: ['text'] };
      const options = { index, engine: e, store };
      const memory = await ElexStore.open(options);
      for (let i = 0; i < 60; i++) await memory.put(['user', `u${i % 3}`], `m${i}`, { text: `memory ${i}`, i });
      await memory.flush();
      await memory.put(['user', 'u0'], 'm0', { text: 'memory zero', i: 0 });
      await memory.delete(['user', 'u1'], 'm1');
      await memory.stop();
      expect((await store.keys()).filter((k) => k.startsWith(ITEMS_KEY_PREFIX))).toHaveLength(2); // full + delta
      const state = async (s: ElexStore) => ({
        items: await s.search([], { limit: 100 }),
        hits: await s.search(['user', 'u2'], { query: 'memory 5', limit: 3 }),
      });
      const want = await state(memory);
      memory.dispose();
      const again = await ElexStore.open(options);
      expect(await state(again)).toEqual(want);
      await again.put(['user', 'u1'], 'm1', { text: 'back', i: 1 });
      await again.stop();
      again.dispose();
      const third = await ElexStore.open(options);
      expect(third.size).toBe(60);
      expect((await third.get(['user', 'u1'], 'm1'))!.value).toEqual({ text: 'back', i: 1 });
      third.dispose();
      await store.close();
      e.dispose();
    },
    60_000,
  );
});
