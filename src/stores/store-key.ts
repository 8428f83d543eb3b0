/** What every store key must be: a non-empty string of well-formed UTF-16, so it has one UTF-8 form. */
import { InvalidArgumentError } from '../errors.js';
import { utf8Length } from '../util/utf8.js';

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
