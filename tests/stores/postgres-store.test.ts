/**
 * PostgresStore against a real PostgreSQL server (tests/helpers/postgres.ts starts a throw-away
 * cluster; skipped with the reason when none can be started, a failure under CI=true):
 * round trips of keys of any shape and of values spanning many chunks, options refused at
 * construction (chunkBytes past 64 MiB, a pool max not a positive integer), concurrent writers of one
 * key (each read is one whole value), index save/open (checkpoint + log segments) equal to the
 * FileStore's byte for byte, LangChain save/load, an agent cache over it, and outages: the server
 * SIGKILLed in the middle of a stream of writes gives typed StoreErrors (no hang), every
 * acknowledged write is there after a restart and the same store writes again; a server that
 * stops answering (SIGSTOP) gives StoreError after timeoutMs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Engine, FileStore, StoreError, DisposedError, InvalidArgumentError, type ByteStore } from '../../src/index';
import { PostgresStore } from '../../src/postgres';
import { ElexVectorStore } from '../../src/langchain/index';
import { cleanTempDirs, digest, tempDir } from '../helpers/index-store';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';
import { rng } from '../helpers/random';

const { describe: withServer, bin } = postgresOrSkip();
const root = join(__dirname, '..', '..');

let server: PostgresServer;
const stores: PostgresStore[] = [];
let tables = 0;
/** A store over a fresh table of the test server. */
function pgStore(options: { chunkBytes?: number; timeoutMs?: number; table?: string } = {}): PostgresStore {
  const store = new PostgresStore({ connectionString: server.connectionString }, { table: `t${++tables}`, ...options });
  stores.push(store);
  return store;
}

/** Every key and the sha256 of its bytes, sorted by key. */
async function contents(store: ByteStore): Promise<[string, string][]> {
  const keys = (await store.keys()).sort();
  return Promise.all(keys.map(async (k) => [k, sha((await store.read(k))!)] as [string, string]));
}

/** Every key with its save's random run id masked (`<generation>-********`) and the length of its bytes. */
async function shape(store: ByteStore): Promise<[string, number][]> {
  const keys = (await store.keys()).sort();
  return Promise.all(
    keys.map(
      async (k) =>
        [k.replace(/\/(\d+)-[0-9a-f]{8}/, '/$1-********'), (await store.read(k))!.length] as [string, number],
    ),
  );
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Byte equality without jest's slow element-by-element diff. */
const same = (a: Uint8Array | undefined, b: Uint8Array) =>
  expect(a === undefined ? 'undefined' : `${a.length}:${sha(a)}`).toBe(`${b.length}:${sha(b)}`);

withServer('PostgresStore (real server)', () => {
  beforeAll(() => {
    server = PostgresServer.start(bin);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    server?.stop();
    cleanTempDirs();
  });

  test('reads are plain Uint8Arrays holding only their bytes', async () => {
    const store = pgStore();
    await store.write('small', new Uint8Array([1, 2, 3]));
    const got = (await store.read('small'))!;
    expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
    expect([got.byteOffset, got.buffer.byteLength]).toEqual([0, 3]);
  });

  test('round trips: keys of any shape, empty and multi-chunk values, overwrite, delete, keys(); tables apart', async () => {
    const store = pgStore({ chunkBytes: 1000 });
    const next = rng(5);
    const values = new Map<string, Uint8Array>();
    const keys = ['a', '@index/x/manifest', 'nul\u0000inside', '😀 é', 'x'.repeat(500), 'A', 'a '];
    for (const [i, key] of keys.entries()) {
      const v = Uint8Array.from({ length: [0, 1, 999, 1000, 1001, 25_000, 7][i] }, () => Math.floor(next() * 256));
      await store.write(key, v);
      values.set(key, v);
    }
    for (const [k, v] of values) same(await store.read(k), v);
    expect((await store.keys()).sort()).toEqual([...values.keys()].sort());
    // A long value replaced by a short one leaves no chunk behind, and the reverse.
    await store.write('x'.repeat(500), new Uint8Array([9]));
    expect(await store.read('x'.repeat(500))).toEqual(new Uint8Array([9]));
    await store.write('a', values.get('x'.repeat(500))!);
    same(await store.read('a'), values.get('x'.repeat(500))!);
    await store.delete('a');
    await store.delete('never there');
    expect(await store.read('a')).toBeUndefined();
    expect((await store.keys()).includes('a')).toBe(false);
    // Another table, and another store object over the first table.
    const other = pgStore();
    expect(await other.keys()).toEqual([]);
    const twin = new PostgresStore({ connectionString: server.connectionString }, { table: store.table.slice(1, -1) });
    stores.push(twin);
    expect(await contents(twin)).toEqual(await contents(store));
    // A 5 MiB value with the default chunk size, and through 8 KiB chunks.
    const big = new Uint8Array(5 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    await other.write('big', big);
    same(await other.read('big'), big);
    const chunked = pgStore({ chunkBytes: 64 * 1024 });
    await chunked.write('big', big);
    same(await chunked.read('big'), big);
  });

  test('chunkBytes past 64 MiB is refused at construction, nothing opened; 64 MiB is taken', async () => {
    // pg reads a chunk's bytea as one hex string: from 268,435,444 bytes it passes V8's string
    // limit and the read throws out of pg's socket handler (the value written, never read back).
    const { Pool } = require('pg');
    const pool = new Pool({ connectionString: server.connectionString });
    try {
      for (const chunkBytes of [(64 << 20) + 1, 268_435_444, 512 << 20, 0, 1.5]) {
        expect(() => new PostgresStore({ pool }, { chunkBytes })).toThrow(InvalidArgumentError);
        expect(() => new PostgresStore({ pool }, { chunkBytes })).toThrow(
          /chunkBytes must be an integer in \[1, 64 MiB\], got /,
        );
      }
      expect(new PostgresStore({ pool }, { chunkBytes: 64 << 20 }).table).toBe('"elex_store"');
      expect(pool.totalCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  test('a pool max that is not a positive integer is refused at construction; max 1 serves calls in turn', async () => {
    for (const max of [0, -1, 1.5, Number.NaN, 'x', Number.POSITIVE_INFINITY, 262_144]) {
      const target = { connectionString: server.connectionString, max: max as number };
      expect(() => new PostgresStore(target)).toThrow(InvalidArgumentError);
      expect(() => new PostgresStore(target)).toThrow(/PostgresStore max must be an integer in \[1, 262143\], got /);
    }
    const one = new PostgresStore({ connectionString: server.connectionString, max: 1 }, { table: `t${++tables}` });
    stores.push(one);
    const values = Array.from({ length: 6 }, (_, i) => new Uint8Array(3000).fill(i));
    await Promise.all(values.map((v, i) => one.write(`k${i}`, v)));
    const back = await Promise.all(values.map((_, i) => one.read(`k${i}`)));
    back.forEach((b, i) => same(b, values[i]));
  });

  test('concurrent writers of one key (separate pools): every read is one whole value, the last one stays', async () => {
    const table = `race${Date.now() % 1e6}`;
    const writers = Array.from({ length: 4 }, () => {
      const s = new PostgresStore({ connectionString: server.connectionString }, { table, chunkBytes: 512 });
      stores.push(s);
      return s;
    });
    const value = (w: number, n: number) => new Uint8Array(512 * (1 + ((w + n) % 4))).fill(w * 16 + n);
    const seen = new Set<string>();
    const reads = (async () => {
      for (let i = 0; i < 60; i++) {
        const got = await writers[0].read('k');
        if (got === undefined) continue;
        expect(got.every((b) => b === got[0])).toBe(true); // never a mix of two writes
        expect(got.length).toBe(value(got[0] >> 4, got[0] & 15).length);
        seen.add(String(got[0]));
      }
    })();
    await Promise.all(
      writers.map(async (s, w) => {
        for (let n = 0; n < 10; n++) await s.write('k', value(w, n));
      }),
    );
    await reads;
    const last = (await writers[1].read('k'))!;
    expect([0, 1, 2, 3].map((w) => value(w, 9)[0])).toContain(last[0]);
    expect(last).toEqual(value(last[0] >> 4, 9));
  });

  test('index save/open through PostgresStore equals FileStore: same parts and sizes, equal digests, checkpoint then log segments', async () => {
    const engine = await Engine.create();
    const next = rng(17);
    const index = engine.createIndex({ dim: 16, metric: 'l2', seed: 3 });
    const batch = (from: number, to: number) => {
      const ids = Array.from({ length: to - from }, (_, i) => from + i);
      index.addBatch(
        ids,
        Float32Array.from({ length: ids.length * 16 }, () => next() * 2 - 1),
      );
    };
    const pg = pgStore({ chunkBytes: 4096 });
    const files = new FileStore(join(tempDir('elex-pg-index-'), 'files'));
    batch(0, 800);
    for (const s of [pg, files])
      expect(await index.save(s, 'docs', { chunkBytes: 16 * 1024 })).toMatchObject({
        generation: 1,
        kind: 'checkpoint',
      });
    batch(800, 900);
    for (let i = 0; i < 900; i += 13) index.remove(i);
    for (const s of [pg, files]) expect(await index.save(s, 'docs')).toMatchObject({ generation: 2, kind: 'log' });
    // The same parts of the same sizes (each save names its parts with a random run id and stamps them).
    expect(await shape(pg)).toEqual(await shape(files));
    const fromPg = await engine.openIndex(pg, 'docs');
    const fromFiles = await engine.openIndex(files, 'docs');
    expect(digest(fromPg)).toBe(digest(index));
    expect(digest(fromFiles)).toBe(digest(index));
    // The reopened index saves on (a log segment) and a third open sees it.
    fromPg.add(5000, new Float32Array(16).fill(0.5));
    expect(await fromPg.save(pg, 'docs')).toMatchObject({ generation: 3, kind: 'log' });
    expect(digest(await engine.openIndex(pg, 'docs'))).toBe(digest(fromPg));
    await files.close();
    engine.dispose();
  });

  test('LangChain save/load through PostgresStore equals the FileStore round trip', async () => {
    const embeddings = {
      embedDocuments: async (t: string[]) => t.map((s) => [s.length, s.charCodeAt(0), s.charCodeAt(s.length - 1), 1]),
      embedQuery: async (s: string) => [s.length, s.charCodeAt(0), s.charCodeAt(s.length - 1), 1],
    };
    const vs = new ElexVectorStore(embeddings as never, {});
    await vs.addDocuments(
      Array.from({ length: 50 }, (_, i) => ({ pageContent: `doc ${i} ${'z'.repeat(i % 7)}`, metadata: { i } })),
    );
    const pg = pgStore({ chunkBytes: 2048 });
    const files = new FileStore(join(tempDir('elex-pg-lc-'), 'files'));
    await vs.save(pg, 'kb');
    await vs.save(files, 'kb');
    expect(await shape(pg)).toEqual(await shape(files));
    const a = await ElexVectorStore.load(pg, 'kb', embeddings as never);
    const b = await ElexVectorStore.load(files, 'kb', embeddings as never);
    for (const q of ['doc 3', 'doc 17 zzz', 'x']) {
      expect(await a.similaritySearchWithScore(q, 5)).toEqual(await b.similaritySearchWithScore(q, 5));
      expect(await a.similaritySearchWithScore(q, 5)).toEqual(await vs.similaritySearchWithScore(q, 5));
    }
    for (const s of [vs, a, b]) s.dispose();
    await files.close();
  });

  test('an agent cache over PostgresStore: evictions and flushes persist, a fresh engine loads every agent', async () => {
    const store = pgStore();
    const engine = await Engine.create();
    const agents = engine.createAgentCache({
      store,
      maxAgents: 5,
      qtable: { actions: 4, alpha: 1 },
      trajectoryCapacity: 8,
    });
    for (let i = 0; i < 20; i++) await agents.use(`agent-${i}`, (a) => void a.q.update(0, 1, i + 0.5, 0, true));
    await agents.flush();
    await agents.close();
    expect((await store.keys()).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `agent-${i}`).sort());
    const fresh = (await Engine.create()).createAgentCache({
      store,
      maxAgents: 5,
      qtable: { actions: 4, alpha: 1 },
      trajectoryCapacity: 8,
    });
    for (let i = 0; i < 20; i++) expect(await fresh.use(`agent-${i}`, (a) => a.q.get(0, 1))).toBe(i + 0.5);
    await fresh.close();
    engine.dispose();
  });

  test('the server SIGKILLed mid-stream: typed StoreErrors, no hang; every acknowledged write there after a restart; the same store writes again', async () => {
    const store = pgStore({ timeoutMs: 5000, chunkBytes: 4096 });
    // Three writers, each over its own five keys (the writes of one key are ordered).
    const acked = new Map<string, number>(); // key -> the value of its last write that resolved
    const failed = new Map<string, number[]>(); // key -> values of its writes that rejected since (each may have landed)
    const bytesOf = (n: number) => new Uint8Array(4096 + (n % 3) * 3000).fill(n % 251);
    const errors: unknown[] = [];
    let n = 0;
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; errors.length < 6; i++) {
        const key = `w${w}-${i % 5}`;
        const value = ++n;
        try {
          await store.write(key, bytesOf(value)); // acknowledged once it resolves
          acked.set(key, value);
          failed.delete(key);
        } catch (error) {
          errors.push(error);
          failed.set(key, [...(failed.get(key) ?? []), value]);
        }
        if (n >= 150 && !killed) {
          killed = true;
          server.kill();
        }
      }
    };
    await Promise.all([writer(0), writer(1), writer(2)]);
    expect(killed).toBe(true);
    for (const e of errors) {
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).code).toBe('E_STORE');
    }
    expect(acked.size).toBe(15);
    await expect(store.read('w0-0')).rejects.toBeInstanceOf(StoreError); // still down
    server.restart();
    // Every acknowledged write is there, or a later write of that key that rejected (it may have committed).
    for (const [key, value] of acked) {
      const got = sha((await store.read(key))!);
      expect([value, ...(failed.get(key) ?? [])].map((v) => sha(bytesOf(v)))).toContain(got);
    }
    await store.write('after', new Uint8Array([1, 2, 3]));
    expect(await store.read('after')).toEqual(new Uint8Array([1, 2, 3]));
  }, 90_000);

  test('a server that stops answering (SIGSTOP): StoreError after timeoutMs, then writes work again', async () => {
    const store = pgStore({ timeoutMs: 1500 });
    await store.write('a', new Uint8Array([1]));
    const pids = [
      server.pid,
      ...spawnSync('pgrep', ['-P', String(server.pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number),
    ];
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const error = await store.write('a', new Uint8Array([2])).catch((e) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.code).toBe('E_STORE');
      expect(String(error.cause)).toMatch(/no answer within 1500 ms/);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await store.write('a', new Uint8Array([3]));
    expect(await store.read('a')).toEqual(new Uint8Array([3]));
  }, 60_000);

  test('stores over one table of one database are one save target; the identity holds no password', async () => {
    const a = pgStore();
    const b = pgStore({ table: a.table.slice(1, -1) });
    expect(b.identity).toBe(a.identity);
    expect(pgStore().identity).not.toBe(a.identity);
    const secret = new PostgresStore({ connectionString: 'postgres://u:s3cret@h/db?password=s3cret' }, { table: 'x' });
    expect(secret.identity).toContain('postgres://u@h/db');
    expect(secret.identity).not.toContain('s3cret');
    await secret.close();
    const engine = await Engine.create({ budgetBytes: 8 << 20 });
    const index = engine.createIndex({ dim: 4, metric: 'l2' });
    index.addBatch(
      [1, 2, 3],
      new Float32Array(12).map((_, i) => i),
    );
    expect((await index.save(a, 'x')).kind).toBe('checkpoint');
    index.add(4, [1, 2, 3, 4]);
    expect((await index.save(b, 'x')).kind).toBe('log'); // through the other object: one log
    expect(Buffer.compare((await engine.openIndex(a, 'x')).serialize(), index.serialize())).toBe(0);
    engine.dispose();
  });

  test('close(): later calls are DisposedError; a pool you pass stays yours', async () => {
    const store = pgStore();
    await store.write('x', new Uint8Array([1]));
    await store.close();
    await expect(store.read('x')).rejects.toBeInstanceOf(DisposedError);
    const { Pool } = require('pg');
    const pool = new Pool({ connectionString: server.connectionString });
    pool.on('error', () => undefined); // the server stops at the end
    try {
      const mine = new PostgresStore({ pool }, { table: store.table.slice(1, -1) });
      expect(await mine.read('x')).toEqual(new Uint8Array([1]));
      // close() waits for the calls in flight, so ending your pool after it breaks none of them.
      const order: string[] = [];
      const writing = mine.write('big', new Uint8Array(4 << 20).fill(9)).then(() => order.push('write'));
      await mine.close().then(() => order.push('close'));
      await writing;
      expect(order).toEqual(['write', 'close']);
      await expect(mine.write('late', new Uint8Array([1]))).rejects.toBeInstanceOf(DisposedError);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

test("without 'pg' installed, importing elex-wasm/postgres throws E_PEER naming it", () => {
  const script = `
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'pg') { const e = new Error("Cannot find module 'pg'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return resolve.call(this, request, ...rest);
    };
    try { require('elex-wasm/postgres'); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  const out = JSON.parse(r.stdout.trim());
  expect(out.code).toBe('E_PEER');
  expect(out.message).toMatch(/'pg'/);
});
