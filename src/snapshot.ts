/**
 * Moving snapshots across the WebAssembly boundary. The engine writes and checks the bytes
 * itself (format, CRC-32: assembly/crc32.ts); these helpers only stage them in and copy them
 * out, so Q-tables, trajectory buffers (and later the index) share one path.
 */
import { CorruptSnapshotError, InvalidArgumentError } from './errors.js';
import type { Runtime } from './runtime.js';
import { LOAD_BUDGET, LOAD_CORRUPT, SLOT_IDS, SLOT_OUT } from './wasm/exports.js';

/** Snapshots above this size give their staging memory back after use. */
const LARGE_BYTES = 1 << 20;

/**
 * Has the engine write a snapshot of `bytes` bytes with `write(out)` and returns a copy.
 * Throws BudgetExceededError if the staging memory does not fit. Cost: O(bytes).
 */
export function readSnapshot(rt: Runtime, bytes: number, write: (out: number) => void, what: string): Uint8Array {
  if (bytes >= 0xffffffff) throw rt.budgetError(what);
  const out = rt.stage(SLOT_OUT, bytes, what);
  write(out);
  const copy = new Uint8Array(rt.memory.buffer, out, bytes).slice();
  if (bytes > LARGE_BYTES) rt.exports.stagingRelease();
  return copy;
}

/**
 * Stages `bytes` and has the engine rebuild an object from them with `load(ptr, len)`, which
 * returns a handle, LOAD_BUDGET or LOAD_CORRUPT. Bytes not starting with the four-letter
 * `magic` are refused before anything is staged. Returns the handle; throws
 * CorruptSnapshotError (nothing allocated) or BudgetExceededError. Cost: O(bytes).
 */
export function loadSnapshot(
  rt: Runtime, bytes: unknown, magic: string, load: (ptr: number, len: number) => number, what: string,
): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what} expects a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (bytes.length < 4 || String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== magic) {
    throw new CorruptSnapshotError(`${what}: the bytes do not start with the magic '${magic}'`);
  }
  const ptr = rt.stage(SLOT_IDS, bytes.length, what);
  new Uint8Array(rt.memory.buffer, ptr, bytes.length).set(bytes);
  const handle = load(ptr, bytes.length) >>> 0;
  if (bytes.length > LARGE_BYTES) rt.exports.stagingRelease();
  if (handle === LOAD_CORRUPT) throw new CorruptSnapshotError(`${what}: the bytes are not a valid snapshot (bad magic, version, length, checksum or parameters)`);
  if (handle === LOAD_BUDGET) throw rt.budgetError(what);
  return handle;
}
