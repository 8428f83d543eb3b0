/**
 * The bytes an agent cache writes to its store for one agent: a small container around the
 * agent's Q-table and trajectory snapshots (each carrying its own magic, version and CRC-32).
 *
 *   off  size  field
 *   0    4     magic "EXAG"
 *   4    4     u32 format version (1)
 *   8    4     u32 id length in UTF-8 bytes
 *   12   4     u32 Q-table snapshot length
 *   16   4     u32 trajectory snapshot length
 *   20   ..    id (UTF-8), Q-table snapshot, trajectory snapshot; nothing after
 *
 * The header is checked completely (magic, version, lengths adding up to the size exactly, the
 * id equal to the one asked for); the sections check themselves when they are loaded.
 */
import { CorruptSnapshotError } from '../errors.js';

const MAGIC = 0x47415845; // "EXAG" little-endian
const VERSION = 1;
const HEADER = 20;

/** Encodes an agent's id and section snapshots. Cost: O(bytes). */
export function encodeAgent(id: string, qtable: Uint8Array, trajectory: Uint8Array): Uint8Array {
  const idBytes = new TextEncoder().encode(id);
  const out = new Uint8Array(HEADER + idBytes.length + qtable.length + trajectory.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, idBytes.length, true);
  view.setUint32(12, qtable.length, true);
  view.setUint32(16, trajectory.length, true);
  out.set(idBytes, HEADER);
  out.set(qtable, HEADER + idBytes.length);
  out.set(trajectory, HEADER + idBytes.length + qtable.length);
  return out;
}

/** Splits stored bytes into the agent's sections; CorruptSnapshotError unless they are `id`'s. */
export function decodeAgent(id: string, bytes: Uint8Array): { qtable: Uint8Array; trajectory: Uint8Array } {
  const what = `stored agent '${id}'`;
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER)
    throw new CorruptSnapshotError(`${what} is ${bytes?.length ?? 0} bytes, shorter than a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CorruptSnapshotError(`${what} does not start with 'EXAG'`);
  if (view.getUint32(4, true) !== VERSION)
    throw new CorruptSnapshotError(`${what} has format version ${view.getUint32(4, true)}, not ${VERSION}`);
  const idLength = view.getUint32(8, true);
  const qLength = view.getUint32(12, true);
  const tLength = view.getUint32(16, true);
  if (HEADER + idLength + qLength + tLength !== bytes.length) {
    throw new CorruptSnapshotError(`${what}: section lengths do not add up to its ${bytes.length} bytes (truncated?)`);
  }
  const storedId = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(HEADER, HEADER + idLength));
  if (storedId !== id) throw new CorruptSnapshotError(`${what} holds agent '${storedId}'`);
  const q = HEADER + idLength;
  return { qtable: bytes.subarray(q, q + qLength), trajectory: bytes.subarray(q + qLength, q + qLength + tLength) };
}
