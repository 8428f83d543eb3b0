/**
 * engine.validateRanges: how many components of each row lie outside a parameter's allowed
 * range, with the f32x4 kernel of assembly/kernels/ranges.ts (the scalar twin in the scalar
 * build). Arguments are checked before anything crosses into WebAssembly; rows go through the
 * engine's staging memory in chunks, so a call stages at most 256 KiB (bounds, one chunk of rows
 * and its counts together), or 12 bytes a parameter when one row needs more.
 */
import { DimensionMismatchError, InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { F32_MAX, checkArrayLike, checkOptionNames, optionNames } from '../util/validate.js';
import { SLOT_IDS, SLOT_OUT, SLOT_ROWS } from '../runtime/wasm/exports.js';

/** Options of {@link Engine.validateRanges}. */
export interface ValidateRangesOptions {
  /**
   * Clamp `values` in place: a component above `upper` becomes `upper`, one below `lower` (or
   * NaN) becomes `lower`; inside components are left as they are. Default false. The counts
   * returned are those before clamping.
   */
  clamp?: boolean;
}

const RANGE_OPTIONS = optionNames<ValidateRangesOptions>({ clamp: true });
/** Bytes a call stages at most: the bounds (8 a parameter), a chunk of rows and its counts (4 a row). */
const STAGED_BYTES = 256 * 1024;

/**
 * The bounds as float32, checked: the same length, every one finite in float32, lower <= upper.
 * Throws DimensionMismatchError or InvalidArgumentError.
 */
function checkBounds(lower: ArrayLike<number>, upper: ArrayLike<number>): { lo: Float32Array; hi: Float32Array } {
  checkArrayLike('lower', lower);
  checkArrayLike('upper', upper);
  if (upper.length !== lower.length) throw new DimensionMismatchError(lower.length, upper.length, 'upper');
  if (lower.length === 0)
    throw new InvalidArgumentError('validateRanges: lower and upper are empty (no parameters to check)');
  const lo = Float32Array.from(lower);
  const hi = Float32Array.from(upper);
  for (let i = 0; i < lo.length; i++) {
    for (const [name, given, f] of [
      ['lower', lower[i], lo[i]],
      ['upper', upper[i], hi[i]],
    ] as const) {
      if (typeof given !== 'number' || !Number.isFinite(f) || Math.abs(given) > F32_MAX) {
        throw new InvalidArgumentError(`validateRanges: ${name}[${i}] must be a finite float32, got ${String(given)}`);
      }
    }
    if (lo[i] > hi[i])
      throw new InvalidArgumentError(`validateRanges: lower[${i}] (${lower[i]}) is above upper[${i}] (${upper[i]})`);
  }
  return { lo, hi };
}

/**
 * Per row of `values` (rows x d, d = lower.length), the number of components outside
 * [lower, upper]; see Engine.validateRanges. Cost: rows * d comparisons, plus copying the rows
 * into linear memory (and back when clamping).
 */
export function validateRanges(
  rt: Runtime,
  values: Float32Array,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: ValidateRangesOptions = {},
): Uint32Array {
  if (!(values instanceof Float32Array))
    throw new InvalidArgumentError('validateRanges: values must be a Float32Array (rows x d)');
  const { lo, hi } = checkBounds(lower, upper);
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('validateRanges options must be an object');
  checkOptionNames('validateRanges', options, RANGE_OPTIONS);
  const clamp = options.clamp ?? false;
  if (typeof clamp !== 'boolean')
    throw new InvalidArgumentError(`validateRanges: clamp must be a boolean, got ${String(clamp)}`);
  const d = lo.length;
  if (values.length === 0) throw new InvalidArgumentError('validateRanges: values is empty (no rows to check)');
  if (values.length % d !== 0) {
    throw new DimensionMismatchError(
      d,
      values.length % d,
      `the last row of values (${values.length} floats, not a multiple of ${d})`,
    );
  }
  const rows = values.length / d;
  return rt.atomic('validateRanges', () => {
    const ex = rt.exports;
    const chunk = Math.max(1, Math.min(rows, Math.floor((STAGED_BYTES - d * 8) / (d * 4 + 4))));
    // Reserve every block before anything is written back: a budget failure changes nothing.
    const bounds = rt.stage(SLOT_IDS, d * 8, 'validateRanges');
    const at = rt.stage(SLOT_ROWS, chunk * d * 4, 'validateRanges');
    const out = rt.stage(SLOT_OUT, chunk * 4, 'validateRanges');
    rt.f32().set(lo, bounds >>> 2);
    rt.f32().set(hi, (bounds >>> 2) + d);
    const counts = new Uint32Array(rows);
    for (let first = 0; first < rows; first += chunk) {
      const n = Math.min(chunk, rows - first);
      const part = values.subarray(first * d, (first + n) * d);
      rt.f32().set(part, at >>> 2);
      ex.kernelRanges(at, n, d, bounds, bounds + d * 4, out, clamp ? 1 : 0);
      counts.set(rt.u32().subarray(out >>> 2, (out >>> 2) + n), first);
      if (clamp) part.set(rt.f32().subarray(at >>> 2, (at >>> 2) + n * d));
    }
    if (rows > chunk) ex.stagingRelease();
    return counts;
  });
}
