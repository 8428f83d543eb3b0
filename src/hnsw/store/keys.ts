/**
 * Where a saved index lives in a byte store (docs/format.md, "Index stores"):
 *
 *   @index/<name>/manifest          the manifest: which parts make up the index (EXIM)
 *   @index/<name>/<stamp>/<i>       chunk i of the part written by the save stamped <stamp>
 *
 * <name> is the caller's name with '%' and '/' percent-encoded, so one name's keys never
 * start with another name's prefix; <stamp> is `<generation>-<token as 8 hex digits>`, unique
 * to each save. Agent caches write keys equal to agent ids, which must not start with '@index/'.
 */
import { InvalidArgumentError } from '../../errors.js';
import { utf8Length } from '../../stores/store-key.js';

/** Every index key starts with this; agent ids must not. */
export const INDEX_KEY_PREFIX = '@index/';
/** Longest index name accepted, in UTF-16 code units (a character outside the BMP counts 2). */
export const MAX_INDEX_NAME = 100;

/**
 * Throws InvalidArgumentError unless `name` is a string of 1..MAX_INDEX_NAME UTF-16 code units
 * without a lone surrogate (no store could keep its keys). Cost: O(length).
 */
export function checkIndexName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_INDEX_NAME || utf8Length(name) < 0) {
    throw new InvalidArgumentError(
      `an index name must be a string of 1..${MAX_INDEX_NAME} UTF-16 code units without a lone surrogate, got ${typeof name === 'string' ? JSON.stringify(name) : String(name)}`,
    );
  }
  return name;
}

/** The prefix every key of index `name` starts with. Cost: O(name). */
export function namePrefix(name: string): string {
  return `${INDEX_KEY_PREFIX}${name.replace(/%/g, '%25').replace(/\//g, '%2F')}/`;
}

/** The key of index `name`'s manifest. */
export function manifestKey(name: string): string {
  return `${namePrefix(name)}manifest`;
}

/** Identifies one save: its generation (1, 2, ...) and a random token. */
export interface Stamp {
  generation: number;
  token: number;
}

/** Whether two stamps (or their absence) are the same save. */
export function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.generation === b.generation && a.token === b.token);
}

/** A save's stamp as keys hold it: `<generation>-<token, 8 hex digits>`. */
export function stampText(stamp: Stamp): string {
  return `${stamp.generation}-${stamp.token.toString(16).padStart(8, '0')}`;
}

/** The key of chunk `i` of the part written by the save `stamp` of index `name`. */
export function chunkKey(name: string, stamp: Stamp, i: number): string {
  return `${namePrefix(name)}${stampText(stamp)}/${i}`;
}

/**
 * The generation in `rest`, a key past its prefix: `<stampText>/<i>` (a chunk) or, not
 * `chunked`, `<stampText>` (a record beside the index); undefined for any other key.
 */
export function keyGeneration(rest: string, chunked: boolean): number | undefined {
  const m = (chunked ? /^(\d+)-[0-9a-f]{8}\/\d+$/ : /^(\d+)-[0-9a-f]{8}$/).exec(rest);
  return m === null ? undefined : Number(m[1]);
}

/** A random u32, unique to a save with near certainty. */
export function randomToken(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  return crypto ? crypto.getRandomValues(new Uint32Array(1))[0] : Math.floor(Math.random() * 0x100000000);
}

/**
 * @internal The options key (a registered symbol: the same in every bundle) under which
 * saveWithSidecar hooks into an index save, and what it holds.
 */
export const SAVE_HOOKS: unique symbol = Symbol.for('elex-wasm.indexSaveHooks') as never;

/** @internal See {@link SAVE_HOOKS}. */
export interface SaveHooks {
  /** Runs once the save has chosen its generation, before it writes anything; a rejection fails the save. */
  beforeCommit?(generation: number): Promise<void>;
  /** Set by the save when its manifest write failed without the store telling whether it landed. */
  unsure?: boolean;
}
