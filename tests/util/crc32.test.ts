/** The host's CRC-32 against an independent bitwise one, the standard check value, and chunked use. */
import { crc32, crc32Final, crc32Update, CRC32_INIT } from '../../src/util/crc32';
import { crc32 as bitwiseCrc32 } from '../helpers/index-snapshot';
import { rng } from '../helpers/random';

test("the check value: CRC-32 of '123456789' is 0xCBF43926", () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  expect(crc32(new Uint8Array(0))).toBe(0);
});

test('random bytes, whole and in random chunks, match a bitwise reference', () => {
  const next = rng(9);
  for (let round = 0; round < 20; round++) {
    const bytes = Uint8Array.from({ length: Math.floor(next() * 5000) }, () => Math.floor(next() * 256));
    const expected = bitwiseCrc32(bytes);
    expect(crc32(bytes)).toBe(expected);
    let crc = CRC32_INIT;
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, at + Math.floor(next() * 700));
      crc = crc32Update(crc, bytes.subarray(at, end));
      at = end;
    }
    expect(crc32Final(crc)).toBe(expected);
  }
});

test('every short length at every alignment (the word loop and the byte loops meet right)', () => {
  const buffer = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  for (let offset = 0; offset < 4; offset++) {
    for (let length = 0; length <= 40; length++) {
      const bytes = buffer.subarray(offset, offset + length);
      expect(crc32(bytes)).toBe(bitwiseCrc32(bytes));
    }
  }
});
