/**
 * FileStore's write lock across processes (tests/stores/crash/file-lock-child.cjs, real Node
 * children using the built package): a second process writing a directory another running
 * process writes gets StoreLockedError (E_LOCKED) naming the owner, and nothing is overwritten;
 * once the owner is SIGKILLed (or closes) the lock is taken over; stale locks (dead pid, reused
 * pid, unreadable file) are taken over, another host's never; several processes taking over one
 * stale lock at once: exactly one gets it. FileStores of one process share its lock. LangChain's
 * save(directory) from two processes: the second is refused.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Engine, FileStore, StoreError, StoreLockedError } from '../../src/index';
import { ElexVectorStore } from '../../src/langchain/index';
import { cleanTempDirs, tempDir } from '../helpers/index-store';

const root = join(__dirname, '..', '..');
const childScript = join(__dirname, 'crash', 'file-lock-child.cjs');
const LOCK = '.elex-lock';
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));
const bytes = (s: string) => new TextEncoder().encode(s);

/** A running child and its stdout lines. */
interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the next line it prints (rejects if it exits first). */
  next(): Promise<string>;
  exited: Promise<void>;
}

function start(args: string[]): Child {
  const proc = spawn(process.execPath, [childScript, ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  let read = 0;
  const waiting: (() => void)[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    waiting.splice(0).forEach((w) => w());
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      waiting.splice(0).forEach((w) => w());
      resolve();
    }),
  );
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (read < lines.length) resolve(lines[read++]);
        else if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`child exited: ${stderr}`));
        else waiting.push(check);
      };
      check();
    });
  return { proc, lines, next, exited };
}

async function kill(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

/** Runs a child to its end; its one JSON line. */
async function once(args: string[]): Promise<{ code: string; owner?: number }> {
  const child = start(args);
  const line = await child.next();
  await child.exited;
  return JSON.parse(line);
}

const lockOwner = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK), 'utf8')).pid as number;

beforeAll(() => {
  expect(existsSync(join(root, 'dist', 'cjs', 'stores', 'file-lock.js'))).toBe(true); // run `npm run build` first
});
afterAll(cleanTempDirs);

test('a second process gets E_LOCKED naming the owner, nothing is overwritten; after SIGKILL of the owner the lock is taken over', async () => {
  const dir = join(tempDir('elex-lock-'), 'store');
  const owner = start(['write', dir, 'a', 'from owner']);
  expect(await owner.next()).toBe('ready');
  expect(lockOwner(dir)).toBe(owner.proc.pid);

  // This process is the second one: writes and deletes are refused, reads work.
  const store = new FileStore(dir);
  const refused = await store.write('a', bytes('from second')).catch((e) => e);
  expect(refused).toBeInstanceOf(StoreLockedError);
  expect(refused).toBeInstanceOf(StoreError);
  expect(refused.code).toBe('E_LOCKED');
  expect(refused.owner).toMatchObject({ pid: owner.proc.pid, host: hostname() });
  await expect(store.delete('a')).rejects.toMatchObject({ code: 'E_LOCKED' });
  await expect(store.lock()).rejects.toMatchObject({ code: 'E_LOCKED' });
  expect(text(await store.read('a'))).toBe('from owner');
  expect(await store.keys()).toEqual(['a']);

  // The owner dies without releasing: its lock is stale and taken over.
  await kill(owner);
  expect(existsSync(join(dir, LOCK))).toBe(true);
  await store.write('a', bytes('from second'));
  expect(lockOwner(dir)).toBe(process.pid);
  expect(text(await store.read('a'))).toBe('from second');

  // Now a third process is refused, naming this one; once this one closes, it may write.
  expect(await once(['try', dir, 'a', 'from third'])).toEqual({ code: 'E_LOCKED', owner: process.pid });
  expect(text(await store.read('a'))).toBe('from second');
  await store.close();
  expect(existsSync(join(dir, LOCK))).toBe(false);
  expect(await once(['try', dir, 'a', 'from third'])).toEqual({ code: 'ok' });
  expect(text(await store.read('a'))).toBe('from third');
  // The third exited normally: its exit removed its lock, so this process writes again.
  expect(existsSync(join(dir, LOCK))).toBe(false);
  await store.write('b', bytes('again'));
  await store.close();
});

test('E_LOCKED reaches agent caches and index saves as it is, and nothing is lost: the flush succeeds once the owner is gone', async () => {
  const dir = join(tempDir('elex-lock-'), 'store');
  const owner = start(['write', dir, 'a', 'from owner']);
  expect(await owner.next()).toBe('ready');
  const engine = await Engine.create({ budgetBytes: 8 << 20 });
  try {
    const store = new FileStore(dir);
    const agents = engine.createAgentCache({ store, qtable: { actions: 2 } });
    await agents.use('agent-1', (agent) => agent.q.update(0, 1, 5, 1, true));
    const refused = await agents.flush().catch((e) => e);
    expect(refused).toBeInstanceOf(StoreLockedError); // not rewrapped as a plain E_STORE
    expect(refused.code).toBe('E_LOCKED');
    expect(agents.has('agent-1')).toBe(true); // kept resident, its update with it
    const index = engine.createIndex({ dim: 2, metric: 'l2' });
    index.add(1, [1, 2]);
    await expect(index.save(store, 'kb')).rejects.toMatchObject({ code: 'E_LOCKED' });
    expect(await store.keys()).toEqual(['a']); // nothing of ours written
    await kill(owner);
    await agents.flush();
    expect((await index.save(store, 'kb')).kind).toBe('checkpoint');
    await agents.close();
    const again = engine.createAgentCache({ store, qtable: { actions: 2 } });
    expect(await again.use('agent-1', (agent) => agent.q.get(0, 1))).toBeCloseTo(0.5, 6); // alpha 0.1 x reward 5
    await again.close();
    await store.close();
  } finally {
    engine.dispose();
    if (owner.proc.exitCode === null && owner.proc.signalCode === null) await kill(owner);
  }
});

test('FileStores of one process share the lock; the last close() removes it', async () => {
  const dir = join(tempDir('elex-lock-'), 'store');
  const s1 = new FileStore(dir);
  const s2 = new FileStore(join(dir, '.', ''));
  await s1.write('x', bytes('1'));
  await s2.write('x', bytes('2'));
  await s2.delete('y');
  expect(lockOwner(dir)).toBe(process.pid);
  await s1.close();
  expect(existsSync(join(dir, LOCK))).toBe(true); // s2 still holds it
  await s2.close();
  expect(existsSync(join(dir, LOCK))).toBe(false);
  await s1.close(); // idempotent
  expect(text(await s1.read('x'))).toBe('2');
});

test('stale locks are taken over (dead pid, reused pid, unreadable old file); a lock of another host never is', async () => {
  const dead = start(['try', join(tempDir('elex-lock-'), 'unused'), 'k', 'v']);
  await dead.exited;
  const sleeper = start(['write', join(tempDir('elex-lock-'), 'other'), 'k', 'v']);
  expect(await sleeper.next()).toBe('ready');
  const record = (pid: number, host: string, start: string) =>
    JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z', start, token: `t${pid}${start}` });
  const cases: [string, string, boolean][] = [
    ['dead pid', record(dead.proc.pid!, hostname(), ''), true],
    ['unreadable', 'garbage', true],
    ['another host', record(dead.proc.pid!, `not-${hostname()}`, ''), false],
    ['running pid', record(sleeper.proc.pid!, hostname(), ''), false],
  ];
  if (existsSync('/proc/self/stat'))
    cases.push(['reused pid (another start time)', record(sleeper.proc.pid!, hostname(), '1'), true]);
  for (const [name, contents, stale] of cases) {
    const dir = join(tempDir('elex-lock-'), 'store');
    const store = new FileStore(dir);
    await store.keys();
    require('node:fs').mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LOCK), contents);
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, LOCK), old, old);
    const result = await store.write('k', bytes(name)).then(
      () => 'ok',
      (e) => e.code,
    );
    expect({ name, result }).toEqual({ name, result: stale ? 'ok' : 'E_LOCKED' });
    expect(text(await store.read('k'))).toBe(stale ? name : undefined);
    await store.close();
  }
  await kill(sleeper);
});

test('four processes taking over one stale lock at once: exactly one gets it', async () => {
  const dir = join(tempDir('elex-lock-'), 'store');
  const dead = start(['try', join(tempDir('elex-lock-'), 'unused'), 'k', 'v']);
  await dead.exited;
  require('node:fs').mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, LOCK),
    JSON.stringify({ pid: dead.proc.pid, host: hostname(), since: '', start: '', token: 'stale' }),
  );
  const children = Array.from({ length: 4 }, () => start(['race', dir]));
  for (const c of children) expect(await c.next()).toBe('ready');
  for (const c of children) c.proc.stdin.write('go\n');
  const results = await Promise.all(
    children.map(async (c) => JSON.parse(await c.next()) as { code: string; owner?: number }),
  );
  const winners = children.filter((_, i) => results[i].code === 'ok');
  expect(winners.length).toBe(1);
  const winner = winners[0].proc.pid;
  for (const r of results) if (r.code !== 'ok') expect(r).toEqual({ code: 'E_LOCKED', owner: winner });
  expect(lockOwner(dir)).toBe(winner);
  for (const c of children) c.proc.stdin.end();
  await Promise.all(children.map((c) => c.exited));
  expect(existsSync(join(dir, LOCK))).toBe(false); // each released at exit
}, 60_000);

test('LangChain save(directory) from two processes: the second is refused, nothing overwritten; taken over after SIGKILL', async () => {
  const dir = join(tempDir('elex-lock-'), 'kb');
  const owner = start(['langchain', dir, 'owner doc']);
  expect(await owner.next()).toBe('ready');
  const embeddings = {
    embedDocuments: async (t: string[]) => t.map(() => [1, 2, 3, 4]),
    embedQuery: async () => [1, 2, 3, 4],
  };
  // A store of its own is refused before it writes (another index holds the name)...
  const vs = new ElexVectorStore(embeddings as never, {});
  await vs.addDocuments([{ pageContent: 'second doc', metadata: {} }]);
  await expect(vs.save(dir)).rejects.toThrow(/already holds an index under this name/);
  // ... and one loaded from the owner's save reaches the lock.
  const opened = await ElexVectorStore.load(dir, embeddings as never);
  await opened.addDocuments([{ pageContent: 'third doc', metadata: {} }]);
  await expect(opened.save(dir)).rejects.toMatchObject({ code: 'E_LOCKED', owner: { pid: owner.proc.pid } });
  opened.dispose();
  const loaded = await ElexVectorStore.load(dir, embeddings as never);
  expect((await loaded.similaritySearch('q', 5)).map((d) => d.pageContent)).toEqual(['owner doc']);
  loaded.dispose();
  await kill(owner);
  // The owner's lock is stale now: this process continues its save (opened from it) and commits.
  const next = await ElexVectorStore.load(dir, embeddings as never);
  await next.addDocuments([{ pageContent: 'second doc', metadata: {} }]);
  await next.save(dir);
  next.dispose();
  const again = await ElexVectorStore.load(dir, embeddings as never);
  expect((await again.similaritySearch('q', 5)).map((d) => d.pageContent).sort()).toEqual(['owner doc', 'second doc']);
  again.dispose();
  vs.dispose();
});
