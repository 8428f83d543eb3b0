/**
 * Metadata attributes of an index's ids: the host's side of assembly/hnsw/attributes.ts. The
 * values live in the engine, one column per field indexed by slot (f64 numbers, booleans as
 * 0 / 1, strings as ids of this side's dictionary) with a presence bit per slot; the schema
 * (field names and kinds, declared or inferred) and the string dictionary live here.
 */
import { InvalidArgumentError } from '../errors.js';

/** What a field holds: numbers (finite), strings, or booleans. */
export type FieldKind = 'number' | 'string' | 'boolean';

/** One attribute value. */
export type AttributeValue = number | string | boolean;

/** An id's attributes: field name to value (a field left out, or undefined, is absent). */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

/** Field declarations of {@link IndexOptions.fields}: field name to kind. */
export type FieldDeclarations = Readonly<Record<string, FieldKind>>;

/** The kinds, by code (the snapshot's attributes section). */
export const FIELD_KINDS: readonly FieldKind[] = ['number', 'string', 'boolean'];
/** Fields an index holds at most (assembly/hnsw/attributes.ts MAX_FIELDS). */
export const MAX_FIELDS = 64;

/** A field of the schema: its column in the engine and its kind. */
export interface Field {
  readonly name: string;
  readonly kind: FieldKind;
  readonly column: number;
}

/** The kind of a value, or undefined when it cannot be an attribute. */
export function kindOf(value: unknown): FieldKind | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : undefined;
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return undefined;
}

/** Describes a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/**
 * The fields and the string dictionary of an index. Changes are staged in a {@link SchemaDraft}
 * and kept only when the engine call they belong to succeeded. Fields are never dropped
 * (clear keeps them), and the dictionary only grows.
 */
export class Schema {
  /** Whether the fields were declared (createIndex's `fields`): then no other field is accepted. */
  readonly declared: boolean;
  readonly fields: Field[] = [];
  readonly byName = new Map<string, Field>();
  readonly strings: string[] = [];
  readonly dictionary = new Map<string, number>();

  constructor(declared: boolean) {
    this.declared = declared;
  }

  /** A schema declaring `fields` (checked: names, kinds, at most MAX_FIELDS). */
  static declare(fields: unknown): Schema {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw new InvalidArgumentError(`fields must be an object of field name to kind, got ${describeValue(fields)}`);
    const schema = new Schema(true);
    const names = Object.keys(fields);
    if (names.length > MAX_FIELDS) throw new InvalidArgumentError(`fields: at most ${MAX_FIELDS} fields`);
    for (const name of names) {
      const kind = (fields as Record<string, unknown>)[name];
      checkFieldName(name, 'fields');
      if (!FIELD_KINDS.includes(kind as FieldKind))
        throw new InvalidArgumentError(
          `fields.${name} must be 'number', 'string' or 'boolean', got ${describeValue(kind)}`,
        );
      schema.add(name, kind as FieldKind);
    }
    return schema;
  }

  /** Adds a field (no checks). */
  add(name: string, kind: FieldKind): Field {
    const field = { name, kind, column: this.fields.length };
    this.fields.push(field);
    this.byName.set(name, field);
    return field;
  }

  /** Adds a string to the dictionary (no checks); returns its id. */
  intern(value: string): number {
    let id = this.dictionary.get(value);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(value);
      this.dictionary.set(value, id);
    }
    return id;
  }

  /** The fields as a record of name to kind. */
  kinds(): Record<string, FieldKind> {
    const out: Record<string, FieldKind> = {};
    for (const f of this.fields) out[f.name] = f.kind;
    return out;
  }

  /** Decodes (present, value) pairs (one per field) into attributes. */
  decode(pairs: Float64Array): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    for (const f of this.fields) {
      if (pairs[2 * f.column] === 0) continue;
      const v = pairs[2 * f.column + 1];
      out[f.name] = f.kind === 'number' ? v : f.kind === 'boolean' ? v !== 0 : this.strings[v];
    }
    return out;
  }
}

/** Throws unless `name` can be a field's name: a non-empty string not starting with '$'. */
export function checkFieldName(name: string, path: string): void {
  if (name.length === 0 || name.startsWith('$'))
    throw new InvalidArgumentError(`${path}: a field name must be non-empty and not start with '$', got '${name}'`);
}

/**
 * The changes one call makes to a schema: fields inferred and strings met, numbered after the
 * schema's own. {@link commit} keeps them once the engine call succeeded; dropping the draft
 * forgets them.
 */
export class SchemaDraft {
  readonly schema: Schema;
  readonly newFields: Field[] = [];
  private readonly newByName = new Map<string, Field>();
  private readonly newStrings = new Map<string, number>();

  constructor(schema: Schema) {
    this.schema = schema;
  }

  /** Fields after the draft. */
  get fieldCount(): number {
    return this.schema.fields.length + this.newFields.length;
  }

  /** The field named `name`, known or drafted, or undefined. */
  field(name: string): Field | undefined {
    return this.schema.byName.get(name) ?? this.newByName.get(name);
  }

  /**
   * Encodes `attrs` as (present, value) pairs, one per field after the draft (fields inferred
   * on the way are drafted). InvalidArgumentError naming `path.field` for a value that is not a
   * finite number, a string or a boolean, of another kind than its field's, or a field not
   * declared. Cost: O(fields).
   */
  encode(attrs: unknown, path: string): Float64Array {
    if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs))
      throw new InvalidArgumentError(`${path} must be an object of field name to value, got ${describeValue(attrs)}`);
    const found: [Field, number][] = [];
    for (const name of Object.keys(attrs)) {
      const value: unknown = (attrs as Record<string, unknown>)[name];
      if (value === undefined) continue;
      const kind = kindOf(value);
      if (kind === undefined)
        throw new InvalidArgumentError(
          `${path}.${name} must be a finite number, a string or a boolean, got ${describeValue(value)}`,
        );
      let field = this.field(name);
      if (field === undefined) {
        if (this.schema.declared)
          throw new InvalidArgumentError(`${path}.${name}: the index declares no field '${name}'`);
        checkFieldName(name, path);
        if (this.fieldCount >= MAX_FIELDS)
          throw new InvalidArgumentError(`${path}.${name}: at most ${MAX_FIELDS} fields`);
        field = { name, kind, column: this.fieldCount };
        this.newFields.push(field);
        this.newByName.set(name, field);
      } else if (field.kind !== kind) {
        throw new InvalidArgumentError(
          `${path}.${name} must be a ${field.kind} (field '${name}' holds ${field.kind}s), got ${describeValue(value)}`,
        );
      }
      found.push([field, this.value(value as AttributeValue)]);
    }
    const pairs = new Float64Array(2 * this.fieldCount);
    for (const [field, v] of found) {
      pairs[2 * field.column] = 1;
      pairs[2 * field.column + 1] = v;
    }
    return pairs;
  }

  /** The stored number of a value (a string's dictionary id, drafted if new). */
  private value(value: AttributeValue): number {
    if (typeof value === 'number') return value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    const known = this.schema.dictionary.get(value) ?? this.newStrings.get(value);
    if (known !== undefined) return known;
    const id = this.schema.strings.length + this.newStrings.size;
    this.newStrings.set(value, id);
    return id;
  }

  /** Keeps the drafted fields and strings in the schema. */
  commit(): void {
    for (const f of this.newFields) this.schema.add(f.name, f.kind);
    for (const s of this.newStrings.keys()) this.schema.intern(s);
  }
}
