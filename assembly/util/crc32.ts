// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the one zlib and PNG use) over raw
// bytes, for the checksums at the end of every snapshot. Table-driven, one byte a step; the
// 1 KiB table lives in static memory and is filled on first use.
//
//   table: u32[256] at `table`, entry b = CRC of the single byte b

const table = memory.data(256 * 4, 4);
let tableReady = false;

function fillTable(): void {
  for (let b: u32 = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
    store<u32>(table + (<usize>b << 2), c);
  }
  tableReady = true;
}

/** CRC-32 of the len bytes at ptr (crc32 of "123456789" is 0xCBF43926). Cost: O(len). */
export function crc32(ptr: usize, len: usize): u32 {
  if (!tableReady) fillTable();
  let c: u32 = 0xFFFFFFFF;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    c = load<u32>(table + (<usize>((c ^ <u32>load<u8>(p)) & 0xFF) << 2)) ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFF;
}
