/**
 * Q-table (`EXQT`) and trajectory (`EXTB`) snapshots both ways. Written by the host straight out
 * of the objects' blocks in linear memory (byte layouts: docs/format.md; the engine's header
 * checks in assembly/qlearn). Nothing is staged or allocated in the engine, so writing an agent
 * out needs no budget headroom: an engine its agents' learning filled up can still save and
 * evict them.
 *
 * Loaded the same way round: the host checks the bytes' length against their header, their
 * CRC-32 and their rows in host memory, puts the header (80 or 32 bytes) in the engine's static
 * snapshot area, has the engine check it and allocate the object with room for every row, and
 * writes the rows straight into the object's blocks. A load costs the engine the object and
 * nothing more, so whatever fits the budget loads back, and bytes that are not a snapshot are
 * CorruptSnapshotError however full the engine is.
 */
import { crc32 } from '../util/crc32.js';
import { CorruptSnapshotError, InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { LOAD_BUDGET, LOAD_CORRUPT } from '../runtime/wasm/exports.js';

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

/**
 * Writes the rows of the checked EXQT snapshot `words` into table `h`, which qtableLoadBegin
 * made for them: the keys, then each row's values and visits with its padding lanes (-Infinity
 * values, no visits; assembly/qlearn/qtable.ts); then the engine maps the keys. False when it
 * found a repeated key (the table freed). Cost: O(rows * actions).
 */
export function fillQTable(rt: Runtime, h: number, words: Uint32Array): boolean {
  const ex = rt.exports;
  const actions = words[2];
  const rows = words[3];
  const stride = ex.qtableStride(h);
  const keys = ex.qtableKeys(h) >>> 2;
  let row = ex.qtableRows(h) >>> 2;
  const memory = rt.u32();
  const floats = rt.f32();
  const at = QTABLE_HEADER >>> 2;
  memory.set(words.subarray(at, at + rows), keys);
  let values = at + rows;
  let visits = values + rows * actions;
  for (let r = 0; r < rows; r++, row += 2 * stride) {
    for (let a = 0; a < actions; a++) {
      memory[row + a] = words[values++];
      memory[row + stride + a] = words[visits++];
    }
    for (let a = actions; a < stride; a++) {
      floats[row + a] = Number.NEGATIVE_INFINITY;
      memory[row + stride + a] = 0;
    }
  }
  return ex.qtableLoadFinish(h) === 1;
}

/**
 * Writes the records of the checked EXTB snapshot `words` (oldest first) into slots 0.. of ring
 * `h`, which trajectoryLoadBegin made for them (its size and head set). Cost: O(size).
 */
export function fillTrajectory(rt: Runtime, h: number, words: Uint32Array): boolean {
  const at = TRAJECTORY_HEADER >>> 2;
  rt.u32().set(words.subarray(at, at + (RECORD >>> 2) * words[3]), rt.exports.trajectoryRecords(h) >>> 2);
  return true;
}

/**
 * The record bytes of the ring an EXTB snapshot describes: its capacity's, however few records
 * it holds (0 for bytes too short to say). Cost: O(1).
 */
export function trajectoryRingBytes(bytes: Uint8Array): number {
  if (bytes.length < 12) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, 12).getUint32(8, true) * RECORD;
}

/** A snapshot format as loadSnapshot sees it: its magic, its fixed header, the engine's checks and how its rows are written. */
export interface SnapshotFormat {
  /** The four ASCII letters the bytes start with. */
  magic: string;
  /** Bytes of the fixed header (at most 112, the engine's snapshot area), from which alone the total length follows. */
  headerBytes: number;
  /** The total length the header at `ptr` announces, or 0 for a header out of range. */
  length(ptr: number): number;
  /**
   * Checks the rest of the header at `ptr` and allocates the object with room for every row: a
   * handle, LOAD_BUDGET or LOAD_CORRUPT (nothing allocated).
   */
  begin(ptr: number): number;
  /**
   * Writes the rows of the snapshot (as little-endian words, length and rows checked) into the
   * object `handle` begun; false if the engine refused them (the object freed).
   */
  fill(handle: number, words: Uint32Array): boolean;
  /** The checks of each row (keys distinct, values finite as float32) of the snapshot as words, its length checked. Cost: O(bytes). */
  rowsValid(words: Uint32Array): boolean;
}

/** Whether the n float32 values from word `at` of `words` are all finite. */
function allFinite(words: Uint32Array, at: number, n: number, step: number): boolean {
  const floats = new Float32Array(words.buffer, words.byteOffset, words.length);
  for (let i = 0, w = at; i < n; i++, w += step) {
    const x = floats[w];
    if (x - x !== 0) return false;
  }
  return true;
}

/** EXQT rows as a table holds them: keys distinct, values finite as float32. Cost: O(rows log rows + rows * actions). */
export function qtableRowsValid(words: Uint32Array): boolean {
  const actions = words[2];
  const rows = words[3];
  const at = QTABLE_HEADER >>> 2;
  const keys = words.slice(at, at + rows).sort();
  for (let r = 1; r < rows; r++) if (keys[r] === keys[r - 1]) return false;
  return allFinite(words, at + rows, rows * actions, 1);
}

/** EXTB records as a ring holds them: rewards finite as float32. Cost: O(size). */
export function trajectoryRowsValid(words: Uint32Array): boolean {
  return allFinite(words, (TRAJECTORY_HEADER >>> 2) + 2, words[3], RECORD >>> 2);
}

/** The bytes as little-endian words: a view of them, or a copy where they do not start at a multiple of 4. */
function wordsOf(bytes: Uint8Array): Uint32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >>> 2);
}

/**
 * Has the engine rebuild an object from `bytes` in `format`, costing it the object's memory and
 * nothing more: the header goes to the engine's static snapshot area, never into the budget.
 * In order: the magic, the length the header announces, the CRC-32 and the rows are checked in
 * host memory, then the engine checks the header's parameters and allocates the object, then
 * the rows are written into it. So bytes that are not a snapshot are CorruptSnapshotError with
 * nothing allocated, however full the engine; BudgetExceededError only for a well-formed
 * snapshot whose object does not fit. Returns the handle. Run inside rt.atomicLoad (a failure
 * after the allocation is undone with it). Cost: O(bytes).
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
  const head = rt.exports.indexSnapshotArea() >>> 0;
  new Uint8Array(rt.memory.buffer, head, headerBytes).set(bytes.subarray(0, headerBytes));
  const announced = format.length(head);
  if (announced !== bytes.length) {
    throw new CorruptSnapshotError(
      announced === 0
        ? `${what}: the header's version or sizes are out of range`
        : `${what}: the header announces ${announced} bytes, but ${bytes.length} were given`,
    );
  }
  const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored)
    throw new CorruptSnapshotError(`${what}: the checksum does not match the bytes`);
  const words = wordsOf(bytes);
  if (!format.rowsValid(words)) throw rowsCorrupt(what);
  const handle = format.begin(head) >>> 0;
  if (handle === LOAD_CORRUPT)
    throw new CorruptSnapshotError(
      `${what}: the header's parameters, generator state or reserved words are out of range`,
    );
  if (handle === LOAD_BUDGET) throw rt.budgetError(what);
  if (!format.fill(handle, words)) throw rowsCorrupt(what);
  return handle;
}

function rowsCorrupt(what: string): CorruptSnapshotError {
  return new CorruptSnapshotError(
    `${what}: the bytes are not a valid snapshot (a repeated key or a value out of range)`,
  );
}
