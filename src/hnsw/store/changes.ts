/**
 * What an index remembers about the places it was saved to or opened from, in host memory (not
 * the engine's budget): per (store, name) a Binding holding the manifest it last wrote or read
 * and the operations since then, exactly as they succeeded and in order, for the next save's
 * log segment. A binding records at most its log limit (a share of its checkpoint's size):
 * past that the next save writes a checkpoint anyway, so it drops the operations and only
 * remembers that it must.
 */
import type { ByteStore } from '../../stores/byte-store.js';
import type { Stamp } from './keys.js';
import { partBytes, type Manifest } from './manifest.js';
import { EMPTY_LOG_BYTES, REMOVE_BYTES, addBytes, type Op } from './oplog.js';

/** Default share of the checkpoint's bytes the log may reach before a save writes a checkpoint. */
export const DEFAULT_LOG_SHARE = 0.25;

/** Log bytes a binding records at most: the larger of the last save's logShare and the default, of the checkpoint. */
function recordLimit(logShare: number, checkpointBytes: number): number {
  return Math.max(logShare, DEFAULT_LOG_SHARE) * checkpointBytes;
}

/** The operations a save took from a binding, to drop once the save has committed. */
export interface Pending {
  /** Whether the save writes a checkpoint (else a log segment of `ops`). */
  checkpoint: boolean;
  ops: Op[];
  bytes: number;
  epoch: number;
}

/** One index's view of one (store, name). */
export class Binding {
  /** The manifest this index last wrote or read there; undefined before its first save commits. */
  manifest: Manifest | undefined = undefined;
  private ops: Op[] = [];
  private opsBytes = 0;
  /** Operations were dropped (or a save failed after taking them): the next save writes a checkpoint. */
  private overflow = true;
  /** Bumped whenever operations are dropped, so a save knows whether the ones it took are still there. */
  private epoch = 0;
  private checkpointBytes = 0;
  private logBytes = 0;
  private logLimit = 0;

  /**
   * Records the operation `op()` makes (of `bytes` log bytes), or drops everything once the log
   * would pass its limit. Cost: O(1), plus making the op once for all bindings.
   */
  record(bytes: number, op: () => Op): void {
    if (this.overflow) return;
    if (this.logBytes + this.opsBytes + bytes + EMPTY_LOG_BYTES > this.logLimit) {
      this.drop();
      return;
    }
    this.ops.push(op());
    this.opsBytes += bytes;
  }

  /** Forgets the recorded operations: the next save writes a checkpoint. Cost: O(1). */
  drop(): void {
    this.overflow = true;
    this.ops = [];
    this.opsBytes = 0;
    this.epoch++;
  }

  /** Whether the next save must write a checkpoint: after a drop, or when the log would pass `logShare` of the checkpoint. */
  needsCheckpoint(logShare: number): boolean {
    return this.overflow || this.logBytes + this.opsBytes + EMPTY_LOG_BYTES > logShare * this.checkpointBytes;
  }

  /** Whether nothing happened since the last committed save (efSearch aside). */
  get idle(): boolean {
    return !this.overflow && this.ops.length === 0;
  }

  /** Takes the recorded operations for a log segment; they stay recorded until {@link committed}. Cost: O(ops). */
  takeLog(): Pending {
    return { checkpoint: false, ops: this.ops.slice(), bytes: this.opsBytes, epoch: this.epoch };
  }

  /**
   * Starts a checkpoint of `checkpointBytes` bytes taken now: from here on operations are
   * recorded against it. If the save fails, {@link failed} makes the
   * next save a checkpoint again. Cost: O(1).
   */
  takeCheckpoint(checkpointBytes: number, logShare: number): Pending {
    this.drop();
    this.overflow = false;
    this.checkpointBytes = checkpointBytes;
    this.logBytes = 0;
    this.logLimit = recordLimit(logShare, checkpointBytes);
    return { checkpoint: true, ops: [], bytes: 0, epoch: this.epoch };
  }

  /** A save that took `pending` wrote `manifest`: drops those operations and follows the manifest. Cost: O(ops). */
  committed(pending: Pending, manifest: Manifest, logShare: number): void {
    if (pending.epoch === this.epoch) {
      this.ops.splice(0, pending.ops.length);
      this.opsBytes -= pending.bytes;
    }
    this.follow(manifest, logShare);
  }

  /** An index was just opened from `manifest`: it records from here on. Cost: O(parts). */
  opened(manifest: Manifest): void {
    this.overflow = false;
    this.follow(manifest, DEFAULT_LOG_SHARE);
  }

  /** Follows `manifest` as the stored state this index is at. Cost: O(parts). */
  private follow(manifest: Manifest, logShare: number): void {
    this.manifest = manifest;
    this.checkpointBytes = partBytes(manifest.parts[0]);
    this.logBytes = manifest.parts.slice(1).reduce((sum, p) => sum + partBytes(p), 0);
    this.logLimit = recordLimit(logShare, this.checkpointBytes);
  }

  /** The save that took `pending` failed. After a checkpoint the operations before it are not recorded, so the next save writes one again. */
  failed(pending: Pending): void {
    if (pending.checkpoint) this.drop();
  }
}

/**
 * An index's bindings, fed by its add, addBatch and remove; a call that no log record describes
 * (clear) drops every binding, so the next saves write checkpoints.
 */
export class IndexJournal {
  private readonly bindings = new Map<ByteStore, Map<string, Binding>>();
  private count = 0;

  /** The binding of (store, name), created (empty, must checkpoint) when `create`. */
  binding(store: ByteStore, name: string, create: true): Binding;
  binding(store: ByteStore, name: string, create?: false): Binding | undefined;
  binding(store: ByteStore, name: string, create = false): Binding | undefined {
    let names = this.bindings.get(store);
    let found = names?.get(name);
    if (found === undefined && create) {
      if (names === undefined) this.bindings.set(store, (names = new Map()));
      names.set(name, (found = new Binding()));
      this.count++;
    }
    return found;
  }

  /** The stamps this index last wrote or read under `name` in any store. Cost: O(bindings). */
  stamps(name: string): Stamp[] {
    const out: Stamp[] = [];
    for (const names of this.bindings.values()) {
      const m = names.get(name)?.manifest;
      if (m !== undefined) out.push(m.stamp);
    }
    return out;
  }

  /** Whether any binding listens: then adds trace the neighbours they chose, for {@link added}. */
  get recording(): boolean {
    return this.count !== 0;
  }

  /**
   * Records a successful add/addBatch of `ids` with `vectors` (row-major) that chose the
   * neighbours in `links` (its trace, which the journal keeps). Cost: a float32 copy.
   */
  added(ids: ArrayLike<number>, vectors: ArrayLike<number>, links: Uint32Array): void {
    let op: Op | undefined;
    this.each(addBytes(ids.length, vectors.length, links.length), () => (op ??= {
      kind: 'add', ids: Uint32Array.from(ids), vectors: Float32Array.from(vectors), links,
    }));
  }

  /** Records a remove that returned true. Cost: O(bindings). */
  removed(id: number): void {
    if (this.count !== 0) this.each(REMOVE_BYTES, () => ({ kind: 'remove', id }));
  }

  /** Records a change no log record describes (clear): every binding's next save writes a checkpoint. Cost: O(bindings). */
  unlogged(): void {
    for (const names of this.bindings.values()) for (const b of names.values()) b.drop();
  }

  private each(bytes: number, op: () => Op): void {
    for (const names of this.bindings.values()) for (const b of names.values()) b.record(bytes, op);
  }
}
