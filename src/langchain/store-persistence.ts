/**
 * Saving and loading an ElexVectorStore through a byte store (docs/format.md, "LangChain
 * stores"). The index is saved with index.save under the store's name (incremental: checkpoints
 * and log segments, committed by its manifest); the documents go in one record of their own,
 * keyed by the generation of the index save they belong to:
 *
 *   @index/<name>/...                       the index, exactly as VectorIndex.save writes it
 *   @langchain/<name>/<generation>-<token>  the documents record (EXLC) of that index generation
 *
 * A save writes the documents record of generation G + 1 (G: the stored manifest's) first, then
 * saves the index, whose manifest write commits generation G + 1, then deletes the other records.
 * A crash or failure before the commit leaves generation G and its record; after it, G + 1 and
 * its record. A load opens the index, reads which generation it opened, and takes that
 * generation's record, checked against the index's ids: never documents of another state.
 */
import {
  CorruptSnapshotError,
  ElexError,
  StoreError,
  type ByteStore,
  type Engine,
  type SaveOptions,
  type SaveResult,
  type VectorIndex,
} from '../index.js';
import { INDEX_KEY_PREFIX, manifestKey, namePrefix, sameStamp } from '../hnsw/store/keys.js';
import { readManifest, storeCall } from '../hnsw/store/store-io.js';
import { decodeDocumentRecord, encodeDocumentRecord, type DocumentRecord } from './document-record.js';
import type { DocumentTable } from './document-table.js';

/** Every key of a documents record starts with this. */
export const DOCUMENTS_KEY_PREFIX = '@langchain/';

/** Times a load starts over when another writer saved between its reads. */
const ATTEMPTS = 3;

/** The prefix of every documents record of store `name`. */
export function documentsPrefix(name: string): string {
  return DOCUMENTS_KEY_PREFIX + namePrefix(name).slice(INDEX_KEY_PREFIX.length);
}

/**
 * Saves `index` and the documents of `table` to `store` under `name`, atomically together (see
 * the file comment). The caller makes sure neither changes until this settles. Throws what
 * index.save throws (StoreError for a conflicting save or a failing store, StoreQuotaError,
 * InvalidArgumentError); after a failure the store still loads its previous save. Cost: the
 * index save plus one write of every document's bytes, and one keys() listing. With
 * `options.overwrite`, a stored manifest that is not valid is replaced, as index.save does.
 */
export async function saveStore(
  index: VectorIndex,
  table: DocumentTable,
  store: ByteStore,
  name: string,
  options?: SaveOptions,
): Promise<SaveResult> {
  // With overwrite, a manifest that is not valid counts as none, as index.save has it.
  const before = (
    await readManifest(store, name).catch((error: unknown) => {
      if (options?.overwrite === true && error instanceof CorruptSnapshotError) return undefined;
      throw error;
    })
  )?.stamp;
  const generation = (before?.generation ?? 0) + 1;
  const key = await writeRecord(store, name, table, generation);
  let result: SaveResult;
  try {
    result = await index.save(store, name, options);
  } catch (error) {
    // The index kept its previous manifest (or a conflicting writer's): this record is nobody's.
    await store.delete(key).catch(() => undefined);
    throw error;
  }
  let kept = key;
  // A save that found nothing to write keeps the previous generation, whose record stands.
  if (result.generation !== generation)
    kept = result.kind === 'none' ? '' : await writeRecord(store, name, table, result.generation);
  const prefix = documentsPrefix(name);
  const current = kept === '' ? `${prefix}${result.generation}-` : kept;
  const stale = (await storeCall('listing keys failed', () => store.keys())).filter(
    (k) => k.startsWith(prefix) && !k.startsWith(current),
  );
  await Promise.all(stale.map((k) => store.delete(k).catch(() => undefined)));
  return result;
}

async function writeRecord(store: ByteStore, name: string, table: DocumentTable, generation: number): Promise<string> {
  const key = `${documentsPrefix(name)}${generation}-${randomToken().toString(16).padStart(8, '0')}`;
  const bytes = encodeDocumentRecord(table, generation);
  try {
    await store.write(key, bytes);
  } catch (error) {
    await store.delete(key).catch(() => undefined);
    throw error instanceof ElexError ? error : new StoreError(`writing '${key}' failed`, error);
  }
  return key;
}

/**
 * The index and documents saved in `store` under `name`, loaded into `engine`. Throws StoreError
 * when there is none of that name or the store fails, CorruptSnapshotError when the index or its
 * generation's documents record is not valid or they do not match, BudgetExceededError; after a
 * failure nothing stays allocated. Cost: openIndex, plus reading and parsing the record.
 */
export async function loadStore(
  engine: Engine,
  store: ByteStore,
  name: string,
): Promise<{ index: VectorIndex; record: DocumentRecord }> {
  for (let attempt = 1; ; attempt++) {
    const before = (await readManifest(store, name))?.stamp;
    if (before === undefined)
      throw new StoreError(`no vector store named '${name}' in the store (no key '${manifestKey(name)}')`, undefined);
    const index = await engine.openIndex(store, name);
    try {
      const after = (await readManifest(store, name))?.stamp;
      if (!sameStamp(after, before)) {
        if (attempt < ATTEMPTS) {
          index.dispose();
          continue;
        }
        throw new StoreError(`vector store '${name}': another writer kept saving while it was read`, undefined);
      }
      return { index, record: await matchingRecord(store, name, before.generation, index) };
    } catch (error) {
      index.dispose();
      throw error;
    }
  }
}

/** The documents record of `generation` whose keys are exactly the index's live ids. */
async function matchingRecord(
  store: ByteStore,
  name: string,
  generation: number,
  index: VectorIndex,
): Promise<DocumentRecord> {
  const prefix = `${documentsPrefix(name)}${generation}-`;
  const candidates = (await storeCall('listing keys failed', () => store.keys()))
    .filter((k) => k.startsWith(prefix))
    .sort();
  const problems: string[] = [];
  for (const key of candidates) {
    const bytes = await storeCall(`reading '${key}' failed`, () => store.read(key));
    if (bytes === undefined) continue;
    let record: DocumentRecord;
    try {
      record = decodeDocumentRecord(bytes, key);
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    if (record.generation !== generation) problems.push(`'${key}' says generation ${record.generation}`);
    else if (record.docs.length !== index.size || !record.docs.every((d) => index.has(d.key)))
      problems.push(`'${key}' holds other ids than the index`);
    else return record;
  }
  const found = problems.length > 0 ? `: ${problems.join('; ')}` : '';
  throw new CorruptSnapshotError(
    `vector store '${name}': no valid documents record for index generation ${generation} (keys '${prefix}*')${found}`,
  );
}

/** A random u32. */
function randomToken(): number {
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  return crypto ? crypto.getRandomValues(new Uint32Array(1))[0] : Math.floor(Math.random() * 0x100000000);
}
