/** What every store key must be: a non-empty string of well-formed UTF-16, so it has one UTF-8 form. */
import { InvalidArgumentError } from '../errors.js';

/**
 * Bytes of `s` in UTF-8, or -1 if it holds a lone surrogate, which UTF-8 cannot carry
 * (TextEncoder would turn it into U+FFFD, so two different strings could come back as one):
 * store keys here, attribute strings and field names too. Cost: O(length), no allocation.
 */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
      continue;
    }
    if (c < 0xd800 || c > 0xdfff) {
      bytes += 2;
      continue;
    }
    const low = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    if (c > 0xdbff || low < 0xdc00 || low > 0xdfff) return -1;
    bytes += 2; // a pair: two code units, four bytes
    i++;
  }
  return bytes;
}

/**
 * The UTF-8 length of `key`; InvalidArgumentError unless it is a non-empty string without lone
 * surrogates (TextEncoder would turn one into U+FFFD: a different key). Cost: O(length), no allocation.
 */
export function checkStoreKey(key: unknown, what = 'key'): number {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-empty string, got ${typeof key === 'string' ? "''" : String(key)}`,
    );
  }
  const bytes = utf8Length(key);
  if (bytes < 0)
    throw new InvalidArgumentError(`${what} ${JSON.stringify(key)} holds a lone surrogate, which no store can keep`);
  return bytes;
}
