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
 * Cost: one pass over the data.
 */
export function checkRows(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  dim: number,
  nonZero: boolean,
  what: string,
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
