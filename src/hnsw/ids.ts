/**
 * The live ids of an index read straight out of linear memory, like a snapshot (the engine only
 * describes where its labels and tombstones lie, src/hnsw/layout.ts), so listing them needs no
 * engine memory: ids() works with the budget full.
 */
import { EXIX_HEADER, sectionSizes, snapshotSections, SNAPSHOT_HEADER as HEADER, type Section } from './layout.js';
import type { Runtime } from '../runtime/runtime.js';

/** The bytes of `section` copied out of linear memory. Cost: O(section bytes). */
function readSection(rt: Runtime, section: Section): Uint8Array {
  const out = new Uint8Array(section.len);
  const mem = new Uint8Array(rt.memory.buffer);
  for (let done = 0; done < section.len; ) {
    const [addr, contiguous] = section.locate(done);
    const take = Math.min(contiguous, section.len - done);
    out.set(mem.subarray(addr, addr + take), done);
    done += take;
  }
  return out;
}

/**
 * The `size` live ids of index `handle`, in slot order (a slot's label unless its tombstone bit
 * is set). Allocates nothing in the engine. Cost: O(slots).
 */
export function liveIds(rt: Runtime, handle: number, size: number): Uint32Array {
  return liveSlots(rt, handle, size).ids;
}

/** liveIds, with the slot of each id. Allocates nothing in the engine. Cost: O(slots). */
export function liveSlots(rt: Runtime, handle: number, size: number): { ids: Uint32Array; slots: Uint32Array } {
  const info = rt.exports.indexSnapshotInfo(handle, 0, 0) >>> 0;
  const header = new Uint8Array(rt.memory.buffer, info, HEADER).slice();
  const count = new DataView(header.buffer).getUint32(EXIX_HEADER.count, true);
  const sections = snapshotSections(rt, info, sectionSizes(header));
  const labels = new Uint32Array(readSection(rt, sections[4]).buffer);
  const tombs = new Uint32Array(readSection(rt, sections[5]).buffer);
  const ids = new Uint32Array(size);
  const slots = new Uint32Array(size);
  let k = 0;
  for (let n = 0; n < count && k < size; n++) {
    if ((tombs[n >>> 5] & (1 << (n & 31))) === 0) {
      ids[k] = labels[n];
      slots[k++] = n;
    }
  }
  return { ids, slots };
}
