/**
 * A plain-JS evaluator of `where` filters (src/hnsw/where.ts), written from the documented
 * semantics (MongoDB's for scalar fields), and a seeded generator of random filters and
 * attributes that uses every operator. The engine's answers are checked against it.
 */
import type { Attributes, Where } from '../../src/index';
import { rng } from './random';

type Attrs = Readonly<Record<string, unknown>>;

// Ranges compare numbers only: a string or a boolean never passes one.
const has = (a: Attrs, f: string): boolean => a[f] !== undefined;

function fieldPasses(a: Attrs, f: string, cond: unknown): boolean {
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) return has(a, f) && a[f] === cond;
  return Object.entries(cond as Record<string, unknown>).every(([op, v]) => {
    const x = a[f];
    switch (op) {
      case '$eq':
        return has(a, f) && x === v;
      case '$ne':
        return !(has(a, f) && x === v);
      case '$gt':
        return typeof x === 'number' && x > (v as number);
      case '$gte':
        return typeof x === 'number' && x >= (v as number);
      case '$lt':
        return typeof x === 'number' && x < (v as number);
      case '$lte':
        return typeof x === 'number' && x <= (v as number);
      case '$in':
        return has(a, f) && (v as unknown[]).includes(x);
      case '$nin':
        return !(has(a, f) && (v as unknown[]).includes(x));
      case '$exists':
        return has(a, f) === v;
      case '$not':
        return !fieldPasses(a, f, v);
      default:
        throw new Error(`reference: unknown operator ${op}`);
    }
  });
}

/** Whether attributes `a` pass `where`. */
export function passes(a: Attrs, where: Where): boolean {
  return Object.entries(where).every(([key, v]) => {
    if (key === '$and') return (v as Where[]).every((w) => passes(a, w));
    if (key === '$or') return (v as Where[]).some((w) => passes(a, w));
    if (key === '$not') return !passes(a, v as Where);
    return fieldPasses(a, key, v);
  });
}

export const KINDS = ['note', 'task', 'mail', 'chat'];

/** Random attributes: n (int 0..19), score (float), kind (string), pinned (boolean), each present with probability `presence`. */
export function randomAttributes(next: () => number, presence = 0.8): Attributes {
  const out: Record<string, number | string | boolean> = {};
  if (next() < presence) out.n = Math.floor(next() * 20);
  if (next() < presence) out.score = Math.round(next() * 1000) / 1000;
  if (next() < presence) out.kind = KINDS[Math.floor(next() * KINDS.length)];
  if (next() < presence) out.pinned = next() < 0.5;
  return out;
}

/** One random field condition on the fields of randomAttributes, using every operator over many draws. */
function randomCondition(next: () => number): Where {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const field = pick(['n', 'score', 'kind', 'pinned', 'other']);
  const value = (): number | string | boolean =>
    field === 'kind'
      ? pick([...KINDS, 'nothing'])
      : field === 'pinned'
        ? next() < 0.5
        : field === 'score'
          ? pick([0.5, 0.25, Math.round(next() * 1000) / 1000])
          : Math.floor(next() * 22);
  const numeric = field === 'n' || field === 'score' || field === 'other';
  const ops = numeric
    ? ['bare', '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$not', 'range']
    : ['bare', '$eq', '$ne', '$in', '$nin', '$exists', '$not'];
  const op = pick(ops);
  if (op === 'bare') return { [field]: value() };
  if (op === '$in' || op === '$nin')
    return { [field]: { [op]: Array.from({ length: Math.floor(next() * 4) }, value) } };
  if (op === '$exists') return { [field]: { $exists: next() < 0.5 } };
  if (op === 'range') return { [field]: { $gte: value(), $lt: value() } };
  if (op === '$not') {
    const inner = numeric ? { [pick(['$gt', '$lte', '$eq'])]: value() } : { $in: [value(), value()] };
    return { [field]: { $not: inner } };
  }
  return { [field]: { [op]: value() } };
}

/** A random filter of depth at most `depth`: conditions, $and, $or, $not and implicit ANDs. */
export function randomWhere(next: () => number, depth = 2): Where {
  const r = next();
  if (depth === 0 || r < 0.4) return randomCondition(next);
  if (r < 0.55) return { ...randomCondition(next), ...randomCondition(next) };
  const parts = (): Where[] => Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomWhere(next, depth - 1));
  if (r < 0.7) return { $and: parts() };
  if (r < 0.88) return { $or: parts() };
  return { $not: randomWhere(next, depth - 1) };
}

export { rng };
