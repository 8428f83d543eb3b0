/**
 * WebKitGTK through selenium-webdriver: a private Xvfb display (-displayfd picks a free one),
 * /usr/bin/WebKitWebDriver on a free port in its own process group, and a MiniBrowser session.
 * close() quits the session, then kills the driver's whole process group (MiniBrowser and its
 * WebKit helper processes with it) and Xvfb; a process 'exit' hook does the same if jest ends
 * without reaching afterAll.
 *
 * WebDriver classic has no init scripts: a tab with `init` opens the fixture with ?defer, runs
 * `init`, then calls the fixture's window.loadElex(), so `init` still runs before the bundle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { MINIBROWSER, WEBKIT_DRIVER, XVFB, withTimeout, type Driver, type DriverTab } from './browser';

/** The part of selenium-webdriver used here (it ships no types; @types/selenium-webdriver is not installed). */
interface WebDriver {
  get(url: string): Promise<void>;
  executeScript(script: string): Promise<unknown>;
  executeAsyncScript(script: string): Promise<unknown>;
  getWindowHandle(): Promise<string>;
  getCapabilities(): Promise<{ get(key: string): unknown }>;
  switchTo(): { window(handle: string): Promise<void>; newWindow(type: 'tab' | 'window'): Promise<void> };
  navigate(): { refresh(): Promise<void> };
  manage(): { setTimeouts(timeouts: { script?: number; pageLoad?: number }): Promise<void> };
  close(): Promise<void>;
  quit(): Promise<void>;
}
interface SeleniumBuilder {
  usingServer(url: string): SeleniumBuilder;
  withCapabilities(capabilities: object): SeleniumBuilder;
  build(): Promise<WebDriver>;
}
const { Builder } = require('selenium-webdriver') as { Builder: new () => SeleniumBuilder };

/** Resolves when `child` has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Kills `child`'s process group (it was spawned detached, so it leads one); ignores a group already gone. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL after 3 s, resolves once the leader has exited. */
async function stop(child: ChildProcess): Promise<void> {
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
  await exited(child);
  clearTimeout(timer);
  killGroup(child, 'SIGKILL'); // stragglers left in the group after the leader exited
}

/** Starts Xvfb on a display it picks itself; resolves to the process and ':N'. */
function startXvfb(): Promise<{ xvfb: ChildProcess; display: string }> {
  const xvfb = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  xvfb.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let out = '';
    const fd = xvfb.stdio[3] as NodeJS.ReadableStream;
    fd.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve({ xvfb, display: `:${out.trim()}` });
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before opening a display: ${stderr.trim()}`)));
    xvfb.once('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts WebKitWebDriver on a free port (retrying if another process took it) and waits for /status. */
async function startDriver(display: string): Promise<{ driver: ChildProcess; url: string }> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, DISPLAY: display },
    });
    let stderr = '';
    driver.stderr!.on('data', (chunk) => (stderr += chunk));
    const url = `http://127.0.0.1:${port}`;
    const until = Date.now() + 15_000;
    while (Date.now() < until && driver.exitCode === null) {
      try {
        const status = await fetch(`${url}/status`);
        if (status.ok) return { driver, url };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastError = `WebKitWebDriver on port ${port}: ${driver.exitCode === null ? 'no /status in 15 s' : `exited ${driver.exitCode}`} ${stderr.trim()}`;
    await stop(driver);
  }
  throw new Error(lastError);
}

/** Serializes WebDriver calls: the session has one current window, so each tab switches to its own first. */
function queue() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}

function tabOn(session: WebDriver, handle: string, home: string, serial: ReturnType<typeof queue>): DriverTab {
  let url = '';
  let init: string | undefined;
  const inTab = <T>(work: () => Promise<T>) =>
    serial(async () => {
      await session.switchTo().window(handle);
      return work();
    });
  /** After a (re)load: run `init`, then let the deferred fixture import the bundle. */
  const runInit = async () => {
    if (init === undefined) return;
    const hooked = await session.executeScript(`return typeof window.loadElex === 'function';`);
    if (!hooked) throw new Error(`init scripts in WebKit need the fixture page (?defer hook); ${url} has none`);
    await session.executeScript(`(${init})(); window.loadElex();`);
  };
  return {
    goto(target, initSource) {
      init = initSource;
      url = init === undefined ? target : `${target}${target.includes('?') ? '&' : '?'}defer`;
      return inTab(async () => {
        await session.get(url);
        await runInit();
      });
    },
    evaluate(expression) {
      return inTab(async () => {
        const out = (await session.executeAsyncScript(
          `const done = arguments[arguments.length - 1];
           (${expression}).then((json) => done({ json }), (e) => done({ error: e && e.stack ? e.name + ': ' + e.message + '\\n' + e.stack : String(e) }));`,
        )) as { json?: string; error?: string };
        if (out.error !== undefined) throw new Error(`in WebKit: ${out.error}`);
        return out.json as string;
      });
    },
    reload() {
      return inTab(async () => {
        await session.navigate().refresh();
        await runInit();
      });
    },
    close() {
      return serial(async () => {
        await session.switchTo().window(handle);
        await session.close();
        await session.switchTo().window(home);
      });
    },
  };
}

/** Starts Xvfb, WebKitWebDriver and a MiniBrowser session. */
export async function launchWebKit(): Promise<Driver> {
  const started: ChildProcess[] = [];
  const onExit = () => started.forEach((child) => killGroup(child, 'SIGKILL'));
  process.on('exit', onExit);
  const cleanUp = async () => {
    for (const child of started.reverse()) await stop(child);
    process.off('exit', onExit);
  };
  let session: WebDriver | undefined;
  try {
    const { xvfb, display } = await startXvfb();
    started.push(xvfb);
    const { driver, url } = await startDriver(display);
    started.push(driver);
    session = await withTimeout(
      new Builder()
        .usingServer(url)
        .withCapabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        })
        .build(),
      60_000,
      'starting a MiniBrowser session',
    );
    await session.manage().setTimeouts({ script: 180_000, pageLoad: 60_000 });
    const caps = await session.getCapabilities();
    const home = await session.getWindowHandle();
    const serial = queue();
    const live = session;
    return {
      version: `${caps.get('browserName')}/${caps.get('browserVersion')}`,
      async newTab() {
        const handle = await serial(async () => {
          await live.switchTo().newWindow('tab');
          return live.getWindowHandle();
        });
        return tabOn(live, handle, home, serial);
      },
      async close() {
        try {
          await withTimeout(live.quit(), 10_000, 'quitting the MiniBrowser session');
        } finally {
          await cleanUp();
        }
      },
    };
  } catch (error) {
    if (session) await withTimeout(session.quit(), 10_000, 'quitting').catch(() => undefined);
    await cleanUp();
    throw error;
  }
}
