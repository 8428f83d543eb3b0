/**
 * An index's options and results: the metric and quantization names, IndexOptions and
 * SearchOptions with their checks, the resolved IndexParams, and MISSING_ID.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkId, checkInt, checkOneOf, checkOptionNames, optionNames } from '../util/validate.js';
import type { IdSet, SearchPlan } from './filter.js';
import { Schema, type FieldDeclarations } from './attributes.js';
import type { Where } from './where.js';

/** Distance functions. cosine = 1 - cos(a, b); l2 = squared Euclidean; dot = 1 - a.b. */
export type Metric = 'cosine' | 'l2' | 'dot';

export const METRICS: readonly Metric[] = ['cosine', 'l2', 'dot'];

/**
 * How an index stores its vectors: 'f32' as given; 'f16' half precision (2 bytes a dim); 'i8'
 * int8 codes with one scale per vector (1 byte a dim, plus 8 bytes). The graph is built and
 * searched on the stored form; queries stay float32.
 */
export type Quantization = 'f32' | 'f16' | 'i8';

/** In the order of the engine's codes (assembly/hnsw/vector-form.ts) and of the snapshot header. */
export const QUANTIZATIONS: readonly Quantization[] = ['f32', 'f16', 'i8'];
export const MAX_DIM = 65536;
export const MAX_EF = 100000;

/**
 * The id searchBatch puts where a row has fewer than k results (its distance is Infinity). It is
 * never an id of the index: add and addBatch refuse it. `counts` says how many results a row has.
 */
export const MISSING_ID = 0xffffffff;

/** Throws unless `value` is an id an index can store: a uint32 other than MISSING_ID. */
export function checkStorableId(value: unknown, name = 'id'): number {
  if (value === MISSING_ID)
    throw new InvalidArgumentError(`${name} must not be 0xFFFFFFFF (MISSING_ID, searchBatch's padding)`);
  return checkId(value, name);
}

/** Options of {@link Engine.createIndex}. */
export interface IndexOptions {
  /** Vector dimension, 1..65536. */
  dim: number;
  /**
   * Distance. Under `'cosine'` vectors are stored normalised.
   *
   * @defaultValue `'cosine'`
   */
  metric?: Metric;
  /**
   * Links per node on upper layers (2M on layer 0), 2..128. More: better recall, more memory, slower build.
   *
   * @defaultValue `16`
   */
  M?: number;
  /**
   * Candidate list size while building, 1..100000. More: better graph, slower build.
   *
   * @defaultValue `200`
   */
  efConstruction?: number;
  /**
   * Default candidate list size of a search, 1..100000. More: better recall, slower search.
   *
   * @defaultValue `64`
   */
  efSearch?: number;
  /**
   * Seed of the level generator, uint32: the same seed and inserts give the same graph.
   *
   * @defaultValue `42`
   */
  seed?: number;
  /**
   * Stored form of the vectors. 'f16' halves and 'i8' about quarters the bytes of a vector;
   * distances are then between the stored forms (the query encoded the same way under 'i8'), and
   * get() returns the stored vector decoded.
   *
   * @defaultValue `'f32'`
   */
  quantization?: Quantization;
  /**
   * The metadata fields ids may carry, field name to kind (`{ kind: 'string', ts: 'number' }`):
   * then an attribute or a `where` condition on another field is InvalidArgumentError. Left
   * out, fields are inferred: a field takes the kind of its first value. See
   * docs/vector-index.md "Metadata and where".
   *
   * @defaultValue inferred
   */
  fields?: FieldDeclarations;
}

/**
 * A search filter: a predicate on ids (called from WebAssembly for each node the walk reaches),
 * or an allow-list, the ids that may be returned, in any order (unknown, removed and repeated
 * ids are ignored), evaluated inside WebAssembly with no call per node: a Uint32Array, an
 * array of uint32 integers, or an {@link IdSet} of this index for one reused across searches.
 */
export type SearchFilter = ((id: number) => boolean) | Uint32Array | readonly number[] | IdSet;

/** Options of {@link VectorIndex.search}. */
export interface SearchOptions {
  /**
   * Candidate list size for this search; max(ef, k) is used.
   *
   * @defaultValue the index's {@link VectorIndex.efSearch}
   */
  ef?: number;
  /**
   * Only ids the filter allows are returned. A predicate is applied during the graph walk; it
   * must answer synchronously (an async function, or one returning a promise, is
   * InvalidArgumentError, E_ARGUMENT), and what it throws is thrown by the search as it is (the
   * index is unchanged). An allow-list goes through the planner (src/hnsw/filter.ts): an exact
   * scan of the allowed ids when they are few, a walk over allowed nodes only (two hops through
   * rejected ones) when they are a moderate share, the plain walk when most ids pass; min(k,
   * allowed live ids) results in every case (a walk that finds fewer falls back to the exact scan).
   */
  filter?: SearchFilter;
  /**
   * With an allow-list filter: 'auto' (default) lets the planner choose; 'exact',
   * 'filtered-walk' or 'walk' forces that plan (for measuring them; a walk that finds fewer
   * than min(k, allowed) results still falls back to the exact scan).
   */
  plan?: 'auto' | SearchPlan;
  /**
   * A metadata filter on the ids' attributes ({@link Where}: `{ kind: 'note', ts: { $gte: t0 } }`),
   * evaluated inside WebAssembly into an allow set, then planned as an allow-list is (`plan`
   * and `allowed` in the result). When a sample of the rows says most ids pass (or with plan
   * 'walk'), it runs as the lazy walk instead: the plain walk evaluating the filter only at the
   * nodes it considers, with no `allowed` in the result (docs/vector-index.md, "Lazy where").
   * Not with `filter` (InvalidArgumentError): fold an id list into the attributes instead.
   */
  where?: Where;
}

/** Options of {@link VectorIndex.addBatchAsync}. */
export interface AddBatchAsyncOptions {
  /**
   * true: each chunk's links are made before the next chunk's searches start, so the graph is
   * the same on any number of threads (slower: the calling thread links while the workers wait).
   * false (default): the calling thread links a chunk while the workers already search the
   * next one, which then sees that chunk's links as they are being made; the graph depends on
   * timing, the recall does not (docs/threads.md).
   *
   * @defaultValue false
   */
  reproducible?: boolean;
}

export const INDEX_OPTIONS = optionNames<IndexOptions>({
  dim: true,
  metric: true,
  M: true,
  efConstruction: true,
  efSearch: true,
  seed: true,
  quantization: true,
  fields: true,
});
export const SEARCH_OPTIONS = optionNames<SearchOptions>({ ef: true, filter: true, plan: true, where: true });
export const ADD_BATCH_ASYNC_OPTIONS = optionNames<AddBatchAsyncOptions>({ reproducible: true });

/** k nearest neighbours, nearest first. */
export interface SearchResult {
  /** The ids found, nearest first. */
  ids: Uint32Array;
  /** Their distances to the query, ascending (the metric's; smaller is nearer). */
  distances: Float32Array;
  /**
   * With an allow-list filter or a `where` only: the plan that ran ('exact', 'filtered-walk' or
   * 'walk'; searchBatch: the plan the planner chose for every row, a row may still fall back to
   * 'exact'). A `where` that ran as the lazy walk says 'walk'.
   */
  plan?: SearchPlan;
  /**
   * With an allow-list filter or a `where` only: how many live ids it allows (exact). Left out
   * when a `where` ran as the lazy walk (docs/vector-index.md, "Lazy where"), which evaluates
   * it only at the nodes the walk considers and so never counts them.
   */
  allowed?: number;
}

/** searchBatch's answer: rows of k, and how many results each row has (the rest is padding). */
export interface BatchSearchResult extends SearchResult {
  /** Results in row r: ids and distances r*k .. r*k + counts[r] - 1; the rest are MISSING_ID / Infinity. */
  counts: Uint32Array;
}

/** Resolved index parameters. */
export interface IndexParams {
  dim: number;
  metric: Metric;
  M: number;
  efConstruction: number;
  efSearch: number;
  seed: number;
  quantization: Quantization;
  /** The declared fields (checked), or undefined: inferred. */
  fields?: FieldDeclarations;
}

/** Checks IndexOptions and fills in defaults. */
export function resolveIndexOptions(options: IndexOptions): IndexParams {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('index options must be an object');
  checkOptionNames('createIndex', options, INDEX_OPTIONS);
  return {
    dim: checkInt('dim', options.dim, 1, MAX_DIM),
    metric: checkOneOf('metric', options.metric ?? 'cosine', METRICS),
    M: checkInt('M', options.M ?? 16, 2, 128),
    efConstruction: checkInt('efConstruction', options.efConstruction ?? 200, 1, MAX_EF),
    efSearch: checkInt('efSearch', options.efSearch ?? 64, 1, MAX_EF),
    seed: checkInt('seed', options.seed ?? 42, 0, 0xffffffff),
    quantization: checkOneOf('quantization', options.quantization ?? 'f32', QUANTIZATIONS),
    fields: options.fields === undefined ? undefined : Schema.declare(options.fields).kinds(),
  };
}
