/**
 * A JSON value as the host-side stores keep it (a LangChain document's metadata, a LangGraph
 * item's value): JSON text. Only values JSON carries unchanged are
 * accepted (null, booleans, finite numbers, strings, arrays and plain objects of them, without
 * cycles), so what a search or a load gives back equals what was added; anything else (a
 * function, undefined, a Date, a Map, a BigInt, NaN, a cycle) is an InvalidArgumentError naming
 * where it is, before anything of the batch is added.
 */
import { InvalidArgumentError } from '../errors.js';

/** Deepest nesting accepted: deeper metadata is refused rather than overflowing the stack. */
const MAX_DEPTH = 64;

/**
 * The JSON text of `metadata` (undefined counts as {}), or InvalidArgumentError naming the
 * first value JSON cannot carry unchanged, as `what.path`. Cost: O(size of metadata).
 */
export function metadataJson(metadata: unknown, what: string): string {
  if (metadata === undefined) return '{}';
  if (!isPlainObject(metadata))
    throw new InvalidArgumentError(`${what} must be a plain object, got ${describe(metadata)}`);
  checkValue(metadata, what, new Set(), 0);
  return JSON.stringify(metadata);
}

function checkValue(value: unknown, path: string, open: Set<object>, depth: number): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`${path} is ${value}, which JSON cannot carry`);
    return;
  }
  const array = Array.isArray(value);
  if (!array && !isPlainObject(value))
    throw new InvalidArgumentError(`${path} is ${describe(value)}, which JSON cannot carry unchanged`);
  if (depth >= MAX_DEPTH) throw new InvalidArgumentError(`${path} nests deeper than ${MAX_DEPTH} levels`);
  const object = value as object;
  if (open.has(object)) throw new InvalidArgumentError(`${path} refers back to itself (a cycle)`);
  open.add(object);
  if (array) {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) checkValue(items[i], `${path}[${i}]`, open, depth + 1);
  } else {
    for (const key of Object.keys(object))
      checkValue((object as Record<string, unknown>)[key], `${path}.${key}`, open, depth + 1);
  }
  open.delete(object);
}

/** Whether `value` is an object literal (or made by Object.create(null)), not an array or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  // Object.prototype of this realm or another (a worker's, a vm context's): no prototype above it.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}
