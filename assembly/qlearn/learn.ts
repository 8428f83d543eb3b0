// Q-learning on a table (qtable.ts): the update rule, batches of transitions, the greedy and
// epsilon-greedy policies.
//
//   Q[s,a] += alpha * (r + gamma * (done ? 0 : max_a' Q[s',a']) - Q[s,a])
//
// in f32, one rounding per operation, in this order (the host's reference does the same):
//   future = done ? 0 : max over row s' (initial when s' has no row)
//   target = done ? r : sat(r + gamma * future)
//   Q      = sat(Q + alpha * sat(target - Q))
// where sat clamps to +-f32.MAX_VALUE: a sum that overflows float32 saturates at the largest
// finite float32 instead of becoming Infinity (and then NaN). Rewards, initial and so every Q
// value are finite, so both builds' row maxima (f32x4.pmax and the scalar compare-select, which
// differ only on NaN) always agree. For values that do not overflow, sat changes nothing.
//
// A batch (layout in batch.ts) runs in three passes. The first finds or appends the row of
// every updated state (a failure undoes it, so the table and the arena are as before) and
// overwrites states[i] with it; the second overwrites nextStates[i] with the next state's row
// (-1 without one); the third applies the transitions in order. A next state whose row is
// appended by a later transition of the batch still holds `initial` everywhere when an earlier
// transition reads it, so the batch equals one update per transition in order. Doing the
// lookups in their own loops lets their cache misses overlap.

import { QTable, rowValues, rowVisits, findRow, reserveRow, beginTableChange, forgetRowsFrom } from "./qtable";
import { arenaEnd } from "../runtime/arena";
import { prngNext, prngUnit, prngBelow } from "./prng";
import { batchActions, batchRewards, batchNextStates, batchDones } from "./batch";

/** x clamped to [-f32.MAX_VALUE, f32.MAX_VALUE]: an overflowed sum saturates (x is never NaN). */
@inline function saturate(x: f32): f32 {
  const max = f32.MAX_VALUE;
  return select<f32>(max, select<f32>(-max, x, x < -max), x > max);
}

/** max(a, b) as a compare and select: values are never NaN, so f32.max's NaN handling is not needed. */
@inline function larger(a: f32, b: f32): f32 {
  return select<f32>(b, a, b > a);
}

/** Largest value of row r, f32x4 over the padded row (padding is -Infinity). Cost: stride/4 steps. */
export function rowMaxF32x4(t: QTable, r: u32): f32 {
  const row = rowValues(t, r);
  const end = row + (<usize>t.stride << 2);
  let m = v128.load(row);
  for (let p = row + 16; p < end; p += 16) m = f32x4.pmax(m, v128.load(p));
  m = f32x4.pmax(m, v128.swizzle(m, i8x16(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
  m = f32x4.pmax(m, v128.swizzle(m, i8x16(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11)));
  return f32x4.extract_lane(m, 0);
}

/** Largest value of row r, scalar, four running maxima over the padded row. Cost: stride steps. */
export function rowMaxScalar(t: QTable, r: u32): f32 {
  const row = rowValues(t, r);
  const end = row + (<usize>t.stride << 2);
  let m0 = load<f32>(row), m1 = load<f32>(row, 4), m2 = load<f32>(row, 8), m3 = load<f32>(row, 12);
  for (let p = row + 16; p < end; p += 16) {
    m0 = larger(m0, load<f32>(p));
    m1 = larger(m1, load<f32>(p, 4));
    m2 = larger(m2, load<f32>(p, 8));
    m3 = larger(m3, load<f32>(p, 12));
  }
  return larger(larger(m0, m1), larger(m2, m3));
}

/** Largest value of row r with the build's kernel. */
@inline function rowMax(t: QTable, r: u32): f32 {
  if (ASC_FEATURE_SIMD) return rowMaxF32x4(t, r);
  return rowMaxScalar(t, r);
}

/** First action of row r holding `value`, f32x4 compare and lane mask. */
function firstEqualF32x4(t: QTable, r: u32, value: f32): u32 {
  const row = rowValues(t, r);
  const want = f32x4.splat(value);
  for (let i = 0; i < t.stride; i += 4) {
    const mask = i32x4.bitmask(f32x4.eq(v128.load(row + (<usize>i << 2)), want));
    if (mask != 0) return <u32>i + ctz(<u32>mask);
  }
  return 0;
}

/** First action of row r holding `value`, scalar. */
function firstEqualScalar(t: QTable, r: u32, value: f32): u32 {
  const row = rowValues(t, r);
  for (let a = 0; a < t.actions; a++) {
    if (load<f32>(row + (<usize>a << 2)) == value) return <u32>a;
  }
  return 0;
}

/** Greedy action of `key`: argmax of its row, the lowest action on ties; 0 without a row. Cost: O(actions). */
export function bestAction(t: QTable, key: u32): u32 {
  const r = findRow(t, key);
  if (r < 0) return 0;
  const m = rowMax(t, <u32>r);
  if (ASC_FEATURE_SIMD) return firstEqualF32x4(t, <u32>r, m);
  return firstEqualScalar(t, <u32>r, m);
}

/**
 * Epsilon-greedy action of `key`: one draw u in [0, 1); u < epsilon picks a uniform action
 * with a second draw, otherwise the greedy one. Cost: O(actions).
 */
export function selectAction(t: QTable, key: u32): u32 {
  t.rng = prngNext(t.rng);
  if (prngUnit(t.rng) < t.epsilon) {
    t.rng = prngNext(t.rng);
    return prngBelow(t.rng, <u32>t.actions);
  }
  return bestAction(t, key);
}

/** epsilon = max(epsilon * decay, epsilonMin), never raising an epsilon already below epsilonMin. */
export function decayEpsilon(t: QTable): void {
  const next = t.epsilon * t.epsilonDecay;
  const floor = t.epsilon < t.epsilonMin ? t.epsilon : t.epsilonMin;
  t.epsilon = next > floor ? next : floor;
}

/**
 * Applies one transition to row rs, action a; next is the next state's row or -1 (no row: its
 * values are all `initial`). Returns the new Q value. Cannot fail. Cost: one row max.
 */
@inline function apply(t: QTable, rs: u32, a: u32, reward: f32, next: i32, done: bool,
                       alpha: f32, gamma: f32, initial: f32): f32 {
  let target = reward;
  if (!done) target = saturate(reward + gamma * (next < 0 ? initial : rowMax(t, <u32>next)));
  const p = rowValues(t, rs) + (<usize>a << 2);
  const q = load<f32>(p);
  const updated = saturate(q + alpha * saturate(target - q));
  store<f32>(p, updated);
  const v = rowVisits(t, rs) + (<usize>a << 2);
  store<u32>(v, load<u32>(v) + 1);
  return updated;
}

/** One transition; false (table unchanged) over budget. The new Q value is left in t.lastValue. Cost: O(actions). */
export function updateOne(t: QTable, s: u32, a: u32, reward: f32, s2: u32, done: bool): bool {
  const rs = reserveRow(t, s);
  if (rs < 0) return false;
  const next = done ? -1 : findRow(t, s2);
  t.lastValue = apply(t, <u32>rs, a, reward, next, done, <f32>t.alpha, <f32>t.gamma, <f32>t.initial);
  return true;
}

/**
 * Applies the n transitions of the batch block at `batch` in order; false over budget, with the
 * table and the arena as they were. Overwrites the block's states and next states with rows.
 * Cost: O(n * actions), no allocation once the rows exist.
 */
export function updateBatch(t: QTable, batch: usize, n: u32): bool {
  const before = t.count, map = t.map, mapCap = t.mapCap;
  const mark = beginTableChange(t);
  for (let i: u32 = 0; i < n; i++) {
    const p = batch + (<usize>i << 2);
    const rs = reserveRow(t, load<u32>(p));
    if (rs < 0) {
      forgetRowsFrom(t, before, map, mapCap);
      return arenaEnd(mark, false);
    }
    store<u32>(p, <u32>rs);
  }
  arenaEnd(mark, true);
  const actions = batch + batchActions(n);
  const rewards = batch + batchRewards(n);
  const nextStates = batch + batchNextStates(n);
  const dones = batch + batchDones(n);
  for (let i: u32 = 0; i < n; i++) {
    const o = <usize>i << 2;
    const next = load<u32>(dones + o) != 0 ? -1 : findRow(t, load<u32>(nextStates + o));
    store<i32>(nextStates + o, next);
  }
  const alpha = <f32>t.alpha, gamma = <f32>t.gamma, initial = <f32>t.initial;
  for (let i: u32 = 0; i < n; i++) {
    const o = <usize>i << 2;
    apply(t, load<u32>(batch + o), load<u32>(actions + o), load<f32>(rewards + o), load<i32>(nextStates + o),
          load<u32>(dones + o) != 0, alpha, gamma, initial);
  }
  return true;
}
