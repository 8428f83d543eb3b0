/**
 * The documents record (`EXLC`, docs/format.md "LangChain stores"): one store value holding
 * every document of an ElexVectorStore as it was at one save, tagged with the generation of the
 * index save it belongs to.
 *
 *   0 'EXLC'   4 u32 version (1)   8 u32 JSON length L   12 L bytes of UTF-8 JSON   12+L u32 CRC-32
 *
 * JSON: {"generation":G,"nextKey":K,"docs":[[key,"id","pageContent",metadata],...]}
 */
import { crc32 } from '../util/crc32.js';
import { CorruptSnapshotError, MISSING_ID } from '../index.js';
import type { DocumentTable, StoredDocument } from './document-table.js';

const MAGIC = [0x45, 0x58, 0x4c, 0x43]; // 'EXLC'
const VERSION = 1;
const HEADER = 12;

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
  const json = new TextEncoder().encode(
    `{"generation":${generation},"nextKey":${table.nextKey},"docs":[${rows.join(',')}]}`,
  );
  const bytes = new Uint8Array(HEADER + json.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, HEADER);
  view.setUint32(HEADER + json.length, crc32(bytes.subarray(0, HEADER + json.length)), true);
  return bytes;
}

/**
 * The documents in `bytes`; CorruptSnapshotError naming `key` for anything that is not a valid
 * version-1 record (length, magic, version, CRC-32, JSON shape, keys unique and below nextKey,
 * ids unique). Cost: O(bytes).
 */
export function decodeDocumentRecord(bytes: Uint8Array, key: string): DocumentRecord {
  const corrupt = (why: string) => new CorruptSnapshotError(`documents record '${key}': ${why}`);
  if (bytes.length < HEADER + 4) throw corrupt(`${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw corrupt('not an EXLC record');
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw corrupt(`version ${version} is not supported (this release reads version ${VERSION})`);
  const length = view.getUint32(8, true);
  if (bytes.length !== HEADER + length + 4)
    throw corrupt(`says ${length} bytes of JSON, holds ${bytes.length - HEADER - 4}`);
  if (crc32(bytes.subarray(0, HEADER + length)) !== view.getUint32(HEADER + length, true))
    throw corrupt('CRC-32 mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER, HEADER + length)));
  } catch (error) {
    throw corrupt(`its JSON does not parse: ${(error as Error).message}`);
  }
  return checkShape(parsed, corrupt);
}

function checkShape(parsed: unknown, corrupt: (why: string) => CorruptSnapshotError): DocumentRecord {
  const r = parsed as { generation?: unknown; nextKey?: unknown; docs?: unknown };
  if (
    r === null ||
    typeof r !== 'object' ||
    !isCount(r.generation) ||
    !isCount(r.nextKey) ||
    (r.nextKey as number) > MISSING_ID ||
    !Array.isArray(r.docs)
  ) {
    throw corrupt('its JSON is not {generation, nextKey, docs}');
  }
  const nextKey = r.nextKey as number;
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
  return { generation: r.generation as number, nextKey, docs };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
