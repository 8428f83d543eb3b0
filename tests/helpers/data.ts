/** Readers for the SIFT-128 set in ../shared/data (.fvecs / .ivecs, little-endian). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR = join(__dirname, '..', '..', '..', 'shared', 'data');

export interface Vectors {
  count: number;
  dim: number;
  data: Float32Array;
}

/** Reads a .fvecs file: per record an int32 dim, then dim float32. */
export function readFvecs(file: string): Vectors {
  const buf = readFileSync(join(DATA_DIR, file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dim = view.getInt32(0, true);
  const count = buf.byteLength / (4 + 4 * dim);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) data[i * dim + j] = view.getFloat32(i * (4 + 4 * dim) + 4 + 4 * j, true);
  }
  return { count, dim, data };
}

/** Reads a .ivecs file as rows of k ids. */
export function readIvecs(file: string): { count: number; k: number; data: Int32Array } {
  const buf = readFileSync(join(DATA_DIR, file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const k = view.getInt32(0, true);
  const count = buf.byteLength / (4 + 4 * k);
  const data = new Int32Array(count * k);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < k; j++) data[i * k + j] = view.getInt32(i * (4 + 4 * k) + 4 + 4 * j, true);
  }
  return { count, k, data };
}

export const hasSiftData = existsSync(join(DATA_DIR, 'sift128_base.fvecs'));
