/**
 * A byte store in a PostgreSQL table, shared by every process and machine that reaches the
 * server (Node, through the `pg` package, an optional peer dependency: entry `elex-wasm/postgres`).
 *
 * Table (created on first use, `CREATE TABLE IF NOT EXISTS`; a table of an earlier release gets
 * the version column added, `ALTER TABLE ... ADD COLUMN`, once):
 *
 *   key bytea, chunk integer, value bytea, version bigint DEFAULT txid_current(), PRIMARY KEY (key, chunk)
 *
 * Every row a transaction writes carries its transaction id as the key's version, which no later
 * write has again (also a writer of an earlier release, through the default): readVersioned and
 * writeIfVersion make the store versioned (ByteStore), and agent caches of many processes over
 * one table detect each other's writes (ConflictError) instead of overwriting them. A conditional
 * write takes the key's advisory lock, compares the version and writes in one transaction. When
 * its COMMIT goes unanswered (connection lost, timeout), it asks the server what became of its
 * transaction (txid_status, ending the old backend first if it still runs) and resolves ok only
 * if it committed; when that cannot be known either it rejects with StoreError.
 *
 * A key is its UTF-8 bytes (any store key fits, U+0000 included). A value is one row per
 * `chunkBytes` (8 MiB unless told; an empty value is one empty chunk), so values past bytea's
 * 1 GiB limit and the server's message size still fit. A write is one transaction: a transaction
 * advisory lock on (table, key) orders writers of one key, then the key's rows are deleted and the
 * new chunks inserted; readers see the old value or the new one, never a mix (one SELECT, one
 * snapshot). A write resolves once PostgreSQL committed it (durable as the server's settings say;
 * `synchronous_commit` on by default). Deletes are transactions too.
 *
 * Every call is bounded: after `timeoutMs` (10 s unless told; the first call of a store can take
 * twice that, as creating the table has a deadline of its own) it rejects with StoreError (E_STORE)
 * and the connection it used is destroyed (the server rolls its transaction back), so an outage
 * (connection reset, server killed, unreachable) gives a typed error, never a hang. Connection
 * failures become StoreError with the driver's error as `cause`. pg's pool opens new connections
 * on the next call, so writes work again once the server is back.
 */
import { DisposedError, ElexError, InvalidArgumentError, StoreError } from '../errors.js';
import type { ByteStore, ConditionalWrite, StoreVersion, VersionedBytes } from './byte-store.js';
import { checkStoreKey } from './store-key.js';

/** What PostgresStore needs of a pg `Pool` (or anything like one). */
export interface PgPoolLike {
  /** A pooled client, connected. */
  connect(): Promise<PgClientLike>;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
}

/** What PostgresStore needs of a pooled pg client. */
export interface PgClientLike {
  /** Runs one statement with `$1`-style parameters. */
  query(
    text: string,
    values?: unknown[],
  ): Promise<{
    /** The result rows, by column name. */
    rows: Record<string, unknown>[];
  }>;
  /** Returns the client to its pool; with an error (or true), destroys it. */
  release(error?: Error | boolean): void;
  /** Listens for the client's errors (a connection lost while idle). */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Where PostgresStore connects: a connection string (it creates and owns a pg Pool), or a pool the caller owns. */
export type PostgresTarget =
  | {
      /** A libpq connection string or URL (`postgres://user@host/db`). */
      connectionString: string;
      /** Not with a connection string. */
      pool?: undefined;
      /** Connections of the pool the store creates. Default 10. */
      max?: number;
    }
  | {
      /** A pg Pool of yours: the store never ends it. */
      pool: PgPoolLike;
      /** Not with a pool. */
      connectionString?: undefined;
    };

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** The table, optionally schema-qualified (`schema.table`); letters, digits, `_`. Default 'elex_store'. */
  table?: string;
  /** Bytes per row of a value; larger values span several rows. Default 8 MiB; at least 1. */
  chunkBytes?: number;
  /**
   * Longest a call may take before it rejects with StoreError (the first call of a store: twice
   * that, creating the table first). Default 10000 ms.
   */
  timeoutMs?: number;
}

const DEFAULT_TABLE = 'elex_store';
const DEFAULT_CHUNK = 8 << 20;
const DEFAULT_TIMEOUT = 10_000;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** 32-bit FNV-1a of `bytes`, as a signed int (an advisory lock's half). */
function hash32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h | 0;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The `pg` module, or ElexError E_PEER when it is not installed. */
export function loadPg(): {
  Pool: new (config: object) => PgPoolLike & { on(event: string, listener: (e: Error) => void): void };
} {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg');
  } catch (error) {
    throw peerMissing(error);
  }
}

/** The error for a missing `pg` package (E_PEER). */
export function peerMissing(cause: unknown): Error {
  const missing = new ElexError(
    'E_PEER',
    "elex-wasm/postgres needs the optional peer dependency 'pg' (8.x), which is not installed: npm install pg",
  );
  (missing as { cause?: unknown }).cause = cause;
  return missing;
}

/** Ignores a checked-out client's 'error' event: the failing query rejects with it already. */
const ignore = (): void => undefined;

/** Clients given the `ignore` listener (once each). */
const listening = new WeakSet<object>();

/**
 * A checked-out client, released exactly once. Every client this store uses gets an 'error'
 * listener (kept for its life): pg emits a connection's death as an event besides rejecting the
 * query, and an event without a listener would be an uncaught exception.
 */
class Session {
  private done = false;
  constructor(readonly client: PgClientLike) {
    if (!listening.has(client)) {
      listening.add(client);
      client.on?.('error', ignore);
    }
  }
  release(error?: Error | boolean): void {
    if (this.done) return;
    this.done = true;
    this.client.release(error);
  }
}

/** A connection string without its password (`postgres://user:secret@host` -> `postgres://user@host`; `password=` terms dropped). */
function withoutPassword(connection: string): string {
  return connection.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1@').replace(/(^|[\s?&])password=[^\s&]*/gi, '$1');
}

export class PostgresStore implements ByteStore {
  /** The table's quoted name, as used in SQL. */
  readonly table: string;
  /**
   * With `{ connectionString }`: 'postgres:' with the connection string (its password left out)
   * and the table, so every PostgresStore over one table of one database is one save target
   * (see ByteStore.identity). With a `{ pool }` of yours: none.
   */
  readonly identity: string | undefined;
  private readonly pool: PgPoolLike;
  private readonly ownsPool: boolean;
  private readonly chunkBytes: number;
  private readonly timeoutMs: number;
  /** The advisory lock class of this table (first half of every lock key). */
  private readonly tableLock: number;
  private ready: Promise<void> | null = null;
  private closed = false;
  /**
   * Conditional writes whose outcome could not be learned, by key: the version each expected and
   * its transaction. The key's next conditional write from that version looks it up first.
   */
  private readonly inDoubt = new Map<string, { expected: StoreVersion | null; txid: string; pid: number }>();
  /** Calls started and not yet settled: close() waits for them. */
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * A store over the table `options.table` reached through `target`: `{ connectionString }`
   * (this store creates a pg Pool and ends it on close()) or `{ pool }` (yours: close() leaves it
   * open). Nothing connects until the first call. Throws InvalidArgumentError (a bad target or
   * option), ElexError E_PEER (a connection string without `pg` installed).
   */
  constructor(target: PostgresTarget, options: PostgresStoreOptions = {}) {
    const table = options.table ?? DEFAULT_TABLE;
    const parts = typeof table === 'string' ? table.split('.') : [];
    if (parts.length < 1 || parts.length > 2 || !parts.every((p) => NAME.test(p))) {
      throw new InvalidArgumentError(
        `PostgresStore table must be a name or schema.name of letters, digits and _, got ${String(table)}`,
      );
    }
    this.table = parts.map((p) => `"${p}"`).join('.');
    this.tableLock = hash32(utf8.encode(parts.join('.')));
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > 512 << 20) {
      throw new InvalidArgumentError(
        `PostgresStore chunkBytes must be an integer in [1, 512 MiB], got ${String(options.chunkBytes)}`,
      );
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
    if (!(this.timeoutMs > 0) || !Number.isFinite(this.timeoutMs)) {
      throw new InvalidArgumentError(
        `PostgresStore timeoutMs must be a positive number, got ${String(options.timeoutMs)}`,
      );
    }
    if (target !== null && typeof target === 'object' && target.pool !== undefined) {
      if (typeof target.pool.connect !== 'function')
        throw new InvalidArgumentError('PostgresStore pool must be a pg Pool');
      this.pool = target.pool;
      this.ownsPool = false;
      this.identity = undefined;
    } else if (target !== null && typeof target === 'object' && typeof target.connectionString === 'string') {
      const { Pool } = loadPg();
      const pool = new Pool({
        connectionString: target.connectionString,
        max: target.max ?? 10,
        connectionTimeoutMillis: this.timeoutMs,
        keepAlive: true,
        idleTimeoutMillis: 30_000,
      });
      // An idle connection dying (the server restarted) is not an error of any call: the pool drops it.
      pool.on('error', () => undefined);
      this.pool = pool;
      this.ownsPool = true;
      this.identity = `postgres:${withoutPassword(target.connectionString)}#${this.table}`;
    } else {
      throw new InvalidArgumentError('PostgresStore needs { connectionString } or { pool }');
    }
  }

  /** The bytes last written under `key`, or undefined. Throws StoreError. Cost: one query. */
  async read(key: string): Promise<Uint8Array | undefined> {
    return (await this.readVersioned(key)).bytes;
  }

  /**
   * The bytes last written under `key` and their version (one SELECT, one snapshot), or
   * `{ bytes: undefined, version: null }`. Throws StoreError. Cost: one query.
   */
  async readVersioned(key: string): Promise<VersionedBytes> {
    checkStoreKey(key);
    const rows = await this.session(`read '${key}'`, false, (c) =>
      c
        .query(`SELECT value, version::text AS version FROM ${this.table} WHERE key = $1 ORDER BY chunk`, [
          Buffer.from(utf8.encode(key)),
        ])
        .then((r) => r.rows),
    );
    if (rows.length === 0) return { bytes: undefined, version: null };
    const version = String(rows[0].version);
    if (rows.length === 1) return { bytes: bytesOf(rows[0].value), version };
    const parts = rows.map((r) => bytesOf(r.value));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return { bytes: out, version };
  }

  /**
   * Stores `bytes` under `key`, replacing what was there, in one transaction; resolves once
   * committed. Throws StoreError (the server failed or did not answer within timeoutMs: the
   * write may or may not have committed), InvalidArgumentError. Cost: one transaction, one row per chunk.
   */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    const [k, view] = this.args(key, bytes, 'write');
    await this.session(`write '${key}'`, true, async (c) => {
      await this.lockKey(c, k);
      await this.replace(c, k, view);
    });
  }

  /**
   * Stores `bytes` under `key` only if its version is still `expectedVersion` (null: only if
   * absent), in one transaction (the key's advisory lock, the version compared, the rows
   * replaced). Resolves `{ ok: true, version }` once committed, or `{ ok: false, version }` with
   * the current version and nothing written. A COMMIT that goes unanswered is looked up
   * (txid_status) before it counts: committed resolves ok; rolled back, or not knowable (the
   * server unreachable), rejects with StoreError. A write whose outcome was not knowable is looked
   * up again by the key's next conditional write from the same version: if it committed, that
   * write continues from it (as the caller's own lineage) instead of conflicting with it. Throws
   * StoreError, InvalidArgumentError. Cost: one transaction, one row per chunk; a lookup after a lost answer.
   */
  async writeIfVersion(
    key: string,
    bytes: Uint8Array,
    expectedVersion: StoreVersion | null,
  ): Promise<ConditionalWrite> {
    const [k, view] = this.args(key, bytes, 'writeIfVersion');
    if (expectedVersion !== null && (typeof expectedVersion !== 'string' || !/^\d+$/.test(expectedVersion)))
      throw new InvalidArgumentError(
        `PostgresStore.writeIfVersion needs a version it gave, or null, got ${String(expectedVersion)}`,
      );
    const doubt = this.inDoubt.get(key);
    if (doubt !== undefined) {
      // Still unknowable: rejects, keeping the doubt. Known: committed, this write continues from it.
      if (doubt.expected === expectedVersion && (await this.committed(doubt, key, 'lost earlier', false)))
        expectedVersion = doubt.txid;
      this.inDoubt.delete(key);
    }
    let mine: { txid: string; pid: number } | undefined;
    try {
      return await this.session(`write '${key}'`, true, async (c) => {
        await this.lockKey(c, k);
        const current = await c.query(
          `SELECT version::text AS version FROM ${this.table} WHERE key = $1 AND chunk = 0`,
          [k],
        );
        const version = current.rows.length === 0 ? null : String(current.rows[0].version);
        if (version !== expectedVersion) return { ok: false, version };
        const me = await c.query('SELECT txid_current()::text AS txid, pg_backend_pid() AS pid');
        mine = { txid: String(me.rows[0].txid), pid: Number(me.rows[0].pid) };
        await this.replace(c, k, view);
        return { ok: true, version: mine.txid };
      });
    } catch (error) {
      if (mine === undefined || this.closed) throw error;
      let committed: boolean;
      try {
        committed = await this.committed(mine, key, error, true);
      } catch (unknown) {
        this.inDoubt.set(key, { expected: expectedVersion, ...mine });
        throw unknown;
      }
      if (committed) return { ok: true, version: mine.txid };
      throw error;
    }
  }

  /**
   * Whether transaction `mine` committed, asked on another connection after its own failed:
   * false when it rolled back; StoreError when that cannot be known. A transaction still running
   * (the server has not noticed its connection is gone) has its backend ended first if
   * `terminate` (only right after the loss: later its pid may be another backend's).
   */
  private async committed(
    mine: { txid: string; pid: number },
    key: string,
    cause: unknown,
    terminate: boolean,
  ): Promise<boolean> {
    const unknown = (why: unknown) =>
      new StoreError(`PostgresStore could not learn whether its write of '${key}' committed (${String(cause)})`, why);
    for (let attempt = 0; ; attempt++) {
      let status: string | null;
      try {
        status = await this.run(`look up the write of '${key}'`, false, async (c) => {
          const r = await c.query('SELECT txid_status($1::bigint) AS status', [mine.txid]);
          const s = r.rows[0].status;
          if (s === 'in progress' && terminate) await c.query('SELECT pg_terminate_backend($1::int4)', [mine.pid]);
          return s === null ? null : String(s);
        });
      } catch (error) {
        throw unknown(error);
      }
      if (status === 'committed') return true;
      if (status === 'aborted') return false;
      if (status !== 'in progress' || attempt >= 50) throw unknown(new Error(`transaction status ${String(status)}`));
      await new Promise((resolve) => setTimeout(resolve, 20)); // its backend is ending
    }
  }

  /** Removes `key` if present, in one transaction. Throws StoreError. */
  async delete(key: string): Promise<void> {
    checkStoreKey(key);
    const k = Buffer.from(utf8.encode(key));
    await this.session(`delete '${key}'`, true, async (c) => {
      await this.lockKey(c, k);
      await c.query(`DELETE FROM ${this.table} WHERE key = $1`, [k]);
    });
  }

  /** Every key stored (in byte order). Throws StoreError. Cost: one query over the table's keys. */
  async keys(): Promise<string[]> {
    const rows = await this.session('list keys', false, (c) =>
      c.query(`SELECT key FROM ${this.table} WHERE chunk = 0 ORDER BY key`).then((r) => r.rows),
    );
    return rows.map((r) => fromUtf8.decode(bytesOf(r.key)));
  }

  /** The key's bytes and a Buffer view of `bytes`; InvalidArgumentError for a bad key or bytes. */
  private args(key: string, bytes: Uint8Array, method: string): [Buffer, Buffer] {
    checkStoreKey(key);
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`PostgresStore.${method} needs a Uint8Array`);
    return [Buffer.from(utf8.encode(key)), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
  }

  /** Takes the transaction advisory lock on (table, key): writers of one key run one at a time. */
  private async lockKey(c: PgClientLike, k: Buffer): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [this.tableLock, hash32(k)]);
  }

  /** Replaces the key's rows by `view`'s chunks (in the caller's transaction; the rows' version is its id). */
  private async replace(c: PgClientLike, k: Buffer, view: Buffer): Promise<void> {
    await c.query(`DELETE FROM ${this.table} WHERE key = $1`, [k]);
    for (let at = 0, chunk = 0; at < view.length || chunk === 0; at += this.chunkBytes, chunk++) {
      await c.query(`INSERT INTO ${this.table} (key, chunk, value) VALUES ($1, $2, $3)`, [
        k,
        chunk,
        view.subarray(at, at + this.chunkBytes),
      ]);
    }
  }

  /**
   * Ends the pool this store created (a pool you gave stays open); later calls throw
   * DisposedError. Waits for calls in flight to release their connections.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls already started (each bounded by timeoutMs) settle first, whoever owns the pool.
    await Promise.allSettled([...this.inFlight]);
    if (this.ownsPool) {
      await this.pool.end().catch((error) => {
        throw new StoreError('PostgresStore could not close its pool', error);
      });
    }
  }

  /** Creates the table if missing (once per store; retried after a failure). */
  private ensureTable(): Promise<void> {
    this.ready ??= this.run('create its table', true, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1::int4, 0)', [this.tableLock]);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (key bytea NOT NULL, chunk integer NOT NULL, value bytea NOT NULL, version bigint NOT NULL DEFAULT txid_current(), PRIMARY KEY (key, chunk))`,
      );
      // A table of an earlier release: add the version column (once; its rows get this transaction's id).
      const found = await c.query(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'version' AND NOT attisdropped",
        [this.table],
      );
      if (found.rows.length === 0)
        await c.query(`ALTER TABLE ${this.table} ADD COLUMN version bigint NOT NULL DEFAULT txid_current()`);
    }).catch((error) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }

  /** Runs `fn` on a pooled connection (in a transaction if `tx`) once the table exists. */
  private session<T>(what: string, tx: boolean, fn: (c: PgClientLike) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DisposedError('PostgresStore'));
    const call = (async () => {
      await this.ensureTable();
      return this.run(what, tx, fn);
    })();
    const tracked = call.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(tracked);
    void tracked.then(() => this.inFlight.delete(tracked));
    return call;
  }

  /**
   * Runs `fn` on a pooled connection within timeoutMs. On a timeout the connection is destroyed
   * (its transaction rolls back on the server) and StoreError rejects at once.
   */
  private run<T>(what: string, tx: boolean, fn: (c: PgClientLike) => Promise<T>): Promise<T> {
    let session: Session | undefined;
    let timedOut = false;
    const work = (async () => {
      const client = await this.pool.connect();
      session = new Session(client);
      if (timedOut) {
        session.release(true);
        throw new Error('timed out');
      }
      try {
        if (tx) await client.query('BEGIN');
        const result = await fn(client);
        if (tx) await client.query('COMMIT');
        session.release();
        return result;
      } catch (error) {
        if (tx && !timedOut) await client.query('ROLLBACK').catch(() => undefined);
        session.release(error instanceof Error ? error : true);
        throw error;
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        session?.release(new Error('PostgresStore call timed out'));
        reject(new StoreError(`PostgresStore could not ${what}`, new Error(`no answer within ${this.timeoutMs} ms`)));
      }, this.timeoutMs);
    });
    work.catch(() => undefined); // a late failure after the deadline is not unhandled
    return Promise.race([work, deadline])
      .catch((error) => {
        if (error instanceof StoreError || error instanceof InvalidArgumentError) throw error;
        throw new StoreError(`PostgresStore could not ${what}`, error);
      })
      .finally(() => clearTimeout(timer));
  }
}

/** A bytea column's value (a Buffer from pg) as a Uint8Array. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    // A small Buffer may sit in Node's shared pool: copy it, so `.buffer` holds only these bytes.
    const whole = value.byteOffset === 0 && value.buffer.byteLength === value.byteLength;
    return whole ? new Uint8Array(value.buffer, 0, value.byteLength) : new Uint8Array(value);
  }
  throw new StoreError('PostgresStore read a value that is not bytea', value);
}
