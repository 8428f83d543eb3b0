/** Reading and re-checksumming index snapshots (docs/format.md) in tests. */

/** CRC-32 (IEEE), bit by bit: independent of the engine's table-driven one. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Rewrites the trailing CRC so the bytes pass the checksum; returns them. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes.subarray(0, bytes.length - 4)),
    true,
  );
  return bytes;
}

/** Header fields and section offsets of a well-formed index snapshot. */
export interface Layout {
  dim: number;
  stride: number;
  M: number;
  M0: number;
  count: number;
  deleted: number;
  entry: number;
  maxLevel: number;
  upperUsed: number;
  vectors: number;
  links0: number;
  upperAt: number;
  upper: number;
  labels: number;
  tombs: number;
  crc: number;
}

export const HEADER = 80;

export function layout(bytes: Uint8Array): Layout {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const dim = v.getUint32(12, true);
  const M = v.getUint32(20, true);
  const count = v.getUint32(36, true);
  const upperUsed = v.getUint32(52, true);
  const stride = (dim + 3) & ~3;
  const vectors = HEADER;
  const links0 = vectors + count * stride * 4;
  const upperAt = links0 + count * (1 + 2 * M) * 4;
  const upper = upperAt + count * 4;
  const labels = upper + (upperUsed - 1) * 4;
  const tombs = labels + count * 4;
  const crc = tombs + Math.ceil(count / 32) * 4;
  return {
    dim,
    stride,
    M,
    M0: 2 * M,
    count,
    deleted: v.getUint32(40, true),
    entry: v.getInt32(44, true),
    maxLevel: v.getUint32(48, true),
    upperUsed,
    vectors,
    links0,
    upperAt,
    upper,
    labels,
    tombs,
    crc,
  };
}

/** A copy of `bytes` with `edit` applied to a DataView of it, re-checksummed. */
export function edited(bytes: Uint8Array, edit: (v: DataView, l: Layout) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), layout(bytes));
  return fixCrc(copy);
}
