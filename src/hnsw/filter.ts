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
import type { Runtime } from '../runtime/runtime.js';

/**
 * How a filtered search ran: 'exact' scored every allowed id (exact answer); 'filtered-walk'
 * walked the graph over allowed nodes only, crossing rejected ones two hops at a time
 * (ACORN-1); 'walk' is the plain graph walk, returning allowed ids only.
 */
export type SearchPlan = 'exact' | 'filtered-walk' | 'walk';

/** The plan codes of the engine's ABI (assembly/hnsw/api.ts modeOf), by plan. */
export const PLAN_CODES: Readonly<Record<SearchPlan, number>> = { walk: 2, 'filtered-walk': 3, exact: 4 };
/**
 * The plan code of the planner's walk (assembly/hnsw/search.ts MODE_ADAPT): the plain walk,
 * which stops for the exact scan when, from 256 nodes scored on, under 5% of the nodes it has
 * scored pass (docs/vector-index.md#the-walks-stop-for-the-exact-scan). A forced 'walk' is code 2
 * and never stops so.
 */
export const ADAPT_WALK_CODE = 6;

/** The engine's plan code for a plan the planner made. */
export function planCode(plan: Plan): number {
  return plan.adaptive ? ADAPT_WALK_CODE : PLAN_CODES[plan.plan];
}

/** The plan of an engine plan code (2..4); a predicate or unfiltered search (0, 1) is a 'walk'. */
export function planOfCode(code: number): SearchPlan {
  return code === 4 ? 'exact' : code === 3 ? 'filtered-walk' : 'walk';
}

// The planner's thresholds, measured (bench/suites/filter.js and side-by-side probes with forced
// plans: GloVe-100 100K cosine, M 16, efConstruction 200, ef 128, random / rank-band / category
// filters handed over per query, a loaded 2-core machine; 0.15-0.24 ms an unfiltered search):
//   - the exact scan: 10K allowed rows 0.40-0.63 ms, 20K rows 0.67-2.2 ms (rows read once, in
//     memory order when the set is dense); since it touches each group of rows while scoring
//     the group before, 0.77-0.93x that time, and the crossover with the filtered walk stayed
//     at about 15% (CPU-time probe, random sets: 10% exact 0.31 ms against the filtered walk's
//     0.52, 15% 0.59 against 0.57, 20% 0.88 against 0.54), so the thresholds stayed;
//   - the filtered walk (ACORN-1): 0.67-1.1 ms whatever the share from 3% to 50% (2.5-5.8
//     unfiltered searches), recall@10 0.985-1.000; the exact scan is faster up to about 10-15%,
//     the walk from 20% (at ef 64 and efConstruction 100 its recall fell to 0.93 at 2% and 0.85
//     at 1%: the allowed subgraph falls apart, hence the exact scan there);
//   - the plain walk against the filtered walk: 1.02-1.78x as fast at 40-50%, 0.85-1.23x at 30%,
//     0.88-0.97x at 20%, recall 0.990-0.998 (at 1% it visits most of the graph); with its ef
//     narrowed (WALK_EF_POWER; 2026-12-06, lists per query, GloVe 100K), at 20% and 30%: 1.3-1.7x
//     as fast for random, rank-band and category filters, recall 0.962-0.975 against the filtered
//     walk's 0.972-0.990 (unfiltered 0.970), but 0.47-0.69x for the middle of the frequency
//     order (allowed rows away from most queries, where the filtered walk crosses to them);
//   - the filtered walk fails where the allowed rows surround the query: a filter allowing the
//     30% of rows farthest from each query (GloVe 100K) recalled 0.27 by the filtered walk, 1.00
//     by the plain walk (which grows its search outward from the query); 10% farthest: 0.46
//     against the exact scan's 1.00 (the plan there).
// So: exact while the scan costs no more than the walk it replaces, and always where the
// filtered walk's recall fails; the plain walk from 20% of the ids up; the filtered walk between.

/**
 * Below WALK_SHARE, scan exactly up to this many allowed ids per unit of max(ef, k) (16384 at
 * ef 128): about where the scan costs what a filtered walk does (GloVe 100K, ef 128: 10K rows
 * 0.40-0.63 ms against a 0.67-0.86 ms walk, 20K rows 0.67-2.2 ms against 0.68-0.80 ms).
 */
export const EXACT_PER_EF = 128;
/**
 * From WALK_SHARE up, scan exactly up to this many allowed ids per unit of max(ef, k) (8192 at
 * ef 128): the plain walk there costs about 2-3 unfiltered searches, less than a filtered walk.
 */
export const WALK_EXACT_PER_EF = 64;
/**
 * From this share of the live ids up, the plain walk: enough neighbours pass that it stalls
 * nowhere, and it searches outward from the query, so allowed rows all around the query are
 * found too (the filtered walk's weak spot, above). GloVe 100K at 20-30%: faster than the filtered
 * walk but for allowed rows away from the query (above). Below it, the filtered walk, which
 * scores allowed nodes only (was 0.4 until 2026-12-06).
 */
export const WALK_SHARE = 0.2;
/**
 * From WALK_SHARE up, the plain walk the planner picks runs with ef * share^WALK_EF_POWER (at
 * least k; a forced 'walk' keeps the ef given). Its results hold allowed nodes only, so with the
 * ef given it walks about 1 / share as far as an unfiltered search and finds more than that
 * search does (GloVe 100K, ef 128: recall@10 0.985 at 40%, 0.979 at 50%, 0.976 at 70%, against
 * 0.971 unfiltered, in 2.0x, 1.7x, 1.2x its time). Narrowed so, it recalls about what the
 * unfiltered search does at that ef (GloVe 100K at ef 64 and 128, SIFT 10K at ef 32, 40-90%:
 * 0.006 under to 0.02 over; GloVe 100K at ef 128, 20-30%: 0.962-0.975 against 0.970), in 0.65-0.97x the time of the walk at the ef given (GloVe, ef 128:
 * 1.29x an unfiltered search at 50%, 1.13x at 70%).
 */
export const WALK_EF_POWER = 0.4;
/**
 * What an allowed row the exact scan streams costs, as a share of a scattered row's: rows past
 * the first SCAN_RUN_ROWS of a run of neighbouring slots (assembly/hnsw/filter.ts SCAN_RUN),
 * which the hardware prefetches. GloVe 100K (2026-12-06, IdSets, plan 'exact'): a run of 10K
 * rows 16 ns a row against 35 for 10K rows at random, 20K 16 against 42, 30K 16 against 63
 * (runs of 8: 23-37). The exact limits above count a streamed row as this much of one, so a set
 * of long runs (a range of ids added in order: a time range, a frequency band) is scanned up to
 * about 3x as many rows. For such sets the walks were both slower and worse: GloVe 100K, a
 * range of 10-19% of the frequency order, ef 64: the filtered walk recalled 0.908-0.958 (the
 * exact scan 1.000 in 0.8-1.2x its time); ef 128, 17-19%: the filtered walk 2.4-2.7x an
 * unfiltered search, the scan 1.5-1.7x; 20%: the plain walk 3.0x, the scan 1.1x.
 */
export const STREAMED_ROW_COST = 0.35;
/** The first rows of each run, which the exact scan reads as scattered rows (assembly/hnsw/filter.ts SCAN_RUN). */
export const SCAN_RUN_ROWS = 8;
/** Below this share, always the exact scan: the filtered walk's recall falls under 0.95 there. */
export const ACORN_MIN_SHARE = 0.02;
/** Below this share, the filtered walk's ef is raised by ACORN_BOOST_SHARE / share (at most 2.5x). */
export const ACORN_BOOST_SHARE = 0.05;

/** What {@link planSearch} decided: the plan and the ef to run it with. */
export interface Plan {
  plan: SearchPlan;
  ef: number;
  /** The planner's walk ({@link ADAPT_WALK_CODE}): it may end as the exact scan, so a search reports the plan it ran. */
  adaptive?: true;
}

/** The plans SearchOptions.plan takes: 'auto' (the planner) or one to force. */
export const PLAN_OPTIONS: readonly ('auto' | SearchPlan)[] = ['auto', 'exact', 'filtered-walk', 'walk'];

/**
 * The planner, from `allowed` (live ids that pass) of `size` live ids, for k results at `ef`:
 * with share = allowed / size, 'walk' when share >= WALK_SHARE and the scan's rows exceed
 * WALK_EXACT_PER_EF * max(ef, k), its ef narrowed to max(k, ef * share^WALK_EF_POWER);
 * 'filtered-walk' when ACORN_MIN_SHARE <= share < WALK_SHARE and they exceed EXACT_PER_EF *
 * max(ef, k), its ef raised below ACORN_BOOST_SHARE; 'exact' otherwise. The scan's rows are
 * `allowed`, or, when `runs` (the allow set's runs of neighbouring slots, asked only where it can
 * change the plan) makes them few enough, the rows it streams counted at STREAMED_ROW_COST.
 * `forced` (not 'auto') skips the choice and the walk's narrowing (a forced 'walk' is the walk a
 * predicate takes), not the filtered walk's raise. Cost: O(1), plus `runs`.
 */
export function planSearch(
  allowed: number,
  size: number,
  k: number,
  ef: number,
  maxEf: number,
  forced: 'auto' | SearchPlan = 'auto',
  runs?: () => number,
): Plan {
  const share = size === 0 ? 0 : allowed / size;
  const width = Math.max(ef, k);
  let plan = forced;
  if (plan === 'auto') {
    const limit = (share >= WALK_SHARE ? WALK_EXACT_PER_EF : EXACT_PER_EF) * width;
    if (allowed <= limit || share < ACORN_MIN_SHARE) plan = 'exact';
    else if (runs !== undefined && allowed * STREAMED_ROW_COST <= limit && scanRows(allowed, runs()) <= limit)
      plan = 'exact';
    else plan = share >= WALK_SHARE ? 'walk' : 'filtered-walk';
  }
  if (plan === 'filtered-walk' && share < ACORN_BOOST_SHARE) {
    return { plan, ef: Math.min(maxEf, Math.ceil(ef * Math.min(2.5, ACORN_BOOST_SHARE / Math.max(share, 1e-9)))) };
  }
  // A forced walk keeps the ef given: the walk a predicate filter takes at that ef, with no switch.
  if (forced === 'auto' && plan === 'walk') return { plan, ef: walkEf(share, k, ef), adaptive: true };
  return { plan, ef };
}

/** What scanning `allowed` rows in `runs` runs of neighbouring slots costs, in scattered rows. */
export function scanRows(allowed: number, runs: number): number {
  const streamed = Math.max(0, allowed - SCAN_RUN_ROWS * runs);
  return allowed - streamed + STREAMED_ROW_COST * streamed;
}

/**
 * The plan code of the lazy walk (assembly/hnsw/api.ts modeOf): the plain walk that evaluates a
 * `where` at each node it considers, in WebAssembly, instead of over every row first. Reported
 * as plan 'walk'. Code 5 is the forced walk; the planner's is {@link LAZY_WATCH_CODE}.
 */
export const LAZY_WALK_CODE = 5;
/**
 * The plan code of the lazy walk the planner picks (assembly/hnsw/search.ts MODE_WHERE_WATCH):
 * it counts as the planner's walk does ({@link ADAPT_WALK_CODE}) while its results are not yet
 * full and, where that walk would stop, returns nothing with plan code 4: the host then scans
 * the `where`'s rows exactly.
 */
export const LAZY_WATCH_CODE = 7;
/**
 * Rows the engine samples to estimate a `where`'s share (assembly/hnsw/attributes.ts SAMPLE,
 * attrEstimate: one slot from each of this many equal strata; every slot of a smaller index).
 */
export const LAZY_SAMPLE = 1024;
/**
 * A `where` runs as the lazy walk from this estimated share up, far above WALK_SHARE: from 1,024
 * strata the estimate's standard error is at most 0.016 (a filter on a range of slots is
 * estimated almost exactly), so a share under WALK_SHARE never passes for 0.45, and the estimated
 * allowed ids stay above the plain walk's exact-scan limit (below). Under it, a `where` the
 * planner walks is evaluated over every row first.
 */
export const LAZY_SHARE = 0.45;
/**
 * And only while the walks' checks cost less than evaluating the `where` over every row: rows *
 * LAZY_EVAL_PER_EF * max(ef, k) <= live ids (rows: 1 for search, the batch's rows for
 * searchBatch). Measured on GloVe 100K at ef 128 (a probe, medians of 5 passes): one
 * evaluation of a range over every row 190 us, the lazy walk's 3,400 checks 6-37 us more than
 * the allow set's bit tests, so one evaluation pays for itself from about 5 rows of a batch.
 * With share >= LAZY_SHARE it also keeps the estimated allowed ids above 1.1x the plain walk's
 * exact-scan limit (0.45 * 160 = 72 > 1.1 * WALK_EXACT_PER_EF), where the planner picks the walk.
 */
export const LAZY_EVAL_PER_EF = 160;

/**
 * Whether a `where` whose sampled share is `share` of `size` live ids runs as the lazy walk, for
 * `rows` searches of k results at `ef`: share >= LAZY_SHARE and rows * LAZY_EVAL_PER_EF *
 * max(ef, k) <= size. Else the `where` is evaluated over every row and planned as an
 * allow-list ({@link planSearch}). Cost: O(1).
 */
export function lazyWalk(share: number, size: number, k: number, ef: number, rows = 1): boolean {
  return share >= LAZY_SHARE && rows * LAZY_EVAL_PER_EF * Math.max(ef, k) <= size;
}

/** The ef of the plain walk the planner picks at `share`: max(k, ceil(ef * share^WALK_EF_POWER)). */
export function walkEf(share: number, k: number, ef: number): number {
  return Math.max(k, Math.ceil(ef * share ** WALK_EF_POWER));
}

/**
 * Checks an allow-list: a Uint32Array (taken as it is) or an array of integers in
 * [0, 2^32 - 1]. Returns it as a Uint32Array (a copy for an array). InvalidArgumentError naming
 * the first bad entry, e.g. `filter[3]`. Cost: O(n).
 */
export function checkAllowList(list: unknown, name = 'filter'): Uint32Array {
  if (list instanceof Uint32Array) return list;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      name === 'filter'
        ? `filter must be a function, an IdSet, a Uint32Array or an array of ids, got ${describe(list)}`
        : `${name} must be a Uint32Array or an array of ids, got ${describe(list)}`,
    );
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
 * once, and the first search that uses the set builds its engine side, resident in the
 * engine's memory (inside the budget): a bitset of one bit per slot and the allowed nodes,
 * 4 bytes each. Later searches use it as it is, with no staging, mapping or clearing per
 * search. When the index changes (add, remove, compact, clear, reserve, a new efSearch) the
 * next search builds it again. {@link release} gives the memory back (a later search builds it again); the
 * engine's disposal frees it too.
 */
export class IdSet {
  /** @internal The checked ids (a private copy). */
  readonly ids: Uint32Array;
  /** @internal The index whose set it is. */
  readonly owner: object;
  /** @internal The engine block (assembly/hnsw/filter.ts setCreate), 0 when not built. */
  handle = 0;
  /** @internal The owner's change count when the block was built. */
  version = -1;
  private readonly rt: Runtime;
  private readonly released: (set: IdSet) => void;

  /** @internal Use {@link VectorIndex.idSet}. `released` tells the index the set's block is gone. */
  constructor(owner: object, rt: Runtime, ids: Uint32Array, released: (set: IdSet) => void) {
    this.owner = owner;
    this.rt = rt;
    this.ids = ids;
    this.released = released;
  }

  /** Ids given (repeats, unknown and removed ids included). */
  get length(): number {
    return this.ids.length;
  }

  /** Gives the set's engine memory back; the set stays usable (its next search builds it again). Cost: O(1). */
  release(): void {
    if (this.handle !== 0 && !this.rt.isDisposed) {
      const handle = this.handle;
      this.rt.run('IdSet.release', () => this.rt.exports.indexSetFree(handle));
    }
    this.handle = 0;
    this.version = -1;
    this.released(this);
  }

  /** @internal Frees the engine side as its index goes (inside the index's dispose). */
  drop(): void {
    if (this.handle !== 0) this.rt.exports.indexSetFree(this.handle);
    this.handle = 0;
    this.version = -1;
  }
}
