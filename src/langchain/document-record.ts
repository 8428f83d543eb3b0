/**
 * The documents record (`EXLC`, docs/format.md "LangChain stores"): one store value holding
 * every document of an ElexVectorStore as it was at one save, tagged with the generation of the
 * index save it belongs to.
 *
 *   0 'EXLC'   4 u32 version (1)   8 u32 JSON length L   12 L bytes of UTF-8 JSON   12+L u32 CRC-32
 *
 * JSON: {"generation":G,"nextKey":K,"docs":[[key,"id","pageContent",metadata],...]}
 */
import { CorruptSnapshotError, MISSING_ID } from '../index.js';
import { decodeJsonRecord, encodeJsonRecord, hasRecordHead, isCount } from '../util/json-record.js';
import type { DocumentTable, StoredDocument } from './document-table.js';

const MAGIC = 'EXLC';
const VERSION = 1;

/** What a documents record holds. */
export interface DocumentRecord {
  /** The generation of the index save these documents belong to. */
  generation: number;
  /** The next key the store hands out (keys of deleted documents are not reused). */
  nextKey: number;
  docs: StoredDocument[];
}

/** The record of every document of `table`, for the index save `generation`. Cost: O(documents' bytes). */
export function encodeDocumentRecord(table: DocumentTable, generation: number): Uint8Array {
  const rows: string[] = [];
  for (const d of table.values())
    rows.push(`[${d.key},${JSON.stringify(d.id)},${JSON.stringify(d.pageContent)},${d.metadataJson}]`);
  return encodeJsonRecord(
    MAGIC,
    VERSION,
    `{"generation":${generation},"nextKey":${table.nextKey},"docs":[${rows.join(',')}]}`,
  );
}

/**
 * The documents in `bytes`; CorruptSnapshotError naming `key` for anything that is not a valid
 * version-1 record (length, magic, version, CRC-32, JSON shape, keys unique and below nextKey,
 * ids unique). Cost: O(bytes).
 */
export function decodeDocumentRecord(bytes: Uint8Array, key: string): DocumentRecord {
  const corrupt = (why: string) => new CorruptSnapshotError(`documents record '${key}': ${why}`);
  return checkShape(decodeJsonRecord(bytes, MAGIC, VERSION, corrupt), corrupt);
}

function checkShape(parsed: unknown, corrupt: (why: string) => CorruptSnapshotError): DocumentRecord {
  const r = parsed;
  if (!hasRecordHead(r, MISSING_ID) || !Array.isArray(r.docs))
    throw corrupt('its JSON is not {generation, nextKey, docs}');
  const nextKey = r.nextKey;
  const keys = new Set<number>();
  const ids = new Set<string>();
  const docs = r.docs.map((row: unknown, i: number): StoredDocument => {
    const [key, id, pageContent, metadata] = Array.isArray(row) ? row : [];
    const plain = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata);
    if (
      !Array.isArray(row) ||
      row.length !== 4 ||
      !isCount(key) ||
      key >= nextKey ||
      typeof id !== 'string' ||
      typeof pageContent !== 'string' ||
      !plain
    ) {
      throw corrupt(`docs[${i}] is not [key below nextKey, id, pageContent, metadata object]`);
    }
    if (keys.has(key) || ids.has(id)) throw corrupt(`docs[${i}] repeats key ${key} or id ${JSON.stringify(id)}`);
    keys.add(key);
    ids.add(id);
    return { key, id, pageContent, metadataJson: JSON.stringify(metadata) };
  });
  return { generation: r.generation, nextKey, docs };
}
