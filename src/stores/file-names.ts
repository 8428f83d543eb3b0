/**
 * FileStore's file names: one per key, `<encoded key>.agent`, safe on every common file system.
 *
 *   readable form  a-z 0-9 - _ as they are; every other UTF-8 byte as %XX (upper-case hex).
 *                  Letters only ever appear in lower case, so no two keys differ only in case
 *                  (macOS and Windows compare names case-insensitively); nothing is left to
 *                  Unicode normalisation (macOS), and no '.', '/', '\', ':', space or control
 *                  character reaches the file system. A name that is a Windows device name
 *                  (con, prn, aux, nul, com0-9, lpt0-9) has its first letter escaped.
 *   compact form   when the readable form would pass MAX_NAME bytes: '~' and the key's UTF-8
 *                  bytes in base32 (RFC 4648 alphabet in lower case, no padding).
 *
 * Every key has exactly one name, and a name counts as a key's only if encoding that key gives
 * the name back, so files FileStore did not write (or spelt differently) are never keys.
 * MAX_NAME leaves room for a temporary name's suffix within 255 bytes; keys of up to 139 UTF-8
 * bytes always fit.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkStoreKey } from './store-key.js';

/** What every key's file name ends with. */
export const SUFFIX = '.agent';
/** Longest file name, in bytes (all ASCII): 255 less a temporary name's `.<pid>.<n>.tmp`. */
const MAX_NAME = 230;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;
const HEX = '0123456789ABCDEF';

/** Whether byte b stays as it is in the readable form. */
function plain(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f;
}

function readable(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += plain(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return RESERVED.test(out) ? `%${HEX[out.charCodeAt(0) >> 4]}${HEX[out.charCodeAt(0) & 15]}${out.slice(1)}` : out;
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    for (; bits >= 5; bits -= 5) out += BASE32[(value >> (bits - 5)) & 31];
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}

/**
 * The file name of `key`. InvalidArgumentError for a key that is not a non-empty well-formed
 * string, or whose name would pass MAX_NAME bytes. Cost: O(key length).
 */
export function fileNameOf(key: unknown): string {
  checkStoreKey(key);
  const bytes = new TextEncoder().encode(key as string);
  const name = readable(bytes);
  if (name.length + SUFFIX.length <= MAX_NAME) return name + SUFFIX;
  const compact = `~${base32(bytes)}${SUFFIX}`;
  if (compact.length > MAX_NAME) {
    throw new InvalidArgumentError(
      `key of ${bytes.length} UTF-8 bytes is too long for a file name (${compact.length} > ${MAX_NAME} bytes encoded)`,
    );
  }
  return compact;
}

/** The bytes a readable or compact name spells, or undefined if it spells none. */
function spelled(base: string): Uint8Array | undefined {
  const out: number[] = [];
  if (base.startsWith('~')) {
    let bits = 0;
    let value = 0;
    for (let i = 1; i < base.length; i++) {
      const digit = BASE32.indexOf(base[i]);
      if (digit < 0) return undefined;
      value = ((value << 5) | digit) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((value >> bits) & 0xff);
      }
    }
  } else {
    for (let i = 0; i < base.length; i++) {
      if (base[i] !== '%') {
        out.push(base.charCodeAt(i));
        continue;
      }
      const hi = HEX.indexOf(base[i + 1] ?? '');
      const lo = HEX.indexOf(base[i + 2] ?? '');
      if (hi < 0 || lo < 0) return undefined;
      out.push(hi * 16 + lo);
      i += 2;
    }
  }
  return Uint8Array.from(out);
}

/** The key whose file name is `name`, or undefined for any other file. Cost: O(name length). */
export function keyOfFileName(name: string): string | undefined {
  if (!name.endsWith(SUFFIX) || name.length === SUFFIX.length) return undefined;
  const bytes = spelled(name.slice(0, -SUFFIX.length));
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const key = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return fileNameOf(key) === name ? key : undefined;
  } catch {
    return undefined; // not UTF-8, or a lone surrogate's encoding: not a key FileStore wrote
  }
}
