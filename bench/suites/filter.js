// Suite `filter`: filtered search (issue 22) on real data with real metadata, against a plain-JS
// exact scan of the allowed rows, LangChain's MemoryVectorStore and PGlite with pgvector.
// Data: GloVe-100 100K when no --data is given (data/glove100: each word's WordNet category and
// frequency rank; see bench/lib/filter-where.js for the filter kinds); another set gets the
// kinds that need no category (rank = record number). Cosine (the data's metric), M 16,
// efConstruction 200, ef 128, k 10, single thread, one query at a time. --quantization f32,i8
// measures an index of each stored form over the same rows (the stores beside the first only);
// recall is always against the float64 scan of the data as given.
// Per filter kind (random, rank range: independent of the query; rank band, category: correlated
// with it) and selectivity (50%, 10%, 1%, 0.1%):
//   elex-wasm   search(q, 10, { filter: ids }), the allowed ids handed over per query as a
//               Uint32Array (and, for the filters the same for every query, made once with
//               index.idSet); the plan the planner chose
//   where       search(q, 10, { where }), the same filter on the rows' attributes (category,
//               rank, u) evaluated in the engine, beside the equivalent JS predicate
//               search(q, 10, { filter: id => ... }); the ids of each compared with the
//               allow-list's (same plan: must be equal) and, the where forced to the
//               predicate's plan ('walk'), with the predicate's (the same walk: must be equal)
//   JS scan     the same ids scored in plain JS (float64, row norms precomputed): the ground truth
//   LangChain   similaritySearchVectorWithScore(q, 10, doc => condition on doc.metadata)
//   PGlite      SELECT ... WHERE <condition> ORDER BY embedding <=> q LIMIT 10, HNSW with
//               hnsw.iterative_scan = relaxed_order, ef_search 128, at a size it builds in
//               reasonable time (20K rows, every 5th of GloVe; 5K with --quick), beside an
//               elex-wasm index of the same rows
// Engine, JS scan, where, predicate, IdSet and an unfiltered search are timed side by side over
// interleaved passes.
'use strict';
const { existsSync, readFileSync, readdirSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { Engine } = require('elex-wasm');
const { K, buildInChunks } = require('../lib/ann.js');
const { NAMED, loadDataset, resolveDataset, rng } = require('../lib/dataset.js');
const { langchainStore, pgliteStore } = require('../lib/filter-peers.js');
const {
  allowedIds,
  attributesOf,
  engineWhere,
  makeWhere,
  positionsByLex,
  predicateOf,
} = require('../lib/filter-where.js');
const { silent } = require('../lib/progress.js');
const { median, table } = require('../lib/stats.js');

const M = 16;
const EF_CONSTRUCTION = 200;
const EF = 128;
const SHARES = [0.5, 0.1, 0.01, 0.001];
/** The filter kinds (bench/lib/filter-where.js); `shared`: one filter for every query. */
const KINDS = [
  { kind: 'random', correlated: false, shared: true },
  { kind: 'rank range', correlated: false, shared: true },
  { kind: 'rank band', correlated: true, shared: false },
  { kind: 'category', correlated: true, shared: false },
];
/** The stores --against picks from (bench/cli.js; the JS scan always runs: it is the ground truth). */
const AGAINST = ['langchain', 'pglite'];
/** The category code of a word WordNet does not have. */
const NO_CATEGORY = 255;
/** Rows of the PGlite comparison (every (n / rows)-th row of the data). */
const PG_ROWS = { quick: 5000, full: 20000 };
/** Each timed engine / JS scan pass lasts at least this long. */
const MIN_MS = 40;

/** The category name of a code without a `*_lexnames.tsv` beside the data: `lex<code>` ('none' for NO_CATEGORY). */
const codeName = (code) => (code === NO_CATEGORY ? 'none' : `lex${code}`);

/**
 * The category bytes beside the data's .fvecs files (`*_base_lexname.u8`, `*_query_lexname.u8`)
 * and their names (`*_lexnames.tsv`: code TAB name; codeName without it), or null.
 */
function loadCategories(spec) {
  if (spec.kind !== 'folder') return null;
  const dir = dirname(spec.base);
  const find = (suffix) => readdirSync(dir).find((f) => f.endsWith(suffix));
  const [base, query, tsv] = [find('_base_lexname.u8'), find('_query_lexname.u8'), find('_lexnames.tsv')];
  if (!base || !query) return null;
  const table = new Map();
  if (tsv)
    for (const line of readFileSync(join(dir, tsv), 'utf8').split('\n')) {
      const [code, name] = line.split('\t');
      if (name) table.set(Number(code), name.trim());
    }
  const names = (code) => table.get(code) ?? codeName(code);
  return { base: readFileSync(join(dir, base)), query: readFileSync(join(dir, query)), names };
}

/** Milliseconds a call of `body(j)` takes, over the nq queries in turn, repeated for at least MIN_MS. */
function timePerQuery(nq, body) {
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let j = 0; j < nq; j++) body(j);
    calls += nq;
    elapsed = performance.now() - t0;
  } while (elapsed < MIN_MS);
  return elapsed / calls;
}

/**
 * A level: the rows one index holds (every `step`-th row of the data, `count` of them) with
 * their vectors, norms and metadata, and the chosen queries with their rank and category.
 */
function makeLevel(data, categories, u, queries, count, step) {
  const dim = data.dim;
  const base = new Float32Array(count * dim);
  const rank = new Int32Array(count);
  const lex = new Uint8Array(count).fill(NO_CATEGORY);
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const row = i * step;
    base.set(data.base.subarray(row * dim, (row + 1) * dim), i * dim);
    rank[i] = row;
    if (categories) lex[i] = categories.base[row];
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[i * dim + j] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const meta = { rank, lex, u: Float64Array.from(rank, (row) => u[row]) };
  const names = categories ? categories.names : codeName;
  return { count, dim, base, norms, meta, names, byLex: positionsByLex(meta), ...queries };
}

/** The K nearest allowed rows (positions in `allowed`) of the level to query j, by a plain float64 scan. */
function jsScan(level, metric, j, allowed) {
  const { dim, base, norms } = level;
  const query = level.queryRows[j];
  const qn = level.queryNorms[j];
  const bestD = new Float64Array(K).fill(Infinity);
  const bestI = new Int32Array(K).fill(-1);
  for (let i = 0; i < allowed.length; i++) {
    const id = allowed[i];
    const row = id * dim;
    let s = 0;
    if (metric === 'l2') {
      for (let c = 0; c < dim; c++) {
        const d = query[c] - base[row + c];
        s += d * d;
      }
    } else {
      for (let c = 0; c < dim; c++) s += query[c] * base[row + c];
      s = 1 - s / (qn * norms[id]);
    }
    if (s >= bestD[K - 1]) continue;
    let p = K - 1;
    while (p > 0 && bestD[p - 1] > s) {
      bestD[p] = bestD[p - 1];
      bestI[p] = bestI[p - 1];
      p--;
    }
    bestD[p] = s;
    bestI[p] = id;
  }
  return bestI.filter((id) => id >= 0);
}

/** h / wanted, or 1 when nothing was wanted (a filter that allows no row: an empty answer is right). */
const recallOf = (h, wanted) => (wanted === 0 ? 1 : h / wanted);

/** Hits of `found` (ids) in `truth` (ids), and truth's size: [hits, wanted]. */
function hits(found, truth) {
  const t = new Set(truth);
  let h = 0;
  for (const id of found) if (t.has(id)) h++;
  return [h, t.size];
}

/** Counts of the values of `list`, as an object. */
function tally(list) {
  const out = {};
  for (const v of list) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** The attribute fields of the level's rows (bench/lib/filter-where.js attributesOf). */
const FIELDS = { category: 'string', rank: 'number', u: 'number' };

/** Builds an elex-wasm index over the level's rows (ids = positions), each with its attributes (FIELDS). */
function buildIndex(engine, level, metric, quantization, progress) {
  const index = engine.createIndex({
    dim: level.dim,
    metric,
    quantization,
    M,
    efConstruction: EF_CONSTRUCTION,
    efSearch: EF,
    seed: 1,
    fields: FIELDS,
  });
  const ids = Uint32Array.from({ length: level.count }, (_, i) => i);
  progress.step(`building the ${quantization} index (${level.count} vectors)`);
  buildInChunks(
    `filter index ${level.count}`,
    level.count,
    (from, to) =>
      index.addBatch(
        ids.subarray(from, to),
        level.base.subarray(from * level.dim, to * level.dim),
        Array.from({ length: to - from }, (_, i) => attributesOf(level.meta, level.names, from + i)),
      ),
    { progress },
  );
  return index;
}

/** Whether two id arrays hold the same ids in the same order. */
const sameIds = (a, b) => a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * Measures every kind and share on one level: the engine (allow-list per query, and an IdSet for
 * the filters shared by all queries) against the JS scan, timed side by side with an unfiltered
 * search; then each store of `stores` over the first `storeQueries` queries. Returns result rows.
 */
async function measureLevel(level, { index, metric, kinds, shares, passes, stores, storeQueries, progress }) {
  const nq = level.queryRows.length;
  const batch = new Float32Array(nq * level.dim);
  level.queryRows.forEach((row, j) => batch.set(row, j * level.dim));
  const everything = Uint32Array.from({ length: level.count }, (_, i) => i);
  const plainTruth = level.queryRows.map((_, j) => jsScan(level, metric, j, everything));
  let plainHits = 0;
  let plainWanted = 0;
  level.queryRows.forEach((row, j) => {
    const [h, w] = hits(index.search(row, K).ids, plainTruth[j]);
    plainHits += h;
    plainWanted += w;
  });
  const out = [];
  for (const { kind, correlated, shared } of kinds) {
    for (const share of shares) {
      progress.step(`${level.count} rows: ${kind} ${share * 100}%`);
      const m = Math.max(1, Math.round(share * level.count));
      const where = (j) => makeWhere(kind, level.meta, m, share, level.queryRanks[j], level.queryLex[j], level.byLex);
      const wheres = shared ? new Array(nq).fill(where(0)) : level.queryRows.map((_, j) => where(j));
      const lists = shared
        ? new Array(nq).fill(allowedIds(wheres[0], level.meta))
        : wheres.map((w) => allowedIds(w, level.meta));
      const truth = lists.map((list, j) => jsScan(level, metric, j, list));
      const engineWheres = wheres.map((w) => engineWhere(w, level.names));
      const predicates = wheres.map((w) => predicateOf(w, level.meta));
      let h = 0;
      let wanted = 0;
      const plans = [];
      // where against the allow-list of the same rows (same plan) and, forced to the walk, against
      // the predicate (the same walk, unless it found fewer than k and fell back to the exact scan).
      const w = { hits: 0, plans: [], lazy: 0, differAllowList: 0, differPredicate: 0, fallbacks: 0 };
      let predicateHits = 0;
      for (let j = 0; j < nq; j++) {
        const q = level.queryRows[j];
        const r = index.search(q, K, { filter: lists[j] });
        plans.push(r.plan);
        const [a, b] = hits(r.ids, truth[j]);
        h += a;
        wanted += b;
        const rw = index.search(q, K, { where: engineWheres[j] });
        w.plans.push(rw.plan);
        w.hits += hits(rw.ids, truth[j])[0];
        // A lazy walk (a where most ids pass, new to the index) counts nothing: allowed is left out.
        if (rw.allowed === undefined) w.lazy++;
        const counted = rw.allowed === undefined || rw.allowed === lists[j].length;
        if (rw.plan !== r.plan || !counted || !sameIds(rw.ids, r.ids)) w.differAllowList++;
        const rp = index.search(q, K, { filter: predicates[j] });
        predicateHits += hits(rp.ids, truth[j])[0];
        const walked = index.search(q, K, { where: engineWheres[j], plan: 'walk' });
        if (walked.plan !== 'walk') w.fallbacks++;
        else if (!sameIds(walked.ids, rp.ids)) w.differPredicate++;
      }
      const set = shared ? index.idSet(lists[0]) : null;
      const times = {
        engine: [],
        js: [],
        set: [],
        plain: [],
        where: [],
        predicate: [],
        whereBatch: [],
        predicateBatch: [],
      };
      for (let p = 0; p < passes; p++) {
        times.js.push(timePerQuery(nq, (j) => jsScan(level, metric, j, lists[j])));
        times.engine.push(timePerQuery(nq, (j) => index.search(level.queryRows[j], K, { filter: lists[j] })));
        times.where.push(timePerQuery(nq, (j) => index.search(level.queryRows[j], K, { where: engineWheres[j] })));
        times.predicate.push(timePerQuery(nq, (j) => index.search(level.queryRows[j], K, { filter: predicates[j] })));
        if (set) times.set.push(timePerQuery(nq, (j) => index.search(level.queryRows[j], K, { filter: set })));
        if (shared) {
          // One searchBatch of every query: the where evaluated once for all of them.
          const perQuery = (body) => timePerQuery(1, body) / nq;
          times.whereBatch.push(perQuery(() => index.searchBatch(batch, K, { where: engineWheres[0] })));
          times.predicateBatch.push(perQuery(() => index.searchBatch(batch, K, { filter: predicates[0] })));
        }
        times.plain.push(timePerQuery(nq, (j) => index.search(level.queryRows[j], K)));
      }
      set?.release();
      const qps = (ms) => (ms.length ? 1000 / median(ms) : null);
      const plainQps = qps(times.plain);
      const row = {
        rows: level.count,
        kind,
        correlated,
        share,
        allowed: median(lists.map((l) => l.length)),
        plans: tally(plans),
        recall: recallOf(h, wanted),
        qps: qps(times.engine),
        jsQps: qps(times.js),
        setQps: qps(times.set),
        unfilteredQps: plainQps,
        unfilteredRecall: plainHits / plainWanted,
        where: {
          where: engineWheres[0],
          plans: tally(w.plans),
          lazy: w.lazy,
          recall: recallOf(w.hits, wanted),
          qps: qps(times.where),
          batchQps: qps(times.whereBatch),
          differAllowList: w.differAllowList,
          differPredicate: w.differPredicate,
          walkFallbacks: w.fallbacks,
        },
        predicate: {
          recall: recallOf(predicateHits, wanted),
          qps: qps(times.predicate),
          batchQps: qps(times.predicateBatch),
        },
        stores: {},
      };
      for (const store of stores) {
        const nsq = Math.min(storeQueries, nq);
        let sh = 0;
        let sw = 0;
        for (let j = 0; j < nsq; j++) {
          const [a, b] = hits(await store.search(j, wheres[j]), truth[j]);
          sh += a;
          sw += b;
        }
        const t0 = performance.now();
        for (let j = 0; j < nsq; j++) await store.search(j, wheres[j]);
        const ms = (performance.now() - t0) / nsq;
        const storePlans = [];
        if (store.plan) for (let j = 0; j < nsq; j++) storePlans.push(await store.plan(j, wheres[j]));
        row.stores[store.name] = { recall: recallOf(sh, sw), qps: 1000 / ms, queries: nsq, plans: tally(storePlans) };
      }
      out.push(row);
    }
  }
  return out;
}

/** A ratio as `12x`, `1.5x` or `0.25x`, or '' when either side is missing. */
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(a / b >= 10 ? 0 : a / b >= 1 ? 1 : 2)}x` : '');
/** Plan counts as `exact` or `exact 12 + walk 8`. */
const planText = (plans) => {
  const entries = Object.entries(plans);
  return entries.length === 1 ? entries[0][0] : entries.map(([p, c]) => `${p} ${c}`).join(' + ');
};
const pct = (share) => `${share * 100}%`;
const filterText = (r) => `${r.kind} (${r.correlated ? 'correlated' : 'independent'})`;

/** The Markdown table of one level's rows: elex-wasm against the JS scan and an unfiltered search. */
function levelTable(rows) {
  const headers = [
    'filter',
    'selectivity',
    'allowed',
    'plan',
    'recall@10',
    'QPS',
    'QPS JS scan',
    'vs JS scan',
    'cost vs unfiltered',
    'QPS IdSet',
    'IdSet cost vs unfiltered',
  ];
  const body = rows.map((r) => [
    filterText(r),
    pct(r.share),
    r.allowed,
    planText(r.plans),
    r.recall.toFixed(3),
    r.qps.toFixed(0),
    r.jsQps.toFixed(0),
    ratio(r.qps, r.jsQps),
    ratio(r.unfilteredQps, r.qps),
    r.setQps === null ? '' : r.setQps.toFixed(0),
    r.setQps === null ? '' : ratio(r.unfilteredQps, r.setQps),
  ]);
  return table(headers, body);
}

/**
 * The Markdown table of one level's rows as `where` filters against the equivalent JS predicate
 * and the allow-list: recall, plan, QPS, ratios, and the queries whose ids differ.
 */
function whereTable(rows) {
  const headers = [
    'filter',
    'selectivity',
    'where (first query)',
    'plan',
    'recall@10 where',
    'recall@10 predicate',
    'QPS where',
    'QPS predicate',
    'QPS allow-list',
    'where / predicate',
    'where / allow-list',
    'searchBatch: where / predicate',
    'ids differ: allow-list',
    'ids differ: predicate (walk)',
  ];
  const body = rows.map((r) => [
    filterText(r),
    pct(r.share),
    `\`${JSON.stringify(r.where.where).replaceAll('"', '').replaceAll(',', ', ').replaceAll('|', '\\|')}\``,
    `${planText(r.where.plans)}${r.where.lazy ? ` (${r.where.lazy} lazy)` : ''}`,
    r.where.recall.toFixed(3),
    r.predicate.recall.toFixed(3),
    r.where.qps.toFixed(0),
    r.predicate.qps.toFixed(0),
    r.qps.toFixed(0),
    ratio(r.where.qps, r.predicate.qps),
    ratio(r.where.qps, r.qps),
    ratio(r.where.batchQps, r.predicate.batchQps),
    r.where.differAllowList,
    `${r.where.differPredicate}${r.where.walkFallbacks ? ` (${r.where.walkFallbacks} fell back to exact)` : ''}`,
  ]);
  return table(headers, body);
}

/** The Markdown table of one level's rows against the stores: recall (plan) and QPS of each, elex-wasm's QPS as a multiple of theirs. */
function storesTable(rows, names) {
  const headers = ['filter', 'selectivity', 'elex-wasm recall@10', 'elex-wasm QPS'];
  for (const name of names) headers.push(`${name}: recall@10`, `${name}: QPS`, `elex-wasm vs ${name.split(' ')[0]}`);
  const body = rows.map((r) => {
    const cells = [filterText(r), pct(r.share), r.recall.toFixed(3), r.qps.toFixed(0)];
    for (const name of names) {
      const s = r.stores[name];
      const plans = Object.keys(s.plans).length ? ` (${planText(s.plans)})` : '';
      cells.push(`${s.recall.toFixed(3)}${plans}`, s.qps.toFixed(0), ratio(r.qps, s.qps));
    }
    return cells;
  });
  return table(headers, body);
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({
  quick = false,
  data: what,
  metrics,
  quantizations = ['f32'],
  against = AGAINST,
  progress = silent,
} = {}) {
  // The GloVe set with its categories is the default; another set runs without categories.
  const dataPath = what ?? (existsSync(join(NAMED.glove.dir, 'glove100k_base_lexname.u8')) ? 'glove' : undefined);
  const spec = resolveDataset(dataPath);
  const metric = (metrics ?? spec.metrics)[0];
  progress.step('loading the dataset');
  const data = loadDataset(metric, dataPath);
  const categories = loadCategories(spec);
  const count = data.base.length / data.dim;
  const allQueries = data.queries.length / data.dim;
  const nq = Math.min(quick ? 20 : 100, allQueries);
  const passes = quick ? 3 : 5;
  const storeQueries = quick ? 10 : 20;
  const next = rng(22);
  const u = Float64Array.from({ length: count }, () => next());
  // Queries spread over the query set (which is in frequency order for GloVe); query q's rank:
  // the base rows more frequent than it ((q + 1) * 100 for GloVe, whose every 101st word is a query).
  const picks = Array.from({ length: nq }, (_, j) => Math.floor((j * allQueries) / nq));
  const queryRows = picks.map((q) => data.queries.subarray(q * data.dim, (q + 1) * data.dim));
  const queries = {
    queryRows,
    queryNorms: queryRows.map((row) => Math.sqrt(row.reduce((s, x) => s + x * x, 0))),
    queryRanks: picks.map((q) => Math.round(((q + 1) * count) / allQueries)),
    queryLex: picks.map((q) => (categories ? categories.query[q] : NO_CATEGORY)),
  };
  const kinds = KINDS.filter((k) => k.kind !== 'category' || categories);
  const shares = SHARES;
  const pgRows = Math.min(count, quick ? PG_ROWS.quick : PG_ROWS.full);
  const engine = await Engine.create({ budgetBytes: 2000 << 20 });
  const notes = [];
  const levels = [
    { level: makeLevel(data, categories, u, queries, count, 1), stores: [], quantization: quantizations[0] },
  ];
  if (against.includes('langchain')) levels[0].stores.push(() => langchainStore(levels[0].level));
  if (against.includes('pglite')) {
    const pgLevel =
      pgRows === count
        ? levels[0]
        : {
            level: makeLevel(data, categories, u, queries, pgRows, Math.floor(count / pgRows)),
            stores: [],
            quantization: quantizations[0],
          };
    pgLevel.stores.push(() => pgliteStore(pgLevel.level, { M, efConstruction: EF_CONSTRUCTION, ef: EF, progress }));
    if (pgLevel !== levels[0]) levels.push(pgLevel);
  }
  // The other stored forms over the full rows, in the order given, right after the first one's.
  quantizations
    .slice(1)
    .forEach((quantization, i) => levels.splice(i + 1, 0, { level: levels[0].level, stores: [], quantization }));
  const results = [];
  const tables = [];
  for (const { level, stores: makers, quantization } of levels) {
    const index = buildIndex(engine, level, metric, quantization, progress);
    const stores = [];
    for (const make of makers) {
      progress.step('loading the stores to compare');
      const store = await make();
      if (store.skipped) notes.push(`${store.name} skipped: ${store.skipped}`);
      else stores.push(store);
    }
    const rows = (
      await measureLevel(level, { index, metric, kinds, shares, passes, stores, storeQueries, progress })
    ).map((row) => ({ quantization, ...row }));
    for (const store of stores) {
      if (store.buildMs)
        notes.push(
          `${store.name}: HNSW index over ${level.count} rows built in ${(store.buildMs / 1000).toFixed(1)} s.`,
        );
      await store.close?.();
    }
    index.dispose();
    results.push(...rows);
    const unfiltered = rows[0];
    tables.push(
      [
        `### ${level.count === count ? data.name : `${level.count} rows of ${data.name} (every ${count / level.count}th)`}${quantization === 'f32' ? '' : `, quantization ${quantization}`}`,
        '',
        `${level.count} vectors, ${metric}, ${quantization}, M ${M}, efConstruction ${EF_CONSTRUCTION}, ef ${EF}, k ${K}, ${nq} queries; unfiltered search: recall@10 ${unfiltered.unfilteredRecall.toFixed(3)}, ${unfiltered.unfilteredQps.toFixed(0)} QPS.`,
        '',
        levelTable(rows),
        '',
        whereTable(rows),
        ...(stores.length
          ? [
              '',
              storesTable(
                rows,
                stores.map((s) => s.name),
              ),
            ]
          : []),
        '',
      ].join('\n'),
    );
  }
  engine.dispose();
  const text = [
    ...tables,
    '',
    `Filters: random and rank range are the same for every query (independent of it); ${categories ? "rank band and category are the query's own (correlated: its word's frequency rank, its WordNet category)" : "rank band is the query's own (the rows nearest its position; rank is the record number here, and the data has no categories)"}. Allowed: rows a filter allows (median over the queries). The allowed ids go to elex-wasm (search with { filter }) and to the JS scan (plain-JS exact scan of those rows, float64, row norms precomputed) per query as a Uint32Array; IdSet: the filter made once with index.idSet (filters the same for every query). QPS: medians of ${passes} interleaved passes (elex-wasm, JS scan, where, predicate, IdSet, unfiltered search), each at least ${MIN_MS} ms; the stores: their first ${storeQueries} queries, one pass after an untimed one (LangChain: a filter function of the Document's metadata; PGlite: the same condition in SQL, hnsw.iterative_scan = relaxed_order, hnsw.ef_search ${EF}; its plan: EXPLAIN's choice, the HNSW index or a sequential scan). Cost vs unfiltered: unfiltered QPS / filtered QPS. Recall@10 against the JS scan's exact top 10 of the allowed rows. where: the same filters as \`where\` filters on each row's attributes (category: its WordNet category's name, rank, u), timed in the same passes as the equivalent JS predicate (filter: id => condition on the row's metadata) and the allow-list (searchBatch: one call for every query, the filters the same for every query); plan: the where searches' plans, "(n lazy)" those that ran as the lazy walk (the where checked only at the nodes the walk considers; such a search reports no allowed count); ids differ: queries whose where search returned other ids (or another plan or allowed count) than the allow-list search of the same rows, and, with plan 'walk' forced (the predicate's own walk), other ids than the predicate search (a walk that found fewer than k falls back to the exact scan and is not compared).`,
  ].join('\n');
  return {
    suite: 'filter',
    params: {
      M,
      efConstruction: EF_CONSTRUCTION,
      ef: EF,
      shares,
      kinds: kinds.map((k) => k.kind),
      passes,
      queries: nq,
      storeQueries,
      vectors: count,
      pgRows,
      dataset: data.name,
      metric,
      quantizations,
      against,
      quick,
    },
    results,
    table: text,
    notes,
  };
}

module.exports = { run };
