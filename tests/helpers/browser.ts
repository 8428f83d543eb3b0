/**
 * Real-browser harness for the browser tests, one small engine-neutral page interface over three
 * engines (the drivers live in browser-puppeteer.ts and browser-webkit.ts):
 *
 *   chromium  Debian's /usr/bin/chromium, headless, puppeteer-core (CDP)
 *   firefox   /usr/bin/firefox-esr, headless, puppeteer-core over WebDriver BiDi (no geckodriver)
 *   webkit    WebKitGTK's MiniBrowser through /usr/bin/WebKitWebDriver and selenium-webdriver,
 *             on a private Xvfb display
 *
 * Pages come from examples/browser/serve.cjs on 127.0.0.1:0. A missing browser skips its suites
 * with a printed reason locally and fails them under CI=true (naming the apt package to install).
 * ELEX_BROWSERS=chromium,firefox limits the engines (default: all three).
 */
import { existsSync } from 'node:fs';

export type Elex = typeof import('../../src/index');

export type EngineName = 'chromium' | 'firefox' | 'webkit';

/** One browser engine: how to name it in test names and what it needs on this machine. */
export interface BrowserEngine {
  name: EngineName;
  /** For test names: 'Chromium', 'Firefox', 'WebKit'. */
  label: string;
  /** Files it needs, each with the Debian package that installs it. */
  needs: { path: string; apt: string }[];
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

const ALL: BrowserEngine[] = [
  { name: 'chromium', label: 'Chromium', needs: [{ path: CHROMIUM, apt: 'chromium' }] },
  { name: 'firefox', label: 'Firefox', needs: [{ path: FIREFOX, apt: 'firefox-esr' }] },
  {
    name: 'webkit',
    label: 'WebKit',
    needs: [
      { path: WEBKIT_DRIVER, apt: 'webkit2gtk-driver' },
      { path: MINIBROWSER, apt: 'webkit2gtk-driver' },
      { path: XVFB, apt: 'xvfb' },
    ],
  },
];

const selected = process.env.ELEX_BROWSERS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

/** The engines the browser suites run in (all three unless ELEX_BROWSERS picks some). */
export const ENGINES: BrowserEngine[] = selected ? ALL.filter((e) => selected.includes(e.name)) : ALL;

export const inCi = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** Why `engine` cannot run here (missing files and their apt packages), or undefined when it can. */
export function missing(engine: BrowserEngine): string | undefined {
  const absent = engine.needs.filter((n) => !existsSync(n.path));
  if (absent.length === 0) return undefined;
  const packages = [...new Set(absent.map((n) => n.apt))].join(' ');
  return `${absent.map((n) => n.path).join(', ')} missing (apt-get install -y ${packages})`;
}

/**
 * `describe(`${feature} in ${label}`)` once per engine, `body` getting the engine. A missing
 * engine is a failing test under CI and a skip with the reason printed locally.
 */
export function describeEngines(feature: string, body: (engine: BrowserEngine) => void): void {
  for (const engine of ENGINES) {
    const name = `${feature} in ${engine.label}`;
    const why = missing(engine);
    if (why === undefined) {
      describe(name, () => body(engine));
    } else if (inCi) {
      describe(name, () => {
        test(`${engine.label} is installed`, () => {
          throw new Error(`CI=true and ${engine.label} is missing: ${why}`);
        });
      });
    } else {
      process.stdout.write(`skipping '${name}': ${why}\n`);
      describe.skip(name, () => body(engine));
    }
  }
}

/** A page in any engine. Results cross as JSON (undefined becomes null, typed arrays become objects). */
export interface BrowserPage {
  /** Runs `fn(arg)` in the page (awaiting a promise) and resolves to its result, JSON-copied. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Resolves once `fn()` is truthy in the page; rejects after `timeoutMs`. */
  waitFor(fn: () => unknown, timeoutMs?: number): Promise<void>;
  /** Reloads the page; init scripts run again before the page's own, then waits until it is ready. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Page path on the server (default: the fixture, tests/browser/fixture.html). */
  path?: string;
  /**
   * Runs before the page's scripts, again on every reload. Chromium and Firefox: a real init
   * script. WebKit (WebDriver classic has none): the fixture is opened with ?defer, `init` runs,
   * then the fixture imports the bundle; so there it is supported on the fixture page only.
   */
  init?: () => void;
  /** When the page is ready (default, on the fixture: `window.elex` is set). */
  ready?: () => unknown;
}

/** A running browser with a fresh profile and the static server. */
export interface Browser {
  engine: BrowserEngine;
  /** The browser's own name and version, e.g. 'firefox/153.8.0'. */
  version: string;
  /** `http://127.0.0.1:<port>` + path. */
  url(path: string): string;
  /** A new tab on `options.path` (default the fixture with the bundle as window.elex), ready. */
  open(options?: OpenOptions): Promise<BrowserPage>;
  /** Closes the browser and everything started for it (driver, display, server); never throws. */
  close(): Promise<void>;
}

/** What a driver provides: tabs that navigate, evaluate source text and reload. */
export interface DriverTab {
  /** Navigates to `url`, running `init` (function source) before the page's scripts. */
  goto(url: string, init: string | undefined): Promise<void>;
  /** Evaluates `expression` (source text of a promise of a JSON string) and resolves to that string. */
  evaluate(expression: string): Promise<string>;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface Driver {
  version: string;
  newTab(): Promise<DriverTab>;
  close(): Promise<void>;
}

interface Server {
  port: number;
  close(): Promise<void>;
}
const { startServer } = require('../../examples/browser/serve.cjs') as {
  startServer(port?: number, root?: string): Promise<Server>;
};

/** `promise`, or a rejection naming `what` after `ms` (the timer never outlives the promise). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const FIXTURE = '/tests/browser/fixture.html';
const elexLoaded = () => (window as unknown as { elex?: unknown }).elex !== undefined;

/** The expression evaluating `fn(arg)` to a promise of its JSON text. */
function call(fn: (arg: never) => unknown, arg: unknown): string {
  const json = JSON.stringify(arg === undefined ? null : arg);
  return `Promise.resolve().then(() => (${fn.toString()})(${json})).then((r) => JSON.stringify(r === undefined ? null : r))`;
}

function pageOn(tab: DriverTab, ready: () => unknown): BrowserPage {
  const page: BrowserPage = {
    async evaluate(fn, arg) {
      return JSON.parse(await tab.evaluate(call(fn, arg)));
    },
    async waitFor(fn, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (await page.evaluate(fn as () => unknown)) return;
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${fn.toString()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async reload() {
      await tab.reload();
      await page.waitFor(ready);
    },
    close: () => tab.close(),
  };
  return page;
}

async function launch(engine: BrowserEngine): Promise<Driver> {
  if (engine.name === 'webkit') return (await import('./browser-webkit')).launchWebKit();
  return (await import('./browser-puppeteer')).launchPuppeteer(engine.name);
}

/**
 * Starts the static server (serving `root`, default the repository) and `engine` with a fresh
 * profile. Cost: Chromium ~1 s, Firefox ~4 s, WebKit ~3 s.
 */
export async function startBrowser(engine: BrowserEngine, root?: string): Promise<Browser> {
  const server = await startServer(0, root);
  let driver: Driver;
  try {
    driver = await launch(engine);
  } catch (error) {
    await server.close();
    throw error;
  }
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
  return {
    engine,
    version: driver.version,
    url,
    async open(options = {}) {
      const path = options.path ?? FIXTURE;
      const ready = options.ready ?? (path === FIXTURE ? elexLoaded : () => true);
      const tab = await driver.newTab();
      await tab.goto(url(path), options.init?.toString());
      const page = pageOn(tab, ready);
      await page.waitFor(ready);
      return page;
    },
    async close() {
      await driver.close().catch((e) => console.error(`closing ${engine.label}: ${String(e)}`));
      await server.close();
    },
  };
}
