/** Argument checks run before anything crosses into WebAssembly. Each throws a typed error. */
import { InvalidArgumentError, InvalidVectorError } from '../errors.js';

/** Largest finite float32. */
export const F32_MAX = 3.4028234663852886e38;
const U32_MAX = 0xffffffff;

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a number in [min, max] (finite). */
export function checkNumber(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a uint32 id. */
export function checkId(value: unknown, name = 'id'): number {
  return checkInt(name, value, 0, U32_MAX);
}

/** Throws unless `value` is one of `allowed`. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`,
    );
  }
  return value as T;
}

/**
 * The option names of an options type, checked by the compiler: the object must name every key
 * of T and nothing else. For {@link checkOptionNames}.
 */
export function optionNames<T>(names: Record<keyof T, true>): readonly string[] {
  return Object.keys(names);
}

/**
 * Throws InvalidArgumentError for the first own key of `options` that is not in `known`, naming
 * the closest known one: "createIndex: unknown option 'efconstruction' (did you mean
 * 'efConstruction'?)". A misspelt option is an error, never silently ignored.
 * Cost: O(keys) for known keys, plus an edit distance per known name for an unknown one.
 */
export function checkOptionNames(what: string, options: object, known: readonly string[]): void {
  for (const key in options) {
    // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is ES2022; the package targets the ES2020 lib
    if (!known.includes(key) && Object.prototype.hasOwnProperty.call(options, key)) {
      throw new InvalidArgumentError(`${what}: unknown option '${key}' (did you mean '${closestName(key, known)}'?)`);
    }
  }
}

/**
 * The name in `known` nearest to `name`, compared in lower case without '_' or '-': one that
 * starts with it first ('budget' -> 'budgetBytes'), else the fewest edits.
 */
function closestName(name: string, known: readonly string[]): string {
  const plain = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');
  const given = plain(name);
  let best = known[0];
  let bestScore = Infinity;
  for (const candidate of known) {
    const other = plain(candidate);
    const score = other.startsWith(given) ? (other.length - given.length) / 1000 : editDistance(given, other);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** Levenshtein distance between a and b (insertions, deletions, substitutions). Cost: O(|a| * |b|). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length];
}

/** Throws unless `value` is array-like (an array or typed array). */
export function checkArrayLike(name: string, value: unknown): ArrayLike<number> {
  if (value === null || typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number') {
    throw new InvalidArgumentError(
      `${name} must be an array or typed array, got ${value === null ? 'null' : typeof value}`,
    );
  }
  return value as ArrayLike<number>;
}

/**
 * Checks `count` rows of `dim` numbers starting at `offset` in `values`: every component a
 * finite float32, the squared norm representable in float32, and, when `nonZero` (cosine), some
 * component non-zero as float32 (1e-50 becomes 0 when stored, so [1e-50, 0] has no direction).
 * With `i8Levels` (an l2 index storing i8, see i8Levels), also the squared norm the engine
 * computes from the row's int8 codes: rounding each component to a code can carry a norm just
 * inside float32 past it. Cost: one pass over the data (two for a row of an i8 l2 index whose
 * squared norm is above F32_MAX / 8).
 */
export function checkRows(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  dim: number,
  nonZero: boolean,
  what: string,
  i8Levels = 0,
): void {
  for (let r = 0; r < count; r++) {
    let sumSq = 0;
    let zero = nonZero;
    const base = offset + r * dim;
    for (let i = 0; i < dim; i++) {
      const v = values[base + i];
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > F32_MAX) {
        throw new InvalidVectorError(`${rowName(what, r, count)} has a non-finite component at ${i}: ${String(v)}`);
      }
      // Over the float32 values stored, in float64 and in order, as a snapshot's loader checks
      // them: the numbers given can pass where their float32 roundings do not.
      const f = Math.fround(v);
      sumSq += f * f;
      if (zero && f !== 0) zero = false;
    }
    if (sumSq > F32_MAX) {
      throw new InvalidVectorError(`${rowName(what, r, count)} has a squared norm (${sumSq}) beyond float32`);
    }
    // The codes' squared norm is at most ~4.04 times sumSq (each |code * scale| is within half a
    // step, scale = max|x| / levels, of |x|, with up to 65536 dims and levels >= 127), so below
    // F32_MAX / 8 it cannot overflow and the second pass is skipped.
    if (i8Levels > 0 && sumSq > F32_MAX / 8 && i8SquaredNorm(values, base, dim, i8Levels) === Infinity) {
      throw new InvalidVectorError(
        `${rowName(what, r, count)} has a squared norm (${sumSq}) beyond float32 once encoded as int8 codes (i8): the codes round it up past ${F32_MAX}`,
      );
    }
    if (zero) {
      throw new InvalidVectorError(
        `${rowName(what, r, count)} is a zero vector as float32, which has no direction under cosine`,
      );
    }
  }
}

function rowName(what: string, row: number, count: number): string {
  return count > 1 ? `${what} row ${row}` : what;
}

/**
 * The `levels` argument of checkRows for an index: 0 (no i8 check) unless it stores i8 under
 * l2, the one metric that reads a vector's squared norm (cosine rows are unit, dot reads none);
 * then 127 for a stored row, and for a query the levels a side its prepared codes get
 * (assembly/kernels/i8-prepared.ts, preparedCodeLimit: 2047, fewer past 8,256 dims).
 */
export function i8Levels(quantization: string, metric: string, dim: number, query: boolean): number {
  if (quantization !== 'i8' || metric !== 'l2') return 0;
  if (!query) return 127;
  const n = (dim + 15) & ~15; // the kernels' dims (vector-form.ts, codeDimsFor)
  return Math.min(2047, Math.floor(0x7fffffff / (128 * n)));
}

/**
 * The squared norm the engine stores for the dim values at `base` encoded at `levels` levels a
 * side with a scale of their own, as float32 (Infinity when it overflows), computed as the engine
 * does, to the bit: m = max|x| and scale = m / levels in float32, code = round(x * levels / m)
 * in float32 (ties to even), the norm scale^2 * (codes . codes) in float64, then rounded to
 * float32 (assembly/kernels/i8.ts encodeI8AbsMax, i8-prepared.ts prepareF32Query,
 * assembly/hnsw/codes.ts). Float64 results of float32 operands rounded with Math.fround are the
 * float32 operations' results. Not for the subnormal scales of tiny vectors (checkRows calls it
 * only for squared norms above F32_MAX / 8). Cost: two passes over the row.
 */
export function i8SquaredNorm(values: ArrayLike<number>, base: number, dim: number, levels: number): number {
  let m = 0;
  for (let i = 0; i < dim; i++) m = Math.max(m, Math.abs(Math.fround(values[base + i])));
  if (m === 0) return 0;
  let sum = 0;
  for (let i = 0; i < dim; i++) {
    const c = roundHalfEven(Math.fround(Math.fround(Math.fround(values[base + i]) * levels) / m));
    sum += c * c;
  }
  const scale = Math.fround(m / levels);
  return Math.fround(scale * scale * sum);
}

/** x rounded to the nearest integer, ties to even (WebAssembly's nearest). */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +Infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
