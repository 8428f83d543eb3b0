/**
 * The manifest of a saved index (`EXIM`, docs/format.md): the last save's stamp, the index's
 * efSearch, dim and live size, and the parts that make it up, each a list of chunks with their
 * lengths and CRC-32s. Part 0 is a checkpoint (an EXIX snapshot); later parts are log segments
 * (EXLG), replayed in order. Written last, in one atomic store write, so it names a complete state.
 *
 *   0  'EXIM'   4 u32 version   8 u64 generation   16 u32 token   20 u32 efSearch   24 u32 dim
 *   28 u32 size   32 u32 parts   36 u32 reserved (0)
 *   40 parts: u64 generation, u32 token, u32 kind (1 checkpoint, 2 log), u32 chunks C, u32 reserved,
 *      then C x (u32 length, u32 crc)
 *   end-4 u32 CRC-32 of every byte before it
 */
import { crc32 } from '../../util/crc32.js';
import { CorruptSnapshotError } from '../../errors.js';
import type { Stamp } from './keys.js';

const MAGIC = [0x45, 0x58, 0x49, 0x4d]; // 'EXIM'
const VERSION = 1;
const HEADER = 40;
const PART_HEADER = 24;

/** A part's kind: the checkpoint it starts from, or a log segment replayed on top of it. */
export const PART_CHECKPOINT = 1;
export const PART_LOG = 2;

/** One chunk of a part: its length in bytes and CRC-32. */
export interface ChunkRef {
  length: number;
  crc: number;
}

/** One part: written by the save `stamp`, stored as `chunks` in order. */
export interface Part {
  stamp: Stamp;
  kind: typeof PART_CHECKPOINT | typeof PART_LOG;
  chunks: ChunkRef[];
}

/** What a manifest says. */
export interface Manifest {
  /** The save that wrote this manifest (equal to the last part's stamp). */
  stamp: Stamp;
  efSearch: number;
  dim: number;
  /** Live ids after replaying every part. */
  size: number;
  parts: Part[];
}

/** Bytes of a part: the sum of its chunks' lengths. Cost: O(chunks). */
export function partBytes(part: Part): number {
  return part.chunks.reduce((sum, c) => sum + c.length, 0);
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x100000000, true);
  view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

function getU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
}

/** The manifest as bytes. Cost: O(chunks). */
export function encodeManifest(m: Manifest): Uint8Array {
  const chunks = m.parts.reduce((sum, p) => sum + p.chunks.length, 0);
  const bytes = new Uint8Array(HEADER + m.parts.length * PART_HEADER + chunks * 8 + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, VERSION, true);
  setU64(view, 8, m.stamp.generation);
  view.setUint32(16, m.stamp.token, true);
  view.setUint32(20, m.efSearch, true);
  view.setUint32(24, m.dim, true);
  view.setUint32(28, m.size, true);
  view.setUint32(32, m.parts.length, true);
  let at = HEADER;
  for (const part of m.parts) {
    setU64(view, at, part.stamp.generation);
    view.setUint32(at + 8, part.stamp.token, true);
    view.setUint32(at + 12, part.kind, true);
    view.setUint32(at + 16, part.chunks.length, true);
    at += PART_HEADER;
    for (const c of part.chunks) {
      view.setUint32(at, c.length, true);
      view.setUint32(at + 4, c.crc, true);
      at += 8;
    }
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

/**
 * Reads and checks manifest bytes stored under `key`: length, magic, version, CRC, reserved
 * fields zero, non-empty chunks, a checkpoint first and log segments after it, generations
 * increasing and ending at the manifest's own stamp (dim and efSearch are checked against the
 * loaded index). CorruptSnapshotError naming `key` otherwise. Cost: O(bytes).
 */
export function decodeManifest(bytes: Uint8Array, key: string): Manifest {
  const fail = (why: string): never => {
    throw new CorruptSnapshotError(`index store: the manifest '${key}' is not valid (${why})`);
  };
  if (bytes.length < HEADER + 4) fail(`${bytes.length} bytes`);
  if (MAGIC.some((b, i) => bytes[i] !== b)) fail('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`version ${version}`);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) fail('checksum mismatch');
  const generation = getU64(view, 8);
  const stamp = { generation, token: view.getUint32(16, true) };
  const efSearch = view.getUint32(20, true);
  const dim = view.getUint32(24, true);
  const count = view.getUint32(32, true);
  if (generation < 1 || generation > Number.MAX_SAFE_INTEGER) fail(`generation ${generation}`);
  if (count < 1) fail('no parts');
  if (view.getUint32(36, true) !== 0) fail('reserved field set');
  const parts: Part[] = [];
  let at = HEADER;
  for (let p = 0; p < count; p++) {
    if (at + PART_HEADER > bytes.length - 4) fail('cut short');
    const partStamp = { generation: getU64(view, at), token: view.getUint32(at + 8, true) };
    const kind = view.getUint32(at + 12, true);
    const chunkCount = view.getUint32(at + 16, true);
    if (kind !== (p === 0 ? PART_CHECKPOINT : PART_LOG)) fail(`part ${p} has kind ${kind}`);
    if (partStamp.generation < 1 || partStamp.generation > generation)
      fail(`part ${p} has generation ${partStamp.generation}`);
    if (p > 0 && partStamp.generation <= parts[p - 1].stamp.generation)
      fail(`part ${p} is not newer than part ${p - 1}`);
    if (chunkCount < 1 || view.getUint32(at + 20, true) !== 0) fail(`part ${p} header`);
    at += PART_HEADER;
    if (at + chunkCount * 8 > bytes.length - 4) fail('cut short');
    const chunks: ChunkRef[] = [];
    for (let c = 0; c < chunkCount; c++, at += 8) {
      const length = view.getUint32(at, true);
      if (length === 0) fail(`part ${p} chunk ${c} is empty`);
      chunks.push({ length, crc: view.getUint32(at + 4, true) });
    }
    parts.push({ stamp: partStamp, kind: kind as Part['kind'], chunks });
  }
  if (at !== bytes.length - 4) fail('trailing bytes');
  const last = parts[parts.length - 1].stamp;
  if (last.generation !== generation || last.token !== stamp.token) fail('the last part is not the last save');
  return { stamp, efSearch, dim, size: view.getUint32(28, true), parts };
}
