/**
 * Parsers for the .fvecs / .ivecs formats of the standard ANN benchmark sets (TEXMEX SIFT,
 * GIST, ...): per record a little-endian int32 length d, then d float32 (or int32) values.
 */
import { InvalidArgumentError } from '../errors.js';

/** A parsed file: count rows of dim values, row-major. */
export interface VecsFile<T extends Float32Array | Int32Array> {
  /** Vectors in the file. */
  count: number;
  /** Components per vector. */
  dim: number;
  /** The vectors, row-major: count * dim values. */
  data: T;
}

function parse<T extends Float32Array | Int32Array>(bytes: Uint8Array, float: boolean, what: string): VecsFile<T> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new InvalidArgumentError(`${what}: ${bytes.byteLength} bytes is too short`);
  const dim = view.getInt32(0, true);
  const record = 4 + 4 * dim;
  if (dim <= 0 || bytes.byteLength % record !== 0) {
    throw new InvalidArgumentError(`${what}: ${bytes.byteLength} bytes is not a whole number of ${dim}-d records`);
  }
  const count = bytes.byteLength / record;
  const data = (float ? new Float32Array(count * dim) : new Int32Array(count * dim)) as T;
  for (let i = 0; i < count; i++) {
    const at = i * record;
    if (view.getInt32(at, true) !== dim) throw new InvalidArgumentError(`${what}: record ${i} has another length`);
    for (let j = 0; j < dim; j++) {
      data[i * dim + j] = float ? view.getFloat32(at + 4 + 4 * j, true) : view.getInt32(at + 4 + 4 * j, true);
    }
  }
  return { count, dim, data };
}

/** Parses .fvecs bytes. Throws InvalidArgumentError on a malformed file. Cost: one pass. */
export function parseFvecs(bytes: Uint8Array): VecsFile<Float32Array> {
  return parse<Float32Array>(bytes, true, 'fvecs');
}

/** Parses .ivecs bytes (e.g. ground-truth neighbour ids). Cost: one pass. */
export function parseIvecs(bytes: Uint8Array): VecsFile<Int32Array> {
  return parse<Int32Array>(bytes, false, 'ivecs');
}
