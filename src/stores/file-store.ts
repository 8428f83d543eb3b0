/**
 * A store in a directory (Node): one file per key, named as src/stores/file-names.ts says. A
 * write goes to a temporary file in the same directory (`<name>.<pid>.<n>.tmp`), is fsynced,
 * renamed over the old file, and then the directory is fsynced, so after a crash the file holds
 * the old bytes or the new ones, never a torn mix, and a completed write survives power loss.
 * On first use the store removes the temporary files a crashed writer left (those of processes
 * no longer running). Files it did not write are ignored. Node built-ins are imported on first
 * use, so the class can ship in browser bundles unused.
 *
 * One process at a time writes a directory: the first write or delete (or `lock()`) takes the
 * directory's lock file `.elex-lock` (owner's pid, host, start time); another process's write
 * then throws StoreLockedError (`E_LOCKED`) until the owner calls `close()` or exits (a lock whose
 * process no longer runs is taken over). Reads and keys() take no lock. FileStores of one process
 * over one directory share its lock (src/stores/file-lock.ts).
 */
import { StoreError, InvalidArgumentError } from '../errors.js';
import type { AgentStore } from './byte-store.js';
import { fileNameOf, keyOfFileName } from './file-names.js';
import { lockDirectory, running, unlockDirectory } from './file-lock.js';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** A temporary file: the target's name, the writing process's pid, a counter. */
const TEMP = /^(.+)\.(\d+)\.(\d+)\.tmp$/;
/** A lock file's temporary (src/stores/file-lock.ts): the writing process's pid. */
const LOCK_TEMP = /^\.elex-lock\.(\d+)\.\d+\.locktmp$/;
/** Errors of fsync on a directory where the platform cannot do it (Windows, some file systems). */
const NO_DIR_SYNC = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF']);

let tempCounter = 0;
/** Temporary files this process is writing now: never cleaned up from under a write. */
const writing = new Set<string>();

/**
 * `dir` as an absolute, normalised path (against the working directory now; '.' and '..'
 * segments and repeated separators resolved; on Windows '\\' as '/'), without Node's path
 * module (imported lazily). Symbolic links are not followed. Cost: O(path).
 */
function absoluteDir(dir: string): string {
  const proc = (globalThis as { process?: { platform?: string; cwd?: () => string } }).process;
  const windows = proc?.platform === 'win32';
  const slashes = (p: string): string => (windows ? p.replace(/\\/g, '/') : p);
  let p = slashes(dir);
  const absolute = windows ? /^([a-zA-Z]:)?\//.test(p) : p.startsWith('/');
  if (!absolute && typeof proc?.cwd === 'function') p = `${slashes(proc.cwd())}/${p}`;
  const drive = windows ? (/^[a-zA-Z]:/.exec(p)?.[0] ?? '') : '';
  const out: string[] = [];
  for (const segment of p.slice(drive.length).split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `${drive}/${out.join('/')}`;
}

/** Whether this process runs on Windows (paths compare without case there). */
function onWindows(): boolean {
  return (globalThis as { process?: { platform?: string } }).process?.platform === 'win32';
}

/**
 * A {@link ByteStore} in a directory (Node): one file per key, each write atomic and durable
 * (temporary file, fsync, rename, directory fsync), so after a crash a file holds the old bytes
 * or the new ones. In the browser bundle, constructing one throws {@link StoreError}.
 *
 * @example
 * ```ts
 * const store = new FileStore('./data');
 * await index.save(store, 'docs');
 * const again = await engine.openIndex(store, 'docs');
 * ```
 */
export class FileStore implements AgentStore {
  /** The directory files are written to (created on first write). */
  readonly dir: string;
  /**
   * 'file:' and the directory's absolute path (resolved when constructed): every FileStore
   * over one directory has the same identity, so an index's saves through any of them are one
   * save target (one log, one queue). See ByteStore.identity.
   */
  readonly identity: string;
  /**
   * `dir` made absolute once, when constructed: every file operation, the lock and the identity
   * name the same directory, whatever the working directory or a symbolic link before a '..'.
   */
  private readonly path: string;
  private modules: Promise<[Fs, Path]> | null = null;
  /** The directory's real path while this object holds its lock; taking it, the promise. */
  private locked: Promise<string> | null = null;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('FileStore needs a directory path');
    this.dir = dir;
    this.path = absoluteDir(dir);
    this.identity = `file:${onWindows() ? this.path.toLowerCase() : this.path}`;
  }

  /** Node's fs and path, and on first use the removal of stale temporary files. */
  private open(): Promise<[Fs, Path]> {
    this.modules ??= Promise.all([import('node:fs/promises'), import('node:path')]).then(async (modules) => {
      await this.removeStaleTemps(modules[0], modules[1]);
      return modules;
    });
    return this.modules;
  }

  /**
   * Takes the directory's write lock for this process now (writes and deletes take it on their
   * own; creates the directory). Throws StoreLockedError (E_LOCKED) if another running process
   * holds it, StoreError if the file system fails. Cost: a few small file operations, once.
   */
  async lock(): Promise<void> {
    const [fs, path] = await this.open();
    const taking = (this.locked ??= lockDirectory(fs, path, this.path, this));
    try {
      await taking;
    } catch (error) {
      if (this.locked === taking) this.locked = null; // not a newer attempt started since
      throw error;
    }
  }

  /**
   * Ends this object's hold on the directory's lock: when no other FileStore of the process over
   * the directory holds it, the lock file is removed and another process may write. A later
   * write takes the lock again. Call it once writes through this object are done.
   */
  async close(): Promise<void> {
    const locked = this.locked;
    if (locked === null) return;
    this.locked = null;
    const real = await locked.catch(() => undefined);
    if (real === undefined) return;
    const [fs] = await this.open();
    await unlockDirectory(fs, real, this);
  }

  /** Removes `<key name>.<pid>.<n>.tmp` files of processes that are not running. Cost: one directory listing. */
  private async removeStaleTemps(fs: Fs, path: Path): Promise<void> {
    const names = await fs.readdir(this.path).catch(() => [] as string[]);
    await Promise.all(
      names.map(async (name) => {
        const file = path.join(this.path, name);
        const lockTemp = LOCK_TEMP.exec(name);
        if (lockTemp !== null && Number(lockTemp[1]) !== process.pid && !running(Number(lockTemp[1]))) {
          await fs.rm(file, { force: true }).catch(() => undefined);
          return;
        }
        const temp = TEMP.exec(name);
        if (temp === null || keyOfFileName(temp[1]) === undefined || writing.has(file)) return;
        const pid = Number(temp[2]);
        if (pid !== process.pid && running(pid)) return;
        await fs.rm(file, { force: true }).catch(() => undefined);
      }),
    );
  }

  /** The bytes of `key`'s file, or undefined if there is none. Cost: one file read. */
  async read(key: string): Promise<Uint8Array | undefined> {
    const name = fileNameOf(key);
    const [fs, path] = await this.open();
    try {
      const data = await fs.readFile(path.join(this.path, name));
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`FileStore could not read '${key}'`, error);
    }
  }

  /**
   * Writes `key`'s file atomically and durably: temp file, fsync, rename, fsync of the
   * directory. Cost: one file write and two fsyncs.
   */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    const name = fileNameOf(key);
    const [fs, path] = await this.open();
    await this.lock();
    const target = path.join(this.path, name);
    const temp = `${target}.${process.pid}.${(tempCounter = (tempCounter + 1) % 1e9)}.tmp`;
    writing.add(temp);
    try {
      await fs.mkdir(this.path, { recursive: true });
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
      await this.syncDir(fs);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw new StoreError(`FileStore could not write '${key}'`, error);
    } finally {
      writing.delete(temp);
    }
  }

  /** Fsyncs the directory, so a rename into it is durable (where the platform can). */
  private async syncDir(fs: Fs): Promise<void> {
    let dir: Awaited<ReturnType<Fs['open']>> | undefined;
    try {
      dir = await fs.open(this.path, 'r');
      await dir.sync();
    } catch (error) {
      if (!NO_DIR_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    } finally {
      await dir?.close();
    }
  }

  /** Removes `key`'s file if present. */
  async delete(key: string): Promise<void> {
    const name = fileNameOf(key);
    const [fs, path] = await this.open();
    await this.lock();
    try {
      await fs.rm(path.join(this.path, name), { force: true });
    } catch (error) {
      throw new StoreError(`FileStore could not delete '${key}'`, error);
    }
  }

  /** Keys of every file this store wrote in the directory; other files and folders are ignored. */
  async keys(): Promise<string[]> {
    const [fs] = await this.open();
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(this.path, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError('FileStore could not list its directory', error);
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const key = entry.isFile() ? keyOfFileName(entry.name) : undefined;
      if (key !== undefined) keys.push(key);
    }
    return keys;
  }
}
