/**
 * Real-Chromium harness for the browser tests: Debian's /usr/bin/chromium driven headless by
 * playwright-core with a fresh profile, against examples/browser/serve.cjs on 127.0.0.1:0.
 * Without Chromium the suites skip with a printed reason locally and fail under CI=true.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export type Elex = typeof import('../../src/index');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync',
];

interface Server {
  port: number;
  close(): Promise<void>;
}
const { startServer } = require('../../examples/browser/serve.cjs') as { startServer(port?: number): Promise<Server> };

/** `describe` when Chromium is there; otherwise a failing test under CI, a skip (with the reason printed) locally. */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      test('Chromium is installed', () => {
        throw new Error(`${CHROMIUM} is missing: .ci/run installs it with 'apt-get install -y chromium'`);
      });
    });
  } else {
    console.warn(`skipping '${name}': ${CHROMIUM} is missing (apt-get install -y chromium)`);
    describe.skip(name, body);
  }
}

/** A running Chromium with a fresh profile and the static server. */
export interface Browser {
  context: BrowserContext;
  /** `http://127.0.0.1:<port>` + path. */
  url(path: string): string;
  /** A new tab with the bundle loaded as window.elex; `init` runs in the page before any script. */
  open(init?: () => void): Promise<Page>;
  close(): Promise<void>;
}

/** Page errors and console errors fail loudly instead of hanging a test. */
function watch(page: Page): void {
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
}

/** Waits until the fixture page has imported the bundle. */
export async function waitForElex(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { elex?: unknown }).elex !== undefined);
}

/** Starts the server and Chromium. Cost: ~1 s. */
export async function startBrowser(): Promise<Browser> {
  const server = await startServer(0);
  const profile = mkdtempSync(join(tmpdir(), 'elex-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
  return {
    context,
    url,
    async open(init) {
      const page = await context.newPage();
      watch(page);
      if (init) await page.addInitScript(init);
      await page.goto(url('/tests/browser/fixture.html'));
      await waitForElex(page);
      return page;
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
