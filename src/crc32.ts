/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial), the checksum every snapshot and stored record
 * ends with; the same function as the engine's assembly/crc32.ts, for bytes the host writes or
 * checks itself. Incremental: feed chunks in order, starting from CRC32_INIT, and finish with
 * crc32Final.
 */
let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** The running value before any byte. */
export const CRC32_INIT = 0xffffffff;

/** Folds `bytes` into a running CRC (start from CRC32_INIT). Cost: O(bytes), ~1-2 ns a byte. */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = crcTable();
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

/** The CRC-32 of everything folded into `crc`. Cost: O(1). */
export function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of `bytes` in one call. Cost: O(bytes). */
export function crc32(bytes: Uint8Array): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes));
}
