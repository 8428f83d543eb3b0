// Q-table snapshots: the bytes `serialize()` returns and `loadQTable` takes. Little-endian.
// The host writes them (src/qlearn/snapshot.ts, straight out of the table's blocks); this file reads them.
//
//   off  size  field
//   0    4     magic "EXQT" (45 58 51 54)
//   4    4     u32 format version (1)
//   8    4     u32 actions (1..MAX_ACTIONS)
//   12   4     u32 rows
//   16   8     f64 alpha            [0, 1]
//   24   8     f64 gamma            [0, 1]
//   32   8     f64 initial          within +-f32.MAX_VALUE (finite as float32)
//   40   8     f64 epsilon          [0, 1]
//   48   8     f64 epsilonDecay     [0, 1]
//   56   8     f64 epsilonMin       [0, 1]
//   64   8     u64 PRNG state       non-zero
//   72   8     reserved, zero
//   80         u32 keys[rows]                 state key of each row, all distinct
//              f32 values[rows * actions]     row-major, no padding, finite
//              u32 visits[rows * actions]
//   end-4 4    u32 CRC-32 of every byte before it
//
// loadSnapshot checks the length, magic, version, sizes, checksum and every parameter before
// it allocates anything, and frees what it built if a key turns out to repeat.

import { crc32 } from "../util/crc32";
import { LOAD_BUDGET, LOAD_CORRUPT } from "../runtime/status";
import { qtableAlloc, qtableFree, ensureRows, ensureMap, appendRow, rowValues, rowVisits, findRow } from "./qtable";

const MAGIC: u32 = 0x54515845;
const VERSION: u32 = 1;
const HEADER: u32 = 80;
export const MAX_ACTIONS: u32 = 65536;


/** Bytes of the snapshot of a table of `rows` rows. */
function snapshotBytes64(actions: u32, rows: u32): u64 {
  return <u64>HEADER + <u64>rows * (4 + (<u64>actions << 3)) + 4;
}

/**
 * The byte length the HEADER bytes at p announce, or 0 when they are not a Q-table header (magic,
 * version, actions). Reads nothing past the header. Cost: O(1).
 */
export function announcedLength(p: usize): u64 {
  const actions = load<u32>(p, 8);
  if (load<u32>(p) != MAGIC || load<u32>(p, 4) != VERSION || actions == 0 || actions > MAX_ACTIONS) return 0;
  return snapshotBytes64(actions, load<u32>(p, 12));
}

@inline function unit(x: f64): bool {
  return x >= 0 && x <= 1;
}

/** Whether every one of the n float32 values at p is finite. Cost: O(n). */
function allFinite(p: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) {
    const x = load<f32>(p + (i << 2));
    if (x - x != 0) return false;
  }
  return true;
}

/**
 * Whether the len bytes at p are a well-formed snapshot (everything but key uniqueness): sizes,
 * checksum, parameters in range, `initial` and every Q value finite float32. Cost: O(len).
 */
function validSnapshot(p: usize, len: u32): bool {
  if (len < HEADER + 4 || announcedLength(p) != <u64>len) return false;
  const actions = load<u32>(p, 8);
  const rows = load<u32>(p, 12);
  if (crc32(p, <usize>len - 4) != load<u32>(p + <usize>len - 4)) return false;
  const initial = load<f64>(p, 32);
  return unit(load<f64>(p, 16)) && unit(load<f64>(p, 24)) && unit(load<f64>(p, 40)) &&
         unit(load<f64>(p, 48)) && unit(load<f64>(p, 56)) && Math.abs(initial) <= <f64>f32.MAX_VALUE &&
         load<u64>(p, 64) != 0 && load<u64>(p, 72) == 0 &&
         allFinite(p + HEADER + (<usize>rows << 2), <usize>rows * <usize>actions);
}

/**
 * A new table from the len snapshot bytes at p; LOAD_CORRUPT (nothing allocated) for bytes
 * that are not a valid snapshot, LOAD_BUDGET when it does not fit. Cost: O(len).
 */
export function loadSnapshot(p: usize, len: u32): usize {
  if (!validSnapshot(p, len)) return LOAD_CORRUPT;
  const actions = load<u32>(p, 8);
  const rows = load<u32>(p, 12);
  const t = qtableAlloc(<i32>actions, load<f64>(p, 16), load<f64>(p, 24), load<f64>(p, 40),
                        load<f64>(p, 48), load<f64>(p, 56), load<f64>(p, 32), 0);
  if (changetype<usize>(t) == 0) return LOAD_BUDGET;
  if (!ensureRows(t, rows) || !ensureMap(t, rows)) {
    qtableFree(t);
    return LOAD_BUDGET;
  }
  t.rng = load<u64>(p, 64);
  const keys = p + HEADER;
  for (let r: u32 = 0; r < rows; r++) {
    const key = load<u32>(keys + (<usize>r << 2));
    if (findRow(t, key) >= 0) {
      qtableFree(t);
      return LOAD_CORRUPT;
    }
    appendRow(t, key);
  }
  const rowBytes = <usize>actions << 2;
  const values = keys + (<usize>rows << 2);
  const visits = values + <usize>rows * rowBytes;
  for (let r: u32 = 0; r < rows; r++) {
    memory.copy(rowValues(t, r), values + <usize>r * rowBytes, rowBytes);
    memory.copy(rowVisits(t, r), visits + <usize>r * rowBytes, rowBytes);
  }
  return changetype<usize>(t);
}
