// Merging what another table learned into this one (federated averaging of agents).
//
// For every (state, action) where `other` has visits no > 0, with this table's Q and visits
// ns (Q = initial, ns = 0 where this table has no row):
//
//   ws = (1 - weight) * ns      wo = weight * no
//   Q      <- (ws * Q + wo * Q_other) / (ws + wo)        (in f64, stored as f32)
//   visits <- round(ws + wo)                              (half up)
//
// Entries with wo = 0 are left alone. So weight 0 keeps this table exactly, weight 1 takes the
// other's value and visits wherever it has visits, and weight 0.5 is the visit-weighted mean of
// the two with the mean visit count (a.merge(b, w) and b.merge(a, 1 - w) give equal entries).
// Rows are created here only for states where other contributes.

import { QTable, rowValues, rowVisits, rowKey, findRow, reserveRow, dropRowsFrom } from "./qtable";

/** Whether row r of `other` has any visited action. */
function rowVisited(other: QTable, r: u32): bool {
  const v = rowVisits(other, r);
  for (let a = 0; a < other.actions; a++) {
    if (load<u32>(v + (<usize>a << 2)) != 0) return true;
  }
  return false;
}

/** Folds the visited entries of other's row ro into this table's row rs. */
function mergeRow(t: QTable, rs: u32, other: QTable, ro: u32, weight: f64): void {
  const qs = rowValues(t, rs), vs = rowVisits(t, rs);
  const qo = rowValues(other, ro), vo = rowVisits(other, ro);
  for (let a = 0; a < t.actions; a++) {
    const o = <usize>a << 2;
    const wo = weight * <f64>load<u32>(vo + o);
    if (wo == 0) continue;
    const ws = (1.0 - weight) * <f64>load<u32>(vs + o);
    const merged = (ws * <f64>load<f32>(qs + o) + wo * <f64>load<f32>(qo + o)) / (ws + wo);
    store<f32>(qs + o, <f32>merged);
    const visits = Math.floor(ws + wo + 0.5);
    store<u32>(vs + o, visits >= 4294967295.0 ? 0xFFFFFFFF : <u32>visits);
  }
}

/**
 * Merges `other` (same action count) into `t` with `weight` in [0, 1] as described above.
 * Returns false (t unchanged) when the rows it needs do not fit the budget.
 * Cost: O(other's rows * actions).
 */
export function mergeTables(t: QTable, other: QTable, weight: f64): bool {
  if (weight == 0) return true;
  const before = t.count;
  for (let ro: u32 = 0; ro < other.count; ro++) {
    if (rowVisited(other, ro) && reserveRow(t, rowKey(other, ro)) < 0) {
      dropRowsFrom(t, before);
      return false;
    }
  }
  for (let ro: u32 = 0; ro < other.count; ro++) {
    const rs = findRow(t, rowKey(other, ro));
    if (rs >= 0) mergeRow(t, <u32>rs, other, ro, weight);
  }
  return true;
}
