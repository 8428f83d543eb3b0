/**
 * An index saved together with a record of the caller's own (a sidecar: the documents of an
 * ElexVectorStore, the items of an ElexStore), atomically, through a byte store
 * (docs/format.md, "LangChain stores" and "LangGraph stores"). The index is saved with
 * index.save under the name (incremental: checkpoints and log segments, committed by its
 * manifest); the record goes in one store value of its own, keyed by the generation of the
 * index save it belongs to:
 *
 *   @index/<name>/...                   the index, exactly as VectorIndex.save writes it
 *   <prefix><name>/<generation>-<token> the record of that index generation
 *
 * A save writes the record of the generation its index save chooses (G + 1, G: the stored
 * manifest's) before that save writes anything, then the index save commits generation G + 1
 * with its manifest write, then the records of earlier generations are deleted (a later
 * generation's record belongs to another writer's save under way). A crash or failure before
 * the commit leaves generation G and its record; after it, G + 1 and its record. A failed save
 * deletes its record unless its manifest write may still land. A load opens the index, reads
 * which generation it opened, and takes that generation's record, checked against the index:
 * never a record of another state.
 */
import { CorruptSnapshotError, ElexError, StoreError } from '../../errors.js';
import type { ByteStore } from '../../stores/byte-store.js';
import type { VectorIndex } from '../vector-index.js';
import {
  INDEX_KEY_PREFIX,
  keyGeneration,
  manifestKey,
  namePrefix,
  randomToken,
  SAVE_HOOKS,
  sameStamp,
  type SaveHooks,
  stampText,
} from './keys.js';
import type { SaveOptions, SaveResult } from './save.js';
import { readManifest, storeCall } from './store-io.js';

/** How a kind of sidecar record is written, read and matched to its index. */
export interface Sidecar<R> {
  /** Every key of such a record starts with this (e.g. '@langchain/'). */
  keyPrefix: string;
  /** What a save of this kind is called in messages (e.g. 'vector store'). */
  kind: string;
  /** The record to save with index generation `generation`. */
  encode(generation: number): Uint8Array;
  /** The record in `bytes` (stored under `key`); CorruptSnapshotError when it is not valid. */
  decode(bytes: Uint8Array, key: string): R & { generation: number };
  /** Why `record` does not belong to `index`, or undefined when it does. */
  mismatch(record: R, index: VectorIndex): string | undefined;
  /** Keys of earlier records the record being saved refers to: a save keeps them (default none). */
  keep?(): readonly string[];
  /**
   * Completes a decoded record (stored under `key`, `bytes` long) that refers to earlier ones (a
   * delta), reading them with `read`; CorruptSnapshotError when one is missing or not valid.
   */
  resolve?(record: R, key: string, bytes: number, read: (key: string) => Promise<Uint8Array | undefined>): Promise<R>;
}

/** Times a load starts over when another writer saved between its reads. */
const ATTEMPTS = 3;

/** The prefix of every record of `sidecar` under store name `name`. */
export function sidecarPrefix(keyPrefix: string, name: string): string {
  return keyPrefix + namePrefix(name).slice(INDEX_KEY_PREFIX.length);
}

/**
 * Saves `index` and `sidecar`'s record to `store` under `name`, atomically together (see the
 * file comment). The caller makes sure neither changes until this settles. With `changed`, an
 * index with nothing new still commits a new generation (the record changed). Throws what
 * index.save throws (StoreError for a conflicting save or a failing store, StoreQuotaError,
 * InvalidArgumentError); after a failure the store still loads its previous save. Cost: the
 * index save plus one write of the record, and one keys() listing. With `options.overwrite`, a
 * stored manifest that is not valid is replaced, as index.save does. Returns what the index
 * save did, and the key of the record of the generation the store holds now.
 */
export async function saveWithSidecar<R>(
  index: VectorIndex,
  sidecar: Sidecar<R>,
  store: ByteStore,
  name: string,
  options: SaveOptions = {},
  changed = false,
): Promise<{ result: SaveResult; recordKey: string }> {
  // The record goes in once the index save has chosen its generation, before it writes anything.
  let key: string | undefined;
  const hooks: SaveHooks = {
    beforeCommit: async (generation) => {
      key = await writeRecord(store, name, sidecar, generation);
    },
  };
  let result: SaveResult;
  try {
    const withHooks = { ...options, ...(changed && { force: true }), [SAVE_HOOKS]: hooks } as SaveOptions;
    result = await index.save(store, name, withHooks);
  } catch (error) {
    // The index kept its previous manifest (or a conflicting writer's): this record is nobody's,
    // unless the manifest write may still land (a later save sweeps it otherwise).
    if (key !== undefined && hooks.unsure !== true) await store.delete(key).catch(() => undefined);
    throw error;
  }
  // A save that found nothing to write keeps the previous generation, whose record stands.
  const kept = result.kind === 'none' ? '' : key!;
  const prefix = sidecarPrefix(sidecar.keyPrefix, name);
  const keep = new Set(sidecar.keep?.() ?? []);
  if (kept !== '') keep.add(kept);
  const stale = (await storeCall('listing keys failed', () => store.keys())).filter(
    (k) =>
      k.startsWith(prefix) &&
      !keep.has(k) &&
      (keyGeneration(k.slice(prefix.length), false) ?? 0) <= result.generation - (kept === '' ? 1 : 0),
  );
  await Promise.all(stale.map((k) => store.delete(k).catch(() => undefined)));
  return { result, recordKey: kept };
}

async function writeRecord<R>(
  store: ByteStore,
  name: string,
  sidecar: Sidecar<R>,
  generation: number,
): Promise<string> {
  const key = `${sidecarPrefix(sidecar.keyPrefix, name)}${stampText({ generation, token: randomToken() })}`;
  const bytes = sidecar.encode(generation);
  try {
    await store.write(key, bytes);
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error instanceof ElexError ? error : new StoreError(`writing '${key}' failed`, error);
  }
  return key;
}

/**
 * The index and record saved in `store` under `name`, the index opened by `open`. Throws
 * StoreError when there is none of that name or the store fails, CorruptSnapshotError when the
 * index or its generation's record is not valid or they do not match, BudgetExceededError;
 * after a failure nothing stays allocated. Cost: openIndex, plus reading and parsing the record.
 */
export async function loadWithSidecar<R>(
  open: (store: ByteStore, name: string) => Promise<VectorIndex>,
  sidecar: Sidecar<R>,
  store: ByteStore,
  name: string,
): Promise<{ index: VectorIndex; record: R }> {
  for (let attempt = 1; ; attempt++) {
    const before = (await readManifest(store, name))?.stamp;
    if (before === undefined)
      throw new StoreError(
        `no ${sidecar.kind} named '${name}' in the store (no key '${manifestKey(name)}')`,
        undefined,
      );
    const index = await open(store, name);
    try {
      const after = (await readManifest(store, name))?.stamp;
      if (!sameStamp(after, before)) {
        if (attempt < ATTEMPTS) {
          index.dispose();
          continue;
        }
        throw new StoreError(`${sidecar.kind} '${name}': another writer kept saving while it was read`, undefined);
      }
      return { index, record: await matchingRecord(store, name, sidecar, before.generation, index) };
    } catch (error) {
      index.dispose();
      throw error;
    }
  }
}

/** The record of `generation` that belongs to the index. */
async function matchingRecord<R>(
  store: ByteStore,
  name: string,
  sidecar: Sidecar<R>,
  generation: number,
  index: VectorIndex,
): Promise<R> {
  const prefix = `${sidecarPrefix(sidecar.keyPrefix, name)}${generation}-`;
  const candidates = (await storeCall('listing keys failed', () => store.keys()))
    .filter((k) => k.startsWith(prefix))
    .sort();
  const problems: string[] = [];
  for (const key of candidates) {
    const bytes = await storeCall(`reading '${key}' failed`, () => store.read(key));
    if (bytes === undefined) continue;
    let record: R & { generation: number };
    try {
      record = sidecar.decode(bytes, key);
      if (record.generation === generation && sidecar.resolve) {
        const read = (k: string) => storeCall(`reading '${k}' failed`, () => store.read(k));
        record = { ...(await sidecar.resolve(record, key, bytes.length, read)), generation };
      }
    } catch (error) {
      if (!(error instanceof CorruptSnapshotError)) throw error;
      problems.push((error as Error).message);
      continue;
    }
    const mismatch =
      record.generation !== generation ? `says generation ${record.generation}` : sidecar.mismatch(record, index);
    if (mismatch === undefined) return record;
    problems.push(`'${key}' ${mismatch}`);
  }
  const found = problems.length > 0 ? `: ${problems.join('; ')}` : '';
  throw new CorruptSnapshotError(
    `${sidecar.kind} '${name}': no valid record for index generation ${generation} (keys '${prefix}*')${found}`,
  );
}
