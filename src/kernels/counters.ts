/**
 * engine.aggregateCounters: per column (and per window of rows) sum, min, max and mean of a
 * rows x columns matrix of counters, with the f32x4 kernel of assembly/kernels/counters.ts (its
 * scalar twin in the scalar build; both sum in the same order, so both give the same bits).
 */
import { InvalidArgumentError, InvalidVectorError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkArrayLike, checkInt, checkOptionNames, optionNames } from '../util/validate.js';
import { SLOT_OUT, SLOT_ROWS } from '../runtime/wasm/exports.js';

/** Options of {@link Engine.aggregateCounters}. */
export interface AggregateOptions {
  /**
   * Rows a window: aggregate each run of `window` consecutive rows on its own (the last window
   * may be shorter). Default: every row in one window.
   */
  window?: number;
}

/**
 * What {@link Engine.aggregateCounters} returns: four arrays of windows x columns floats (window
 * w, column c at w * columns + c); one window (columns floats) without the `window` option.
 */
export interface CounterAggregates {
  /** Sum of each column over the window's rows, in float32, in the documented order. */
  sum: Float32Array;
  /** Least value of each column over the window (exact). */
  min: Float32Array;
  /** Greatest value of each column over the window (exact). */
  max: Float32Array;
  /** sum / rows in the window (float32 division). */
  mean: Float32Array;
}

const AGGREGATE_OPTIONS = optionNames<AggregateOptions>({ window: true });
/** Calls staging more than this many bytes (256 KiB, validateRanges' chunk) give their staging memory back after the call. */
const LARGE_BYTES = 1 << 18;
/** The most rows or columns (int32 arithmetic in the kernel). */
const MAX_ROWS = 0x7fffffff;

/**
 * Aggregates `counters` (rows x columns, row-major); see Engine.aggregateCounters. Cost: one
 * pass over the counters, plus copying them into linear memory.
 */
export function aggregateCounters(
  rt: Runtime,
  counters: ArrayLike<number>,
  columns: number,
  options: AggregateOptions = {},
): CounterAggregates {
  checkArrayLike('counters', counters);
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('aggregateCounters options must be an object');
  checkOptionNames('aggregateCounters', options, AGGREGATE_OPTIONS);
  const cols = checkInt('columns', columns, 1, MAX_ROWS);
  if (counters.length === 0)
    throw new InvalidArgumentError('aggregateCounters: counters is empty (no rows to aggregate)');
  if (counters.length % cols !== 0) {
    throw new InvalidArgumentError(
      `aggregateCounters: counters has ${counters.length} values, not a multiple of columns (${cols})`,
    );
  }
  const rows = counters.length / cols;
  const window = options.window === undefined ? rows : checkInt('window', options.window, 1, MAX_ROWS);
  const windows = Math.ceil(rows / window);
  const plane = windows * cols;
  // One transaction undone on any error: a NaN sum found below gives the staging back too.
  return rt.run(
    'aggregateCounters',
    () => {
      const ex = rt.exports;
      const src = rt.stage(SLOT_ROWS, counters.length * 4, 'aggregateCounters');
      const out = rt.stage(SLOT_OUT, plane * 16, 'aggregateCounters');
      const f32 = rt.f32();
      if (counters instanceof Float32Array) f32.set(counters, src >>> 2);
      else for (let i = 0, at = src >>> 2; i < counters.length; i++) f32[at + i] = counters[i];
      ex.kernelCounters(src, rows, cols, Math.min(window, rows), out, 0);
      const o = out >>> 2;
      const view = rt.f32();
      const aggregates = {
        sum: view.slice(o, o + plane),
        min: view.slice(o + plane, o + 2 * plane),
        max: view.slice(o + 2 * plane, o + 3 * plane),
        mean: view.slice(o + 3 * plane, o + 4 * plane),
      };
      // A NaN sum: a NaN counter, infinities of both signs in one column of a window, or finite
      // counters whose float32 partial sums overflow to both.
      const bad = aggregates.sum.findIndex(Number.isNaN);
      if (bad >= 0) {
        const w = Math.floor(bad / cols);
        throw new InvalidVectorError(
          `aggregateCounters: column ${bad % cols}${windows > 1 ? ` of window ${w} (rows ${w * window}..${Math.min(rows, (w + 1) * window) - 1})` : ''} ` +
            'sums to NaN in float32 (a NaN counter, infinities of both signs, or partial sums overflowing to both)',
        );
      }
      if (counters.length * 4 + plane * 16 > LARGE_BYTES) ex.stagingRelease();
      return aggregates;
    },
    'any',
  );
}
