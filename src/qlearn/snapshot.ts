/**
 * Q-table (`EXQT`) and trajectory (`EXTB`) snapshots both ways. Written by the host straight out
 * of the objects' blocks in linear memory (byte layouts: docs/format.md; the engine's loaders in
 * assembly/qlearn read and check them). Nothing is staged or allocated in the engine, so
 * writing an agent out needs no budget headroom: an engine its agents' learning filled up can
 * still save and evict them.
 *
 * Loaded by staging them into the engine (the index's path is src/hnsw/snapshot.ts). The engine
 * checks the bytes itself (format, CRC-32: assembly/util/crc32.ts); this checks their length
 * against their header first, so bytes of the wrong length are refused before anything their
 * size is allocated.
 */
import { crc32 } from '../util/crc32.js';
import { BudgetExceededError, CorruptSnapshotError, InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { LOAD_BUDGET, LOAD_CORRUPT, SLOT_IDS } from '../runtime/wasm/exports.js';

const VERSION = 1;
const QTABLE_MAGIC = 0x54515845; // 'EXQT' little-endian
const QTABLE_HEADER = 80;
const TRAJECTORY_MAGIC = 0x42545845; // 'EXTB' little-endian
const TRAJECTORY_HEADER = 32;
const RECORD = 16;

/** Seals `out`: the CRC-32 of every byte before the last four, written into them. */
function seal(out: Uint8Array, view: DataView): Uint8Array {
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The EXQT snapshot of the Q-table at handle `h`. Cost: O(rows * actions), one pass plus the CRC. */
export function encodeQTable(rt: Runtime, h: number): Uint8Array {
  const ex = rt.exports;
  const actions = ex.qtableActions(h);
  const rows = ex.qtableSize(h) >>> 0;
  const stride = ex.qtableStride(h);
  const out = new Uint8Array(QTABLE_HEADER + rows * (4 + 8 * actions) + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, QTABLE_MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, actions, true);
  view.setUint32(12, rows, true);
  // alpha, gamma, initial, epsilon, epsilonDecay, epsilonMin (qtableParam 0..5) at 16, 24, .. 56.
  for (let which = 0; which < 6; which++) view.setFloat64(16 + 8 * which, ex.qtableParam(h, which), true);
  view.setBigInt64(64, ex.qtableRng(h), true);
  const memory = rt.u32();
  const words = new Uint32Array(out.buffer, 0, out.length >>> 2);
  const keys = ex.qtableKeys(h) >>> 2;
  words.set(memory.subarray(keys, keys + rows), QTABLE_HEADER >>> 2);
  let values = (QTABLE_HEADER >>> 2) + rows;
  let visits = values + rows * actions;
  for (let r = 0, row = ex.qtableRows(h) >>> 2; r < rows; r++, row += 2 * stride) {
    for (let a = 0; a < actions; a++) {
      words[values++] = memory[row + a];
      words[visits++] = memory[row + stride + a];
    }
  }
  return seal(out, view);
}

/** The EXTB snapshot of the trajectory buffer at handle `h`, records oldest first. Cost: O(size) plus the CRC. */
export function encodeTrajectory(rt: Runtime, h: number): Uint8Array {
  const ex = rt.exports;
  const capacity = ex.trajectoryCapacity(h) >>> 0;
  const size = ex.trajectorySize(h) >>> 0;
  const out = new Uint8Array(TRAJECTORY_HEADER + size * RECORD + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, TRAJECTORY_MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, capacity, true);
  view.setUint32(12, size, true);
  view.setBigInt64(16, ex.trajectoryRng(h), true);
  const memory = new Uint8Array(rt.u32().buffer);
  const records = ex.trajectoryRecords(h) >>> 0;
  const oldest = (ex.trajectoryHead(h) + capacity - size) % capacity;
  const first = Math.min(size, capacity - oldest); // oldest .. end of the ring, then the wrapped rest
  out.set(memory.subarray(records + oldest * RECORD, records + (oldest + first) * RECORD), TRAJECTORY_HEADER);
  out.set(memory.subarray(records, records + (size - first) * RECORD), TRAJECTORY_HEADER + first * RECORD);
  return seal(out, view);
}

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
  /**
   * The checks the engine makes of each row while it builds the object, after allocating it:
   * asked only when it ran out of budget first, so bytes that fail them are still
   * CorruptSnapshotError. Host memory only. Cost: O(bytes).
   */
  rowsValid(bytes: Uint8Array): boolean;
}

/** EXQT rows as the engine checks them: keys distinct, values finite as float32. */
export function qtableRowsValid(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const actions = view.getUint32(8, true);
  const rows = view.getUint32(12, true);
  const keys = new Set<number>();
  for (let r = 0; r < rows; r++) keys.add(view.getUint32(QTABLE_HEADER + 4 * r, true));
  if (keys.size !== rows) return false;
  const values = QTABLE_HEADER + 4 * rows;
  for (let i = 0; i < rows * actions; i++) if (!Number.isFinite(view.getFloat32(values + 4 * i, true))) return false;
  return true;
}

/** EXTB records as the engine checks them: rewards finite as float32. */
export function trajectoryRowsValid(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(12, true);
  for (let i = 0; i < size; i++)
    if (!Number.isFinite(view.getFloat32(TRAJECTORY_HEADER + RECORD * i + 8, true))) return false;
  return true;
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
    throw new CorruptSnapshotError(
      `${what}: ${bytes.length} bytes cannot hold the ${headerBytes}-byte header and the checksum`,
    );
  }
  const head = stageChecked(rt, bytes, headerBytes, format, what);
  new Uint8Array(rt.memory.buffer, head, headerBytes).set(bytes.subarray(0, headerBytes));
  const announced = format.length(head);
  if (announced !== bytes.length) {
    throw new CorruptSnapshotError(
      announced === 0
        ? `${what}: the header's version, sizes or parameters are out of range`
        : `${what}: the header announces ${announced} bytes, but ${bytes.length} were given`,
    );
  }
  const ptr = stageChecked(rt, bytes, bytes.length, format, what);
  new Uint8Array(rt.memory.buffer, ptr, bytes.length).set(bytes);
  const handle = format.load(ptr, bytes.length) >>> 0;
  if (bytes.length > LARGE_BYTES) rt.exports.stagingRelease();
  if (handle === LOAD_CORRUPT)
    throw new CorruptSnapshotError(
      `${what}: the bytes are not a valid snapshot (bad magic, version, length, checksum or parameters)`,
    );
  if (handle === LOAD_BUDGET) {
    if (!rowsReadable(format, bytes)) throw rowsCorrupt(what);
    throw rt.budgetError(what);
  }
  return handle;
}

/**
 * Stages room for `n` bytes (the header, then the whole of `bytes`); over budget,
 * CorruptSnapshotError if the bytes' checksum or rows fail (checked in host memory), else
 * BudgetExceededError: a corrupt snapshot is reported as such however full the engine is.
 */
function stageChecked(rt: Runtime, bytes: Uint8Array, n: number, format: SnapshotFormat, what: string): number {
  try {
    return rt.stage(SLOT_IDS, n, what);
  } catch (error) {
    if (!(error instanceof BudgetExceededError)) throw error;
    const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
    if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored)
      throw new CorruptSnapshotError(`${what}: the checksum does not match the bytes`);
    if (!rowsReadable(format, bytes)) throw rowsCorrupt(what);
    throw error;
  }
}

/** format.rowsValid, false also for rows the bytes are too short to hold (a sealed but malformed header). */
function rowsReadable(format: SnapshotFormat, bytes: Uint8Array): boolean {
  try {
    return format.rowsValid(bytes);
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

function rowsCorrupt(what: string): CorruptSnapshotError {
  return new CorruptSnapshotError(
    `${what}: the bytes are not a valid snapshot (a repeated key or a value out of range)`,
  );
}
