import type { VectorIndex } from '../../src/index';

/** Whether two byte arrays (snapshots) are equal, byte for byte. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A fingerprint of an index's observable state, to assert that a failed call changed nothing. */
export function fingerprint(index: VectorIndex, ids: number[], queries: Float32Array[]): string {
  const parts: unknown[] = [index.size];
  for (const id of ids) parts.push(index.has(id), index.get(id) && Array.from(index.get(id)!));
  for (const q of queries) {
    const r = index.search(q, 5);
    parts.push(Array.from(r.ids), Array.from(r.distances));
  }
  return JSON.stringify(parts);
}
