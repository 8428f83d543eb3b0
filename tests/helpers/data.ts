/** The SIFT-128 set vendored in data/sift128, read with the package's own .fvecs/.ivecs parsers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFvecs, parseIvecs } from '../../src/index';

export const DATA_DIR = join(__dirname, '..', '..', 'data', 'sift128');

export function readFvecs(file: string) {
  return parseFvecs(readFileSync(join(DATA_DIR, file)));
}

export function readIvecs(file: string) {
  const parsed = parseIvecs(readFileSync(join(DATA_DIR, file)));
  return { count: parsed.count, k: parsed.dim, data: parsed.data };
}
