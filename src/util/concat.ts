/** The elements of `parts` end to end, in the array `make(total length)` returns. Cost: O(length). */
export function concatArrays<T extends Uint8Array | Uint32Array>(parts: readonly T[], make: (length: number) => T): T {
  const out = make(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
