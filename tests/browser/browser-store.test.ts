/**
 * IndexedDBStore in Chromium, Firefox and WebKit: agents evicted to IndexedDB come back exactly after a page
 * reload, and a QuotaExceededError from IndexedDB surfaces as StoreQuotaError (E_QUOTA) with
 * every agent kept.
 */
import { describeEngines, startBrowser, type Browser, type BrowserPage, type Elex } from '../helpers/browser';

const AGENTS = 40;

/** Every agent's Q rows (states 0..7), epsilon and trajectory size, read through a fresh cache over database `db`. */
function readAgents(page: BrowserPage, db: string, count: number) {
  return page.evaluate(
    async ({ db, count }) => {
      const E = (window as unknown as { elex: Elex }).elex;
      const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
      const cache = engine.createAgentCache({
        store: new E.IndexedDBStore(db),
        maxAgents: 8,
        qtable: { actions: 4, seed: 5 },
      });
      const agents: Record<string, { rows: number[][]; epsilon: number; steps: number }> = {};
      for (let i = 0; i < count; i++) {
        agents[`agent-${i}`] = await cache.use(`agent-${i}`, (a) => ({
          rows: Array.from({ length: 8 }, (_, s) => Array.from(a.q.values(s))),
          epsilon: a.q.epsilon,
          steps: a.trajectory.size,
        }));
      }
      return { agents, misses: cache.stats.misses };
    },
    { db, count },
  );
}

describeEngines('IndexedDBStore', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('agents evicted to IndexedDB come back exactly after a page reload', async () => {
    const page = await browser.open();
    const before = await page.evaluate(async (count) => {
      const E = (window as unknown as { elex: Elex }).elex;
      const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
      const store = new E.IndexedDBStore('elex-reload');
      const cache = engine.createAgentCache({
        store,
        maxAgents: 8,
        qtable: { actions: 4, seed: 5 },
        trajectoryCapacity: 32,
      });
      const agents: Record<string, { rows: number[][]; epsilon: number; steps: number }> = {};
      for (let i = 0; i < count; i++) {
        agents[`agent-${i}`] = await cache.use(`agent-${i}`, (a) => {
          for (let t = 0; t < 25; t++) {
            const s = (i * 7 + t) % 8;
            const action = a.q.selectAction(s);
            const reward = Math.sin(i + t * 0.37);
            a.q.update(s, action, reward, (s + 1) % 8, t % 5 === 4);
            a.trajectory.push(s, action, reward, (s + 1) % 8, t % 5 === 4);
          }
          a.q.decayEpsilon();
          return {
            rows: Array.from({ length: 8 }, (_, s) => Array.from(a.q.values(s))),
            epsilon: a.q.epsilon,
            steps: a.trajectory.size,
          };
        });
      }
      const evictions = cache.stats.evictions;
      const storedBeforeFlush = (await store.keys()).length;
      await cache.flush();
      return { agents, evictions, storedBeforeFlush, stored: (await store.keys()).length };
    }, AGENTS);
    expect(before.evictions).toBeGreaterThanOrEqual(AGENTS - 8);
    expect(before.storedBeforeFlush).toBeGreaterThanOrEqual(AGENTS - 8);
    expect(before.stored).toBe(AGENTS);

    await page.reload();
    const after = await readAgents(page, 'elex-reload', AGENTS);
    expect(after.misses).toBe(AGENTS);
    expect(after.agents).toEqual(before.agents);
    await page.close();
  });

  test('a QuotaExceededError surfaces as StoreQuotaError and loses no agent', async () => {
    const page = await browser.open();
    const outcome = await page.evaluate(async () => {
      const E = (window as unknown as { elex: Elex }).elex;
      const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
      const store = new E.IndexedDBStore('elex-quota');
      const cache = engine.createAgentCache({ store, maxAgents: 4, qtable: { actions: 3, seed: 9 } });
      const rowsOf = (id: string) =>
        cache.use(id, (a) => Array.from({ length: 4 }, (_, s) => Array.from(a.q.values(s))));
      const values: Record<string, number[][]> = {};
      for (let i = 0; i < 4; i++) {
        await cache.use(`agent-${i}`, (a) => {
          for (let t = 0; t < 10; t++) a.q.update(t % 4, t % 3, i + t / 10, (t + 1) % 4);
        });
        values[`agent-${i}`] = await rowsOf(`agent-${i}`);
      }
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
      let error: unknown;
      try {
        await cache.get('agent-4');
      } catch (e) {
        error = e;
      }
      IDBObjectStore.prototype.put = put;
      const kept: Record<string, number[][]> = {};
      for (const id of Object.keys(values)) kept[id] = await rowsOf(id);
      const resident = cache.resident.sort();
      await cache.flush();
      const err = error as { name: string; code: string };
      return {
        name: err?.name,
        code: err?.code,
        typed: error instanceof E.StoreQuotaError && error instanceof E.StoreError && error instanceof E.ElexError,
        resident,
        values,
        kept,
        stored: (await store.keys()).sort(),
      };
    });
    expect(outcome).toMatchObject({ name: 'StoreQuotaError', code: 'E_QUOTA', typed: true });
    expect(outcome.resident).toEqual(['agent-0', 'agent-1', 'agent-2', 'agent-3']);
    expect(outcome.kept).toEqual(outcome.values);
    expect(outcome.stored).toEqual(['agent-0', 'agent-1', 'agent-2', 'agent-3']);

    await page.reload();
    const after = await page.evaluate(async () => {
      const E = (window as unknown as { elex: Elex }).elex;
      const engine = await E.Engine.create({ budgetBytes: 32 << 20 });
      const cache = engine.createAgentCache({
        store: new E.IndexedDBStore('elex-quota'),
        maxAgents: 4,
        qtable: { actions: 3, seed: 9 },
      });
      const rows: Record<string, number[][]> = {};
      for (let i = 0; i < 4; i++)
        rows[`agent-${i}`] = await cache.use(`agent-${i}`, (a) =>
          Array.from({ length: 4 }, (_, s) => Array.from(a.q.values(s))),
        );
      return rows;
    });
    expect(after).toEqual(outcome.values);
    await page.close();
  });
});
