/**
 * Every error elex-wasm throws. Each carries a stable string `code` to switch on; the classes
 * let `instanceof` work too. A call that throws leaves the object exactly as it was before it.
 *
 * @example
 * ```ts
 * try {
 *   index.addBatch(ids, vectors);
 * } catch (error) {
 *   if (error instanceof BudgetExceededError) await cache.evict(); // or: error.code === 'E_BUDGET'
 *   else throw error;
 * }
 * ```
 */
export class ElexError extends Error {
  /** Stable machine-readable code, e.g. `E_DIMENSION`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A vector's length is not the index's dimension (`E_DIMENSION`). */
export class DimensionMismatchError extends ElexError {
  /** The dimension the index expects. */
  readonly expected: number;
  /** The length that was given. */
  readonly actual: number;

  constructor(expected: number, actual: number, what = 'vector') {
    super('E_DIMENSION', `${what} has ${actual} components; the index expects ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A vector holds NaN or Infinity, overflows float32, or is zero under cosine (`E_INVALID_VECTOR`). */
export class InvalidVectorError extends ElexError {
  constructor(message: string) {
    super('E_INVALID_VECTOR', message);
  }
}

/** An operation would take the engine past its byte budget (`E_BUDGET`). Nothing was changed. */
export class BudgetExceededError extends ElexError {
  /** Bytes the failed allocation asked for. */
  readonly requestedBytes: number;
  /** Bytes in use when it failed. */
  readonly usedBytes: number;
  /** The engine's budget. */
  readonly budgetBytes: number;

  constructor(
    requestedBytes: number,
    usedBytes: number,
    budgetBytes: number,
    what = 'operation',
    reservedBytes = usedBytes,
    hint?: string,
  ) {
    super(
      'E_BUDGET',
      `${what} needs ${requestedBytes} more bytes, but ${usedBytes} of the ${budgetBytes}-byte budget are in use` +
        (reservedBytes > usedBytes ? ` (${reservedBytes} claimed, the rest in free holes too small for it)` : '') +
        (hint ? `; ${hint}` : ''),
    );
    this.requestedBytes = requestedBytes;
    this.usedBytes = usedBytes;
    this.budgetBytes = budgetBytes;
  }
}

/** Bytes given to a loader are not a valid snapshot (`E_CORRUPT`). */
export class CorruptSnapshotError extends ElexError {
  constructor(message: string) {
    super('E_CORRUPT', message);
  }
}

/** An argument is out of range or of the wrong kind (`E_ARGUMENT`). */
export class InvalidArgumentError extends ElexError {
  constructor(message: string) {
    super('E_ARGUMENT', message);
  }
}

/** The object (or its engine) was disposed (`E_DISPOSED`). */
export class DisposedError extends ElexError {
  constructor(what: string) {
    super('E_DISPOSED', `${what} has been disposed`);
  }
}

/**
 * A `wasm` source given to Engine.create could not be fetched, compiled or instantiated as an
 * elex module (`E_WASM`): a URL fetch failed or answered an error status (Node's fetch reads no
 * file: URLs), bytes that are not WebAssembly, a module that is not an elex build. `cause` holds
 * the underlying error (a TypeError, CompileError or LinkError), if any.
 */
export class WasmLoadError extends ElexError {
  /** The error that stopped the load, if any. */
  readonly cause: unknown;

  constructor(message: string, cause?: unknown) {
    super('E_WASM', cause === undefined ? message : `${message} (${String(cause)})`);
    this.cause = cause;
  }
}

/** The engine hit an internal fault (a WebAssembly trap) and refuses further calls (`E_BROKEN`). */
export class EngineBrokenError extends ElexError {
  /** The trap that broke the engine. */
  readonly cause: unknown;

  constructor(cause: unknown) {
    super('E_BROKEN', `the engine trapped (${String(cause)}); create a new Engine`);
    this.cause = cause;
  }
}

/** An agent store failed to read or write (`E_STORE`); `cause` holds the underlying error. */
export class StoreError extends ElexError {
  /** The store's own error. */
  readonly cause: unknown;

  constructor(message: string, cause: unknown, code = 'E_STORE') {
    super(code, cause === undefined ? message : `${message}: ${String(cause)}`);
    this.cause = cause;
  }
}

/** The store ran out of space, e.g. the browser's IndexedDB quota (`E_QUOTA`). */
export class StoreQuotaError extends StoreError {
  constructor(message: string, cause: unknown) {
    super(message, cause, 'E_QUOTA');
  }
}

/**
 * Agents another writer changed in a versioned store since this agent cache loaded them
 * (`E_CONFLICT`): their writes were refused (the store kept the other writer's state) and the
 * cache dropped them, unsaved changes included, so the next `get` reloads the newest. `agents`
 * names them. Redo the work those agents lost, on a fresh lease. Thrown by `AgentCache.flush`
 * (and `close`) once every other agent is written (a store error takes precedence and the conflicts
 * wait for a later flush), so every agent it does not name was written; conflicts found by
 * evictions are reported by the next flush.
 */
export class ConflictError extends ElexError {
  /** Ids of the agents whose writes were refused and which were dropped. */
  readonly agents: string[];
  /**
   * The agents of `agents` whose changes may be in the store nonetheless: a write of theirs lost
   * its answer (an outage) and the store could not learn whether it landed before others wrote.
   * Check before redoing their work (e.g. for an operation id in the reloaded agent). Usually empty.
   */
  readonly uncertain: string[];

  constructor(agents: string[], uncertain: string[] = []) {
    super(
      'E_CONFLICT',
      `${agents.length === 1 ? 'agent' : 'agents'} ${agents.map((a) => `'${a}'`).join(', ')} changed in the store since this cache loaded ${agents.length === 1 ? 'it' : 'them'}: ${agents.length === 1 ? 'its' : 'their'} changes here were dropped; get ${agents.length === 1 ? 'it' : 'them'} again for the newest state`,
    );
    this.agents = agents;
    this.uncertain = uncertain;
  }
}

/** Who holds a {@link FileStore} directory's write lock, as its lock file says. */
export interface LockOwner {
  /** The owning process's id. */
  readonly pid: number;
  /** The host it runs on. */
  readonly host: string;
  /** When it took the lock (ISO 8601). */
  readonly since: string;
}

/**
 * Another process holds the store's write lock (`E_LOCKED`): a FileStore directory is written by
 * one process at a time. `owner` names that process; `dir` is the directory. The lock is taken
 * over once its owner no longer runs.
 */
export class StoreLockedError extends StoreError {
  /** The locked directory. */
  readonly dir: string;
  /** The process holding the lock (undefined if its lock file could not be read). */
  readonly owner: LockOwner | undefined;

  constructor(dir: string, owner: LockOwner | undefined) {
    const who =
      owner === undefined ? 'another process' : `process ${owner.pid} on ${owner.host} (since ${owner.since})`;
    super(`FileStore directory '${dir}' is locked for writing by ${who}`, undefined, 'E_LOCKED');
    this.dir = dir;
    this.owner = owner;
  }
}

/** Which embedding model a store's vectors are of. */
export interface EmbeddingProvenance {
  /** The model's name (null: none, the store has no semantic index). */
  model: string | null;
  /** Its dimension (null: none). */
  dims: number | null;
}

/**
 * A persisted store was written with another embedding model than the one it is opened with
 * (`E_EMBEDDINGS`): another model's name or dimension. Its vectors would not be comparable with
 * the new model's queries; open it with the model it names, or ask to re-embed (ElexStore:
 * `reembed: true`). `saved` and `given` name both.
 */
export class EmbeddingModelMismatchError extends ElexError {
  /** The model the store was written with. */
  readonly saved: EmbeddingProvenance;
  /** The model it is opened with. */
  readonly given: EmbeddingProvenance;

  constructor(saved: EmbeddingProvenance, given: EmbeddingProvenance) {
    const name = (m: EmbeddingProvenance) =>
      m.model === null ? 'no embedding model' : `model '${m.model}' (${m.dims} dimensions)`;
    super(
      'E_EMBEDDINGS',
      `the store was written with ${name(saved)}, and is opened with ${name(given)}: open it with the model it was written with, or re-embed (reembed: true)`,
    );
    this.saved = saved;
    this.given = given;
  }
}
