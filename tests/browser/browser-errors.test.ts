/**
 * Typed errors in Chromium, Firefox and WebKit: the budget (BudgetExceededError, E_BUDGET) leaves the index as
 * it was, and the bundle's FileStore refuses with StoreError (E_STORE) instead of reaching for Node.
 */
import { describeEngines, startBrowser, type Browser, type Elex } from '../helpers/browser';

describeEngines('typed errors', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('BudgetExceededError is thrown typed and leaves the index unchanged', async () => {
    const page = await browser.open();
    const out = await page.evaluate(async () => {
      const E = (window as unknown as { elex: Elex }).elex;
      const engine = await E.Engine.create({ budgetBytes: 1 << 20 });
      const index = engine.createIndex({ dim: 128, metric: 'l2', seed: 1 });
      const row = (i: number) => Float32Array.from({ length: 128 }, (_, j) => Math.sin(i * 131 + j));
      let error: unknown;
      let i = 0;
      for (; i < 100_000; i++) {
        try {
          index.add(i, row(i));
        } catch (e) {
          error = e;
          break;
        }
      }
      const err = error as { name: string; code: string };
      const nearest = index.search(row(0), 1).ids[0];
      return {
        name: err?.name,
        code: err?.code,
        typed: error instanceof E.BudgetExceededError && error instanceof E.ElexError,
        added: i,
        size: index.size,
        missing: index.has(i),
        nearest,
        withinBudget: engine.usedBytes <= engine.budgetBytes,
      };
    });
    expect(out).toMatchObject({
      name: 'BudgetExceededError',
      code: 'E_BUDGET',
      typed: true,
      missing: false,
      nearest: 0,
      withinBudget: true,
    });
    expect(out.added).toBeGreaterThan(100);
    expect(out.size).toBe(out.added);
    await page.close();
  });

  test("the bundle's FileStore throws StoreError: no Node built-ins in the browser path", async () => {
    const page = await browser.open();
    const out = await page.evaluate(() => {
      const E = (window as unknown as { elex: Elex }).elex;
      try {
        new E.FileStore('/tmp/agents');
        return { code: 'none', typed: false };
      } catch (e) {
        return { code: (e as { code: string }).code, typed: e instanceof E.StoreError };
      }
    });
    expect(out).toEqual({ code: 'E_STORE', typed: true });
    await page.close();
  });
});
