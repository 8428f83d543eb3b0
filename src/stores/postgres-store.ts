/**
 * A byte store in a PostgreSQL table, shared by every process and machine that reaches the
 * server (Node, through the `pg` package, an optional peer dependency: entry `elex-wasm/postgres`).
 *
 * Table (created on first use, `CREATE TABLE IF NOT EXISTS`; a table of an earlier release gets
 * the version columns added, `ALTER TABLE ... ADD COLUMN`, once):
 *
 *   key bytea, chunk integer, value bytea, version bigint DEFAULT txid_current(), prior bigint,
 *   PRIMARY KEY (key, chunk)
 *
 * A key is its UTF-8 bytes (any store key fits, U+0000 included). A value is one row per
 * `chunkBytes` (8 MiB unless told, at most 64 MiB; an empty value is one empty chunk), so values
 * past bytea's 1 GiB limit and the server's message size still fit. A write is one transaction:
 * a transaction advisory lock on (table, key) orders writers of one key, then the key's rows are
 * deleted and the new chunks inserted; readers see the old value or the new one, never a mix
 * (one SELECT, one snapshot). A write resolves once PostgreSQL committed it (durable as the
 * server's settings say; `synchronous_commit` on by default). Deletes are transactions too.
 *
 * Versions (readVersioned, writeIfVersion: a versioned ByteStore, so agent caches of many
 * processes detect each other's writes): every write gives the key's rows a new random 63-bit
 * version and records the version it replaced (`prior`); a writer of an earlier release gets one
 * from the default. A conditional write compares the version under the key's lock and writes in
 * the same transaction. When its COMMIT goes unanswered (connection lost, timeout, server
 * killed), the store settles what happened before answering: on another connection it ends the
 * old transaction if it still runs (matched by pid and transaction id), takes the key's lock and
 * reads the version: its own means committed; the one it expected, or a version whose prior is
 * that one, means not. Server unreachable: StoreError, and the key's next conditional write
 * settles it first. Two or more writes of others since: unknowable, answered as a refusal marked
 * `uncertain`.
 *
 * Every call is bounded: after `timeoutMs` (10 s unless told; the first call of a store can take
 * twice that, as creating the table has a deadline of its own) it rejects with StoreError (E_STORE)
 * and the connection it used is destroyed (the server rolls its transaction back), so an outage
 * (connection reset, server killed, unreachable) gives a typed error, never a hang. Connection
 * failures become StoreError with the driver's error as `cause`. pg's pool opens new connections
 * on the next call, so writes work again once the server is back.
 */
import { randomBytes } from 'node:crypto';
import { DisposedError, ElexError, InvalidArgumentError, StoreError } from '../errors.js';
import { checkInt } from '../util/validate.js';
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
      /** Connections of the pool the store creates: a positive integer. Default 10. */
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
  /**
   * Bytes per row of a value; larger values span several rows. Default 8 MiB; 1 to 64 MiB (pg
   * reads a row's bytea as one string, which must stay under V8's string limit).
   */
  chunkBytes?: number;
  /**
   * Longest a call may take before it rejects with StoreError (the first call of a store: twice
   * that, creating the table first). Default 10000 ms.
   */
  timeoutMs?: number;
}

/**
 * The version columns: a key's version (a writer of an earlier release, which does not set it,
 * gets its transaction's id) and the version the write replaced.
 */
const COLUMNS = { version: 'version bigint NOT NULL DEFAULT txid_current()', prior: 'prior bigint' };

/** A new version: 63 random bits (never 0), as a decimal string. */
function newVersion(): StoreVersion {
  const v = randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
  return v === 0n ? newVersion() : v.toString();
}

/** A conditional write: what it expected, the version it writes, and its transaction once started. */
interface Attempt {
  expected: StoreVersion | null;
  version: StoreVersion;
  txid?: string;
  pid?: number;
}

const DEFAULT_TABLE = 'elex_store';
const DEFAULT_CHUNK = 8 << 20;
/**
 * The largest chunk. pg reads a bytea as text, one JavaScript string per row: hex is 2 characters
 * a byte (a chunk past 268,435,443 bytes passes V8's string limit, 2^29 - 24, and the read
 * throws ERR_STRING_TOO_LONG out of pg's socket handler: written, never read back), the `escape`
 * output format up to 4. At 64 MiB the string is at most 2^28 characters either way.
 */
const MAX_CHUNK = 64 << 20;
/** PostgreSQL's own ceiling on connections (max_connections). */
const MAX_CONNECTIONS = 262_143;
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
   * its transaction. The key's next conditional write from the version its caller gave (`asked`:
   * the attempt may have continued from an earlier attempt that landed, `landedEarlier`) looks
   * it up first.
   */
  private readonly inDoubt = new Map<
    string,
    Attempt & { bytes: Buffer; asked: StoreVersion | null; landedEarlier: boolean }
  >();
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
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > MAX_CHUNK) {
      throw new InvalidArgumentError(
        `PostgresStore chunkBytes must be an integer in [1, 64 MiB], got ${String(options.chunkBytes)}`,
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
      const max = checkInt('PostgresStore max', target.max ?? 10, 1, MAX_CONNECTIONS);
      const { Pool } = loadPg();
      const pool = new Pool({
        connectionString: target.connectionString,
        max,
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
      await this.replace(c, k, view, newVersion(), await this.versionOf(c, k));
    });
  }

  /**
   * Stores `bytes` under `key` only if its version is still `expectedVersion` (null: only if
   * absent), in one transaction (the key's advisory lock, the version compared, the rows
   * replaced). Resolves `{ ok: true, version }` once committed, or `{ ok: false, version }` with
   * the current version and nothing written. A COMMIT that goes unanswered is settled before it
   * counts (see the module doc): committed resolves ok; not committed rejects with StoreError;
   * server unreachable rejects with StoreError and the key's next conditional write from the same
   * version settles it first (committed: the same bytes again resolve ok without a second write,
   * other bytes continue from it, and are refused `uncertain` if another writer came between);
   * unknowable resolves `{ ok: false, version, uncertain: true }`.
   * Throws StoreError, InvalidArgumentError. Cost: one transaction, one row per chunk; a lookup
   * after a lost answer (each bounded by timeoutMs, so up to three times that in all).
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
    // An earlier attempt from this version whose outcome was not learned is settled first (the
    // server still unreachable: rejects, keeping it). If it landed, the same bytes again are that
    // write, and other bytes continue from it, a refusal then saying it landed (uncertain).
    // Not landed, it may have continued from an earlier attempt that did: so does this one.
    const asked = expectedVersion;
    let landedEarlier = false;
    const doubt = this.inDoubt.get(key);
    if (doubt !== undefined && doubt.asked === expectedVersion) {
      const outcome = await this.settle(doubt, k, key);
      this.inDoubt.delete(key);
      if (outcome.committed === undefined) return { ok: false, version: outcome.version, uncertain: true };
      if (outcome.committed && doubt.bytes.equals(view)) return { ok: true, version: doubt.version };
      if (outcome.committed) [expectedVersion, landedEarlier] = [doubt.version, true];
      else [expectedVersion, landedEarlier] = [doubt.expected, doubt.landedEarlier];
    } else this.inDoubt.delete(key); // the caller moved on: that attempt no longer matters to it
    const attempt: Attempt = { expected: expectedVersion, version: newVersion() };
    let started = false;
    try {
      return await this.session(`write '${key}'`, true, async (c) => {
        await this.lockKey(c, k);
        const version = await this.versionOf(c, k);
        if (version !== expectedVersion)
          return landedEarlier ? { ok: false, version, uncertain: true } : { ok: false, version };
        const me = await c.query('SELECT txid_current()::text AS txid, pg_backend_pid() AS pid');
        attempt.txid = String(me.rows[0].txid);
        attempt.pid = Number(me.rows[0].pid);
        started = true;
        await this.replace(c, k, view, attempt.version, version);
        return { ok: true, version: attempt.version };
      });
    } catch (error) {
      if (!started || this.closed) throw error;
      let outcome: { committed: boolean | undefined; version: StoreVersion | null };
      try {
        outcome = await this.settle(attempt, k, key);
      } catch (unknown) {
        this.inDoubt.set(key, { ...attempt, bytes: Buffer.from(view), asked, landedEarlier });
        throw unknown;
      }
      if (outcome.committed === true) return { ok: true, version: attempt.version };
      if (outcome.committed === undefined) return { ok: false, version: outcome.version, uncertain: true };
      throw error;
    }
  }

  /**
   * What became of `attempt`, a conditional write whose answer was lost, asked on another
   * connection: its transaction ended first if it still runs (matched by pid and transaction id,
   * so never another's), then under the key's lock the current version: its own, or one whose
   * prior is its own, is committed (true); the expected one, or one whose prior is that, is not
   * (false); anything else is unknowable (undefined). Throws StoreError when the server cannot be
   * asked.
   */
  private async settle(
    attempt: Attempt,
    k: Buffer,
    key: string,
  ): Promise<{ committed: boolean | undefined; version: StoreVersion | null }> {
    try {
      return await this.run(`settle its write of '${key}'`, true, async (c) => {
        if (attempt.txid !== undefined)
          await c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1::int4 AND backend_xid::text = ($2::bigint % 4294967296)::text',
            [attempt.pid, attempt.txid],
          );
        await this.lockKey(c, k); // waits for that transaction's end
        const r = await c.query(
          `SELECT version::text AS version, prior::text AS prior FROM ${this.table} WHERE key = $1 AND chunk = 0`,
          [k],
        );
        if (r.rows.length === 0) return { committed: attempt.expected === null ? false : undefined, version: null };
        const version = String(r.rows[0].version);
        const prior = r.rows[0].prior === null ? null : String(r.rows[0].prior);
        if (version === attempt.version || prior === attempt.version) return { committed: true, version };
        // A write on top of the expected version (prior null: on an absent key) means this one never landed.
        if (version === attempt.expected || prior === attempt.expected) return { committed: false, version };
        return { committed: undefined, version };
      });
    } catch (error) {
      throw new StoreError(`PostgresStore could not learn whether its write of '${key}' committed`, error);
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

  /** The key's version (null: absent), read in the caller's transaction. */
  private async versionOf(c: PgClientLike, k: Buffer): Promise<StoreVersion | null> {
    const r = await c.query(`SELECT version::text AS version FROM ${this.table} WHERE key = $1 AND chunk = 0`, [k]);
    return r.rows.length === 0 ? null : String(r.rows[0].version);
  }

  /** Replaces the key's rows by `view`'s chunks, at `version`, recording `prior` (in the caller's transaction). */
  private async replace(
    c: PgClientLike,
    k: Buffer,
    view: Buffer,
    version: StoreVersion,
    prior: StoreVersion | null,
  ): Promise<void> {
    await c.query(`DELETE FROM ${this.table} WHERE key = $1`, [k]);
    for (let at = 0, chunk = 0; at < view.length || chunk === 0; at += this.chunkBytes, chunk++) {
      await c.query(
        `INSERT INTO ${this.table} (key, chunk, value, version, prior) VALUES ($1, $2, $3, $4::bigint, $5::bigint)`,
        [k, chunk, view.subarray(at, at + this.chunkBytes), version, prior],
      );
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
        `CREATE TABLE IF NOT EXISTS ${this.table} (key bytea NOT NULL, chunk integer NOT NULL, value bytea NOT NULL, ${COLUMNS.version}, ${COLUMNS.prior}, PRIMARY KEY (key, chunk))`,
      );
      // A table of an earlier release: add the version columns (once; its rows get this transaction's id).
      const found = await c.query(
        'SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = ANY($2) AND NOT attisdropped',
        [this.table, Object.keys(COLUMNS)],
      );
      const have = new Set(found.rows.map((r) => String(r.attname)));
      for (const [name, definition] of Object.entries(COLUMNS))
        if (!have.has(name)) await c.query(`ALTER TABLE ${this.table} ADD COLUMN ${definition}`);
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
