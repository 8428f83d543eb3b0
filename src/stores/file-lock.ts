/**
 * FileStore's write lock: one process at a time writes a directory. The lock is the file
 * `.elex-lock` in the directory, holding its owner's pid, host, process start time (Linux) and a
 * random token as JSON. It is created atomically with its contents (written to a temporary file,
 * then hard-linked to the lock's name, which fails if the name exists), so a reader never sees a
 * half-written lock.
 *
 * A lock whose owner no longer runs is stale and taken over: its owner is on this host and its pid
 * is not running, or is running but started at another time (the pid was reused). A lock of
 * another host is never judged stale (remove the file by hand). Two processes taking over the same
 * stale lock are serialised by a marker directory named after the stale lock's token (mkdir is
 * atomic), so exactly one replaces it.
 *
 * Within a process, every FileStore over one directory shares the lock (a registry keyed by the
 * directory's real path, shared by every copy of this module in the process): it is taken at the
 * first write or delete of any of them (or their `lock()`), and released when the last of those
 * has called `close()`, or when the process exits.
 */
import { StoreError, StoreLockedError, type LockOwner } from '../errors.js';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type FsSync = typeof import('node:fs');

/** The lock file's name; never a key's file name (those end in '.agent'). */
export const LOCK_NAME = '.elex-lock';
/** A takeover marker older than this is left over from a process killed while taking over. */
const MARKER_STALE_MS = 10_000;

interface LockRecord extends LockOwner {
  /** Process start time (clock ticks since boot, Linux), '' where unknown. */
  readonly start: string;
  /** Random: tells this lock from another of the same process. */
  readonly token: string;
}

/** One directory's lock as this process holds it. */
interface Held {
  /** The lock file's path. */
  file: string;
  /** Our lock's token, once taken. */
  token: string | undefined;
  /** The objects (FileStores) holding it. */
  holders: Set<object>;
  /** Taking or releasing it: operations on one directory run one after another. */
  queue: Promise<unknown>;
}

interface Registry {
  held: Map<string, Held>;
  fsSync: FsSync | undefined;
  exitHook: boolean;
}

const REGISTRY_KEY = Symbol.for('elex-wasm.file-store-locks');
const registry: Registry =
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Registry | undefined) ??
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = {
    held: new Map(),
    fsSync: undefined,
    exitHook: false,
  } as Registry);

let tempCounter = 0;

/** The host's name, or '' where unavailable. */
async function hostName(): Promise<string> {
  try {
    return (await import('node:os')).hostname();
  } catch {
    return '';
  }
}

/** Process `pid`'s start time from /proc (Linux), '' elsewhere or if it does not run. */
async function startTime(fs: Fs, pid: number): Promise<string> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * Whether process `pid` may be running: false only when the system says no such process
 * (ESRCH). A process of another user counts (EPERM), and so does a check the runtime refuses
 * (Deno without --allow-run): a lock is then never taken from it, nor its temp files removed.
 */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function parse(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as LockRecord;
    return Number.isInteger(r.pid) && typeof r.host === 'string' && typeof r.token === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The lock file's record; undefined if there is none; 'unreadable' if it is not a lock record. */
async function readLock(fs: Fs, file: string): Promise<LockRecord | undefined | 'unreadable'> {
  try {
    return parse(await fs.readFile(file, 'utf8')) ?? 'unreadable';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether `record`'s owner may still be running. */
async function alive(fs: Fs, record: LockRecord, host: string): Promise<boolean> {
  if (record.host !== host) return true; // cannot tell: never taken over
  if (!running(record.pid)) return false;
  if (record.start === '') return true;
  const now = await startTime(fs, record.pid);
  return now === '' || now === record.start;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the lock file with `text` atomically; false if it exists. */
async function create(fs: Fs, file: string, text: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${(tempCounter = (tempCounter + 1) % 1e9)}.locktmp`;
  await fs.writeFile(temp, text);
  try {
    await fs.link(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    // No hard links on this file system: exclusive create, then the contents.
    try {
      await fs.writeFile(file, text, { flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

/** Replaces the stale lock `stale` (if it is still the lock file) under its takeover marker. */
async function takeOver(fs: Fs, file: string, stale: LockRecord | 'unreadable'): Promise<void> {
  const marker = `${file}.${stale === 'unreadable' ? 'unreadable' : stale.token.replace(/[^a-z0-9]/gi, '')}.takeover`;
  try {
    await fs.mkdir(marker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const stat = await fs.stat(marker).catch(() => undefined);
    if (stat !== undefined && Date.now() - stat.mtimeMs > MARKER_STALE_MS)
      await fs.rmdir(marker).catch(() => undefined);
    else await sleep(10); // another process is taking over: look again
    return;
  }
  try {
    const now = await readLock(fs, file);
    const same =
      now === 'unreadable'
        ? stale === 'unreadable'
        : now !== undefined && stale !== 'unreadable' && now.token === stale.token;
    if (same) await fs.rm(file, { force: true });
  } finally {
    await fs.rmdir(marker).catch(() => undefined);
  }
}

/** Takes the lock on `held.file` for this process. Throws StoreLockedError if a running process holds it. */
async function acquire(fs: Fs, held: Held): Promise<void> {
  const host = await hostName();
  const mine: LockRecord = {
    pid: process.pid,
    host,
    since: new Date().toISOString(),
    start: await startTime(fs, process.pid),
    token: `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`,
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await create(fs, held.file, JSON.stringify(mine))) {
      held.token = mine.token;
      return;
    }
    const other = await readLock(fs, held.file);
    if (other === undefined) continue; // released meanwhile
    if (other !== 'unreadable') {
      if (other.pid === process.pid && other.host === host && other.start === mine.start) {
        held.token = other.token; // this process's own lock (another copy of elex-wasm in it)
        return;
      }
      if (await alive(fs, other, host))
        throw new StoreLockedError(held.file.slice(0, -LOCK_NAME.length - 1), {
          pid: other.pid,
          host: other.host,
          since: other.since,
        });
    } else {
      // Not a lock record: from a file system without hard links, a lock being written now. Give it time.
      const stat = await fs.stat(held.file).catch(() => undefined);
      if (stat !== undefined && Date.now() - stat.mtimeMs < 2000) {
        await sleep(50);
        continue;
      }
    }
    await takeOver(fs, held.file, other);
  }
  throw new StoreError(`FileStore could not take the lock '${held.file}'`, undefined);
}

/** Removes the lock file if it is still ours. */
async function release(fs: Fs, held: Held): Promise<void> {
  const token = held.token;
  held.token = undefined;
  if (token === undefined) return;
  const now = await readLock(fs, held.file).catch(() => undefined);
  if (now !== undefined && now !== 'unreadable' && now.token === token) await fs.rm(held.file, { force: true });
}

/** At exit, removes every lock this process still holds (synchronously). */
function exitHook(): void {
  const fs = registry.fsSync;
  if (fs === undefined) return;
  for (const held of registry.held.values()) {
    if (held.token === undefined) continue;
    try {
      const now = parse(fs.readFileSync(held.file, 'utf8'));
      if (now?.token === held.token) fs.rmSync(held.file, { force: true });
    } catch {
      // gone already, or unreadable: leave it (a stale lock is taken over)
    }
  }
}

/** Runs `step` after every earlier step on `held`. */
function queued<T>(held: Held, step: () => Promise<T>): Promise<T> {
  const run = held.queue.then(step, step);
  held.queue = run.catch(() => undefined);
  return run;
}

/**
 * Makes `holder` (a FileStore) a holder of directory `dir`'s lock, taking the lock for this
 * process if no other object in it holds it. Throws StoreLockedError (another running process
 * holds it), StoreError (the file system failed). Cost: a few small file operations the first
 * time per directory, nothing after.
 */
export async function lockDirectory(fs: Fs, path: Path, dir: string, holder: object): Promise<string> {
  let real: string;
  try {
    await fs.mkdir(dir, { recursive: true });
    real = await fs.realpath(dir);
  } catch (error) {
    throw new StoreError(`FileStore could not create its directory '${dir}'`, error);
  }
  let held = registry.held.get(real);
  if (held === undefined) {
    held = { file: path.join(real, LOCK_NAME), token: undefined, holders: new Set(), queue: Promise.resolve() };
    registry.held.set(real, held);
  }
  const h = held;
  await queued(h, async () => {
    if (h.token === undefined) {
      try {
        await acquire(fs, h);
      } catch (error) {
        if (error instanceof StoreError) throw error;
        throw new StoreError(`FileStore could not take the lock of '${dir}'`, error);
      }
      if (!registry.exitHook && typeof process?.on === 'function') {
        registry.fsSync = await import('node:fs');
        process.on('exit', exitHook);
        registry.exitHook = true;
      }
    }
    h.holders.add(holder);
  });
  return real;
}

/**
 * Ends `holder`'s hold on the lock of the directory `real` (what lockDirectory returned); the
 * last holder of the process removes the lock file.
 */
export async function unlockDirectory(fs: Fs, real: string, holder: object): Promise<void> {
  const held = registry.held.get(real);
  if (held === undefined) return;
  await queued(held, async () => {
    if (!held.holders.delete(holder) || held.holders.size > 0) return;
    await release(fs, held).catch((error) => {
      throw new StoreError(`FileStore could not remove its lock '${held.file}'`, error);
    });
  });
}
