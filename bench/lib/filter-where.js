// The `filter` suite's filters, as conditions on a row's metadata, so that every store evaluates
// the same rows its own way (an allow-list for elex-wasm and the JS scan, a function of the
// Document for LangChain, SQL for Postgres). A row has:
//   rank  its frequency rank (the record number: GloVe's rows are in frequency order)
//   lex   its word's WordNet category (data/glove100/*_lexname.u8), or 255 where there is none
//   u     a seeded uniform number in [0, 1)
// A filter (`where`) is one of:
//   { u }                 u < where.u                         (random: independent of the query)
//   { lo, hi }            lo <= rank < hi                     (a rank range or band)
//   { lex, lo, hi, or }   lex = where.lex AND/OR lo <= rank < hi
// The kinds, each made for an exact number m of allowed rows (share * rows) but random:
//   random      u < share: about m rows, the same for every query
//   rank range  the m rows in the middle of the frequency order, the same for every query
//   rank band   the m rows nearest in rank to the query's word (correlated: frequency shapes GloVe)
//   category    the query word's WordNet category: its m rows nearest in rank, or, when it has
//               fewer than m, all of them and the rows nearest in rank (correlated: the
//               category is what the vectors encode)
'use strict';

/** Whether `where` allows a row of this rank, category and u. */
function allows(where, rank, lex, u) {
  if (where.u !== undefined) return u < where.u;
  const inBand = rank >= where.lo && rank < where.hi;
  if (where.lex === undefined) return inBand;
  return where.or ? lex === where.lex || inBand : lex === where.lex && inBand;
}

/** `where` as an SQL condition on columns (u, rank, lex) with parameters numbered from `first`: [sql, params]. */
function sqlOf(where, first) {
  const p = (i) => `$${first + i}`;
  if (where.u !== undefined) return [`u < ${p(0)}`, [where.u]];
  const band = (i) => `rank >= ${p(i)} AND rank < ${p(i + 1)}`;
  if (where.lex === undefined) return [band(0), [where.lo, where.hi]];
  return [
    where.or ? `(lex = ${p(0)} OR (${band(1)}))` : `lex = ${p(0)} AND ${band(1)}`,
    [where.lex, where.lo, where.hi],
  ];
}

/** The first index of sorted `values` (read through `at`) at or above `x`. */
function lowerBound(count, at, x) {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The band of `m` positions of `count` centred on position `centre`: [from, to). */
function band(count, centre, m) {
  const from = Math.max(0, Math.min(count - m, centre - Math.floor(m / 2)));
  return [from, from + m];
}

/**
 * The filter of `kind` allowing `m` rows of `meta` ({ rank (ascending), lex, u }, n rows) for a
 * query of rank `qRank` and category `qLex`; `share` for 'random'. `byLex` maps a category to its
 * row positions (ascending). Returns a `where`.
 */
function makeWhere(kind, meta, m, share, qRank, qLex, byLex) {
  const { rank } = meta;
  const n = rank.length;
  if (kind === 'random') return { u: share };
  if (kind === 'rank range' || kind === 'rank band') {
    const centre = kind === 'rank range' ? Math.floor(n / 2) : lowerBound(n, (i) => rank[i], qRank);
    const [from, to] = band(n, centre, m);
    return { lo: rank[from], hi: rank[to - 1] + 1 };
  }
  // category
  const own = byLex.get(qLex) ?? [];
  if (own.length >= m) {
    const [from, to] = band(
      own.length,
      lowerBound(own.length, (i) => rank[own[i]], qRank),
      m,
    );
    return { lex: qLex, lo: rank[own[from]], hi: rank[own[to - 1]] + 1, or: false };
  }
  // All of the category, and the rows nearest in rank until m pass.
  let allowed = own.length;
  let from = lowerBound(n, (i) => rank[i], qRank);
  let to = from;
  let left = true;
  while (allowed < m) {
    const takeLeft = to === n || (left && from > 0);
    const i = takeLeft ? --from : to++;
    if (meta.lex[i] !== qLex) allowed++;
    left = !left;
  }
  return to > from
    ? { lex: qLex, lo: rank[from], hi: rank[to - 1] + 1, or: true }
    : { lex: qLex, lo: 0, hi: 0, or: true };
}

/** The positions (ascending) of the rows of `meta` that `where` allows. */
function allowedIds(where, meta) {
  const out = [];
  for (let i = 0; i < meta.rank.length; i++) if (allows(where, meta.rank[i], meta.lex[i], meta.u[i])) out.push(i);
  return Uint32Array.from(out);
}

/** Category -> its row positions (ascending). */
function positionsByLex(meta) {
  const out = new Map();
  meta.lex.forEach((lex, i) => {
    if (!out.has(lex)) out.set(lex, []);
    out.get(lex).push(i);
  });
  return out;
}

module.exports = { allows, sqlOf, makeWhere, allowedIds, positionsByLex };
