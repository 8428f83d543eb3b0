// The memory-pressure monitor: a ring of usage samples and what they say.
//
//   samples: f32[MAX_SAMPLES] in static memory; the last `capacity` samples are kept,
//            `head` is where the next one goes, `count` how many are held (<= capacity)
//   sample  = bytes in use / budget, 0..1
//   slope   = least-squares slope of the last TREND_WINDOW samples, per sample
//   pressure = clamp(latest + slope * LOOKAHEAD, 0, 1): where usage is heading a few samples on
//
// Eviction share by pressure: 10% below 0.70, 20% below 0.85, 30% below 0.95, 50% above.

import { arenaLimit, arenaUsed } from "./arena";

const MAX_SAMPLES: i32 = 4096;
const TREND_WINDOW: i32 = 10;
const LOOKAHEAD: f32 = 5;
/** |slope| below this (0.1% of the budget a sample) counts as stable. */
const STABLE_SLOPE: f32 = 0.001;

const samples = memory.data(MAX_SAMPLES * 4, 16);
let capacity: i32 = 100;
let head: i32 = 0;
let count: i32 = 0;

@inline function sampleAt(back: i32): f32 {
  // back = 0 is the newest sample.
  let i = head - 1 - back;
  if (i < 0) i += capacity;
  return load<f32>(samples + (<usize>i << 2));
}

/** Keeps the last `keep` samples (1..4096) and drops all held. Cost: O(1). */
export function monitorConfigure(keep: i32): void {
  capacity = keep < 1 ? 1 : keep > MAX_SAMPLES ? MAX_SAMPLES : keep;
  head = 0;
  count = 0;
}

/** Records `level` (0..1) as the newest sample. Cost: O(1). */
export function monitorRecordLevel(level: f32): void {
  store<f32>(samples + (<usize>head << 2), level);
  head = head + 1 == capacity ? 0 : head + 1;
  if (count < capacity) count++;
}

/** Records the engine's used bytes / budget as the newest sample. Cost: O(1). */
export function monitorRecord(): void {
  monitorRecordLevel(<f32>(<f64>arenaUsed() / <f64>arenaLimit()));
}

/** Samples held. */
export function monitorCount(): i32 {
  return count;
}

/** The newest sample, or 0 with none. */
export function monitorLevel(): f32 {
  return count == 0 ? 0 : sampleAt(0);
}

/** Least-squares slope of the newest TREND_WINDOW samples, per sample (0 with fewer than 2). Cost: O(window). */
export function monitorSlope(): f32 {
  const n = count < TREND_WINDOW ? count : TREND_WINDOW;
  if (n < 2) return 0;
  // x = 0 for the oldest of the window .. n-1 for the newest.
  let sx: f64 = 0, sy: f64 = 0, sxx: f64 = 0, sxy: f64 = 0;
  for (let k = 0; k < n; k++) {
    const x = <f64>(n - 1 - k);
    const y = <f64>sampleAt(k);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const denom = <f64>n * sxx - sx * sx;
  return <f32>((<f64>n * sxy - sx * sy) / denom);
}

/** -1 shrinking, 0 stable, 1 growing, from the slope. */
export function monitorTrend(): i32 {
  const s = monitorSlope();
  return s > STABLE_SLOPE ? 1 : s < -STABLE_SLOPE ? -1 : 0;
}

/** Pressure: newest level plus the trend carried LOOKAHEAD samples on, clamped to 0..1. */
export function monitorPressure(): f32 {
  const p = monitorLevel() + monitorSlope() * LOOKAHEAD;
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/**
 * Share of resident agents to evict at `pressure`: 0.1 / 0.2 / 0.3 / 0.5. Compared in f64, as the
 * host reads `pressure` (f32 0.70 and 0.95 round down: 0.699999988 would be in the next band).
 */
export function evictionShare(pressure: f32): f32 {
  const p = <f64>pressure;
  if (p < 0.70) return 0.1;
  if (p < 0.85) return 0.2;
  if (p < 0.95) return 0.3;
  return 0.5;
}
