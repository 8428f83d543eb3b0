/** .fvecs / .ivecs parsing: round trip of written bytes and malformed input. */
import { InvalidArgumentError, parseFvecs, parseIvecs } from '../../src/index';
import { readFvecs } from '../helpers/data';

function fvecs(rows: number[][]): Uint8Array {
  const dim = rows[0].length;
  const view = new DataView(new ArrayBuffer(rows.length * (4 + 4 * dim)));
  rows.forEach((r, i) => {
    view.setInt32(i * (4 + 4 * dim), dim, true);
    r.forEach((v, j) => view.setFloat32(i * (4 + 4 * dim) + 4 + 4 * j, v, true));
  });
  return new Uint8Array(view.buffer);
}

test('parses what it was given', () => {
  const parsed = parseFvecs(
    fvecs([
      [1, 2.5, -3],
      [4, 5, 6],
    ]),
  );
  expect(parsed.count).toBe(2);
  expect(parsed.dim).toBe(3);
  expect(Array.from(parsed.data)).toEqual([1, 2.5, -3, 4, 5, 6]);
  const ints = parseIvecs(fvecs([[0, 0]]));
  expect(ints.dim).toBe(2);
});

test('rejects malformed files', () => {
  expect(() => parseFvecs(new Uint8Array(2))).toThrow(InvalidArgumentError);
  expect(() => parseFvecs(fvecs([[1, 2, 3]]).subarray(0, 10))).toThrow(/whole number/);
  const mixed = new Uint8Array([...fvecs([[1, 2]]), ...fvecs([[1, 2, 3]]).subarray(0, 12)]);
  expect(() => parseFvecs(mixed)).toThrow(InvalidArgumentError);
});

test('reads the shared SIFT set as documented: 10,000 x 128, finite, integer-valued', () => {
  const base = readFvecs('sift128_base.fvecs');
  expect(base.count).toBe(10000);
  expect(base.dim).toBe(128);
  expect(base.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
});
