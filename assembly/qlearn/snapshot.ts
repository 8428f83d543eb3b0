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
// Loading costs no engine memory beyond the table. The host checks the bytes' length against
// their header, their checksum and their rows (keys distinct, values finite) in host memory
// (src/qlearn/snapshot.ts) and puts the 80-byte header in the static snapshot area;
// loadBegin checks the parameters and allocates the table with room for every row, the host
// writes keys, values and visits straight into its blocks, and loadFinish builds the state map.

import { LOAD_BUDGET, LOAD_CORRUPT } from "../runtime/status";
import { mapSet } from "../util/idmap";
import { QTable, qtableAlloc, qtableFree, findRow, rowKey } from "./qtable";

const MAGIC: u32 = 0x54515845;
const VERSION: u32 = 1;
const HEADER: u32 = 80;
export const MAX_ACTIONS: u32 = 65536;

/**
 * The byte length the HEADER bytes at p announce, or 0 when they are not a Q-table header (magic,
 * version, actions). Reads nothing past the header. Cost: O(1).
 */
export function announcedLength(p: usize): u64 {
  const actions = load<u32>(p, 8);
  if (load<u32>(p) != MAGIC || load<u32>(p, 4) != VERSION || actions == 0 || actions > MAX_ACTIONS) return 0;
  return <u64>HEADER + <u64>load<u32>(p, 12) * (4 + (<u64>actions << 3)) + 4;
}

@inline function unit(x: f64): bool {
  return x >= 0 && x <= 1;
}

/**
 * A table for the snapshot whose header is at p, with room for all its rows and `count` set to
 * them: the host writes each row's key, its values (padding lanes -Infinity) and its visits
 * (padding 0), then calls loadFinish. LOAD_CORRUPT for a header out of range (magic, version,
 * actions, parameters, generator, reserved word), LOAD_BUDGET when the table does not fit;
 * nothing allocated either way. Cost: O(actions).
 */
export function loadBegin(p: usize): usize {
  const initial = load<f64>(p, 32);
  if (announcedLength(p) == 0 || !unit(load<f64>(p, 16)) || !unit(load<f64>(p, 24)) || !unit(load<f64>(p, 40)) ||
      !unit(load<f64>(p, 48)) || !unit(load<f64>(p, 56)) || !(Math.abs(initial) <= <f64>f32.MAX_VALUE) ||
      load<u64>(p, 64) == 0 || load<u64>(p, 72) != 0) return LOAD_CORRUPT;
  const rows = load<u32>(p, 12);
  const t = qtableAlloc(<i32>load<u32>(p, 8), load<f64>(p, 16), load<f64>(p, 24), load<f64>(p, 40),
                        load<f64>(p, 48), load<f64>(p, 56), initial, 0, rows);
  if (changetype<usize>(t) == 0) return LOAD_BUDGET;
  t.rng = load<u64>(p, 64);
  t.count = rows;
  return changetype<usize>(t);
}

/** Maps every row's key to its row: true, or false for a repeated key (the table freed). Cost: O(rows). */
export function loadFinish(t: QTable): bool {
  for (let r: u32 = 0; r < t.count; r++) {
    const key = rowKey(t, r);
    if (findRow(t, key) >= 0) {
      qtableFree(t);
      return false;
    }
    mapSet(t.map, t.mapCap, key, r);
  }
  return true;
}
