/**
 * ElexStore: a LangGraph.js store (a BaseStore of @langchain/langgraph-checkpoint) on one
 * elex-wasm HNSW index. Items live in the host (item-table.ts), one vector per embedded text in
 * the index under uint32 keys. A search under a namespace prefix hands the index an allow-list
 * of that prefix's vectors (an IdSet kept per prefix), so it costs what the prefix's items cost;
 * a filter is evaluated host-side on the prefix's items first and the passing items' vectors
 * are the allow-list, so filtered results are exact where the index's plan is exact.
 */
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import {
  BaseStore,
  type GetOperation,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
  validateNamespace,
} from '@langchain/langgraph-checkpoint';
import {
  BudgetExceededError,
  DimensionMismatchError,
  EmbeddingModelMismatchError,
  Engine,
  InvalidArgumentError,
  type ByteStore,
  type EmbeddingProvenance,
  type IdSet,
  type IndexOptions,
  type SaveResult,
  type VectorIndex,
} from '../index.js';
import { loadWithSidecar, saveWithSidecar, type Sidecar } from '../hnsw/store/sidecar.js';
import { checkIndexName } from '../hnsw/store/keys.js';
import { readManifest } from '../hnsw/store/store-io.js';
import { isPlainObject, metadataJson } from '../util/json-value.js';
import { checkOptionNames, optionNames } from '../util/validate.js';
import { ItemTable, itemBytes, namespaceKey, type StoredItem } from './item-table.js';
import { Journal } from './journal.js';
import { decodeItemRecord, encodeItemRecord, opJson, resolveItemRecord, type ItemRecord } from './item-record.js';
import { matchesFilter, textsAtPath, tokenizePath } from './paths.js';

/** How an ElexStore embeds items for semantic search (LangGraph's IndexConfig, plus the model's name). */
export interface ElexStoreIndexConfig {
  /** The embeddings' dimension. */
  dims: number;
  /** The embeddings model (a LangChain Embeddings). */
  embeddings: EmbeddingsInterface;
  /**
   * Field paths whose texts are embedded, one vector per text: `"$"` the whole value as JSON,
   * `"a.b"` a nested field, `"list[*].text"` each element's.
   *
   * @defaultValue `["$"]`
   */
  fields?: string[];
  /**
   * The embedding model's name, recorded in a persisted store (provenance).
   *
   * @defaultValue the embeddings' `model` or `modelName` property, else its class name
   */
  model?: string;
}

/** Time to live of items. */
export interface ElexStoreTtlConfig {
  /** Minutes an item lives after its put when the put gives no `ttl`; undefined: items do not expire. */
  defaultTtl?: number;
  /**
   * Whether a get or search that returns an item with a TTL starts its time again.
   *
   * @defaultValue `true`
   */
  refreshOnRead?: boolean;
  /** Minutes between sweeps that remove expired items (a timer the store starts; {@link ElexStore.stop} ends it); undefined: none. */
  sweepIntervalMinutes?: number;
}

/** Options of {@link ElexStore}. */
export interface ElexStoreOptions {
  /** Semantic search: how items are embedded. Without it, search takes filters only. */
  index?: ElexStoreIndexConfig;
  /** HNSW parameters of the index (see IndexOptions); its metric is cosine, its dim `index.dims`. */
  hnsw?: Omit<IndexOptions, 'dim' | 'metric' | 'fields'>;
  /** The engine to create the index in (not disposed by the store). Default: one the store creates on first use. */
  engine?: Engine;
  /**
   * Budget of the engine the store creates when `engine` is not given, in bytes: the index and
   * the items' host bytes ({@link ElexStore.itemBytes}) together stay within it.
   *
   * @defaultValue Engine.create's default (500 MiB)
   */
  budgetBytes?: number;
  /** Time to live of items. */
  ttl?: ElexStoreTtlConfig;
  /**
   * The clock, in milliseconds since the epoch (tests pass a fake one).
   *
   * @defaultValue `Date.now`
   */
  now?: () => number;
  /**
   * Where the store persists (any ByteStore: FileStore, IndexedDBStore, MemoryStore,
   * PostgresStore): {@link ElexStore.flush} writes the changes since the last flush there. To
   * continue a store saved there, use {@link ElexStore.open}.
   */
  store?: ByteStore;
  /**
   * Name of the store's save inside `store` (1..100 UTF-16 code units, an index name).
   *
   * @defaultValue `'langgraph'`
   */
  name?: string;
  /**
   * Flush after every batch that changed items, before it resolves: each put is durable once
   * its promise resolves (a write per batch). Default false: a put is durable once a later
   * {@link ElexStore.flush} (or {@link ElexStore.stop}) resolves.
   *
   * @defaultValue `false`
   */
  autoFlush?: boolean;
}

/** Options of {@link ElexStore.open}. */
export interface ElexStoreOpenOptions extends ElexStoreOptions {
  /** Where the store was saved (required). */
  store: ByteStore;
  /**
   * When the save was written with another embedding model than `index` names (or with none):
   * re-embed every item's fields with `index.embeddings` instead of throwing
   * EmbeddingModelMismatchError.
   *
   * @defaultValue `false`
   */
  reembed?: boolean;
}

/** Every key of an ElexStore's items records starts with this (docs/format.md, "LangGraph stores"). */
export const ITEMS_KEY_PREFIX = '@langgraph/';
/** Name of a store's save inside its ByteStore when `name` is not given. */
export const DEFAULT_STORE_NAME = 'langgraph';

/** A put of {@link ElexStore.batch}: LangGraph's PutOperation with a time to live. */
export interface ElexPutOperation extends PutOperation {
  /** Minutes the item lives; null: forever; undefined: the store's `defaultTtl`. */
  ttl?: number | null;
}

/** Options of {@link ElexStore.put} beyond LangGraph's. */
export interface ElexPutOptions {
  /** Minutes the item lives; null: forever; undefined: the store's `defaultTtl`. */
  ttl?: number | null;
}

const STORE_OPTIONS = optionNames<ElexStoreOptions>({
  index: true,
  hnsw: true,
  engine: true,
  budgetBytes: true,
  ttl: true,
  now: true,
  store: true,
  name: true,
  autoFlush: true,
});
const OPEN_OPTIONS = [...STORE_OPTIONS, 'reembed'];
const HNSW_OPTIONS = optionNames<Omit<IndexOptions, 'dim' | 'metric' | 'fields'>>({
  M: true,
  efConstruction: true,
  efSearch: true,
  seed: true,
  quantization: true,
});
const INDEX_OPTIONS = optionNames<ElexStoreIndexConfig>({ dims: true, embeddings: true, fields: true, model: true });
const TTL_OPTIONS = optionNames<ElexStoreTtlConfig>({
  defaultTtl: true,
  refreshOnRead: true,
  sweepIntervalMinutes: true,
});
const MINUTE_MS = 60_000;
/** Allow-lists (of a prefix, or a prefix and a filter) kept built at once (each holds engine memory: a bit a slot plus 4 bytes an id). */
const PREFIX_SETS = 64;
/** The most results one index search returns (the index's k limit, MAX_EF). */
const MAX_K = 100_000;

type Put = {
  namespace: string[];
  key: string;
  json: string | null;
  texts: string[];
  ttl: number | undefined;
  fields: false | string[] | undefined;
};

/**
 * A LangGraph.js store (`BaseStore` of `@langchain/langgraph-checkpoint`) on an elex-wasm HNSW
 * index: namespaced items with semantic search, LangGraph's filters, TTL and a byte budget.
 * Items live in the host, their vectors (one per embedded text) in the index; a search under
 * a namespace prefix searches only that prefix's vectors. Scores are cosine similarities.
 *
 * @example
 * ```ts
 * const store = new ElexStore({ index: { dims: 256, embeddings, fields: ['text'] } });
 * await store.put(['user-42', 'memories'], 'm1', { text: 'likes green tea' });
 * const hits = await store.search(['user-42'], { query: 'drinks', limit: 3 });
 * ```
 */
export class ElexStore extends BaseStore {
  private config: ElexStoreIndexConfig | undefined;
  private fieldTokens: [string, string[]][];
  private readonly journal: Journal | undefined;
  private readonly hnsw: Omit<IndexOptions, 'dim' | 'metric' | 'fields'>;
  private readonly budgetBytes: number | undefined;
  private readonly ttlConfig: Required<Pick<ElexStoreTtlConfig, 'refreshOnRead'>> & ElexStoreTtlConfig;
  private readonly clock: () => number;
  private enginePromise: Promise<Engine> | undefined;
  private givenEngine: Engine | undefined;
  private ownEngine: Engine | undefined;
  private vectorIndex: VectorIndex | undefined;
  private table = new ItemTable();
  /** Built allow-lists of namespace prefixes (and filters), least recently used first. */
  private readonly allowLists = new Map<string, AllowList>();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** Vectors removed from the index since it was built, loaded or compacted. */
  private removedVectors = 0;
  /** Batches, sweeps and flushes, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * A store with `options` (see {@link ElexStoreOptions}); the engine and index are created on
   * first use. Throws InvalidArgumentError for an unknown option name or a bad value.
   */
  constructor(options: ElexStoreOptions = {}) {
    super();
    checkObject('ElexStore options', options, STORE_OPTIONS);
    const { index, hnsw = {}, engine, budgetBytes, ttl = {}, now = Date.now, store, name, autoFlush } = options;
    if (
      store !== undefined &&
      (store === null || typeof store.write !== 'function' || typeof store.keys !== 'function')
    )
      throw new InvalidArgumentError('store must be a ByteStore (read, write, delete, keys)');
    if (name !== undefined) checkIndexName(name);
    if (autoFlush !== undefined && typeof autoFlush !== 'boolean')
      throw new InvalidArgumentError('autoFlush must be a boolean');
    if (store === undefined && (name !== undefined || autoFlush !== undefined))
      throw new InvalidArgumentError('name and autoFlush need a store');
    if (engine !== undefined && !(engine instanceof Engine))
      throw new InvalidArgumentError('engine must be an Engine of elex-wasm');
    if (engine !== undefined && budgetBytes !== undefined)
      throw new InvalidArgumentError('give engine or budgetBytes, not both');
    if (typeof now !== 'function') throw new InvalidArgumentError('now must be a function returning milliseconds');
    if (index !== undefined) checkIndexConfig(index);
    checkObject('hnsw', hnsw, HNSW_OPTIONS);
    checkObject('ttl', ttl, TTL_OPTIONS);
    if (ttl.defaultTtl !== undefined) checkMinutes(ttl.defaultTtl, 'ttl.defaultTtl');
    if (ttl.sweepIntervalMinutes !== undefined) checkMinutes(ttl.sweepIntervalMinutes, 'ttl.sweepIntervalMinutes');
    this.config = index;
    this.fieldTokens = tokenizeFields(index);
    if (store !== undefined) this.journal = new Journal(store, name ?? DEFAULT_STORE_NAME, autoFlush ?? false);
    this.hnsw = hnsw;
    this.budgetBytes = budgetBytes;
    this.ttlConfig = { ...ttl, refreshOnRead: ttl.refreshOnRead ?? true };
    this.clock = now;
    this.givenEngine = engine;
    if (engine) this.enginePromise = Promise.resolve(engine);
    if (ttl.sweepIntervalMinutes !== undefined) {
      this.sweepTimer = setInterval(
        () => void this.sweep().catch(() => undefined),
        ttl.sweepIntervalMinutes * MINUTE_MS,
      );
      (this.sweepTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Items stored, expired ones not yet swept included. */
  get size(): number {
    return this.table.size;
  }

  /** Host memory the items hold, in bytes, estimated (2 per UTF-16 code unit of namespaces, keys and value JSON, 8 per vector, 128 per item). */
  get itemBytes(): number {
    return this.table.itemBytes;
  }

  /** The engine, once known. */
  get engine(): Engine | undefined {
    return this.ownEngine ?? this.givenEngine;
  }

  /** The index of the items' vectors, once created (on the first indexed put). */
  get index(): VectorIndex | undefined {
    return this.vectorIndex;
  }

  /** The embedding model the store's vectors are of: its name and dimension (null for both without `index`). */
  get provenance(): EmbeddingProvenance {
    const c = this.config;
    if (c === undefined) return { model: null, dims: null };
    const e = c.embeddings as { model?: unknown; modelName?: unknown };
    const named = [c.model, e.model, e.modelName].find((m) => typeof m === 'string' && m.length > 0) as
      | string
      | undefined;
    return { model: named ?? c.embeddings.constructor?.name ?? 'unknown', dims: c.dims };
  }

  /**
   * The store saved in `options.store` under `options.name`, or a new empty one there if none
   * is saved yet; later flushes continue that save. Throws EmbeddingModelMismatchError when the
   * save was written with another embedding model (name or dimension) than `options.index`
   * names, unless `reembed`; StoreError (a failing store), CorruptSnapshotError (bytes that are
   * not a valid save), BudgetExceededError (it does not fit the budget), with nothing kept
   * allocated. Cost: opening the index and reading the items records.
   *
   * @example
   * ```ts
   * const memory = await ElexStore.open({ store: new FileStore('./memory'), index: { dims: 256, embeddings } });
   * ```
   */
  static async open(options: ElexStoreOpenOptions): Promise<ElexStore> {
    checkObject('open options', options, OPEN_OPTIONS);
    const { reembed = false, ...rest } = options;
    if (rest.store === undefined) throw new InvalidArgumentError('open needs options.store');
    if (typeof reembed !== 'boolean') throw new InvalidArgumentError('reembed must be a boolean');
    const opened = new ElexStore(rest);
    try {
      await opened.exclusive(() => opened.load(reembed));
    } catch (error) {
      opened.dispose();
      throw error;
    }
    return opened;
  }

  /**
   * Writes the changes since the last flush to the store (`options.store`), atomically: a crash
   * or failure leaves the previous flush's state, which {@link ElexStore.open} reads. Items go
   * in an items record (a delta of the changes, or all items once the deltas pass half of the
   * last full record), the vectors in the index's save (a log segment or a checkpoint). Returns
   * what the index save did, or undefined when nothing changed. Throws InvalidArgumentError
   * without a store, StoreError (a failing store, or another writer's save under the name),
   * StoreQuotaError. Cost: the changes' bytes (or all items' for a full record).
   */
  flush(): Promise<SaveResult | undefined> {
    if (this.journal === undefined) throw new InvalidArgumentError('flush needs a store: give options.store');
    return this.exclusive(() => this.save());
  }

  /**
   * Re-embeds every item's fields with `embeddings` (dimension `options.dims`, default the
   * store's) into a new index that replaces the old one when all of it is built: a failure
   * (the embedding call, InvalidArgumentError, DimensionMismatchError, BudgetExceededError)
   * changes nothing. The next flush writes a full save with the new provenance. Cost: one
   * embedding call for every distinct text, one index build.
   */
  reembed(embeddings: EmbeddingsInterface, options: { dims?: number; model?: string } = {}): Promise<void> {
    checkObject('reembed options', options, ['dims', 'model']);
    const config: ElexStoreIndexConfig = {
      ...this.config,
      embeddings,
      dims: (options.dims ?? this.config?.dims) as number,
    };
    if (options.model !== undefined) config.model = options.model;
    else delete config.model;
    checkIndexConfig(config);
    return this.exclusive(() => this.rebuild(config));
  }

  /**
   * Stores `value` (a plain JSON object) at `namespace`/`key`, replacing what is there, embedding
   * the texts of `index` (field paths; false: none; default the store's fields). `options.ttl`:
   * minutes it lives. Throws InvalidNamespaceError, InvalidArgumentError, BudgetExceededError
   * with nothing stored. Cost: the embedding call plus one index add per text.
   */
  override async put(
    namespace: string[],
    key: string,
    value: Record<string, unknown>,
    index?: false | string[],
    options: ElexPutOptions = {},
  ): Promise<void> {
    validateNamespace(namespace);
    checkObject('put options', options, ['ttl']);
    await this.batch([{ namespace, key, value, index, ttl: options.ttl } as ElexPutOperation]);
  }

  /**
   * Runs `operations` (gets, searches, puts, listNamespaces) as LangGraph's InMemoryStore does:
   * every read sees the state before the batch's puts; the puts then apply, the last of a key
   * winning. All or nothing: a bad operation (InvalidNamespaceError, InvalidArgumentError), a
   * failing embedding call or the budget (BudgetExceededError) throw with nothing changed.
   * Cost: one embedding call for the queries, one for the puts' texts, plus each operation's.
   */
  async batch<Op extends readonly Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    if (!Array.isArray(operations)) throw new InvalidArgumentError('batch takes an array of operations');
    const kinds = operations.map((op, i) => this.checkOperation(op, i));
    return this.exclusive(async () => {
      const puts = new Map<string, Put>();
      kinds.forEach((kind, i) => {
        if (kind !== 'put') return;
        const op = operations[i] as ElexPutOperation;
        const full = `${namespaceKey(op.namespace)}\u0000${op.key}`;
        puts.set(full, this.planPut(op)); // the last put of a key wins, at its first put's place
      });
      const queries = new Map<string, number[]>();
      if (this.config) {
        const texts = [
          ...new Set(
            kinds.flatMap((k, i) =>
              k === 'search' && (operations[i] as SearchOperation).query
                ? [(operations[i] as SearchOperation).query!]
                : [],
            ),
          ),
        ];
        const vectors = await Promise.all(texts.map((t) => this.config!.embeddings.embedQuery(t)));
        texts.forEach((t, i) =>
          queries.set(t, checkVector(vectors[i], this.config!.dims, `the embedding of query '${t}'`)),
        );
      }
      const embedded = await this.embedPuts([...puts.values()]);
      const now = this.clock();
      const touched = new Set<StoredItem>();
      const results = operations.map((op, i) => {
        switch (kinds[i]) {
          case 'get':
            return this.getItem(op as GetOperation, now, touched);
          case 'search': {
            const search = op as SearchOperation;
            return this.searchItems(search, search.query ? queries.get(search.query) : undefined, now, touched);
          }
          case 'list':
            return this.listNamespacesOf(op as ListNamespacesOperation, now);
          default:
            return null; // a put's result, as InMemoryStore gives it
        }
      });
      if (puts.size > 0) await this.applyPuts([...puts.values()], embedded, now);
      if (this.ttlConfig.refreshOnRead)
        for (const item of touched)
          if (item.ttl !== undefined && this.table.get(item.namespace, item.key) === item) {
            this.table.setExpiry(item, now + item.ttl * MINUTE_MS);
            this.journal?.put(item, true);
          }
      if (puts.size > 0 && this.journal?.autoFlush) await this.save();
      return results as OperationResults<Op>;
    });
  }

  /**
   * Removes every expired item (and its vectors) now; returns how many. Expired items are
   * invisible from the moment they expire; this gives their memory back (the index is compacted
   * when removed vectors are a quarter of it or more). Cost: O(items).
   */
  sweep(): Promise<number> {
    return this.exclusive(async () => {
      if (this.table.expiringItems === 0) return 0;
      const now = this.clock();
      const expired = [...this.table.values()].filter((item) => isExpired(item, now));
      for (const item of expired) this.removeItem(item);
      this.compactIfWorth();
      return expired.length;
    });
  }

  /** Stops the sweep timer and, with a store, flushes (see {@link ElexStore.flush}). The store stays usable. */
  override async stop(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.journal !== undefined) await this.flush();
    else await this.queue;
  }

  /** Stops the store, frees the index, and the engine if the store created it; the store is unusable afterwards. */
  dispose(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.releaseAllowLists();
    this.vectorIndex?.dispose();
    this.vectorIndex = undefined;
    this.ownEngine?.dispose();
    this.table = new ItemTable();
  }

  /** Which operation `op` is; throws what LangGraph's InMemoryStore throws for a bad one. */
  private checkOperation(op: Operation, i: number): 'get' | 'search' | 'put' | 'list' {
    if (op === null || typeof op !== 'object') throw new InvalidArgumentError(`operations[${i}] must be an object`);
    if ('namespace' in op) validateNamespace(op.namespace, { allowReservedRoot: true });
    if ('namespacePrefix' in op) {
      if (!Array.isArray(op.namespacePrefix))
        throw new InvalidArgumentError(`operations[${i}].namespacePrefix must be an array of strings`);
      if (op.namespacePrefix.length > 0) validateNamespace(op.namespacePrefix, { allowReservedRoot: true });
      if (op.filter !== undefined && op.filter !== null && (typeof op.filter !== 'object' || Array.isArray(op.filter)))
        throw new InvalidArgumentError(`operations[${i}].filter must be an object`);
      checkCount(op.limit, `operations[${i}].limit`);
      checkCount(op.offset, `operations[${i}].offset`);
      if (op.query !== undefined && op.query !== null && typeof op.query !== 'string')
        throw new InvalidArgumentError(`operations[${i}].query must be a string`);
      return 'search';
    }
    if ('namespace' in op && 'key' in op) {
      if (typeof op.key !== 'string') throw new InvalidArgumentError(`operations[${i}].key must be a string`);
      if (!('value' in op)) return 'get';
      const put = op as ElexPutOperation;
      if (put.value !== null) metadataJson(put.value, `operations[${i}].value`);
      if (put.index !== undefined && put.index !== null && put.index !== false)
        checkFields(put.index, `operations[${i}].index`);
      if (put.ttl !== undefined && put.ttl !== null) checkMinutes(put.ttl, `operations[${i}].ttl`);
      return 'put';
    }
    if ('matchConditions' in op || 'limit' in op) {
      const list = op as ListNamespacesOperation;
      for (const c of list.matchConditions ?? []) {
        if (c?.matchType !== 'prefix' && c?.matchType !== 'suffix')
          throw new InvalidArgumentError(`operations[${i}]: unsupported match type ${String(c?.matchType)}`);
        if (!Array.isArray(c.path))
          throw new InvalidArgumentError(`operations[${i}]: a match condition's path must be an array`);
      }
      if (list.maxDepth !== undefined) checkCount(list.maxDepth, `operations[${i}].maxDepth`);
      checkCount(list.limit, `operations[${i}].limit`);
      checkCount(list.offset, `operations[${i}].offset`);
      return 'list';
    }
    throw new InvalidArgumentError(`operations[${i}] is not a get, search, put or listNamespaces operation`);
  }

  /** A put's JSON, texts to embed and TTL (checked in checkOperation). */
  private planPut(op: ElexPutOperation): Put {
    const json = op.value === null ? null : JSON.stringify(op.value);
    let texts: string[] = [];
    if (json !== null && this.config && op.index !== false) {
      const paths =
        op.index === undefined || op.index === null
          ? this.fieldTokens
          : op.index.map((p) => [p, tokenizePath(p)] as [string, string[]]);
      texts = paths.flatMap(([path, tokens]) => textsAtPath(op.value, path, tokens));
    }
    const ttl = op.ttl === null ? undefined : (op.ttl ?? this.ttlConfig.defaultTtl);
    const fields =
      op.index === null || op.index === undefined || op.index === false ? (op.index ?? undefined) : op.index.slice();
    return { namespace: op.namespace, key: op.key, json, texts, ttl, fields };
  }

  /** The vectors of the puts' texts, each distinct text embedded once. */
  private embedPuts(puts: Put[]): Promise<Map<string, number[]>> {
    return this.embedTexts(this.config, [...new Set(puts.flatMap((p) => p.texts))]);
  }

  /** `texts` embedded with `config`'s embeddings (one call), each checked to be `config.dims` numbers. */
  private async embedTexts(config: ElexStoreIndexConfig | undefined, texts: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    if (texts.length === 0 || config === undefined) return out;
    const vectors = await config.embeddings.embedDocuments(texts);
    if (!Array.isArray(vectors) || vectors.length !== texts.length)
      throw new InvalidArgumentError(
        `embedDocuments returned ${Array.isArray(vectors) ? vectors.length : String(vectors)} vectors for ${texts.length} texts`,
      );
    texts.forEach((t, i) => out.set(t, checkVector(vectors[i], config.dims, `the embedding of '${t.slice(0, 40)}'`)));
    return out;
  }

  /**
   * Applies the puts (deletes for a null value), all or nothing: the budget is checked and the
   * new vectors added (one atomic addBatch) before any item changes.
   */
  private async applyPuts(puts: Put[], embedded: Map<string, number[]>, now: number): Promise<void> {
    const vectorCount = puts.reduce((n, p) => n + p.texts.length, 0);
    const keys = this.table.planVectorKeys(vectorCount);
    let next = 0;
    const items: (StoredItem | null)[] = puts.map((p) => {
      if (p.json === null) return null;
      const old = this.table.get(p.namespace, p.key);
      const kept = old !== undefined && !isExpired(old, now);
      return {
        namespace: p.namespace.slice(),
        key: p.key,
        json: p.json,
        createdAt: kept ? old.createdAt : now,
        updatedAt: now,
        ...(p.ttl === undefined ? {} : { ttl: p.ttl, expiresAt: now + p.ttl * MINUTE_MS }),
        ...(p.fields === undefined ? {} : { fields: p.fields }),
        vectors: keys.slice(next, (next += p.texts.length)),
      };
    });
    let delta = 0;
    puts.forEach((p, i) => {
      const old = this.table.get(p.namespace, p.key);
      delta += (items[i] ? itemBytes(items[i]!) : 0) - (old ? itemBytes(old) : 0);
    });
    if (vectorCount > 0 || delta > 0) {
      const engine = await this.engineReady();
      const needed = delta + vectorCount * (this.config?.dims ?? 0) * 4;
      const used = engine.usedBytes + this.table.itemBytes;
      if (needed > 0 && used + needed > engine.budgetBytes)
        throw new BudgetExceededError(needed, used, engine.budgetBytes, 'put (items and their vectors)');
    }
    if (vectorCount > 0) {
      const flat = new Float32Array(vectorCount * this.config!.dims);
      let row = 0;
      for (const p of puts) for (const t of p.texts) flat.set(embedded.get(t)!, row++ * this.config!.dims);
      this.indexReady().addBatch(keys, flat);
    }
    puts.forEach((p, i) => {
      const old = this.table.get(p.namespace, p.key);
      if (old !== undefined) this.removeVectors(old);
      const item = items[i];
      if (item) {
        // An update keeps the item's place; a put over an expired item not yet swept makes a
        // new item, added last (as after a sweep).
        const expired = old !== undefined && isExpired(old, now);
        if (expired) {
          this.table.remove(p.namespace, p.key);
          this.journal?.delete(old);
        }
        this.table.put(item);
        this.journal?.put(item, old !== undefined && !expired);
      } else if (old !== undefined) {
        this.table.remove(p.namespace, p.key);
        this.journal?.delete(old);
      }
      if (item || old !== undefined) this.invalidate(p.namespace);
    });
  }

  /** Removes `item` and its vectors. */
  private removeItem(item: StoredItem): void {
    this.table.remove(item.namespace, item.key);
    this.journal?.delete(item);
    this.removeVectors(item);
    this.invalidate(item.namespace);
  }

  private getItem(op: GetOperation, now: number, touched: Set<StoredItem>): Item | null {
    const item = this.table.get(op.namespace, op.key);
    if (item === undefined || isExpired(item, now)) return null;
    touched.add(item);
    return toItem(item);
  }

  /** The live items under `prefix` that pass `filter`, in insertion order. */
  private *candidates(prefix: string[], filter: Record<string, unknown> | undefined, now: number) {
    const checkExpiry = this.table.expiringItems > 0;
    const filtered = filter !== undefined && filter !== null && Object.keys(filter).length > 0;
    for (const item of this.table.under(prefix)) {
      if (checkExpiry && isExpired(item, now)) continue;
      if (filtered && !matchesFilter(viewOf(item), filter)) continue;
      yield item;
    }
  }

  private searchItems(
    op: SearchOperation,
    query: number[] | undefined,
    now: number,
    touched: Set<StoredItem>,
  ): SearchItem[] {
    const limit = op.limit ?? 10;
    const offset = op.offset ?? 0;
    const filter = op.filter ?? undefined;
    const prefix = op.namespacePrefix;
    const out: SearchItem[] = [];
    const keep = (item: StoredItem, score: number | undefined) => {
      touched.add(item);
      out.push({ ...toItem(item), score });
    };
    if (query === undefined) {
      let skipped = 0;
      for (const item of this.candidates(prefix, filter, now)) {
        if (out.length >= limit) break;
        if (skipped++ >= offset) keep(item, undefined);
      }
      return out;
    }
    const scored = this.nearest(query, prefix, filter, offset + limit, now);
    for (const [item, score] of scored.slice(offset, offset + limit)) keep(item, score);
    if (out.length < limit) {
      // Items with no vectors come after the scored ones, in insertion order (as InMemoryStore has it).
      for (const item of this.candidates(prefix, filter, now)) {
        if (out.length >= limit) break;
        if (item.vectors.length === 0) keep(item, undefined);
      }
    }
    return out;
  }

  /**
   * The `need` items under `prefix` passing `filter` whose best vector is nearest to `query`,
   * with their cosine similarity, best first: the index searched with the allowed vectors as an
   * allow-list, k doubled until `need` distinct items are found or every allowed vector is in.
   */
  private nearest(
    query: number[],
    prefix: string[],
    filter: Record<string, unknown> | undefined,
    need: number,
    now: number,
  ): [StoredItem, number][] {
    const index = this.vectorIndex;
    if (index === undefined || need === 0) return [];
    let allow: IdSet | undefined;
    let allowed: number;
    const filtered = filter !== undefined && Object.keys(filter).length > 0;
    if (!filtered && prefix.length === 0) {
      allowed = index.size;
    } else {
      const built = this.allowList(prefix, filtered ? filter : undefined, now);
      allow = built.set;
      allowed = built.count;
    }
    if (allowed === 0) return [];
    const checkExpiry = this.table.expiringItems > 0;
    const most = Math.min(allowed, MAX_K);
    for (let k = Math.min(most, need); ; k = Math.min(most, k * 2)) {
      const { ids, distances } = index.search(query, k, allow === undefined ? {} : { filter: allow });
      const seen = new Set<StoredItem>();
      const found: [StoredItem, number][] = [];
      ids.forEach((id, i) => {
        const item = this.table.ofVector(id)!;
        if (seen.has(item) || (checkExpiry && isExpired(item, now))) return;
        seen.add(item);
        found.push([item, 1 - distances[i]]);
      });
      if (found.length >= need || k >= most) return found;
    }
  }

  /**
   * The allow-list of the vectors of the live items under `prefix` that pass `filter`, built
   * once and kept (the last PREFIX_SETS used) until an item under the prefix changes. Items that
   * expire after it was built stay in it: the search skips them.
   */
  private allowList(prefix: string[], filter: Record<string, unknown> | undefined, now: number): AllowList {
    const prefixKey = namespaceKey(prefix);
    const key = `${prefixKey}\u0000${filter === undefined ? '' : filterKey(filter)}`;
    let built = this.allowLists.get(key);
    if (built !== undefined) {
      this.allowLists.delete(key); // most recently used last
    } else {
      const ids: number[] = [];
      for (const item of this.candidates(prefix, filter, now)) for (const v of item.vectors) ids.push(v);
      built = { prefix: prefixKey, set: this.vectorIndex!.idSet(ids), count: ids.length };
      if (this.allowLists.size >= PREFIX_SETS) {
        const [oldest, entry] = this.allowLists.entries().next().value as [string, AllowList];
        entry.set.release();
        this.allowLists.delete(oldest);
      }
    }
    this.allowLists.set(key, built);
    return built;
  }

  /** Drops the allow-lists of every prefix of `namespace` ([] included): an item under it changed. */
  private invalidate(namespace: readonly string[]): void {
    if (this.allowLists.size === 0) return;
    const ns = namespaceKey(namespace);
    for (const [key, built] of this.allowLists) {
      if (built.prefix === '' || built.prefix === ns || ns.startsWith(`${built.prefix}:`)) {
        built.set.release();
        this.allowLists.delete(key);
      }
    }
  }

  private releaseAllowLists(): void {
    for (const { set } of this.allowLists.values()) set.release();
    this.allowLists.clear();
  }

  private listNamespacesOf(op: ListNamespacesOperation, now: number): string[][] {
    const checkExpiry = this.table.expiringItems > 0;
    let namespaces: (readonly string[])[] = [];
    for (const { namespace, items } of this.table.namespaces()) {
      if (checkExpiry && [...items.values()].every((item) => isExpired(item, now))) continue;
      if ((op.matchConditions ?? []).every((c) => matches(c, namespace))) namespaces.push(namespace);
    }
    if (op.maxDepth !== undefined) {
      const seen = new Map<string, readonly string[]>();
      for (const ns of namespaces) {
        const cut = ns.slice(0, op.maxDepth);
        seen.set(namespaceKey(cut), cut);
      }
      namespaces = [...seen.values()];
    }
    const sorted = namespaces.map((ns) => [...ns]).sort((a, b) => namespaceKey(a).localeCompare(namespaceKey(b)));
    const offset = op.offset ?? 0;
    return sorted.slice(offset, offset + (op.limit ?? sorted.length));
  }

  /** Compacts the index when removed vectors are a quarter of its slots or more. */
  private compactIfWorth(): void {
    const index = this.vectorIndex;
    if (
      index === undefined ||
      this.removedVectors === 0 ||
      this.removedVectors < 0.25 * (index.size + this.removedVectors)
    )
      return;
    this.releaseAllowLists();
    try {
      index.compact();
      this.removedVectors = 0;
    } catch {
      // Over budget: the index stays as it is (compacting is an optimisation).
    }
  }

  /** Removes `item`'s vectors from the index (their nodes stay until a compaction). */
  private removeVectors(item: StoredItem): void {
    for (const v of item.vectors) this.vectorIndex!.remove(v);
    this.removedVectors += item.vectors.length;
  }

  private engineReady(): Promise<Engine> {
    if (this.enginePromise === undefined) {
      const budget = this.budgetBytes;
      this.enginePromise = Engine.create(budget === undefined ? {} : { budgetBytes: budget }).then(
        (engine) => (this.ownEngine = engine),
      );
      this.enginePromise.catch(() => (this.enginePromise = undefined));
    }
    return this.enginePromise;
  }

  /**
   * The index (the engine is known by now). A store without `index` has one of dimension 1 and
   * no vectors: the commit point of its saves.
   */
  private indexReady(): VectorIndex {
    if (this.vectorIndex === undefined)
      this.vectorIndex = this.engine!.createIndex({ ...this.hnsw, dim: this.config?.dims ?? 1, metric: 'cosine' });
    return this.vectorIndex;
  }

  /**
   * The items record as a sidecar of the index: a full record of every item (`ops` undefined)
   * or a delta of `ops` continuing the stored chain. `written` learns the record's size.
   */
  private itemSidecar(ops?: readonly string[], written?: (bytes: number) => void): Sidecar<ItemRecord> {
    const journal = this.journal!;
    return {
      keyPrefix: ITEMS_KEY_PREFIX,
      kind: 'memory store',
      encode: (generation) => {
        const all = ops ?? [...this.table.values()].map((put) => opJson({ put }));
        const prev = ops === undefined ? null : journal.chain[journal.chain.length - 1];
        const bytes = encodeItemRecord(this.provenance, generation, this.table.nextVectorKey, prev, all);
        written?.(bytes.length);
        return bytes;
      },
      decode: decodeItemRecord,
      mismatch: (record, index) => {
        let vectors = 0;
        for (const op of record.ops) {
          if (!('put' in op)) continue;
          vectors += op.put.vectors.length;
          if (!op.put.vectors.every((v) => index.has(v))) return 'holds vectors the index does not';
        }
        return vectors === index.size ? undefined : 'holds other vectors than the index';
      },
      keep: () => (ops === undefined ? [] : journal.chain),
      resolve: resolveItemRecord,
    };
  }

  /** Writes the changes since the last flush (see flush); runs alone (inside exclusive). */
  private async save(): Promise<SaveResult | undefined> {
    const journal = this.journal!;
    if (!journal.pending) return undefined;
    await this.engineReady();
    const full = journal.full;
    let bytes = 0;
    const sidecar = this.itemSidecar(full ? undefined : journal.ops, (n) => (bytes = n));
    const { result, recordKey } = await saveWithSidecar(
      this.indexReady(),
      sidecar,
      journal.store,
      journal.name,
      journal.overwrite ? { overwrite: true } : {},
      true,
    );
    journal.flushed(recordKey, bytes, full);
    return result;
  }

  /** Loads what `options.store` holds under the name (see open); runs inside exclusive. */
  private async load(reembed: boolean): Promise<void> {
    const journal = this.journal!;
    const engine = await this.engineReady();
    if ((await readManifest(journal.store, journal.name)) === undefined) return;
    const { index, record } = await loadWithSidecar(
      (s, n) => engine.openIndex(s, n),
      this.itemSidecar(),
      journal.store,
      journal.name,
    );
    const table = new ItemTable();
    for (const op of record.ops) if ('put' in op) table.put(op.put);
    table.reserveVectorKeys(record.nextKey);
    this.vectorIndex = index;
    this.removedVectors = 0;
    this.table = table;
    journal.loaded(record.chain ?? [], record.baseBytes ?? 0, record.chainBytes ?? 0);
    if (engine.usedBytes + table.itemBytes > engine.budgetBytes)
      throw new BudgetExceededError(table.itemBytes, engine.usedBytes, engine.budgetBytes, 'open (the items)');
    const saved = { model: record.model, dims: record.dims };
    const given = this.provenance;
    if (saved.model === given.model && saved.dims === given.dims) return;
    if (!reembed || this.config === undefined) throw new EmbeddingModelMismatchError(saved, given);
    await this.rebuild(this.config);
  }

  /** Re-embeds every item with `config` into a new index, swapped in once built (see reembed). */
  private async rebuild(config: ElexStoreIndexConfig): Promise<void> {
    const tokens = tokenizeFields(config);
    const items = [...this.table.values()];
    const textsOf = items.map((item) => {
      if (item.fields === false) return [];
      const paths =
        item.fields === undefined ? tokens : item.fields.map((f) => [f, tokenizePath(f)] as [string, string[]]);
      const value = JSON.parse(item.json) as unknown;
      return paths.flatMap(([path, t]) => textsAtPath(value, path, t));
    });
    const unique = [...new Set(textsOf.flat())];
    const vectors = await this.embedTexts(config, unique);
    const count = textsOf.reduce((n, t) => n + t.length, 0);
    const engine = await this.engineReady();
    const fresh = engine.createIndex({ ...this.hnsw, dim: config.dims, metric: 'cosine' });
    const table = new ItemTable();
    try {
      const flat = new Float32Array(count * config.dims);
      let next = 0;
      for (let i = 0; i < items.length; i++) {
        const keys = textsOf[i].map((t) => {
          flat.set(vectors.get(t)!, next * config.dims);
          return next++;
        });
        const { view: _, ...item } = items[i];
        table.put({ ...item, vectors: keys });
      }
      if (count > 0)
        fresh.addBatch(
          Uint32Array.from({ length: count }, (_, i) => i),
          flat,
        );
      if (engine.usedBytes + table.itemBytes > engine.budgetBytes)
        throw new BudgetExceededError(table.itemBytes, engine.usedBytes, engine.budgetBytes, 'reembed');
    } catch (error) {
      fresh.dispose();
      throw error;
    }
    this.releaseAllowLists();
    this.vectorIndex?.dispose();
    this.vectorIndex = fresh;
    this.removedVectors = 0;
    this.table = table;
    this.config = config;
    this.fieldTokens = tokens;
    this.journal?.rewrite();
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A built allow-list: the prefix it is of (its namespace key), the IdSet, how many vectors. */
interface AllowList {
  prefix: string;
  set: IdSet;
  count: number;
}

/** Numbers for what a filter holds by identity (an object that is not plain, a function, a symbol): each its own cache key. */
const filterObjects = new WeakMap<object, number>();
const filterSymbols = new Map<symbol, number>();
let nextFilterObject = 0;

function identityOf(value: object | symbol): number {
  const known = typeof value === 'symbol' ? filterSymbols.get(value) : filterObjects.get(value);
  if (known !== undefined) return known;
  const n = nextFilterObject++;
  if (typeof value === 'symbol') filterSymbols.set(value, n);
  else filterObjects.set(value, n);
  return n;
}

/**
 * A search filter as a cache key, one to one: JSON, with every string value tagged `s` and what
 * JSON would merge or drop tagged apart (undefined, NaN, ±Infinity, a bigint; and, by identity, a
 * function, a symbol and an object that is not plain, which JSON would turn into its toJSON or its
 * primitive: `{ day: new Date(t) }` is not `{ day: isoString }`).
 */
function filterKey(filter: Record<string, unknown>): string {
  return JSON.stringify(filter, function (this: Record<string, unknown>, k: string, v: unknown) {
    const original = this[k];
    switch (typeof original) {
      case 'string':
        return `s${original}`;
      case 'undefined':
        return 'u';
      case 'number':
        return Number.isFinite(original) ? original : `n${original}`;
      case 'bigint':
        return `b${original}`;
      case 'function':
      case 'symbol':
        return `o${identityOf(original)}`;
      case 'object':
        return original !== null && !Array.isArray(original) && !isPlainObject(original)
          ? `o${identityOf(original)}`
          : v;
      default:
        return v;
    }
  });
}

function isExpired(item: StoredItem, now: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt <= now;
}

function toItem(item: StoredItem): Item {
  return {
    value: JSON.parse(item.json) as Record<string, unknown>,
    key: item.key,
    namespace: [...item.namespace],
    createdAt: new Date(item.createdAt),
    updatedAt: new Date(item.updatedAt),
  };
}

/** The parsed, deep-frozen value filters read (made once per item). */
function viewOf(item: StoredItem): Record<string, unknown> {
  if (item.view === undefined) item.view = deepFreeze(JSON.parse(item.json) as Record<string, unknown>);
  return item.view;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function matches(condition: MatchCondition, namespace: readonly string[]): boolean {
  const { matchType, path } = condition;
  if (path.length > namespace.length) return false;
  const start = matchType === 'prefix' ? 0 : namespace.length - path.length;
  return path.every((label, i) => label === '*' || namespace[start + i] === label);
}

function checkVector(v: unknown, dims: number, what: string): number[] {
  if (!Array.isArray(v)) throw new InvalidArgumentError(`${what} is not an array of numbers`);
  if (v.length !== dims) throw new DimensionMismatchError(dims, v.length, what);
  return v;
}

function checkIndexConfig(index: ElexStoreIndexConfig): void {
  checkObject('index', index, INDEX_OPTIONS);
  if (!Number.isInteger(index.dims) || index.dims < 1 || index.dims > 65536)
    throw new InvalidArgumentError(`index.dims must be an integer in [1, 65536], got ${String(index.dims)}`);
  if (typeof index.embeddings?.embedDocuments !== 'function' || typeof index.embeddings.embedQuery !== 'function')
    throw new InvalidArgumentError('index.embeddings must be a LangChain Embeddings (embedDocuments, embedQuery)');
  if (index.fields !== undefined) checkFields(index.fields, 'index.fields');
  if (index.model !== undefined && (typeof index.model !== 'string' || index.model.length === 0))
    throw new InvalidArgumentError('index.model must be a non-empty string');
}

/** The field paths of `index` (default `["$"]`), each with its tokens. */
function tokenizeFields(index: ElexStoreIndexConfig | undefined): [string, string[]][] {
  return (index?.fields ?? ['$']).map((p) => [p, tokenizePath(p)]);
}

function checkObject(what: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`${what} must be an object`);
  checkOptionNames(what, options, known);
}

function checkFields(fields: unknown, what: string): void {
  if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string'))
    throw new InvalidArgumentError(`${what} must be an array of field paths (strings)`);
}

function checkMinutes(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${what} must be a positive number of minutes, got ${String(value)}`);
}

function checkCount(value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0))
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${String(value)}`);
}
