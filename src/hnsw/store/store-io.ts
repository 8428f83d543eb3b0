/**
 * Reading and writing an index's keys in a byte store: parts as checksummed chunks, the
 * manifest, and the removal of keys no manifest names. A store's own ElexError (StoreError,
 * StoreQuotaError) passes through typed; anything else it throws becomes a StoreError.
 */
import { concatArrays } from '../../util/concat.js';
import { crc32 } from '../../util/crc32.js';
import { CorruptSnapshotError, ElexError, StoreError } from '../../errors.js';
import type { ByteStore } from '../../stores/byte-store.js';
import { chunkKey, keyGeneration, manifestKey, namePrefix, sameStamp, type Stamp } from './keys.js';
import { decodeManifest, type ChunkRef, type Manifest, type Part } from './manifest.js';

/** Runs a store call, turning a foreign error into StoreError(`what`). */
export async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof ElexError ? error : new StoreError(what, error);
  }
}

/** The manifest of `name`, or undefined if there is none; CorruptSnapshotError if it is not valid. Cost: one read. */
export async function readManifest(store: ByteStore, name: string): Promise<Manifest | undefined> {
  const key = manifestKey(name);
  const bytes = await storeCall(`reading '${key}' failed`, () => store.read(key));
  return bytes === undefined ? undefined : decodeManifest(bytes, key);
}

/** The store keys of a part's chunks, in order. */
export function partKeys(name: string, part: Part): string[] {
  return part.chunks.map((_, i) => chunkKey(name, part.stamp, i));
}

/**
 * Writes `pieces` (in order) as chunks of at most `chunkBytes` under the keys of `stamp` and
 * returns the part. If a write fails, removes the chunks it wrote (as far as the store lets
 * it) and throws the store's error. Cost: one store write per chunk.
 */
export async function writePart(
  store: ByteStore,
  name: string,
  stamp: Stamp,
  kind: Part['kind'],
  pieces: readonly Uint8Array[],
  chunkBytes: number,
): Promise<Part> {
  const part: Part = { stamp, kind, chunks: [] };
  try {
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; at += chunkBytes) {
        const chunk = piece.subarray(at, Math.min(at + chunkBytes, piece.length));
        const key = chunkKey(name, stamp, part.chunks.length);
        const ref: ChunkRef = { length: chunk.length, crc: crc32(chunk) };
        part.chunks.push(ref);
        await storeCall(`writing '${key}' failed`, () => store.write(key, chunk));
      }
    }
  } catch (error) {
    await deleteKeys(store, partKeys(name, part));
    throw error;
  }
  return part;
}

/**
 * The bytes of `part` (a fresh buffer, so 4-byte aligned), each chunk checked against its
 * length and CRC-32 in the manifest (CorruptSnapshotError naming the key), or `{ missing }`
 * naming the first chunk the store does not hold. Cost: one store read per chunk.
 */
export async function readPart(store: ByteStore, name: string, part: Part): Promise<Uint8Array | { missing: string }> {
  const keys = partKeys(name, part);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const bytes = await storeCall(`reading '${key}' failed`, () => store.read(key));
    if (bytes === undefined) return { missing: key };
    const ref = part.chunks[i];
    if (bytes.length !== ref.length)
      throw new CorruptSnapshotError(
        `index store: chunk '${key}' holds ${bytes.length} bytes, the manifest says ${ref.length}`,
      );
    if (crc32(bytes) !== ref.crc)
      throw new CorruptSnapshotError(`index store: chunk '${key}' does not match its checksum`);
    chunks.push(bytes);
  }
  return concatArrays(chunks, (n) => new Uint8Array(n));
}

/** Deletes `keys`, ignoring failures (what stays is removed by a later save). */
export async function deleteKeys(store: ByteStore, keys: readonly string[]): Promise<void> {
  for (const key of keys) await storeCall('', () => store.delete(key)).catch(() => undefined);
}

/**
 * Deletes the keys of index `name` that `manifest` does not name and that no later save can
 * name: the parts of earlier saves and what interrupted or refused saves left, of generations
 * up to the manifest's. A chunk of a later generation belongs to a save still writing (another
 * process's, built on this manifest): it stays. Runs only while the store still holds
 * `manifest`. Failures are ignored (a later save retries). Cost: one read, one keys() and one
 * delete per leftover.
 */
export async function removeLeftovers(store: ByteStore, name: string, manifest: Manifest): Promise<void> {
  const now = await readManifest(store, name).catch(() => undefined);
  if (!sameStamp(now?.stamp, manifest.stamp)) return;
  const prefix = namePrefix(name);
  const named = new Set([manifestKey(name), ...manifest.parts.flatMap((p) => partKeys(name, p))]);
  const all = await storeCall('', () => store.keys()).catch(() => [] as string[]);
  await deleteKeys(
    store,
    all.filter(
      (k) =>
        k.startsWith(prefix) &&
        !named.has(k) &&
        !((keyGeneration(k.slice(prefix.length), true) ?? 0) > manifest.stamp.generation),
    ),
  );
}

/**
 * The highest generation of a chunk left under index `name` (0 if none, or if the keys cannot
 * be listed). Cost: one keys().
 */
export async function highestChunkGeneration(store: ByteStore, name: string): Promise<number> {
  const prefix = namePrefix(name);
  const all = await storeCall('', () => store.keys()).catch(() => [] as string[]);
  return all.reduce(
    (most, k) => (k.startsWith(prefix) ? Math.max(most, keyGeneration(k.slice(prefix.length), true) ?? 0) : most),
    0,
  );
}
