/**
 * UTF-16 strings as UTF-8 carries them. A lone surrogate has no UTF-8 form (TextEncoder turns it
 * into U+FFFD, so two different strings could come back as one), so whatever is written as UTF-8
 * (store keys, attribute strings and field names) must be well-formed.
 */

/** Bytes of `s` in UTF-8, or -1 if it holds a lone surrogate. Cost: O(length), no allocation. */
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
