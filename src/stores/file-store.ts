/**
 * An AgentStore in a directory (Node): one file per agent, `<encoded id>.agent`. A write goes
 * to a temporary file in the same directory, is flushed to disk, then renamed over the old
 * file, so a crash mid-write leaves the old file or the new one, never a torn one.
 * Node built-ins are imported on first use, so the class can ship in browser bundles unused.
 */
import { InvalidArgumentError, StoreError } from '../errors.js';
import type { AgentStore } from './agent-store.js';

const SUFFIX = '.agent';
const MAX_NAME = 200;

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

/** A file name for `id`: percent-encoded, dots too, so no id can name another path. */
function fileName(id: string): string {
  const name = encodeURIComponent(id).replace(/\./g, '%2E').replace(/\*/g, '%2A') + SUFFIX;
  if (name.length > MAX_NAME) throw new InvalidArgumentError(`agent id is too long for a file name (${name.length} > ${MAX_NAME} encoded)`);
  return name;
}

let tempCounter = 0;

export class FileStore implements AgentStore {
  /** The directory agents are written to (created on first write). */
  readonly dir: string;
  private modules: Promise<[Fs, Path]> | null = null;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('FileStore needs a directory path');
    this.dir = dir;
  }

  private load(): Promise<[Fs, Path]> {
    this.modules ??= Promise.all([import('node:fs/promises'), import('node:path')]);
    return this.modules;
  }

  /** The bytes of `id`'s file, or undefined if there is none. Cost: one file read. */
  async read(id: string): Promise<Uint8Array | undefined> {
    const [fs, path] = await this.load();
    try {
      const data = await fs.readFile(path.join(this.dir, fileName(id)));
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`FileStore could not read agent '${id}'`, error);
    }
  }

  /** Writes `id`'s file atomically (temp file, fsync, rename). Cost: one file write and fsync. */
  async write(id: string, bytes: Uint8Array): Promise<void> {
    const [fs, path] = await this.load();
    const target = path.join(this.dir, fileName(id));
    const temp = `${target}.${process.pid}.${++tempCounter}.tmp`;
    try {
      await fs.mkdir(this.dir, { recursive: true });
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw new StoreError(`FileStore could not write agent '${id}'`, error);
    }
  }

  /** Removes `id`'s file if present. */
  async delete(id: string): Promise<void> {
    const [fs, path] = await this.load();
    await fs.rm(path.join(this.dir, fileName(id)), { force: true });
  }

  /** Ids of every agent file in the directory. */
  async keys(): Promise<string[]> {
    const [fs] = await this.load();
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreError('FileStore could not list its directory', error);
    }
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => decodeURIComponent(n.slice(0, -SUFFIX.length)));
  }
}
