/**
 * Chromium (CDP) and Firefox (WebDriver BiDi, no geckodriver) through puppeteer-core, headless,
 * each with a fresh temporary profile that puppeteer deletes on close.
 */
import puppeteer, { type Browser as PuppeteerBrowser, type Page } from 'puppeteer-core';
import { CHROMIUM, FIREFOX, withTimeout, type Driver, type DriverTab } from './browser';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

/** Page errors are printed (the test then fails on its own assertion instead of hanging). */
function watch(page: Page, label: string): void {
  page.on('pageerror', (error) => console.error(`${label} page error: ${(error as Error).message ?? String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`${label} console error: ${message.text()}`);
  });
}

function tabOn(page: Page, label: string): DriverTab {
  watch(page, label);
  return {
    async goto(url, init) {
      if (init !== undefined) await page.evaluateOnNewDocument(`(${init})()`);
      await page.goto(url);
    },
    evaluate: (expression) => page.evaluate(expression) as Promise<string>,
    async reload() {
      await page.reload();
    },
    close: () => page.close(),
  };
}

/** Launches headless Chromium or Firefox. */
export async function launchPuppeteer(name: 'chromium' | 'firefox'): Promise<Driver> {
  const label = name === 'chromium' ? 'Chromium' : 'Firefox';
  const browser: PuppeteerBrowser =
    name === 'chromium'
      ? await puppeteer.launch({
          browser: 'chrome',
          executablePath: CHROMIUM,
          headless: true,
          args: CHROMIUM_ARGS,
          timeout: 60_000,
          protocolTimeout: 180_000,
        })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: FIREFOX,
          headless: true,
          timeout: 60_000,
          protocolTimeout: 180_000,
        });
  return {
    version: await browser.version(),
    newTab: async () => tabOn(await browser.newPage(), label),
    async close() {
      const child = browser.process();
      try {
        await withTimeout(browser.close(), 10_000, `closing ${label}`);
      } finally {
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}
