// Small statistics helpers for benchmark output: percentiles, medians, table printing.
'use strict';

/** The p-th percentile (0..100) of numbers, nearest rank. */
function percentile(values, p) {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Median of numbers. */
function median(values) {
  return percentile(values, 50);
}

/** Prints rows (arrays of cells) as an aligned Markdown table under `headers`. */
function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r) => `| ${r.map((v, c) => v.padEnd(widths[c])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** Mean recall@k of result rows against truth rows (truthK ids per query, first k counted). */
function recallAt(ids, truth, queries, k, truthK) {
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const set = new Set(truth.subarray(q * truthK, q * truthK + k));
    for (let i = 0; i < k; i++) if (set.has(ids[q * k + i])) hits++;
  }
  return hits / (queries * k);
}

module.exports = { percentile, median, table, recallAt };
