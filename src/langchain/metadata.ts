/**
 * Documents' metadata kept as index attributes, so LangChain object filters run as the index's
 * `where` filters.
 */
import { type AttributeValue, type FieldKind, MAX_ATTRIBUTE_FIELDS, MAX_ATTRIBUTE_NAME_BYTES } from '../index.js';
import { isPlainObject } from '../util/json-value.js';
import { utf8Length } from '../stores/store-key.js';

/**
 * The fields of documents' metadata the index keeps as attributes, for object filters: the
 * top-level values that are finite numbers, strings or booleans, each field with the kind of the
 * first value the index met (a value of another kind, a string with a lone surrogate, a field
 * past the 64th, a field name the index refuses, or one it does not declare, is not kept: a
 * filter sees it as absent). `kinds` is the index's fields, and takes the fields this call adds.
 */
export function metadataAttributes(
  metadata: unknown,
  kinds: Map<string, FieldKind>,
  declared: boolean,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!isPlainObject(metadata)) return out;
  for (const [name, value] of Object.entries(metadata)) {
    const kind = scalarKind(value);
    if (kind === undefined || !attributeName(name) || (kind === 'string' && utf8Length(value as string) < 0)) continue;
    const known = kinds.get(name);
    if (known === undefined) {
      if (declared || kinds.size >= MAX_ATTRIBUTE_FIELDS) continue;
      kinds.set(name, kind);
    } else if (known !== kind) continue;
    out[name] = value as AttributeValue;
  }
  return out;
}

/** Whether the index takes `name` as a field name (attributes.ts checkFieldName). */
function attributeName(name: string): boolean {
  if (name.length === 0 || name.startsWith('$') || name === '__proto__') return false;
  const bytes = utf8Length(name);
  return bytes >= 0 && bytes <= MAX_ATTRIBUTE_NAME_BYTES;
}

/** The kind of a value as attributes take it (a finite number, a string, a boolean); undefined for anything else. */
function scalarKind(value: unknown): FieldKind | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : undefined;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return undefined;
}

const RANGE_OPS = ['$gt', '$gte', '$lt', '$lte'];

/**
 * `where` as the index can run it on documents' metadata, where a value of another kind than its
 * field's is absent (metadataAttributes keeps it out): an operand of another kind than a known
 * field's, which the index refuses, is read as the absent value it stands for. `{ f: v }` and
 * `$eq` match nothing, `$ne` drops out (it passes every document), a range on a field of
 * strings or booleans matches nothing, `$in` and `$nin` drop such members, and a field's `$not`
 * follows from what it negates. Anything else is left as it is, for the index to check.
 * Cost: O(size of where).
 */
export function absentOtherKinds(where: unknown, kinds: ReadonlyMap<string, FieldKind>): unknown {
  if (!isPlainObject(where)) return where;
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(where)) {
    const value = where[key];
    if ((key === '$and' || key === '$or') && Array.isArray(value)) {
      out[key] = value.map((w) => absentOtherKinds(w, kinds));
    } else if (key === '$not') {
      out[key] = absentOtherKinds(value, kinds);
    } else {
      const kind = key.startsWith('$') ? undefined : kinds.get(key);
      const cond = kind === undefined ? value : fieldCondition(value, kind);
      if (cond === ALL) continue;
      out[key] = cond === NONE ? { $in: [] } : cond;
    }
  }
  return out;
}

/** What a field's condition became: passes every document, or none. */
const ALL = Symbol('all');
const NONE = Symbol('none');

function fieldCondition(cond: unknown, kind: FieldKind): unknown {
  const other = (v: unknown): boolean => {
    const k = scalarKind(v);
    return k !== undefined && k !== kind;
  };
  if (!isPlainObject(cond)) return other(cond) ? NONE : cond;
  const out: Record<string, unknown> = Object.create(null);
  let dropped = false;
  for (const op of Object.keys(cond)) {
    const operand = cond[op];
    if ((op === '$eq' && other(operand)) || (RANGE_OPS.includes(op) && kind !== 'number' && other(operand)))
      return NONE;
    if (op === '$ne' && other(operand)) {
      dropped = true;
      continue;
    }
    if ((op === '$in' || op === '$nin') && Array.isArray(operand)) {
      out[op] = operand.filter((v) => !other(v));
    } else if (op === '$not' && isPlainObject(operand) && Object.keys(operand).length > 0) {
      const inner = fieldCondition(operand, kind);
      if (inner === ALL) return NONE;
      if (inner === NONE) {
        dropped = true;
        continue;
      }
      out[op] = inner;
    } else {
      out[op] = operand;
    }
  }
  return dropped && Object.keys(out).length === 0 ? ALL : out;
}
