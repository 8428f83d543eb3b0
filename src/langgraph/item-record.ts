/**
 * The items record of an ElexStore (`EXLM`, docs/format.md "LangGraph stores"), saved beside
 * its index with the index's generation (src/hnsw/store/sidecar.ts). In the framing of
 * util/json-record.ts, version 1, the JSON:
 *
 *   {"generation":G,"model":M,"dims":D,"nextKey":K,"prev":P,"ops":[op,...]}
 *
 * M and D name the embedding model (null: the store has no semantic index). P is null for a
 * full record, whose ops put every item; else the key of the record this one continues (a
 * delta), whose ops are applied after that record's. An op is
 *   ["p", namespace, key, value, createdAt, updatedAt, ttl, expiresAt, vectorKeys, fields]
 * (a put: an item replaced in place, a new one added last) or ["d", namespace, key] (a delete).
 * Replaying the ops gives the items in the order the store held them.
 */
import { CorruptSnapshotError, MISSING_ID, type EmbeddingProvenance } from '../index.js';
import { decodeJsonRecord, encodeJsonRecord, hasRecordHead, isCount } from '../util/json-record.js';
import { ItemTable, type StoredItem } from './item-table.js';

const MAGIC = 'EXLM';
const VERSION = 1;

/** One change: a put of an item, or a delete of namespace/key. */
export type ItemOp = { put: StoredItem } | { delete: { namespace: readonly string[]; key: string } };

/** Which embedding model the store's vectors are of (null: none). */
export type Provenance = EmbeddingProvenance;

/** What an items record holds (a delta's `table` is filled by resolveItemRecord). */
export interface ItemRecord extends Provenance {
  generation: number;
  nextKey: number;
  /** The record this one continues, or null for a full record. */
  prev: string | null;
  ops: ItemOp[];
  /** The keys of the chain of records this one completes, oldest (the full record) first. */
  chain?: string[];
  /** Bytes of the chain's full record, and of all of the chain. */
  baseBytes?: number;
  chainBytes?: number;
}

/** The JSON text of one op. */
export function opJson(op: ItemOp): string {
  if ('delete' in op) return `["d",${JSON.stringify(op.delete.namespace)},${JSON.stringify(op.delete.key)}]`;
  const i = op.put;
  return `["p",${JSON.stringify(i.namespace)},${JSON.stringify(i.key)},${i.json},${i.createdAt},${i.updatedAt},${i.ttl ?? null},${i.expiresAt ?? null},${JSON.stringify(i.vectors)},${JSON.stringify(i.fields ?? null)}]`;
}

/** The record of `ops` (JSON texts of opJson) for index generation `generation`. Cost: O(bytes). */
export function encodeItemRecord(
  provenance: Provenance,
  generation: number,
  nextKey: number,
  prev: string | null,
  ops: readonly string[],
): Uint8Array {
  return encodeJsonRecord(
    MAGIC,
    VERSION,
    `{"generation":${generation},"model":${JSON.stringify(provenance.model)},"dims":${provenance.dims},"nextKey":${nextKey},"prev":${JSON.stringify(prev)},"ops":[${ops.join(',')}]}`,
  );
}

/**
 * The record in `bytes`; CorruptSnapshotError naming `key` for anything that is not a valid
 * version-1 record (framing, JSON shape, vector keys below nextKey). Cost: O(bytes).
 */
export function decodeItemRecord(bytes: Uint8Array, key: string): ItemRecord {
  const corrupt = (why: string) => new CorruptSnapshotError(`items record '${key}': ${why}`);
  const r = decodeJsonRecord(bytes, MAGIC, VERSION, corrupt);
  if (
    !hasRecordHead(r, MISSING_ID) ||
    !(r.model === null || typeof r.model === 'string') ||
    !(r.dims === null || isCount(r.dims)) ||
    !(r.prev === null || typeof r.prev === 'string') ||
    !Array.isArray(r.ops)
  ) {
    throw corrupt('its JSON is not {generation, model, dims, nextKey, prev, ops}');
  }
  const nextKey = r.nextKey;
  const ops = r.ops.map((row: unknown, i: number): ItemOp => {
    const op = Array.isArray(row) ? row : [];
    if (op[0] === 'd' && op.length === 3 && isNamespace(op[1]) && typeof op[2] === 'string')
      return { delete: { namespace: op[1], key: op[2] } };
    const [, namespace, itemKey, value, createdAt, updatedAt, ttl, expiresAt, vectors, fields] = op;
    if (
      op[0] !== 'p' ||
      op.length !== 10 ||
      !isNamespace(namespace) ||
      typeof itemKey !== 'string' ||
      value === null ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      !isTime(createdAt) ||
      !isTime(updatedAt) ||
      !(ttl === null || (typeof ttl === 'number' && ttl > 0)) ||
      !(expiresAt === null || isTime(expiresAt)) ||
      !Array.isArray(vectors) ||
      !vectors.every((v) => isCount(v) && v < nextKey) ||
      !(fields === null || fields === false || (Array.isArray(fields) && fields.every((f) => typeof f === 'string')))
    ) {
      throw corrupt(`ops[${i}] is not a put or a delete`);
    }
    return {
      put: {
        namespace,
        key: itemKey,
        json: JSON.stringify(value),
        createdAt,
        updatedAt,
        ...(ttl === null ? {} : { ttl }),
        ...(expiresAt === null ? {} : { expiresAt }),
        vectors,
        ...(fields === null ? {} : { fields }),
      },
    };
  });
  return {
    generation: r.generation,
    model: r.model as string | null,
    dims: r.dims as number | null,
    nextKey,
    prev: r.prev as string | null,
    ops,
  };
}

/**
 * Whether `value` is a time as the store keeps it: ms since the epoch, not negative, and not
 * necessarily whole (a fractional ttl in minutes, or a clock with sub-ms precision).
 */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * `record` completed: the ops of its whole chain (the full record it continues and every delta
 * up to it, read with `read`) replayed into one table, as puts in the store's order; `chain`,
 * `baseBytes` and `chainBytes` set. CorruptSnapshotError when a record of the chain is missing
 * or not valid, or the chain loops. Cost: reading and parsing the chain.
 */
export async function resolveItemRecord(
  record: ItemRecord,
  key: string,
  size: number,
  read: (key: string) => Promise<Uint8Array | undefined>,
): Promise<ItemRecord> {
  const chain = [{ key, record, size }];
  while (chain[0].record.prev !== null) {
    const prev = chain[0].record.prev;
    if (chain.some((c) => c.key === prev)) throw new CorruptSnapshotError(`items record '${key}': its chain loops`);
    const bytes = await read(prev);
    if (bytes === undefined)
      throw new CorruptSnapshotError(`items record '${key}': the record it continues, '${prev}', is missing`);
    chain.unshift({ key: prev, record: decodeItemRecord(bytes, prev), size: bytes.length });
  }
  const table = new ItemTable();
  for (const { record: r } of chain) {
    for (const op of r.ops) {
      if ('put' in op) table.put(op.put);
      else table.remove(op.delete.namespace, op.delete.key);
    }
  }
  return {
    ...record,
    ops: [...table.values()].map((put) => ({ put })),
    chain: chain.map((c) => c.key),
    baseBytes: chain[0].size,
    chainBytes: chain.reduce((n, c) => n + c.size, 0),
  };
}

function isNamespace(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((l) => typeof l === 'string' && l.length > 0);
}
