/**
 * `where` filters on an index's attributes: the filter language and its compiler to the
 * postfix program assembly/hnsw/attributes.ts evaluates over the live slots into the allow set
 * of a search (then the planner of src/hnsw/filter.ts, as for an allow-list).
 *
 * Semantics (MongoDB's, for scalar fields): `{ f: v }` is `{ f: { $eq: v } }`; `$eq $gt $gte
 * $lt $lte $in` fail on an id without the field; `$ne $nin` are the negations of `$eq $in`, so
 * they pass it; `{ f: { $not: ops } }` negates `ops` (passes it too); `$exists` tests presence.
 * Several conditions in one object are ANDed. `$and`, `$or` take arrays of filters, the
 * top-level `$not` a filter. `{}` passes every id.
 */
import { isPlainObject } from '../util/json-value.js';
import { InvalidArgumentError } from '../errors.js';
import { describeValue, Schema, type AttributeValue, type FieldDeclarations, type Field } from './attributes.js';

/** A value a condition compares with. */
export type WhereValue = AttributeValue;

/** The operators of one field's condition. */
export interface WhereOperators {
  /** Equal to (an id without the field fails). */
  $eq?: WhereValue;
  /** Not equal to (an id without the field passes). */
  $ne?: WhereValue;
  /** Greater than (numbers only). */
  $gt?: number;
  /** Greater than or equal to (numbers only). */
  $gte?: number;
  /** Less than (numbers only). */
  $lt?: number;
  /** Less than or equal to (numbers only). */
  $lte?: number;
  /** Equal to one of (an id without the field fails). */
  $in?: readonly WhereValue[];
  /** Equal to none of (an id without the field passes). */
  $nin?: readonly WhereValue[];
  /** true: the id has the field; false: it has not. */
  $exists?: boolean;
  /** The negation of these operators (an id without the field passes `{ $not: { $gt: 1 } }`). */
  $not?: WhereOperators;
}

/**
 * A metadata filter: field conditions (a value for equality, or {@link WhereOperators}), ANDed,
 * plus the logical `$and`, `$or` (arrays of filters) and `$not` (a filter). For example
 * `{ kind: 'note', ts: { $gte: t0 }, $or: [{ pinned: true }, { score: { $gt: 0.5 } }] }`.
 */
export interface Where {
  /** Every filter passes. */
  $and?: readonly Where[];
  /** At least one filter passes. */
  $or?: readonly Where[];
  /** The filter fails. */
  $not?: Where;
  /** A field's condition: a value (equality) or operators. */
  [field: string]: WhereValue | WhereOperators | readonly Where[] | Where | undefined;
}

// Program words (assembly/hnsw/attributes.ts).
const OP_EQ = 0;
const OP_GT = 1;
const OP_GTE = 2;
const OP_LT = 3;
const OP_LTE = 4;
const OP_EXISTS = 5;
const OP_IN = 6;
const OP_AND = 7;
const OP_OR = 8;
const OP_NOT = 9;
const OP_TRUE = 10;
/** OP_RANGE + k f lo hi: lo <(=) x <(=) hi, k bit 0: lo inclusive, bit 1: hi inclusive. */
const OP_RANGE = 11;
/** A field no id has (a field the index does not know yet, when fields are inferred). */
const NO_FIELD = 0xffffffff;
/** Nesting at most (the engine's stack is MAX_DEPTH = 64 deep; each level may hold two). */
export const MAX_WHERE_DEPTH = 30;
const RANGE_OPS: Readonly<Record<string, number>> = { $gt: OP_GT, $gte: OP_GTE, $lt: OP_LT, $lte: OP_LTE };
const FIELD_OPS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$not'];

/**
 * Compiles `where` against `schema` into a program for the engine. InvalidArgumentError naming
 * the path (`where.ts.$gte`) for an unknown operator, an operand of the wrong type (or of
 * another kind than its field's), a field the schema does not declare (when it declares its
 * fields), or nesting past MAX_WHERE_DEPTH. Cost: O(size of where), plus O(n log n) per `$in`.
 */
export function compileWhere(where: unknown, schema: Schema): Float64Array {
  const words: number[] = [];
  compileFilter(where, 'where', schema, words, 0);
  return Float64Array.from(words);
}

/**
 * Checks `where` as a search would, without an index: InvalidArgumentError naming the path
 * (`where.ts.$gte`) for an unknown operator, an operand of the wrong type, nesting too deep, or,
 * with `fields` (as createIndex takes them), a field they do not declare or an operand of
 * another kind than its field's. Useful for a filter built from user input before any search,
 * or before an index exists. Cost: O(size of where).
 *
 * @example
 * ```ts
 * checkWhere({ ts: { $gte: '2024' } }); // InvalidArgumentError: where.ts.$gte must be a number, got '2024'
 * ```
 */
export function checkWhere(where: unknown, fields?: FieldDeclarations): void {
  compileWhere(where, fields === undefined ? new Schema(false) : Schema.declare(fields));
}

function compileFilter(where: unknown, path: string, schema: Schema, out: number[], depth: number): void {
  if (!isPlainObject(where)) throw new InvalidArgumentError(`${path} must be an object, got ${describeValue(where)}`);
  if (depth > MAX_WHERE_DEPTH) throw new InvalidArgumentError(`${path}: nested deeper than ${MAX_WHERE_DEPTH}`);
  let terms = 0;
  const and = (): void => {
    if (++terms > 1) out.push(OP_AND);
  };
  for (const key of Object.keys(where)) {
    const value = where[key];
    const at = `${path}.${key}`;
    if (value === undefined) continue;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0)
        throw new InvalidArgumentError(`${at} must be a non-empty array of filters, got ${describeValue(value)}`);
      for (let i = 0; i < value.length; i++) {
        compileFilter(value[i], `${at}[${i}]`, schema, out, depth + 1); // a hole is undefined: refused
        if (i > 0) out.push(key === '$and' ? OP_AND : OP_OR);
      }
    } else if (key === '$not') {
      compileFilter(value, at, schema, out, depth + 1);
      out.push(OP_NOT);
    } else if (key.startsWith('$')) {
      throw new InvalidArgumentError(`${at}: unknown operator '${key}' (known here: $and, $or, $not)`);
    } else {
      compileField(key, value, at, schema, out, depth + 1);
    }
    and();
  }
  if (terms === 0) out.push(OP_TRUE);
}

function compileField(name: string, cond: unknown, path: string, schema: Schema, out: number[], depth: number): void {
  if (schema.declared && !schema.byName.has(name))
    throw new InvalidArgumentError(`${path}: the index declares no field '${name}'`);
  const field = schema.byName.get(name);
  if (!isPlainObject(cond)) {
    leaf(OP_EQ, field, cond, `${path}`, schema, out);
    return;
  }
  if (depth > MAX_WHERE_DEPTH) throw new InvalidArgumentError(`${path}: nested deeper than ${MAX_WHERE_DEPTH}`);
  const start = out.length;
  let terms = 0;
  for (const op of Object.keys(cond)) {
    const operand = cond[op];
    const at = `${path}.${op}`;
    if (operand === undefined) continue;
    if (!FIELD_OPS.includes(op))
      throw new InvalidArgumentError(
        op.startsWith('$')
          ? `${at}: unknown operator '${op}' (known: ${FIELD_OPS.join(', ')})`
          : `${at}: a condition's keys must be operators (${FIELD_OPS.join(', ')}); give { ${name}: value } for equality`,
      );
    if (op === '$eq' || op === '$ne') {
      leaf(OP_EQ, field, operand, at, schema, out);
      if (op === '$ne') out.push(OP_NOT);
    } else if (op in RANGE_OPS) {
      if (typeof operand !== 'number' || Number.isNaN(operand))
        throw new InvalidArgumentError(`${at} must be a number, got ${describeValue(operand)}`);
      if (field !== undefined && field.kind !== 'number')
        throw new InvalidArgumentError(`${at}: field '${name}' holds ${field.kind}s; ${op} compares numbers`);
      out.push(RANGE_OPS[op], field?.column ?? NO_FIELD, operand);
    } else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(operand))
        throw new InvalidArgumentError(`${at} must be an array, got ${describeValue(operand)}`);
      const values = new Set<number>();
      for (let i = 0; i < operand.length; i++) {
        const n = operandValue(field, operand[i], `${at}[${i}]`, schema); // a hole is undefined: refused
        if (n !== undefined) values.add(n);
      }
      const sorted = Float64Array.from(values).sort();
      out.push(OP_IN, field?.column ?? NO_FIELD, sorted.length, ...sorted);
      if (op === '$nin') out.push(OP_NOT);
    } else if (op === '$exists') {
      if (typeof operand !== 'boolean')
        throw new InvalidArgumentError(`${at} must be true or false, got ${describeValue(operand)}`);
      out.push(OP_EXISTS, field?.column ?? NO_FIELD);
      if (!operand) out.push(OP_NOT);
    } else {
      if (!isPlainObject(operand) || Object.keys(operand).length === 0)
        throw new InvalidArgumentError(`${at} must be an object of operators, got ${describeValue(operand)}`);
      compileField(name, operand, at, schema, out, depth + 1);
      out.push(OP_NOT);
    }
    if (++terms > 1) out.push(OP_AND);
  }
  if (terms === 0) throw new InvalidArgumentError(`${path} must be a value or an object of at least one operator`);
  fuseRange(out, start);
}

/**
 * Rewrites `a f x, b f y, OP_AND` at out[start..] (the whole condition of one field) into one
 * OP_RANGE when one of a, b is a lower bound ($gt, $gte) and the other an upper ($lt, $lte):
 * one pass over the column instead of two.
 */
function fuseRange(out: number[], start: number): void {
  if (out.length - start !== 7 || out[start + 6] !== OP_AND || out[start + 1] !== out[start + 4]) return;
  const lower = (op: number): boolean => op === OP_GT || op === OP_GTE;
  const upper = (op: number): boolean => op === OP_LT || op === OP_LTE;
  let [a, b] = [start, start + 3];
  if (lower(out[b]) && upper(out[a])) [a, b] = [b, a];
  if (!lower(out[a]) || !upper(out[b])) return;
  const op = OP_RANGE + (out[a] === OP_GTE ? 1 : 0) + (out[b] === OP_LTE ? 2 : 0);
  out.splice(start, 7, op, out[a + 1], out[a + 2], out[b + 2]);
}

/** Pushes `op field value` for an equality (a string the dictionary lacks matches nothing). */
function leaf(op: number, field: Field | undefined, value: unknown, path: string, schema: Schema, out: number[]): void {
  const n = operandValue(field, value, path, schema);
  if (n === undefined) out.push(OP_IN, NO_FIELD, 0);
  else out.push(op, field?.column ?? NO_FIELD, n);
}

/**
 * The stored number of an equality operand: a finite number, a string (its dictionary id;
 * undefined when no id has it) or a boolean, of the field's kind. InvalidArgumentError naming `path`.
 */
function operandValue(field: Field | undefined, value: unknown, path: string, schema: Schema): number | undefined {
  let kind: string;
  let n: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) {
    kind = 'number';
    n = value;
  } else if (typeof value === 'string') {
    kind = 'string';
    n = schema.dictionary.get(value);
  } else if (typeof value === 'boolean') {
    kind = 'boolean';
    n = value ? 1 : 0;
  } else {
    throw new InvalidArgumentError(
      `${path} must be a finite number, a string or a boolean, got ${describeValue(value)}`,
    );
  }
  if (field !== undefined && field.kind !== kind)
    throw new InvalidArgumentError(
      `${path} must be a ${field.kind} (field '${field.name}' holds ${field.kind}s), got ${describeValue(value)}`,
    );
  return n;
}
