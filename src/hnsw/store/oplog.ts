/**
 * Log segments (`EXLG`, docs/format.md): the operations an index went through between two
 * saves, exactly as they succeeded, so replaying them on the previous state rebuilds the same
 * graph. Little-endian u32 words throughout (every record is 4-byte aligned):
 *
 *   0 'EXLG'   4 u32 version (3 with attribute records, else 2; 1 is read too)   8 u32 dim   12 u32 records
 *   16 records: add    [1, n, n x u32 id, n x dim f32 vector]   (one add or addBatch call)
 *               remove [2, id]                                  (a remove that returned true)
 *               linked [3, n, w, n x u32 id, n x dim f32 vector, w x u32 trace]   (version 2:
 *                      an add with the neighbours each row chose, assembly/hnsw/trace.ts, so
 *                      a replay links them instead of searching)
 *               attributes [4, id, b, ceil(b / 4) words: the id's attributes as UTF-8 JSON, padded
 *                      with spaces]   (version 3: a setAttributes, or an add's row with
 *                      attributes, logged after the add; replayed as setAttributes)
 *   end-4 u32 CRC-32 of every byte before it
 */
import { crc32 } from '../../util/crc32.js';
import { CorruptSnapshotError } from '../../errors.js';

const MAGIC = 0x474c5845; // 'EXLG' read as a little-endian u32
const VERSION = 2;
/** The version of a segment holding attribute records. */
const VERSION_ATTRIBUTES = 3;
const HEADER = 16;
const TAG_ADD = 1;
const TAG_REMOVE = 2;
const TAG_LINKED = 3;
const TAG_ATTRIBUTES = 4;

/**
 * One recorded operation: an add or addBatch call (ids and rows as float32, and the trace of the
 * neighbours it chose; version-1 segments have none), or a remove.
 */
export type Op =
  | { kind: 'add'; ids: Uint32Array; vectors: Float32Array; links?: Uint32Array }
  | { kind: 'remove'; id: number }
  | { kind: 'attributes'; id: number; json: Uint8Array };

/** Bytes a segment holding no records takes. */
export const EMPTY_LOG_BYTES = HEADER + 4;

/** Bytes a remove record takes. */
export const REMOVE_BYTES = 8;

/** Bytes an add record of `rows` ids, `floats` vector components and `links` trace words takes. Cost: O(1). */
export function addBytes(rows: number, floats: number, links?: number): number {
  return (links === undefined ? 8 : 12) + 4 * (rows + floats + (links ?? 0));
}

/** Bytes `op` takes in a segment. Cost: O(1). */
export function opBytes(op: Op): number {
  if (op.kind === 'attributes') return attributesBytes(op.json.length);
  return op.kind === 'add' ? addBytes(op.ids.length, op.vectors.length, op.links?.length) : REMOVE_BYTES;
}

/** Bytes an attributes record of `json` bytes takes. Cost: O(1). */
export function attributesBytes(json: number): number {
  return 12 + 4 * Math.ceil(json / 4);
}

/** A segment of `ops` (vectors of `dim` floats) as bytes. Cost: O(bytes). */
export function encodeLog(ops: readonly Op[], dim: number): Uint8Array {
  const size = ops.reduce((sum, op) => sum + opBytes(op), EMPTY_LOG_BYTES);
  const bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer);
  words.set([MAGIC, ops.some((op) => op.kind === 'attributes') ? VERSION_ATTRIBUTES : VERSION, dim, ops.length]);
  let at = HEADER / 4;
  for (const op of ops) {
    if (op.kind === 'add') {
      const linked = op.links !== undefined;
      words[at] = linked ? TAG_LINKED : TAG_ADD;
      words[at + 1] = op.ids.length;
      if (linked) words[at + 2] = op.links!.length;
      at += linked ? 3 : 2;
      words.set(op.ids, at);
      at += op.ids.length;
      new Float32Array(bytes.buffer, at * 4, op.vectors.length).set(op.vectors);
      at += op.vectors.length;
      if (linked) {
        words.set(op.links!, at);
        at += op.links!.length;
      }
    } else if (op.kind === 'attributes') {
      words.set([TAG_ATTRIBUTES, op.id, op.json.length], at);
      at += 3;
      bytes.fill(0x20, at * 4, at * 4 + 4 * Math.ceil(op.json.length / 4));
      bytes.set(op.json, at * 4);
      at += Math.ceil(op.json.length / 4);
    } else {
      words[at] = TAG_REMOVE;
      words[at + 1] = op.id;
      at += 2;
    }
  }
  words[at] = crc32(bytes.subarray(0, at * 4));
  return bytes;
}

/**
 * The operations of a segment (`bytes` must start 4-byte aligned; the ops view it, no copy):
 * checks magic, version, CRC, dim and every record's length, CorruptSnapshotError naming
 * `what` otherwise. The engine checks the vectors again when they are replayed. Cost: O(bytes).
 */
export function decodeLog(bytes: Uint8Array, dim: number, what: string): Op[] {
  const fail = (why: string): never => {
    throw new CorruptSnapshotError(`index store: the log segment ${what} is not valid (${why})`);
  };
  if (bytes.length < EMPTY_LOG_BYTES || bytes.length % 4 !== 0) fail(`${bytes.length} bytes`);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const end = words.length - 1;
  if (words[0] !== MAGIC) fail('bad magic');
  if (words[1] < 1 || words[1] > VERSION_ATTRIBUTES) fail(`version ${words[1]}`);
  if (words[end] !== crc32(bytes.subarray(0, end * 4))) fail('checksum mismatch');
  if (words[2] !== dim) fail(`dim ${words[2]}, the index has ${dim}`);
  const ops: Op[] = [];
  let at = HEADER / 4;
  for (let r = 0; r < words[3]; r++) {
    if (at + 2 > end) fail('cut short');
    if (words[at] === TAG_ADD) {
      const n = words[at + 1];
      const next = at + 2 + n * (1 + dim);
      if (n === 0 || next > end) fail(`add record ${r} of ${n} rows`);
      ops.push({
        kind: 'add',
        ids: words.subarray(at + 2, at + 2 + n),
        vectors: new Float32Array(bytes.buffer, bytes.byteOffset + (at + 2 + n) * 4, n * dim),
      });
      at = next;
    } else if (words[at] === TAG_LINKED && words[1] >= 2) {
      const n = words[at + 1];
      if (at + 3 > end) fail('cut short');
      const w = words[at + 2];
      const rows = at + 3;
      const next = rows + n * (1 + dim) + w;
      if (n === 0 || next > end) fail(`add record ${r} of ${n} rows and ${w} link words`);
      ops.push({
        kind: 'add',
        ids: words.subarray(rows, rows + n),
        vectors: new Float32Array(bytes.buffer, bytes.byteOffset + (rows + n) * 4, n * dim),
        links: words.subarray(next - w, next),
      });
      at = next;
    } else if (words[at] === TAG_ATTRIBUTES && words[1] >= VERSION_ATTRIBUTES) {
      if (at + 3 > end) fail('cut short');
      const b = words[at + 2];
      const next = at + 3 + Math.ceil(b / 4);
      if (next > end) fail(`attributes record ${r} of ${b} bytes`);
      ops.push({ kind: 'attributes', id: words[at + 1], json: bytes.subarray((at + 3) * 4, (at + 3) * 4 + b) });
      at = next;
    } else if (words[at] === TAG_REMOVE) {
      ops.push({ kind: 'remove', id: words[at + 1] });
      at += 2;
    } else {
      fail(`record ${r} has tag ${words[at]}`);
    }
  }
  if (at !== end) fail('trailing bytes');
  return ops;
}
