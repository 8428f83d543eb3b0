/**
 * Metadata attributes of an index's ids: the host's side of assembly/hnsw/attributes.ts. The
 * values live in the engine, one column per field indexed by slot (f64 numbers, booleans as
 * 0 / 1, strings as ids of this side's dictionary) with a presence bit per slot; the schema
 * (field names and kinds, declared or inferred) and the string dictionary live here.
 */
import { InvalidArgumentError } from '../errors.js';
import { utf8Length } from '../stores/store-key.js';

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
  /** UTF-8 bytes of the strings: the room the engine's dictionary holds for them. */
  stringBytes = 0;

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
      this.stringBytes += utf8Length(value);
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
      if (pairs[2 * f.column] !== 1) continue;
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
  if (name === '__proto__')
    throw new InvalidArgumentError(`${path}: '__proto__' cannot be a field name (an object literal cannot hold it)`);
  const bytes = utf8Length(name);
  if (bytes < 0)
    throw new InvalidArgumentError(
      `${path}: field name ${JSON.stringify(name)} holds a lone surrogate, which UTF-8 cannot carry`,
    );
  if (bytes > MAX_FIELD_NAME_BYTES)
    throw new InvalidArgumentError(
      `${path}: a field name is at most ${MAX_FIELD_NAME_BYTES} bytes of UTF-8 (a snapshot keeps its length in 16 bits), got ${bytes}`,
    );
}

/** Longest field name, in UTF-8 bytes: a snapshot keeps a name's length as a u16 (docs/format.md). */
export const MAX_FIELD_NAME_BYTES = 0xffff;

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
    const found: [Field, AttributeValue][] = [];
    for (const name of Object.keys(attrs)) {
      const value: unknown = (attrs as Record<string, unknown>)[name];
      if (value === undefined) continue;
      const kind = kindOf(value);
      if (kind === undefined)
        throw new InvalidArgumentError(
          `${path}.${name} must be a finite number, a string or a boolean, got ${describeValue(value)}`,
        );
      if (kind === 'string' && utf8Length(value as string) < 0)
        throw new InvalidArgumentError(
          `${path}.${name} holds a lone surrogate (${describeValue(value)}), which UTF-8 cannot carry: it would not load back`,
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
      found.push([field, value as AttributeValue]);
    }
    // Values in column order, so new strings enter the dictionary in that order, as a log
    // segment's replay (which records attributes in column order) adds them: the opened index
    // is the saved one byte for byte, whatever the order of the keys given.
    found.sort((x, y) => x[0].column - y[0].column);
    const pairs = new Float64Array(2 * this.fieldCount);
    for (const [field, v] of found) {
      pairs[2 * field.column] = 1;
      pairs[2 * field.column + 1] = this.value(v);
    }
    return pairs;
  }

  /** The stored number of a value (a string's dictionary id, drafted if new). */
  private value(value: AttributeValue): number {
    if (typeof value === 'number') return value === 0 ? 0 : value; // -0 is 0 (as a log segment's JSON keeps it)
    if (typeof value === 'boolean') return value ? 1 : 0;
    const known = this.schema.dictionary.get(value) ?? this.newStrings.get(value);
    if (known !== undefined) return known;
    const id = this.schema.strings.length + this.newStrings.size;
    this.newStrings.set(value, id);
    return id;
  }

  /** Bytes of the drafted strings in UTF-8. */
  newStringBytes(): number {
    let bytes = 0;
    for (const s of this.newStrings.keys()) bytes += utf8Length(s);
    return bytes;
  }

  /** Keeps the drafted fields and strings in the schema. */
  commit(): void {
    for (const f of this.newFields) this.schema.add(f.name, f.kind);
    for (const s of this.newStrings.keys()) this.schema.intern(s);
  }
}

/**
 * The attributes section of an EXIX version 3 snapshot (docs/format.md), little-endian:
 * u32 flags (bit 0: fields declared), u32 fields, per field u8 kind (FIELD_KINDS), u16 name
 * bytes, the UTF-8 name; u32 strings, per string u32 bytes, UTF-8; u32 rows, per row u32 id, u64
 * presence mask (bit c: field c present), then one f64 per present field, in field order.
 */
export function encodeAttributeSection(schema: Schema, rows: ReadonlyMap<number, Float64Array>): Uint8Array {
  const utf8 = new TextEncoder();
  const names = schema.fields.map((f) => utf8.encode(f.name));
  const strings = schema.strings.map((s) => utf8.encode(s));
  let bytes = 12 + names.reduce((n, b) => n + 3 + b.length, 0) + strings.reduce((n, b) => n + 4 + b.length, 0) + 4;
  for (const pairs of rows.values()) {
    bytes += 12;
    for (let c = 0; c < pairs.length / 2; c++) if (pairs[2 * c] !== 0) bytes += 8;
  }
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (v: number): void => {
    view.setUint32(at, v, true);
    at += 4;
  };
  u32(schema.declared ? 1 : 0);
  u32(schema.fields.length);
  schema.fields.forEach((f, i) => {
    view.setUint8(at, FIELD_KINDS.indexOf(f.kind));
    view.setUint16(at + 1, names[i].length, true);
    out.set(names[i], at + 3);
    at += 3 + names[i].length;
  });
  u32(strings.length);
  for (const s of strings) {
    u32(s.length);
    out.set(s, at);
    at += s.length;
  }
  u32(rows.size);
  for (const [id, pairs] of rows) {
    u32(id);
    let mask = 0n;
    for (let c = 0; c < pairs.length / 2; c++) if (pairs[2 * c] !== 0) mask |= 1n << BigInt(c);
    view.setBigUint64(at, mask, true);
    at += 8;
    for (let c = 0; c < pairs.length / 2; c++) {
      if (pairs[2 * c] === 0) continue;
      view.setFloat64(at, pairs[2 * c + 1], true);
      at += 8;
    }
  }
  return out;
}

/** What {@link decodeAttributeSection} read: the schema and each id's (present, value) pairs. */
export interface AttributeSection {
  schema: Schema;
  rows: Map<number, Float64Array>;
}

/**
 * Reads an attributes section, checking everything: kinds, names (valid, distinct), strings
 * (distinct), ids (distinct), values (finite numbers, 0 / 1 booleans, string ids in the
 * dictionary), the exact length. Throws `corrupt(why)`. Cost: O(bytes).
 */
export function decodeAttributeSection(bytes: Uint8Array, corrupt: (why: string) => Error): AttributeSection {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw corrupt('the attributes section ends early');
  };
  const u32 = (): number => {
    need(4);
    at += 4;
    return view.getUint32(at - 4, true);
  };
  const text = (n: number): string => {
    need(n);
    at += n;
    try {
      return utf8.decode(bytes.subarray(at - n, at));
    } catch {
      throw corrupt('an attribute name or string is not UTF-8');
    }
  };
  const flags = u32();
  if (flags > 1) throw corrupt('the attributes flags are out of range');
  const schema = new Schema(flags === 1);
  const fields = u32();
  if (fields > MAX_FIELDS) throw corrupt('too many attribute fields');
  for (let f = 0; f < fields; f++) {
    need(3);
    const kind = FIELD_KINDS[view.getUint8(at)];
    const len = view.getUint16(at + 1, true);
    at += 3;
    const name = text(len);
    if (kind === undefined || name.length === 0 || name.startsWith('$') || schema.byName.has(name))
      throw corrupt('an attribute field is not valid');
    schema.add(name, kind);
  }
  const strings = u32();
  for (let s = 0; s < strings; s++) {
    const value = text(u32());
    if (schema.dictionary.has(value)) throw corrupt('an attribute string appears twice');
    schema.intern(value);
  }
  const rows = new Map<number, Float64Array>();
  const count = u32();
  for (let r = 0; r < count; r++) {
    const id = u32();
    need(8);
    const mask = view.getBigUint64(at, true);
    at += 8;
    if (rows.has(id) || mask >> BigInt(fields) !== 0n) throw corrupt('an attributes row is not valid');
    const pairs = new Float64Array(2 * fields);
    for (const f of schema.fields) {
      if (((mask >> BigInt(f.column)) & 1n) === 0n) continue;
      need(8);
      const v = view.getFloat64(at, true);
      at += 8;
      const ok =
        f.kind === 'number'
          ? Number.isFinite(v)
          : f.kind === 'boolean'
            ? v === 0 || v === 1
            : Number.isInteger(v) && v >= 0 && v < strings;
      if (!ok) throw corrupt(`an attribute value of field '${f.name}' is out of range`);
      pairs[2 * f.column] = 1;
      pairs[2 * f.column + 1] = v;
    }
    rows.set(id, pairs);
  }
  if (at !== bytes.length) throw corrupt('the attributes section is longer than its content');
  return { schema, rows };
}
