/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial), the checksum every snapshot and stored record
 * ends with, for the bytes the host writes and checks (every snapshot's checksum is the host's:
 * the engine has no CRC of its own). Incremental: feed chunks in order, starting from CRC32_INIT, and finish with
 * crc32Final.
 */
let tables: Uint32Array | undefined;

/** Eight 256-entry tables for slicing-by-8: table k maps a byte to its CRC after k more zero bytes. */
function crcTables(): Uint32Array {
  if (tables) return tables;
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  tables = t;
  return t;
}

/** The running value before any byte. */
export const CRC32_INIT = 0xffffffff;

/** Whether this platform stores words little-endian (every engine this runs on does). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Folds `bytes` into a running CRC (start from CRC32_INIT). Cost: O(bytes), eight bytes a step. */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = crcTables();
  let c = crc;
  let i = 0;
  // Byte at a time up to a word boundary, then two words a step (slicing-by-8), then the tail.
  for (; i < bytes.length && (bytes.byteOffset + i) % 4 !== 0; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  if (LITTLE_ENDIAN && bytes.length - i >= 8) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, ((bytes.length - i) >>> 3) << 1);
    for (let w = 0; w < words.length; w += 2) {
      const lo = c ^ words[w];
      const hi = words[w + 1];
      c =
        t[1792 + (lo & 0xff)] ^
        t[1536 + ((lo >>> 8) & 0xff)] ^
        t[1280 + ((lo >>> 16) & 0xff)] ^
        t[1024 + (lo >>> 24)] ^
        t[768 + (hi & 0xff)] ^
        t[512 + ((hi >>> 8) & 0xff)] ^
        t[256 + ((hi >>> 16) & 0xff)] ^
        t[hi >>> 24];
    }
    i += words.length * 4;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
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
