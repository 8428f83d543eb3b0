/** Plain-JS references (float64) the engine is checked against. */
import type { Metric } from '../../src/index';

export function dot64(a: ArrayLike<number>, b: ArrayLike<number>, offA = 0, offB = 0, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offA + i] * b[offB + i];
  return s;
}

/** Distance under `metric` as the engine defines it (cosine 1 - cos, l2 squared, dot 1 - a.b). */
export function distance64(
  metric: Metric,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  offA = 0,
  offB = 0,
  n = a.length,
): number {
  if (metric === 'l2') {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = a[offA + i] - b[offB + i];
      s += d * d;
    }
    return s;
  }
  const ab = dot64(a, b, offA, offB, n);
  if (metric === 'dot') return 1 - ab;
  return 1 - ab / Math.sqrt(dot64(a, a, offA, offA, n) * dot64(b, b, offB, offB, n));
}

/** Exact k nearest ids to `query` among `ids` (rows of `data`), ties to the lower id. */
export function bruteForce(
  metric: Metric,
  data: Float32Array,
  ids: ArrayLike<number>,
  rowOf: (id: number) => number,
  dim: number,
  query: ArrayLike<number>,
  k: number,
): Array<{ id: number; distance: number }> {
  const all: Array<{ id: number; distance: number }> = [];
  for (let i = 0; i < ids.length; i++) {
    all.push({ id: ids[i], distance: distance64(metric, query, data, 0, rowOf(ids[i]) * dim, dim) });
  }
  all.sort((x, y) => x.distance - y.distance || x.id - y.id);
  return all.slice(0, k);
}

/** Fraction of `truth` ids found in `found` (recall@truth.length). */
export function recall(found: ArrayLike<number>, truth: ArrayLike<number>): number {
  const set = new Set(Array.from(truth));
  let hits = 0;
  for (let i = 0; i < found.length; i++) if (set.has(found[i])) hits++;
  return hits / truth.length;
}
