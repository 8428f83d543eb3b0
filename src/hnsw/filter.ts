/**
 * Search filters: the predicate (a JavaScript function WebAssembly calls per visited node) and
 * the allow-list (the ids a search may return, evaluated inside WebAssembly), the planner that
 * picks how an allow-list is searched, and {@link IdSet}, an allow-list checked once and reused.
 *
 * An allow-list is staged into the engine (4 bytes an id), mapped to nodes through the id map
 * and marked in a bitset of one bit per slot (assembly/hnsw/filter.ts): unknown, removed and
 * repeated ids drop out, and the engine knows exactly how many live ids pass. From that count
 * the planner picks one of three plans ({@link planSearch}, thresholds there).
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * How a filtered search ran: 'exact' scored every allowed id (exact answer); 'filtered-walk'
 * walked the graph over allowed nodes only, crossing rejected ones two hops at a time
 * (ACORN-1); 'walk' is the plain graph walk, returning allowed ids only.
 */
export type SearchPlan = 'exact' | 'filtered-walk' | 'walk';

/** The plan codes of the engine's ABI (assembly/hnsw/api.ts modeOf), by plan. */
export const PLAN_CODES: Readonly<Record<SearchPlan, number>> = { walk: 2, 'filtered-walk': 3, exact: 4 };

/** The plan of an engine plan code (2..4); a predicate or unfiltered search (0, 1) is a 'walk'. */
export function planOfCode(code: number): SearchPlan {
  return code === 4 ? 'exact' : code === 3 ? 'filtered-walk' : 'walk';
}

/**
 * At most this many allowed ids are always scanned exactly. A walk scores a few thousand
 * vectors whatever the filter (about ef * 25 at ef 64, M 16 on SIFT 10K and GloVe 100K), and
 * the scan is the SIMD kernel over rows it reads once, so below this it costs no more than a
 * walk and is exact.
 */
export const EXACT_ROWS = 2048;
/** Also scanned exactly: allowed ids up to this many times max(ef, k) (a walk scores ~25x ef). */
export const EXACT_PER_EF = 24;
/**
 * From this share of the live ids up, the plain walk: most neighbours pass, so it stalls
 * nowhere, and its ef is raised to ef / share (at most 2x) so it keeps about ef allowed
 * candidates. Below it, the filtered walk, which scores allowed nodes only.
 */
export const WALK_SHARE = 0.5;

/** What {@link planSearch} decided: the plan and the ef to run it with. */
export interface Plan {
  plan: SearchPlan;
  ef: number;
}

/** The plans SearchOptions.plan takes: 'auto' (the planner) or one to force. */
export const PLAN_OPTIONS: readonly ('auto' | SearchPlan)[] = ['auto', 'exact', 'filtered-walk', 'walk'];

/**
 * The planner: 'exact' when `allowed` (live ids that pass) is at most max(EXACT_ROWS,
 * EXACT_PER_EF * max(ef, k)), 'walk' when they are at least WALK_SHARE of the `size` live ids,
 * else 'filtered-walk'; `forced` (not 'auto') skips the choice. A 'walk' runs with
 * ef / max(share, WALK_SHARE) (at most 2 ef): about ef of its candidates then pass. Cost: O(1).
 */
export function planSearch(allowed: number, size: number, k: number, ef: number, maxEf: number,
                           forced: 'auto' | SearchPlan = 'auto'): Plan {
  const share = size === 0 ? 0 : allowed / size;
  let plan = forced;
  if (plan === 'auto') {
    plan = allowed <= Math.max(EXACT_ROWS, EXACT_PER_EF * Math.max(ef, k)) ? 'exact'
      : share >= WALK_SHARE ? 'walk' : 'filtered-walk';
  }
  if (plan === 'walk') return { plan, ef: Math.min(maxEf, Math.ceil(ef / Math.max(share, WALK_SHARE))) };
  return { plan, ef };
}

/**
 * Checks an allow-list: a Uint32Array (taken as it is) or an array of integers in
 * [0, 2^32 - 1]. Returns it as a Uint32Array (a copy for an array). InvalidArgumentError naming
 * the first bad entry, e.g. `filter[3]`. Cost: O(n).
 */
export function checkAllowList(list: unknown, name = 'filter'): Uint32Array {
  if (list instanceof Uint32Array) return list;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(`${name} must be a function, an IdSet, a Uint32Array or an array of ids, got ${describe(list)}`);
  }
  const out = new Uint32Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v: unknown = list[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new InvalidArgumentError(`${name}[${i}] must be an integer in [0, 4294967295], got ${describe(v)}`);
    }
    out[i] = v;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value === 'number' ? String(value) : typeof value;
}

/**
 * A reusable allow-list for one index, from {@link VectorIndex.idSet}: the ids are checked
 * once, and the nodes they map to are kept (on the host) from the first search that uses the
 * set until the index changes (add, remove, compact, clear, reserve), when the next search maps
 * them again. So a set reused across queries skips the checks and the id-map lookups. It holds
 * no engine memory and needs no dispose.
 */
export class IdSet {
  /** @internal The checked ids (a private copy). */
  readonly ids: Uint32Array;
  /** @internal The index whose set it is. */
  readonly owner: object;
  /** @internal The allowed nodes as the owner mapped them, and its change count then. */
  nodes: Uint32Array | null = null;
  /** @internal */
  version = -1;

  /** @internal Use {@link VectorIndex.idSet}. */
  constructor(owner: object, ids: Uint32Array) {
    this.owner = owner;
    this.ids = ids;
  }

  /** Ids given (repeats, unknown and removed ids included). */
  get length(): number {
    return this.ids.length;
  }
}
