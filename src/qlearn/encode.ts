/**
 * Q-table (`EXQT`) and trajectory (`EXTB`) snapshots, written by the host straight out of the
 * objects' blocks in linear memory (byte layouts: docs/format.md; the engine's loaders in
 * assembly/qlearn read and check them). Nothing is staged or allocated in the engine, so
 * writing an agent out needs no budget headroom: an engine its agents' learning filled up can
 * still save and evict them.
 */
import { crc32 } from '../util/crc32.js';
import type { Runtime } from '../runtime/runtime.js';

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
