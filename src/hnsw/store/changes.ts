/**
 * What an index remembers about the places it was saved to or opened from, in host memory (not
 * the engine's budget): per save target and name a Binding holding the manifest it last wrote
 * or read and the operations since then, exactly as they succeeded and in order, for the next
 * save's log segment. A binding records at most its log limit (a share of its checkpoint's
 * size): past that the next save writes a checkpoint anyway, so it drops the operations and
 * only remembers that it must.
 *
 * A save target is a store's `identity` when it has one (FileStore: its absolute directory, so
 * every FileStore object over one directory is one target), else the store object. Bounds:
 * only the MAX_LOGGED_TARGETS bindings saved or opened last keep a log (an older one drops it,
 * and its next save writes a checkpoint); a store object without identity is held weakly, so a
 * store the caller dropped is collected and forgotten. A binding that keeps no log holds only
 * its last manifest (a few hundred bytes).
 */
import type { ByteStore } from '../../stores/byte-store.js';
import type { Stamp } from './keys.js';
import { partBytes, type Manifest } from './manifest.js';
import { EMPTY_LOG_BYTES, REMOVE_BYTES, addBytes, attributesBytes, type Op } from './oplog.js';

/** How many (target, name) bindings of one index keep a log of the operations since their last save. */
export const MAX_LOGGED_TARGETS = 8;

/** What identifies the place `store` keeps its bytes: its `identity` string when it has one, else the object itself. */
export function storeTarget(store: ByteStore): string | object {
  const identity = (store as { identity?: unknown }).identity;
  return typeof identity === 'string' && identity.length > 0 ? `id:${identity}` : store;
}

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

/** A save whose manifest write failed without the store telling whether it landed: the manifest it wrote and what it took. */
export interface Doubt {
  manifest: Manifest;
  pending: Pending;
}

/** Saves in doubt a binding remembers. */
export const MAX_DOUBTS = 8;

/** The bindings that keep a log, most recently used last; at most MAX_LOGGED_TARGETS. */
class LogSlots {
  readonly logging = new Set<Binding>();

  /** `b` keeps a log (again) and is the most recent: the oldest past the bound drops its log. Cost: O(1). */
  touch(b: Binding): void {
    this.logging.delete(b);
    this.logging.add(b);
    if (this.logging.size > MAX_LOGGED_TARGETS) this.logging.values().next().value!.drop();
  }
}

/** One index's view of one (target, name). */
export class Binding {
  /** The manifest this index last wrote or read there; undefined before its first save commits. */
  manifest: Manifest | undefined = undefined;
  /**
   * Saves since the last commit whose manifest write may still land (it failed without the
   * store telling), oldest first, each written over `manifest`: the store holds `manifest` or
   * one of theirs. The next save reads which and carries on from it (save.ts). At most
   * MAX_DOUBTS: an older one that lands after all makes the next save a conflict (open again).
   */
  doubts: Doubt[] = [];
  private ops: Op[] = [];
  private opsBytes = 0;
  /** Operations were dropped (or a save failed after taking them): the next save writes a checkpoint. */
  private overflow = true;
  /** Bumped whenever operations are dropped, so a save knows whether the ones it took are still there. */
  private epoch = 0;
  private checkpointBytes = 0;
  private logBytes = 0;
  private logLimit = 0;

  /** @internal */
  constructor(private readonly slots: LogSlots) {}

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
    this.slots.logging.delete(this);
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
    this.slots.touch(this);
    this.checkpointBytes = checkpointBytes;
    this.logBytes = 0;
    this.logLimit = recordLimit(logShare, checkpointBytes);
    return { checkpoint: true, ops: [], bytes: 0, epoch: this.epoch };
  }

  /** A save that took `pending` wrote `manifest`: drops those operations and follows the manifest. Cost: O(ops). */
  committed(pending: Pending, manifest: Manifest, logShare: number): void {
    this.doubts = []; // written over their base: none of them can land now
    if (pending.epoch === this.epoch) {
      this.ops.splice(0, pending.ops.length);
      this.opsBytes -= pending.bytes;
    }
    this.follow(manifest, logShare);
    if (!this.overflow) this.slots.touch(this);
  }

  /**
   * The store holds the manifest of `doubt` (that save did commit), found by a save that took
   * `pending` since: the doubtful save's operations leave the log and `pending`, and this binding
   * follows its manifest. Cost: O(ops).
   */
  landed(doubt: Doubt, pending: Pending, logShare: number): void {
    this.doubts = []; // it moved the store past their base
    const taken = doubt.pending;
    if (!taken.checkpoint && taken.epoch === this.epoch) {
      this.ops.splice(0, taken.ops.length);
      this.opsBytes -= taken.bytes;
    }
    if (!taken.checkpoint && !pending.checkpoint && pending.epoch === taken.epoch) {
      pending.ops = pending.ops.slice(taken.ops.length);
      pending.bytes -= taken.bytes;
    }
    // A checkpoint being written has set the sizes the log is recorded against: keep them.
    if (pending.checkpoint) this.manifest = doubt.manifest;
    else this.follow(doubt.manifest, logShare);
  }

  /** A save's manifest write failed without the store telling whether it landed. Cost: O(1). */
  unsure(doubt: Doubt): void {
    this.doubts.push(doubt);
    if (this.doubts.length > MAX_DOUBTS) this.doubts.shift();
  }

  /** An index was just opened from `manifest`: it records from here on. Cost: O(parts). */
  opened(manifest: Manifest): void {
    this.overflow = false;
    this.slots.touch(this);
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

/** The bindings of one save target, by index name. */
type Target = Map<string, Binding>;

/** FinalizationRegistry where the runtime has one (ES2021). */
type Registry = { register(target: object, held: Target): void };
const Registry = (globalThis as unknown as { FinalizationRegistry?: new (cleanup: (held: Target) => void) => Registry })
  .FinalizationRegistry;

/**
 * An index's bindings, fed by its add, addBatch and remove (only the bindings that keep a log
 * are told: at most MAX_LOGGED_TARGETS); a call that no log record describes (clear, compact)
 * drops every log, so the next saves write checkpoints.
 */
export class IndexJournal {
  private readonly byIdentity = new Map<string, Target>();
  private readonly byObject = new WeakMap<object, Target>();
  /** Every target this index knows (for stamps); one whose store object was collected leaves it. */
  private readonly targets = new Set<Target>();
  private readonly slots = new LogSlots();
  private registry: Registry | undefined;

  /** The binding of (store's target, name), created (empty, must checkpoint) when `create`. */
  binding(store: ByteStore, name: string, create: true): Binding;
  binding(store: ByteStore, name: string, create?: false): Binding | undefined;
  binding(store: ByteStore, name: string, create = false): Binding | undefined {
    const key = storeTarget(store);
    let target = typeof key === 'string' ? this.byIdentity.get(key) : this.byObject.get(key);
    let found = target?.get(name);
    if (found === undefined && create) {
      if (target === undefined) {
        target = new Map();
        this.targets.add(target);
        if (typeof key === 'string') this.byIdentity.set(key, target);
        else {
          this.byObject.set(key, target);
          if (Registry !== undefined) (this.registry ??= new Registry((t) => this.forget(t))).register(key, target);
        }
      }
      target.set(name, (found = new Binding(this.slots)));
    }
    return found;
  }

  /** The stamps this index last wrote or read under `name` in any target. Cost: O(targets). */
  stamps(name: string): Stamp[] {
    const out: Stamp[] = [];
    for (const target of this.targets) {
      const m = target.get(name)?.manifest;
      if (m !== undefined) out.push(m.stamp);
    }
    return out;
  }

  /** Whether any binding keeps a log: then adds trace the neighbours they chose, for {@link added}. */
  get recording(): boolean {
    return this.slots.logging.size !== 0;
  }

  /** @internal How many bindings keep a log now (at most MAX_LOGGED_TARGETS). */
  get loggedTargets(): number {
    return this.slots.logging.size;
  }

  /**
   * Records a successful add/addBatch of `ids` with `vectors` (row-major) that chose the
   * neighbours in `links` (its trace, which the journal keeps). Cost: a float32 copy.
   */
  added(ids: ArrayLike<number>, vectors: ArrayLike<number>, links: Uint32Array): void {
    let op: Op | undefined;
    this.each(
      addBytes(ids.length, vectors.length, links.length),
      () =>
        (op ??= {
          kind: 'add',
          ids: Uint32Array.from(ids),
          vectors: Float32Array.from(vectors),
          links,
        }),
    );
  }

  /**
   * Records the attributes `id` was given (by setAttributes, or by an add after its `added`),
   * as UTF-8 JSON. Cost: O(attributes) when a binding keeps a log.
   */
  attributed(id: number, attributes: object): void {
    if (!this.recording) return;
    const json = new TextEncoder().encode(JSON.stringify(attributes));
    this.each(attributesBytes(json.length), () => ({ kind: 'attributes', id, json }));
  }

  /** Records a remove that returned true. Cost: O(logging bindings). */
  removed(id: number): void {
    if (this.recording) this.each(REMOVE_BYTES, () => ({ kind: 'remove', id }));
  }

  /** Records a change no log record describes (clear): every binding's next save writes a checkpoint. Cost: O(logging bindings). */
  unlogged(): void {
    for (const b of [...this.slots.logging]) b.drop();
  }

  /** A store object was collected: its bindings go. */
  private forget(target: Target): void {
    this.targets.delete(target);
    for (const b of target.values()) b.drop();
  }

  private each(bytes: number, op: () => Op): void {
    for (const b of [...this.slots.logging]) b.record(bytes, op);
  }
}
