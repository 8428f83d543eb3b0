/**
 * Staging Q-table and trajectory snapshots into the engine to load them (their writers are in
 * src/qlearn/encode.ts, the index's path in src/hnsw/snapshot.ts). The engine checks the bytes
 * itself (format, CRC-32: assembly/util/crc32.ts); this checks their length against their header
 * first, so bytes of the wrong length are refused before anything their size is allocated.
 */
import { crc32 } from '../util/crc32.js';
import { BudgetExceededError, CorruptSnapshotError, InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { LOAD_BUDGET, LOAD_CORRUPT, SLOT_IDS } from '../runtime/wasm/exports.js';

/** Snapshots above this size give their staging memory back after use. */
const LARGE_BYTES = 1 << 20;

/** A snapshot format as loadSnapshot sees it: its magic, its fixed header and the engine's readers. */
export interface SnapshotFormat {
  /** The four ASCII letters the bytes start with. */
  magic: string;
  /** Bytes of the fixed header, from which alone the total length follows. */
  headerBytes: number;
  /** The total length the header staged at `ptr` announces, or 0 for a header out of range. */
  length(ptr: number): number;
  /** Rebuilds the object from `len` staged bytes at `ptr`: a handle, LOAD_BUDGET or LOAD_CORRUPT. */
  load(ptr: number, len: number): number;
}

/**
 * Has the engine rebuild an object from `bytes` in `format`. Before anything the size of the
 * bytes is staged, their magic and the sizes their header announces are checked against their
 * length, so bytes cut short, padded or with a size field out of range are CorruptSnapshotError
 * however large; bytes too large for the budget whose checksum fails are CorruptSnapshotError
 * too. Returns the handle; throws CorruptSnapshotError (nothing allocated) or
 * BudgetExceededError. Cost: O(bytes).
 */
export function loadSnapshot(rt: Runtime, bytes: unknown, format: SnapshotFormat, what: string): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what} expects a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const { magic, headerBytes } = format;
  if (bytes.length < 4 || String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== magic) {
    throw new CorruptSnapshotError(`${what}: the bytes do not start with the magic '${magic}'`);
  }
  if (bytes.length < headerBytes + 4) {
    throw new CorruptSnapshotError(`${what}: ${bytes.length} bytes cannot hold the ${headerBytes}-byte header and the checksum`);
  }
  const head = rt.stage(SLOT_IDS, headerBytes, what);
  new Uint8Array(rt.memory.buffer, head, headerBytes).set(bytes.subarray(0, headerBytes));
  const announced = format.length(head);
  if (announced !== bytes.length) {
    throw new CorruptSnapshotError(announced === 0
      ? `${what}: the header's version, sizes or parameters are out of range`
      : `${what}: the header announces ${announced} bytes, but ${bytes.length} were given`);
  }
  const ptr = stageWhole(rt, bytes, what);
  new Uint8Array(rt.memory.buffer, ptr, bytes.length).set(bytes);
  const handle = format.load(ptr, bytes.length) >>> 0;
  if (bytes.length > LARGE_BYTES) rt.exports.stagingRelease();
  if (handle === LOAD_CORRUPT) throw new CorruptSnapshotError(`${what}: the bytes are not a valid snapshot (bad magic, version, length, checksum or parameters)`);
  if (handle === LOAD_BUDGET) throw rt.budgetError(what);
  return handle;
}

/** Stages room for `bytes`; over budget, CorruptSnapshotError if their checksum fails, else BudgetExceededError. */
function stageWhole(rt: Runtime, bytes: Uint8Array, what: string): number {
  try {
    return rt.stage(SLOT_IDS, bytes.length, what);
  } catch (error) {
    const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
    if (error instanceof BudgetExceededError && crc32(bytes.subarray(0, bytes.length - 4)) !== stored) {
      throw new CorruptSnapshotError(`${what}: the checksum does not match the bytes`);
    }
    throw error;
  }
}
