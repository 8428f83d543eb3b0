/** Agent ids and FileStore names: what is refused, how files are named, stray files, temp files, directory fsync. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, FileStore, InvalidArgumentError, MemoryStore, StoreError } from '../../src/index';
import { QTABLE } from '../helpers/agents';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'elex-files-'));
  dirs.push(d);
  return d;
}

const LONE = ['\uD800', 'a\uDC00b', 'x\uDBFF', '\uDFFF\uD800'];
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

test('the cache refuses ids that cannot be stored and read back: lone surrogates, too long, empty', async () => {
  const engine = await Engine.create();
  for (const store of [new MemoryStore(), new FileStore(tempDir())]) {
    const agents = engine.createAgentCache({ store, qtable: QTABLE });
    for (const id of [...LONE, '', 'y'.repeat(129), 'é'.repeat(65), '@index/x', 5 as unknown as string]) {
      await expect(agents.get(id)).rejects.toThrow(InvalidArgumentError);
    }
    expect(agents.size).toBe(0);
    for (const id of ['é'.repeat(64), 'Y'.repeat(128)]) {
      // 128 UTF-8 bytes: accepted, stored, read back
      await agents.use(id, (a) => a.q.update(0, 0, 1, 0, true));
      await agents.evict(10);
      expect(agents.has(id)).toBe(false);
      expect(await agents.use(id, (a) => a.q.visits(0, 0))).toBe(1);
    }
    await agents.close();
  }
  engine.dispose();
});

test('FileStore: typed E_ARGUMENT for a bad id in every method, never a raw URIError or E_STORE', async () => {
  const store = new FileStore(tempDir());
  for (const id of [...LONE, 'z'.repeat(230), 'é'.repeat(70), '', 7 as unknown as string]) {
    for (const call of [() => store.read(id), () => store.write(id, new Uint8Array(1)), () => store.delete(id)]) {
      const error = await call().catch((e) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).not.toBeInstanceOf(StoreError);
    }
  }
});

test('FileStore names: no two ids collide case-insensitively, no reserved device names, every id round trips', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  const ids = [
    'agent',
    'Agent',
    'AGENT',
    'con',
    'CON',
    'Aux',
    'nul',
    'com1',
    'LPT9',
    'con.txt',
    'prn.agent',
    'a b',
    'a.',
    ' ',
    '..',
    '.',
    'x/y',
    'x\\y',
    'ü',
    'u\u0308',
    '%41',
    '%',
    'a:b*c?"<>|',
    '😀',
    '~x',
    '\uFEFFbom',
    'é'.repeat(64),
    'Q'.repeat(128),
    'q'.repeat(128),
  ];
  for (const [i, id] of ids.entries()) await store.write(id, new Uint8Array([i]));
  const names = readdirSync(dir).filter((n) => n !== '.elex-lock'); // the directory's write lock, this process's
  expect(names.length).toBe(ids.length);
  expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(ids.length);
  for (const name of names) {
    expect(name).toMatch(/^([a-z0-9_%A-F-]+|~[a-z2-7]+)\.agent$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name.split('.')[0]).not.toMatch(WINDOWS_RESERVED);
  }
  expect((await store.keys()).sort()).toEqual([...ids].sort());
  for (const [i, id] of ids.entries()) expect(Array.from((await store.read(id))!)).toEqual([i]);
});

test('FileStore.keys() ignores files and folders it did not write', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  await store.write('real', new Uint8Array([1]));
  const foreign = [
    'notes.txt',
    'README',
    '%zz.agent',
    '%E0%A4%A.agent',
    '%ED%A0%80.agent',
    'Upper.agent',
    '%61.agent',
    '.agent',
    'x.agent.bak',
    '~.agent',
    '~1.agent',
    '~mfrgg.agent',
    '~nb.agent',
  ];
  for (const name of foreign) {
    writeFileSync(join(dir, name), 'foreign');
  }
  mkdirSync(join(dir, 'folder.agent'));
  expect(await store.keys()).toEqual(['real']);
  expect(await new FileStore(dir).keys()).toEqual(['real']);
});

test('FileStore names one directory for its files, its lock and its identity, whatever link precedes a ..', async () => {
  const base = tempDir();
  mkdirSync(join(base, 'x'));
  mkdirSync(join(base, 'real'));
  symlinkSync(join(base, 'real'), join(base, 'x', 'lnk'));
  // The OS resolves x/lnk/../sub to real/../sub = base/sub; the identity (lexical) says base/x/sub.
  const store = new FileStore(`${base}/x/lnk/../sub`); // not join(): it would drop the .. itself
  await store.write('k', new Uint8Array([7]));
  expect(readdirSync(join(base, 'x', 'sub')).sort()).toEqual(['.elex-lock', 'k.agent']);
  expect(existsSync(join(base, 'sub'))).toBe(false);
  expect(await store.keys()).toEqual(['k']);
  const same = new FileStore(join(base, 'x', 'sub'));
  expect(same.identity).toBe(store.identity);
  expect(Array.from((await same.read('k'))!)).toEqual([7]);
  await same.write('k2', new Uint8Array([8])); // one lock in this process, shared
  expect((await store.keys()).sort()).toEqual(['k', 'k2']);
  await store.close();
  await same.close();
  expect(readdirSync(join(base, 'x', 'sub')).sort()).toEqual(['k.agent', 'k2.agent']);
});

test('FileStore removes the temp files a crashed writer left, on first use', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  await store.write('kept', new Uint8Array([7]));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const stray = [`kept.agent.${dead}.1.tmp`, `other.agent.${dead}.99.tmp`];
  for (const name of stray) writeFileSync(join(dir, name), 'half a write');
  const reopened = new FileStore(dir);
  expect(await reopened.read('kept')).toEqual(new Uint8Array([7]));
  expect(readdirSync(dir).sort()).toEqual(['.elex-lock', 'kept.agent']); // the lock: this process writes the directory
  expect(await reopened.keys()).toEqual(['kept']);
});

test('FileStore fsyncs the directory after the rename', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  const calls: string[] = [];
  const open = fsp.open;
  const realRename = fsp.rename;
  const spy = jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof open>) => {
    const handle = await open(...args);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      calls.push(`sync ${String(args[0])}`);
      return sync();
    };
    return handle;
  });
  const rename = jest.spyOn(fsp, 'rename');
  rename.mockImplementation(async (from, to) => {
    calls.push('rename');
    return realRename(from, to);
  });
  try {
    await store.write('a', new Uint8Array([1]));
  } finally {
    spy.mockRestore();
    rename.mockRestore();
  }
  expect(calls.length).toBe(3);
  expect(calls[0]).toMatch(/\.tmp$/);
  expect(calls.slice(1)).toEqual(['rename', `sync ${dir}`]);
});
