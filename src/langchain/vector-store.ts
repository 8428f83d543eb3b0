/**
 * ElexVectorStore: a LangChain.js vector store (a SaveableVectorStore of @langchain/core) on an
 * elex-wasm HNSW index. Documents live in the host (document-table.ts), their vectors in the
 * index under uint32 keys, their scalar metadata fields as the index's attributes. A filter is a
 * predicate on the Document, called during the graph walk, or an object filter (`{ topic:
 * 'pets' }`, MongoDB-style operators) run as the index's `where`.
 * Scores are the index's distances, smaller is nearer, as in LangChain's HNSWLib store.
 */
import { Document, type DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { maximalMarginalRelevance } from '@langchain/core/utils/math';
import { SaveableVectorStore, type MaxMarginalRelevanceSearchOptions } from '@langchain/core/vectorstores';
import {
  DimensionMismatchError,
  Engine,
  FileStore,
  InvalidArgumentError,
  type ByteStore,
  type IndexOptions,
  type SaveOptions,
  type SaveResult,
  type VectorIndex,
  type Where,
  type Attributes,
  type FieldKind,
  checkWhere,
} from '../index.js';
import { checkInt, checkOptionNames, optionNames } from '../util/validate.js';
import { DocumentTable, type StoredDocument } from './document-table.js';
import { metadataJson } from '../util/json-value.js';
import { absentOtherKinds, metadataAttributes } from './metadata.js';
import { loadStore, saveStore } from './store-persistence.js';

/** A filter: called with each candidate Document during the walk; only those it accepts are returned. */
export type DocumentFilter = (doc: DocumentInterface) => boolean;

/**
 * What the store's searches, retrievers and `delete` take as a filter: a {@link DocumentFilter},
 * or an object filter on the documents' metadata (a {@link Where}: `{ topic: 'pets' }`, `{ year:
 * { $gte: 2020 }, $or: [...] }`), evaluated inside WebAssembly on the scalar metadata fields the
 * index keeps as attributes.
 */
export type ElexFilter = DocumentFilter | Where;

/** Where the store's index lives, for a store that creates its own engine or loads one. */
export interface ElexEngineOptions {
  /** The engine to create the index in (not disposed by the store). Default: one the store creates on first use. */
  engine?: Engine;
  /** Budget of the engine the store creates when `engine` is not given, in bytes; Engine.create's default (500 MiB) otherwise. */
  budgetBytes?: number;
}

/**
 * Options of {@link ElexVectorStore}: the index's (see Engine.createIndex) and its engine's.
 * `dim` defaults to the length of the first embedding added.
 */
export interface ElexVectorStoreOptions extends ElexEngineOptions, Omit<IndexOptions, 'dim'> {
  /**
   * Vector dimension, 1..65536.
   *
   * @defaultValue the length of the first embedding added
   */
  dim?: number;
}

/** Options of {@link ElexVectorStore.addDocuments} and {@link ElexVectorStore.addVectors}. */
export interface ElexAddOptions {
  /** The documents' ids, one per document; default each document's `id`, else a random UUID. An id already stored is replaced (upsert). */
  ids?: string[];
}

/** Name the directory forms of save and load use inside the directory's FileStore. */
export const DIRECTORY_STORE_NAME = 'langchain';

/**
 * One FileStore per directory for `save(directory)`: its saves then share one object, so the
 * directory's write lock has one holder in this process (held until the process exits, as
 * docs/postgres.md says), and a store is not kept alive per call. Keyed by the store's identity.
 */
const directoryStores = new Map<string, FileStore>();

function directoryStore(directory: string): FileStore {
  const fresh = new FileStore(directory);
  const known = directoryStores.get(fresh.identity);
  if (known !== undefined) return known;
  directoryStores.set(fresh.identity, fresh);
  return fresh;
}

const INDEX_OPTION_NAMES = optionNames<Omit<IndexOptions, 'dim'>>({
  fields: true,
  metric: true,
  M: true,
  efConstruction: true,
  efSearch: true,
  seed: true,
  quantization: true,
});
const STORE_OPTIONS = [...INDEX_OPTION_NAMES, 'dim', 'engine', 'budgetBytes'];
const ENGINE_OPTIONS = optionNames<ElexEngineOptions>({ engine: true, budgetBytes: true });
const ADD_OPTIONS = optionNames<ElexAddOptions>({ ids: true });

/**
 * A LangChain.js vector store (a SaveableVectorStore of `@langchain/core`) on an elex-wasm HNSW
 * index. Documents live in the host, their vectors in the index; a filter is a predicate on the
 * Document, called during the graph walk. Scores are the index's distances, smaller is nearer,
 * as in LangChain's HNSWLib store.
 *
 * @example
 * ```ts
 * const store = await ElexVectorStore.fromTexts(['a', 'b'], [{}, {}], embeddings, { metric: 'cosine' });
 * const hits = await store.similaritySearch('a', 1);
 * ```
 */
export class ElexVectorStore extends SaveableVectorStore {
  /** The filter this store accepts: a predicate on the Document, or an object filter on its metadata. */
  declare FilterType: ElexFilter;

  private readonly indexOptions: Omit<IndexOptions, 'dim'> & { dim?: number };
  private readonly engineOptions: ElexEngineOptions;
  private enginePromise: Promise<Engine> | undefined;
  private ownEngine: Engine | undefined;
  private vectorIndex: VectorIndex | undefined;
  private table = new DocumentTable();
  /** Mutations and saves, one at a time, so a save takes documents and index as one state. */
  private queue: Promise<unknown> = Promise.resolve();

  _vectorstoreType(): string {
    return 'elex';
  }

  /**
   * A store that embeds with `embeddings`. The engine and the index are created on the first
   * add (or save, when `dim` is given). Throws InvalidArgumentError for an unknown option name.
   */
  constructor(embeddings: EmbeddingsInterface, options: ElexVectorStoreOptions = {}) {
    const { engine, budgetBytes, dim, ...index } = checkOptions('ElexVectorStore', options, STORE_OPTIONS);
    super(embeddings, { ...index, ...(dim === undefined ? {} : { dim }) });
    if (engine !== undefined && !(engine instanceof Engine))
      throw new InvalidArgumentError('engine must be an Engine of elex-wasm');
    if (engine !== undefined && budgetBytes !== undefined)
      throw new InvalidArgumentError('give engine or budgetBytes, not both');
    this.indexOptions = { ...index, dim };
    this.engineOptions = { engine, budgetBytes };
    if (engine) this.enginePromise = Promise.resolve(engine);
  }

  /** The index, once created (after the first add or a load). Its ids are the documents' keys. */
  get index(): VectorIndex | undefined {
    return this.vectorIndex;
  }

  /** Documents stored. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Host memory the documents hold, in bytes (estimated: 2 per UTF-16 code unit of ids, texts
   * and metadata JSON, plus 96 per document). The vectors are in the engine: `engine.usedBytes`.
   */
  get documentBytes(): number {
    return this.table.documentBytes;
  }

  /** The engine, once known. */
  get engine(): Engine | undefined {
    return this.ownEngine ?? this.engineOptions.engine;
  }

  /**
   * Embeds the documents' pageContent with embedDocuments and adds them (see addVectors).
   * Metadata is checked before anything is embedded. Cost: the embedding call plus addVectors.
   */
  async addDocuments(documents: DocumentInterface[], options?: ElexAddOptions): Promise<string[]> {
    checkDocuments(documents);
    documents.forEach((d, i) => metadataJson(d.metadata, `documents[${i}].metadata`));
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * Adds `documents` with their `vectors` and returns their ids: `options.ids`, else each
   * document's `id`, else a random UUID. An id already stored is replaced (upsert); in one call a
   * repeated id's last document wins. All or nothing: a vector of the wrong length
   * (DimensionMismatchError), a non-finite value (InvalidVectorError), metadata JSON cannot
   * carry, bad ids (InvalidArgumentError) or the budget (BudgetExceededError) throw with nothing
   * of the batch added. Cost: one index addBatch, O(n * efConstruction * M * log size) distances.
   */
  async addVectors(
    vectors: number[][],
    documents: DocumentInterface[],
    options: ElexAddOptions = {},
  ): Promise<string[]> {
    checkDocuments(documents);
    checkOptions('addVectors', options, ADD_OPTIONS);
    if (!Array.isArray(vectors) || vectors.length !== documents.length) {
      throw new InvalidArgumentError(
        `addVectors: ${documents.length} documents need as many vectors, got ${Array.isArray(vectors) ? vectors.length : String(vectors)}`,
      );
    }
    const ids = documentIds(documents, options.ids);
    const rows: StoredDocument[] = documents.map((d, i) => ({
      key: 0,
      id: ids[i],
      pageContent: d.pageContent,
      metadataJson: metadataJson(d.metadata, `documents[${i}].metadata`),
    }));
    return this.exclusive(async () => {
      if (rows.length === 0) return [];
      const dim = this.vectorIndex?.dim ?? this.indexOptions.dim ?? vectorLength(vectors[0], 0);
      const flat = new Float32Array(rows.length * dim);
      vectors.forEach((v, i) => {
        if (vectorLength(v, i) !== dim) throw new DimensionMismatchError(dim, v.length, `vectors[${i}]`);
        flat.set(v, i * dim);
      });
      const keys = this.table.plan(ids);
      const created = this.vectorIndex === undefined;
      const index = await this.indexOf(dim);
      try {
        index.addBatch(keys, flat, this.attributesOf(index, documents));
      } catch (error) {
        // A store's first batch that fails leaves no index behind: the next one may set dim.
        if (created) this.dropIndex();
        throw error;
      }
      rows.forEach((r, i) => this.table.put({ ...r, key: keys[i] }));
      return ids;
    });
  }

  /**
   * The attributes of `documents` for the index (their scalar metadata fields, see
   * metadataAttributes), or undefined when none has any and the index has no fields.
   */
  private attributesOf(index: VectorIndex, documents: DocumentInterface[]): Attributes[] | undefined {
    const kinds = new Map<string, FieldKind>(Object.entries(index.fields));
    const out = documents.map((d) => metadataAttributes(d.metadata, kinds, index.fieldsDeclared));
    return kinds.size === 0 ? undefined : out;
  }

  /**
   * Gives a loaded index without fields (saved before metadata became attributes) its
   * documents' scalar metadata, so object filters work on it. Cost: O(documents).
   */
  private backfillAttributes(): void {
    const index = this.vectorIndex!;
    if (Object.keys(index.fields).length !== 0) return;
    const docs = Array.from(this.table.values());
    const attributes = this.attributesOf(
      index,
      docs.map((d) => ({ pageContent: '', metadata: JSON.parse(d.metadataJson) })),
    );
    if (attributes !== undefined) docs.forEach((d, i) => index.setAttributes(d.key, attributes[i]));
  }

  /**
   * Removes the documents of `ids`, or those `filter` passes (a predicate on the Document, or an
   * object filter on its metadata); an id not stored is skipped. Cost: O(ids), one index remove
   * each; with a filter, O(documents) to find them.
   */
  override async delete(params: { ids?: string[]; filter?: ElexFilter }): Promise<void> {
    const ids = params?.ids;
    const filter = params?.filter;
    if (
      params === null ||
      typeof params !== 'object' ||
      (ids === undefined) === (filter === undefined) ||
      (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')))
    )
      throw new InvalidArgumentError('delete takes { ids: string[] } or { filter }');
    await this.exclusive(async () => {
      const index = this.vectorIndex;
      if (filter !== undefined) {
        checkFilter(filter);
        if (index === undefined) {
          if (typeof filter !== 'function') this.checkEmptyWhere(index, filter);
          return;
        }
        const keys =
          typeof filter === 'function'
            ? Array.from(this.table.values(), (d) => d.key).filter((key) => this.accepts(filter, key))
            : Array.from(index.idsWhere(this.whereOf(index, filter)));
        for (const key of keys) {
          this.table.remove(this.table.get(key)!.id);
          index.remove(key);
        }
        return;
      }
      for (const id of ids!) {
        const key = this.table.remove(id);
        if (key !== undefined) index!.remove(key);
      }
    });
  }

  /** Whether predicate `filter` accepts the document under `key` (InvalidArgumentError for a promise). */
  private accepts(filter: DocumentFilter, key: number): boolean {
    const d = this.table.get(key);
    if (d === undefined) return false;
    const verdict: unknown = filter(filterView(d));
    if (typeof (verdict as { then?: unknown } | null)?.then === 'function') {
      (verdict as Promise<unknown>).then(undefined, () => undefined); // its rejection is not ours to report
      throw new InvalidArgumentError('filter returned a promise; it must return true or false synchronously');
    }
    return Boolean(verdict); // truthy passes, as Array.prototype.filter (MemoryVectorStore) takes it
  }

  /**
   * Refuses a bad object filter where there is nothing to search (no index yet, or no documents)
   * as a search of documents would: InvalidArgumentError naming the path. Cost: O(size of filter).
   */
  private checkEmptyWhere(index: VectorIndex | undefined, filter: Where): void {
    if (index === undefined) checkWhere(filter, this.indexOptions.fields);
    else index.idsWhere(this.whereOf(index, filter));
  }

  /** Object filter `filter` as `index` runs it: values of another kind than their field's are absent (absentOtherKinds). */
  private whereOf(index: VectorIndex, filter: Where): Where {
    return absentOtherKinds(filter, new Map(Object.entries(index.fields))) as Where;
  }

  /**
   * The k documents nearest to `query` with their distances (smaller is nearer: cosine 1 - cos,
   * l2 squared Euclidean, dot 1 - a.b), nearest first; min(k, documents that pass) of them.
   * A predicate `filter` is called during the graph walk with candidate Documents; an object
   * filter runs inside WebAssembly on the metadata's scalar fields (the index's `where`, then its
   * planner); either way k results come back when k documents pass it. Throws
   * DimensionMismatchError, InvalidVectorError or InvalidArgumentError (k, a bad filter, naming
   * its path: `where.year.$gte`). Cost: one HNSW search, plus a Document per candidate a
   * predicate sees, or O(documents) to evaluate an object filter.
   */
  async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: ElexFilter,
  ): Promise<[DocumentInterface, number][]> {
    if (filter !== undefined) checkFilter(filter);
    return this.nearest(query, k, filter).map(([d, distance]) => [toDocument(d), distance]);
  }

  /**
   * The k documents maximal marginal relevance picks among the fetchK (default 20) nearest to
   * the query that pass `filter`: lambda (default 0.5) 1 is pure relevance, 0 pure diversity,
   * scored by cosine similarity of the stored vectors (unit length under cosine) as in
   * LangChain's other stores. Cost: one embedding, one search of fetchK, O(fetchK * k * dim).
   */
  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<this['FilterType']>,
  ): Promise<DocumentInterface[]> {
    const { k, fetchK = 20, lambda = 0.5, filter } = options;
    checkInt('fetchK', fetchK, 1, MAX_K);
    checkInt('k', k, 1, MAX_K);
    const embedded = await this.embeddings.embedQuery(query);
    const found = this.nearest(embedded, fetchK, filter);
    if (found.length === 0) return [];
    const stored = found.map(([d]) => Array.from(this.vectorIndex!.get(d.key)!));
    return maximalMarginalRelevance(embedded, stored, lambda, k).map((i) => toDocument(found[i][0]));
  }

  private nearest(query: number[], k: number, filter: ElexFilter | undefined): [StoredDocument, number][] {
    const index = this.vectorIndex;
    checkInt('k', k, 1, MAX_K); // here, not by the search: k is clamped to the documents held below
    if (filter !== undefined) checkFilter(filter);
    if (index === undefined || index.size === 0) {
      if (filter !== undefined && typeof filter !== 'function') this.checkEmptyWhere(index, filter);
      return [];
    }
    const options =
      filter === undefined
        ? {}
        : typeof filter === 'function'
          ? { filter: (key: number) => this.accepts(filter, key) }
          : { where: this.whereOf(index, filter) };
    const { ids, distances } = index.search(query, Math.min(k, index.size), options);
    return Array.from(ids, (key, i) => [this.table.get(key)!, distances[i]]);
  }

  /**
   * Saves the index and the documents together, atomically: to `store` under `name`, or to the
   * directory `directory` (a FileStore, Node only) under the name 'langchain'. A later save to
   * the same place writes the index's changes since (a log segment) and the documents again.
   * The store's previous save stays loadable until the new one commits. Throws StoreError (a
   * failing store, or another writer's save under the name), StoreQuotaError,
   * InvalidArgumentError (nothing to save yet: no documents and no `dim`). Cost: see saveStore.
   */
  save(directory: string): Promise<void>;
  save(store: ByteStore, name: string, options?: SaveOptions): Promise<SaveResult>;
  // biome-ignore lint/suspicious/noConfusingVoidType: overrides SaveableVectorStore.save(directory): Promise<void>
  async save(target: string | ByteStore, name?: string, options?: SaveOptions): Promise<SaveResult | void> {
    const [store, storeName] =
      typeof target === 'string' ? [directoryStore(target), DIRECTORY_STORE_NAME] : [target, name];
    if (typeof storeName !== 'string') throw new InvalidArgumentError('save takes (directory) or (store, name)');
    return this.exclusive(async () => {
      const dim = this.vectorIndex?.dim ?? this.indexOptions.dim;
      if (dim === undefined) throw new InvalidArgumentError('nothing to save: add documents first, or give dim');
      const result = await saveStore(await this.indexOf(dim), this.table, store, storeName, options);
      return typeof target === 'string' ? undefined : result;
    });
  }

  /**
   * The store saved in `directory` (Node), or in `store` under `name`: the same documents,
   * ids, vectors and answers, embedding with `embeddings`. Throws StoreError (none saved there,
   * a failing store), CorruptSnapshotError (bytes that are not a valid save, documents that do
   * not match the index), BudgetExceededError. Cost: see loadStore.
   */
  static override load(
    directory: string,
    embeddings: EmbeddingsInterface,
    options?: ElexEngineOptions,
  ): Promise<ElexVectorStore>;
  static override load(
    store: ByteStore,
    name: string,
    embeddings: EmbeddingsInterface,
    options?: ElexEngineOptions,
  ): Promise<ElexVectorStore>;
  static override async load(
    target: string | ByteStore,
    nameOrEmbeddings: string | EmbeddingsInterface,
    embeddingsOrOptions?: EmbeddingsInterface | ElexEngineOptions,
    maybeOptions?: ElexEngineOptions,
  ): Promise<ElexVectorStore> {
    const directory = typeof target === 'string';
    const store = directory ? new FileStore(target) : target;
    const name = directory ? DIRECTORY_STORE_NAME : nameOrEmbeddings;
    const embeddings = (directory ? nameOrEmbeddings : embeddingsOrOptions) as EmbeddingsInterface;
    const options = checkOptions(
      'load',
      (directory ? embeddingsOrOptions : maybeOptions) ?? {},
      ENGINE_OPTIONS,
    ) as ElexEngineOptions;
    if (typeof name !== 'string')
      throw new InvalidArgumentError('load takes (directory, embeddings) or (store, name, embeddings)');
    const vs = new ElexVectorStore(embeddings, options);
    const engine = await vs.engineReady();
    try {
      const { index, record } = await loadStore(engine, store, name);
      vs.vectorIndex = index;
      for (const d of record.docs) vs.table.put(d);
      vs.backfillAttributes();
      vs.table.reserveKeys(record.nextKey);
      return vs;
    } catch (error) {
      vs.dispose();
      throw error;
    }
  }

  /** A store of `texts` with `metadatas` (one object for all, or one per text). Cost: see addDocuments. */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    options?: ElexVectorStoreOptions,
  ): Promise<ElexVectorStore> {
    if (!Array.isArray(texts)) throw new InvalidArgumentError('fromTexts: texts must be an array of strings');
    const docs = texts.map(
      (pageContent, i) =>
        new Document({
          pageContent,
          metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) as Record<string, unknown>,
        }),
    );
    return ElexVectorStore.fromDocuments(docs, embeddings, options);
  }

  /** A store of `docs`. Cost: see addDocuments. */
  static override async fromDocuments(
    docs: DocumentInterface[],
    embeddings: EmbeddingsInterface,
    options?: ElexVectorStoreOptions,
  ): Promise<ElexVectorStore> {
    const vs = new ElexVectorStore(embeddings, options);
    await vs.addDocuments(docs);
    return vs;
  }

  /** Frees the index, and the engine if the store created it; the store is unusable afterwards. Cost: O(1). */
  dispose(): void {
    this.dropIndex();
    this.ownEngine?.dispose();
    this.table = new DocumentTable();
  }

  private dropIndex(): void {
    this.vectorIndex?.dispose();
    this.vectorIndex = undefined;
  }

  private engineReady(): Promise<Engine> {
    if (this.enginePromise === undefined) {
      const budget = this.engineOptions.budgetBytes;
      this.enginePromise = Engine.create(budget === undefined ? {} : { budgetBytes: budget }).then(
        (engine) => (this.ownEngine = engine),
      );
      // A failed creation is retried by the next call.
      this.enginePromise.catch(() => (this.enginePromise = undefined));
    }
    return this.enginePromise;
  }

  /** The index, created in the engine with dimension `dim` if there is none yet. */
  private async indexOf(dim: number): Promise<VectorIndex> {
    if (this.vectorIndex) return this.vectorIndex;
    const engine = await this.engineReady();
    const { dim: _, ...options } = this.indexOptions;
    this.vectorIndex = engine.createIndex({ ...options, dim });
    return this.vectorIndex;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function checkOptions<T extends object>(what: string, options: T, known: readonly string[]): T {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(`${what} options must be an object`);
  checkOptionNames(what, options, known);
  return options;
}

function checkDocuments(documents: unknown): asserts documents is DocumentInterface[] {
  if (!Array.isArray(documents)) throw new InvalidArgumentError('documents must be an array of Documents');
  documents.forEach((d: DocumentInterface, i) => {
    if (d === null || typeof d !== 'object' || typeof d.pageContent !== 'string')
      throw new InvalidArgumentError(`documents[${i}] must be a Document with a string pageContent`);
  });
}

/** The ids of `documents`: `given`, else each document's id, else a random UUID. */
function documentIds(documents: DocumentInterface[], given: unknown): string[] {
  if (given !== undefined && (!Array.isArray(given) || given.length !== documents.length)) {
    throw new InvalidArgumentError(`ids must be an array of ${documents.length} strings, one per document`);
  }
  return documents.map((d, i) => {
    const id = given === undefined ? (d.id ?? randomUuid()) : (given as unknown[])[i];
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidArgumentError(`ids[${i}] must be a non-empty string, got ${String(id)}`);
    return id;
  });
}

function vectorLength(v: unknown, i: number): number {
  if (!Array.isArray(v) && !(v instanceof Float32Array) && !(v instanceof Float64Array))
    throw new InvalidArgumentError(`vectors[${i}] must be an array of numbers`);
  return (v as ArrayLike<number>).length;
}

function toDocument(d: StoredDocument): Document {
  return new Document({
    pageContent: d.pageContent,
    metadata: JSON.parse(d.metadataJson) as Record<string, unknown>,
    id: d.id,
  });
}

/**
 * Throws InvalidArgumentError unless `filter` is a synchronous function or a plain object (an
 * object filter; the index checks its operators).
 */
function checkFilter(filter: unknown): void {
  if (typeof filter === 'function') {
    if (Object.prototype.toString.call(filter) === '[object AsyncFunction]')
      throw new InvalidArgumentError('filter is an async function; it must return true or false synchronously');
    return;
  }
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new InvalidArgumentError(
      'filter must be a function (doc: Document) => boolean or an object filter on the metadata ({ topic: "pets" })',
    );
}

/**
 * The Document a filter sees for `d`: made once and kept, deep-frozen so no filter can change
 * what is stored (results are fresh copies, see toDocument). Cost: O(metadata) the first time.
 */
function filterView(d: StoredDocument): DocumentInterface {
  if (d.filterView === undefined)
    d.filterView = Object.freeze(
      new Document({ pageContent: d.pageContent, metadata: deepFreeze(JSON.parse(d.metadataJson)), id: d.id }),
    );
  return d.filterView as DocumentInterface;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A random RFC 4122 version 4 UUID. */
function randomUuid(): string {
  const c = (globalThis as { crypto?: { randomUUID?(): string; getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = new Uint8Array(16);
  if (c) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The index's largest k and fetchK (MAX_EF in src/hnsw/options.ts, which this bundle may not import). */
const MAX_K = 100_000;
