/**
 * The framing of a JSON record in a byte store (the LangChain store's documents, the LangGraph
 * store's items; docs/format.md):
 *
 *   0 magic (4 bytes)   4 u32 version   8 u32 JSON length L   12 L bytes of UTF-8 JSON   12+L u32 CRC-32
 *
 * all little-endian, the CRC-32 over everything before it.
 */
import type { CorruptSnapshotError } from '../errors.js';
import { crc32 } from './crc32.js';

const HEADER = 12;

/** `json` framed as a record of `magic` (4 ASCII characters) and `version`. Cost: O(json). */
export function encodeJsonRecord(magic: string, version: number, json: string): Uint8Array {
  const text = new TextEncoder().encode(json);
  const bytes = new Uint8Array(HEADER + text.length + 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = magic.charCodeAt(i);
  view.setUint32(4, version, true);
  view.setUint32(8, text.length, true);
  bytes.set(text, HEADER);
  view.setUint32(HEADER + text.length, crc32(bytes.subarray(0, HEADER + text.length)), true);
  return bytes;
}

/**
 * The parsed JSON of a record of `magic` and `version`; CorruptSnapshotError from `corrupt` for
 * anything else (length, magic, version, CRC-32, UTF-8, JSON). Cost: O(bytes).
 */
export function decodeJsonRecord(
  bytes: Uint8Array,
  magic: string,
  version: number,
  corrupt: (why: string) => CorruptSnapshotError,
): unknown {
  if (bytes.length < HEADER + 4) throw corrupt(`${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < 4; i++) if (bytes[i] !== magic.charCodeAt(i)) throw corrupt(`not an ${magic} record`);
  const found = view.getUint32(4, true);
  if (found !== version) throw corrupt(`version ${found} is not supported (this release reads version ${version})`);
  const length = view.getUint32(8, true);
  if (bytes.length !== HEADER + length + 4)
    throw corrupt(`says ${length} bytes of JSON, holds ${bytes.length - HEADER - 4}`);
  if (crc32(bytes.subarray(0, HEADER + length)) !== view.getUint32(HEADER + length, true))
    throw corrupt('CRC-32 mismatch');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER, HEADER + length)));
  } catch (error) {
    throw corrupt(`its JSON does not parse: ${(error as Error).message}`);
  }
}

/** Whether `value` is a non-negative safe integer. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Whether `parsed` is a record's JSON object with a `generation` and a `nextKey` (counts, the
 * key at most `maxKey`), the fields every record of a store beside an index starts with.
 */
export function hasRecordHead(
  parsed: unknown,
  maxKey: number,
): parsed is { generation: number; nextKey: number } & Record<string, unknown> {
  const r = parsed as { generation?: unknown; nextKey?: unknown } | null;
  return r !== null && typeof r === 'object' && isCount(r.generation) && isCount(r.nextKey) && r.nextKey <= maxKey;
}
