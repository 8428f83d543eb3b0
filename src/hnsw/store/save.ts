/**
 * VectorIndex.save: writes the index to a byte store under a name, atomically. A save writes
 * one new part under keys no earlier save used, either a checkpoint (the whole index) or a log
 * segment (the operations since the last save), then the manifest naming every part in one
 * atomic write, then deletes what the manifest no longer names. A crash at any point leaves
 * the previous manifest, so the previous state, and leftovers the next save removes.
 */
import { CorruptSnapshotError, InvalidArgumentError, StoreError } from '../../errors.js';
import { checkByteStore, isVersioned, type ByteStore, type StoreVersion } from '../../stores/byte-store.js';
import { checkOptionNames, optionNames } from '../../util/validate.js';
import { checkIndexName, manifestKey, randomToken, SAVE_HOOKS, sameStamp, type SaveHooks, type Stamp } from './keys.js';
import { decodeManifest, encodeManifest, PART_CHECKPOINT, PART_LOG, type Manifest, type Part } from './manifest.js';
import { DEFAULT_LOG_SHARE, type IndexJournal } from './changes.js';
import { encodeLog } from './oplog.js';
import { serialised } from './queue.js';
import {
  deleteKeys,
  highestChunkGeneration,
  partKeys,
  readManifest,
  removeLeftovers,
  storeCall,
  writePart,
} from './store-io.js';

/** What a save reads of an index (a VectorIndex): its sizes, its journal of changes and its snapshot. */
export interface SavedIndex {
  readonly dim: number;
  readonly size: number;
  readonly efSearch: number;
  readonly journal: IndexJournal;
  serializeChunks(): Iterable<Uint8Array>;
}

/** Options of {@link VectorIndex.save}. */
export interface SaveOptions {
  /**
   * Largest chunk (store value) written, in bytes, 1 KiB..1 GiB.
   *
   * @defaultValue `4 MiB`
   */
  chunkBytes?: number;
  /**
   * Log bytes, as a share of the checkpoint's bytes, past which a save writes a new checkpoint
   * instead of another log segment; 0..16, default 0.25. 0: every save writes a checkpoint.
   */
  logShare?: number;
  /**
   * Replace whatever the store holds under the name with a checkpoint of this index, instead of
   * refusing (StoreError) when it is not the state this index was opened from or last saved.
   * Default false.
   */
  overwrite?: boolean;
  /**
   * Write a new generation (an empty log segment and a manifest) even when the index has not
   * changed since its last save there: for callers that commit state of their own under the
   * index's generation (ElexStore's items). Default false: an unchanged index writes nothing.
   */
  force?: boolean;
}

/** What a save did. */
export interface SaveResult {
  /**
   * The generation the store holds now: 1 after the first save under a name, then one more per
   * save that wrote. An overwrite where there is no valid manifest writes one more than the
   * highest generation of the chunks left under the name (1 when none are).
   */
  generation: number;
  /** What it wrote: a checkpoint, a log segment, or nothing (no change since the last save). */
  kind: 'checkpoint' | 'log' | 'none';
  /** Bytes written to the store: chunks and manifest. */
  bytesWritten: number;
}

/** Default chunk size: 4 MiB. */
export const DEFAULT_CHUNK_BYTES = 4 << 20;

const SAVE_OPTIONS = optionNames<SaveOptions>({ chunkBytes: true, logShare: true, overwrite: true, force: true });

interface Resolved {
  chunkBytes: number;
  logShare: number;
  overwrite: boolean;
  force: boolean;
}

function resolveSaveOptions(options: SaveOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('save options must be an object');
  checkOptionNames('save', options, SAVE_OPTIONS);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const logShare = options.logShare ?? DEFAULT_LOG_SHARE;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1024 || chunkBytes > 1 << 30) {
    throw new InvalidArgumentError(`chunkBytes must be an integer in 1024..${1 << 30}, got ${String(chunkBytes)}`);
  }
  if (typeof logShare !== 'number' || !(logShare >= 0 && logShare <= 16))
    throw new InvalidArgumentError(`logShare must be a number in 0..16, got ${String(logShare)}`);
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean')
    throw new InvalidArgumentError('overwrite must be a boolean');
  if (options.force !== undefined && typeof options.force !== 'boolean')
    throw new InvalidArgumentError('force must be a boolean');
  return { chunkBytes, logShare, overwrite: options.overwrite ?? false, force: options.force ?? false };
}

/**
 * The checkpoint of `index` as byte pieces, in order; their concatenation is an EXIX snapshot
 * (what openIndex's loadCheckpoint reads). The one place a streaming form is swapped in.
 * Cost: O(size), one copy of the index in host memory.
 */
function checkpointPieces(index: SavedIndex): Uint8Array[] {
  return [...index.serializeChunks()];
}

/**
 * Saves `index` to `store` under `name` (see the file comment), as it is when the save starts:
 * at the call, or after the saves of that name queued before it. Throws InvalidArgumentError
 * (bad store, name, options), StoreError E_STORE when the store holds another state than the
 * one this index was opened from or last saved there (unless `overwrite`), the store's error
 * (StoreQuotaError stays typed), CorruptSnapshotError for a stored manifest that is not valid
 * (unless `overwrite`); after any failure the store still holds the previous save. Cost: a
 * checkpoint serialises and writes the index (O(size)); a log segment writes the operations
 * since the last save (O(their vectors)); both write the manifest (O(chunks)).
 */
export async function saveIndex(
  index: SavedIndex,
  store: ByteStore,
  name: string,
  options: SaveOptions = {},
): Promise<SaveResult> {
  checkByteStore(store);
  checkIndexName(name);
  const o = resolveSaveOptions(options);
  const hooks = (options as { [SAVE_HOOKS]?: SaveHooks })[SAVE_HOOKS];
  return serialised(store, name, () => save(index, store, name, o, hooks));
}

async function save(
  index: SavedIndex,
  store: ByteStore,
  name: string,
  o: Resolved,
  hooks: SaveHooks | undefined,
): Promise<SaveResult> {
  // Everything up to the first await runs at once: the state saved is the index's now.
  const size = index.size;
  const efSearch = index.efSearch;
  const existing = index.journal.binding(store, name);
  if (
    existing !== undefined &&
    !o.overwrite &&
    !o.force &&
    existing.idle &&
    existing.doubts.length === 0 &&
    efSearch === existing.manifest?.efSearch
  ) {
    // Unchanged since its last save there: nothing to write, whatever logShare says.
    await current(store, name, existing.manifest, false);
    return { generation: existing.manifest!.stamp.generation, kind: 'none', bytesWritten: 0 };
  }
  const checkpoint = o.overwrite || existing === undefined || existing.needsCheckpoint(o.logShare);
  const snapshot = checkpoint ? checkpointPieces(index) : undefined;
  // Through a store this index has not saved `name` to yet (or only in saves that failed), what
  // it saved or opened there through another store object (a copy) is no conflict.
  const known = existing?.manifest === undefined ? index.journal.stamps(name) : [];
  const binding = existing ?? index.journal.binding(store, name, true);
  const doubts = binding.doubts;
  const pending = snapshot
    ? binding.takeCheckpoint(
        snapshot.reduce((n, p) => n + p.length, 0),
        o.logShare,
      )
    : binding.takeLog();
  let manifest: Manifest;
  let manifestBytes: number;
  let pieces: Uint8Array[];
  try {
    const { manifest: stored } = await current(store, name, binding.manifest, o.overwrite, [
      ...known,
      ...doubts.map((d) => d.manifest.stamp),
    ]);
    // Earlier saves could not tell whether their manifests landed: the store says now. Those
    // that have not may still (until a save commits over their base), so they are kept.
    const landed = doubts.find((d) => sameStamp(stored?.stamp, d.manifest.stamp));
    if (landed !== undefined) binding.landed(landed, pending, o.logShare);
    const base = binding.manifest;
    pieces = snapshot ?? [encodeLog(pending.ops, index.dim)];
    // Overwritten where there is no valid manifest: above every chunk left under the name, so the
    // next saves remove them (removeLeftovers spares later generations).
    const generation = stored?.stamp.generation ?? (o.overwrite ? await highestChunkGeneration(store, name) : 0);
    const stamp = { generation: generation + 1, token: randomToken() };
    await hooks?.beforeCommit?.(stamp.generation);
    const part = await writePart(store, name, stamp, checkpoint ? PART_CHECKPOINT : PART_LOG, pieces, o.chunkBytes);
    // Checked again last thing before the commit: another process may have saved meanwhile.
    // A versioned store commits only over the manifest version read here (compare and swap).
    const { version } = await current(store, name, stored, o.overwrite).catch(async (error: unknown) => {
      await deleteKeys(store, partKeys(name, part));
      throw error;
    });
    manifest = { stamp, efSearch, dim: index.dim, size, parts: checkpoint ? [part] : [...base!.parts, part] };
    const written = manifest;
    manifestBytes = await writeManifest(store, name, manifest, part, version, stored, () => {
      binding.unsure({ manifest: written, pending });
      if (hooks !== undefined) hooks.unsure = true;
    });
  } catch (error) {
    binding.failed(pending);
    throw error;
  }
  binding.committed(pending, manifest, o.logShare);
  await removeLeftovers(store, name, manifest);
  const bytesWritten = pieces.reduce((n, p) => n + p.length, manifestBytes);
  return { generation: manifest.stamp.generation, kind: checkpoint ? 'checkpoint' : 'log', bytesWritten };
}

/**
 * The stored manifest, checked to be `expected` (what this index last wrote or read there, or
 * what this save read at its start) or to carry one of the `known` stamps: StoreError naming
 * the conflict otherwise. With `overwrite` anything goes, and a manifest that is not valid
 * counts as none. Also its version on a versioned store (undefined on a plain one).
 */
async function current(
  store: ByteStore,
  name: string,
  expected: Manifest | undefined,
  overwrite: boolean,
  known: Stamp[] = [],
): Promise<{ manifest: Manifest | undefined; version: StoreVersion | null | undefined }> {
  const key = manifestKey(name);
  const what = `reading '${key}' failed`;
  const { bytes, version } = isVersioned(store)
    ? await storeCall(what, () => store.readVersioned(key))
    : { bytes: await storeCall(what, () => store.read(key)), version: undefined };
  let stored: Manifest | undefined;
  try {
    stored = bytes === undefined ? undefined : decodeManifest(bytes, key);
  } catch (error) {
    // Replaced (over the version read, on a versioned store) as if there were none.
    if (overwrite && error instanceof CorruptSnapshotError) return { manifest: undefined, version };
    throw error;
  }
  if (overwrite || sameStamp(stored?.stamp, expected?.stamp) || known.some((s) => sameStamp(s, stored?.stamp)))
    return { manifest: stored, version };
  throw conflict(name, stored, expected);
}

/** The StoreError of a save finding `stored` where it expected `expected`. */
function conflict(name: string, stored: Manifest | undefined, expected: Manifest | undefined): StoreError {
  const fix = 'open it again, or save with { overwrite: true } to replace it';
  const key = manifestKey(name);
  if (stored === undefined) {
    return new StoreError(
      `index '${name}': the store no longer holds '${key}' (generation ${expected!.stamp.generation}, which this index was opened from or last saved); save with { overwrite: true } to write it anew`,
      undefined,
    );
  }
  if (expected === undefined) {
    return new StoreError(
      `index '${name}': the store already holds an index under this name (generation ${stored.stamp.generation}) that this index was not opened from; ${fix}`,
      undefined,
    );
  }
  return new StoreError(
    `index '${name}': conflicting saves: the store holds generation ${stored.stamp.generation}, written by another index since this one opened or saved generation ${expected.stamp.generation}; ${fix}`,
    undefined,
  );
}

/**
 * Writes the manifest and returns its size.
 *
 * On a versioned store (`version` read by the last check, not undefined) the write is
 * conditional on that version: refused, another writer committed in between, so this save's
 * chunks are deleted and the conflict thrown (`base`: what the save expected). If the write
 * rejects, its outcome may be unknown, and such a write can still land later, though only over
 * the version it expected, so before any later save of the name commits: the chunks stay (a
 * later save removes them once they are not named) and `unsure` runs, unless the read-back
 * already shows the manifest.
 *
 * On a plain store, if the write fails, finds out whether it landed anyway: if so the save
 * stands; if the store still holds the previous manifest, this save's chunks are deleted and
 * the error thrown; if that cannot be told (the read-back fails too), `unsure` runs (the next
 * save reads which manifest the store holds and carries on from it) and the chunks stay for a
 * later save to remove.
 */
async function writeManifest(
  store: ByteStore,
  name: string,
  manifest: Manifest,
  part: Part,
  version: StoreVersion | null | undefined,
  base: Manifest | undefined,
  unsure: () => void,
): Promise<number> {
  const key = manifestKey(name);
  const bytes = encodeManifest(manifest);
  const conditional = version !== undefined && isVersioned(store);
  let refused = false;
  try {
    if (!conditional) await storeCall(`writing '${key}' failed`, () => store.write(key, bytes));
    else {
      const result = await storeCall(`writing '${key}' failed`, () => store.writeIfVersion(key, bytes, version));
      // Refused, but the store cannot tell whether an attempt of it landed: as a write that threw.
      if (result.uncertain === true)
        throw new StoreError(`index '${name}': the store cannot tell whether '${key}' was written`, undefined);
      refused = !result.ok;
    }
  } catch (error) {
    const now = await readManifest(store, name).then(
      (m) => m ?? null,
      () => undefined,
    );
    if (now !== undefined && now !== null && sameStamp(now.stamp, manifest.stamp)) return bytes.length;
    if (now !== undefined && !conditional) await deleteKeys(store, partKeys(name, part));
    else unsure();
    throw error;
  }
  if (refused) {
    await deleteKeys(store, partKeys(name, part));
    const now = await readManifest(store, name).catch(() => null);
    throw now === null || (now === undefined && base === undefined)
      ? new StoreError(
          `index '${name}': conflicting saves: another save wrote '${key}' since this one read it`,
          undefined,
        )
      : conflict(name, now, base);
  }
  return bytes.length;
}
