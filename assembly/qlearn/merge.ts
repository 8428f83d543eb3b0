// Merging what another table learned into this one (federated averaging of agents).
//
// The result is the entry-by-entry average of the two tables, each entry weighted by the
// table's weight times its visits. For every (state, action), with ns, Q this table's visits
// and value and no, Q_other the other's (visits 0, value `initial` for a state without a row):
//
//   ws = (1 - weight) * ns      wo = weight * no
//   if ws + wo > 0:
//     Q      <- (ws * Q + wo * Q_other) / (ws + wo)       (in f64, stored as f32)
//     visits <- max(1, round(ws + wo))                     (half up; a learned entry keeps >= 1)
//
// Entries with ws + wo = 0 are left alone. So weight 0 keeps this table exactly, weight 1 takes
// the other's value and visits wherever it has visits (and keeps the rest), and for weights in
// (0, 1) a.merge(b, w) and b.merge(a, 1 - w) give the same entries (up to the rounding of
// 1 - w). Rows are created only for states the other has visited; the other is not changed.

import { QTable, rowValues, rowVisits, rowKey, findRow, reserveRow, beginTableChange, forgetRowsFrom } from "./qtable";
import { arenaEnd } from "../runtime/arena";

/** Whether row r of `other` has any visited action. */
function rowVisited(other: QTable, r: u32): bool {
  const v = rowVisits(other, r);
  for (let a = 0; a < other.actions; a++) {
    if (load<u32>(v + (<usize>a << 2)) != 0) return true;
  }
  return false;
}

/** Folds other's row ro (or nothing, ro = -1) into this table's row rs. */
function mergeRow(t: QTable, rs: u32, other: QTable, ro: i32, weight: f64): void {
  const qs = rowValues(t, rs), vs = rowVisits(t, rs);
  const qo: usize = ro < 0 ? 0 : rowValues(other, <u32>ro);
  const vo: usize = ro < 0 ? 0 : rowVisits(other, <u32>ro);
  for (let a = 0; a < t.actions; a++) {
    const o = <usize>a << 2;
    const ws = (1.0 - weight) * <f64>load<u32>(vs + o);
    const wo = ro < 0 ? 0.0 : weight * <f64>load<u32>(vo + o);
    if (ws + wo == 0) continue;
    const valueOther = ro < 0 ? 0.0 : <f64>load<f32>(qo + o);
    store<f32>(qs + o, <f32>((ws * <f64>load<f32>(qs + o) + wo * valueOther) / (ws + wo)));
    const visits = Math.max(1.0, Math.floor(ws + wo + 0.5));
    store<u32>(vs + o, visits >= 4294967295.0 ? 0xFFFFFFFF : <u32>visits);
  }
}

/**
 * Merges `other` (same action count) into `t` with `weight` in [0, 1] as described above.
 * Returns false, with t and the arena as they were, when the rows it needs do not fit the budget.
 * Cost: O((t's rows + other's rows) * actions).
 */
export function mergeTables(t: QTable, other: QTable, weight: f64): bool {
  if (weight == 0) return true;
  const before = t.count, map = t.map, mapCap = t.mapCap;
  const mark = beginTableChange(t);
  for (let ro: u32 = 0; ro < other.count; ro++) {
    if (rowVisited(other, ro) && reserveRow(t, rowKey(other, ro)) < 0) {
      forgetRowsFrom(t, before, map, mapCap);
      return arenaEnd(mark, false);
    }
  }
  arenaEnd(mark, true);
  for (let rs: u32 = 0; rs < t.count; rs++) {
    mergeRow(t, rs, other, findRow(other, rowKey(t, rs)), weight);
  }
  return true;
}
