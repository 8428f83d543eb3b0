/**
 * Engine.openIndex: reads the manifest of a saved index, the chunks it names (each checked
 * against its length and CRC-32), loads the checkpoint and replays the log segments in order.
 * Keys the manifest does not name (an interrupted save's chunks) are never read.
 */
import {
  BudgetExceededError,
  CorruptSnapshotError,
  DimensionMismatchError,
  InvalidArgumentError,
  InvalidVectorError,
  StoreError,
} from '../../errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import { checkByteStore, type ByteStore } from '../../stores/byte-store.js';
import { loadIndex } from '../load.js';
import type { Attributes } from '../attributes.js';
import type { VectorIndex } from '../vector-index.js';
import { checkIndexName, manifestKey, sameStamp } from './keys.js';
import type { Manifest } from './manifest.js';
import { decodeLog, type Op } from './oplog.js';
import { serialised } from './queue.js';
import { partKeys, readManifest, readPart } from './store-io.js';

/**
 * Times a read starts over when a chunk vanished because another writer saved meanwhile (each
 * time the store moved on: another save committed); then StoreError, not a corrupt store.
 */
const ATTEMPTS = 16;

/**
 * An index rebuilt from a checkpoint's bytes (an EXIX snapshot, what save's checkpointPieces
 * wrote): the one place a streaming loader is swapped in. Cost: O(bytes).
 */
function loadCheckpoint(rt: Runtime, bytes: Uint8Array): VectorIndex {
  return loadIndex(rt, bytes);
}

/**
 * The index saved in `store` under `name`: same ids, vectors, graph, efSearch and level
 * generator as when it was saved, so the same answers and the same later growth; a later
 * save of it writes only what changed. Throws InvalidArgumentError (bad store or name),
 * StoreError E_STORE when there is no index of that name or the store fails,
 * CorruptSnapshotError E_CORRUPT naming the key of a manifest or chunk that is not valid,
 * BudgetExceededError; after a failure nothing stays allocated in the engine. Cost: reads the
 * named chunks, O(bytes) to load the checkpoint, plus linking each logged add to the neighbours
 * it recorded (no search; a version-1 log searches, as an add does).
 */
export async function openIndex(rt: Runtime, store: ByteStore, name: string): Promise<VectorIndex> {
  checkByteStore(store);
  checkIndexName(name);
  return serialised(store, name, async () => {
    for (let attempt = 1; ; attempt++) {
      const manifest = await readManifest(store, name);
      if (manifest === undefined)
        throw new StoreError(`no index named '${name}' in the store (no key '${manifestKey(name)}')`, undefined);
      const parts: Uint8Array[] = [];
      for (const part of manifest.parts) {
        const bytes = await readPart(store, name, part);
        if (!(bytes instanceof Uint8Array)) {
          // Another writer may have saved and removed this part meanwhile: then read its state.
          const now = await readManifest(store, name);
          if (now !== undefined && !sameStamp(now.stamp, manifest.stamp)) {
            if (attempt < ATTEMPTS) break;
            throw new StoreError(
              `index '${name}': other writers kept saving while it was opened (${ATTEMPTS} attempts)`,
              undefined,
            );
          }
          throw new CorruptSnapshotError(
            `index store: chunk '${bytes.missing}' named by '${manifestKey(name)}' is missing`,
          );
        }
        parts.push(bytes);
      }
      if (parts.length < manifest.parts.length) continue;
      const index = rebuild(rt, name, manifest, parts);
      index.journal.binding(store, name, true).opened(manifest);
      return index;
    }
  });
}

/** Loads the checkpoint and replays the logs; on any failure disposes what it built and throws. */
function rebuild(rt: Runtime, name: string, manifest: Manifest, parts: Uint8Array[]): VectorIndex {
  const what = (p: number): string => {
    const keys = partKeys(name, manifest.parts[p]);
    return keys.length === 1 ? `'${keys[0]}'` : `'${keys[0]}' (+${keys.length - 1} chunks)`;
  };
  const corrupt = (why: string): CorruptSnapshotError => new CorruptSnapshotError(`index store: ${why}`);
  let index: VectorIndex;
  try {
    index = loadCheckpoint(rt, parts[0]);
  } catch (error) {
    throw error instanceof CorruptSnapshotError
      ? corrupt(`the checkpoint ${what(0)} is not valid: ${error.message}`)
      : error;
  }
  try {
    const key = manifestKey(name);
    if (index.dim !== manifest.dim)
      throw corrupt(`'${key}' says dim ${manifest.dim}, the checkpoint ${what(0)} has ${index.dim}`);
    for (let p = 1; p < parts.length; p++) {
      const ops = decodeLog(parts[p], index.dim, what(p));
      try {
        replay(index, ops);
      } catch (error) {
        throw isInvalidInput(error)
          ? corrupt(`the log segment ${what(p)} does not replay: ${(error as Error).message}`)
          : error;
      }
    }
    if (index.size !== manifest.size) throw corrupt(`'${key}' says ${manifest.size} ids, its parts hold ${index.size}`);
    try {
      index.efSearch = manifest.efSearch;
    } catch (error) {
      throw isInvalidInput(error) ? corrupt(`'${key}' has efSearch ${manifest.efSearch}`) : error;
    }
  } catch (error) {
    index.dispose();
    // Out of budget, the staging blocks the replay grew lie above the index's freed blocks and
    // would keep the engine's claimed room (reservedBytes) at the failed open's high-water
    // mark: given back too (all of them, so usedBytes may end below what it was).
    if (error instanceof BudgetExceededError) rt.run('openIndex', () => rt.exports.stagingRelease());
    throw error;
  }
  return index;
}

/** Whether `error` says an operation's input was bad (which, replaying checked bytes, means they are corrupt). */
function isInvalidInput(error: unknown): boolean {
  return (
    error instanceof InvalidVectorError ||
    error instanceof DimensionMismatchError ||
    error instanceof InvalidArgumentError ||
    error instanceof CorruptSnapshotError
  );
}

/**
 * Applies logged operations in order: an add with its trace links the recorded neighbours, one
 * without (a version-1 segment) searches for them; a remove must find its id, as it did when
 * it was logged.
 */
function replay(index: VectorIndex, ops: Op[]): void {
  for (const op of ops) {
    if (op.kind === 'add') {
      if (op.links === undefined) index.addBatch(op.ids, op.vectors);
      else index.replayAdd(op.ids, op.vectors, op.links);
    } else if (op.kind === 'attributes') {
      let attributes: unknown;
      try {
        attributes = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(op.json));
      } catch {
        throw new CorruptSnapshotError(`the attributes of id ${op.id} are not UTF-8 JSON`);
      }
      if (!index.setAttributes(op.id, attributes as Attributes))
        throw new CorruptSnapshotError(`it sets the attributes of id ${op.id}, which is not there`);
    } else if (!index.remove(op.id)) throw new CorruptSnapshotError(`it removes id ${op.id}, which is not there`);
  }
}
