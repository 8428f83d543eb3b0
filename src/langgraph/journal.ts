/**
 * What an ElexStore with a `store` has to write at its next flush, and what the store holds:
 * the ops (item-record.ts) since the last flush, in order, an update folded into the key's
 * last put since then (in its place: an update does not move an item), and the chain of items
 * records the stored generation is made of (a full record, then the deltas continuing it).
 */
import type { ByteStore } from '../index.js';
import { namespaceKey, type StoredItem } from './item-table.js';
import { opJson } from './item-record.js';

/** Deltas since the last full items record, as a share of its bytes, past which a flush writes a full record. */
const DELTA_SHARE = 0.5;

/** The pending ops and the stored chain of one store's save. */
export class Journal {
  /** The records the stored generation is made of, full record first (none before the first flush). */
  chain: string[] = [];
  /** The next flush writes a full record and replaces what is stored (after a re-embed). */
  overwrite = false;
  private baseBytes = 0;
  private chainBytes = 0;
  private pendingOps: string[] = [];
  private opBytes = 0;
  private readonly lastPut = new Map<string, number>();

  constructor(
    /** Where the store is saved. */
    readonly store: ByteStore,
    /** Its name there. */
    readonly name: string,
    /** Whether every batch that changes items flushes. */
    readonly autoFlush: boolean,
  ) {}

  /** The ops (JSON texts) since the last flush. */
  get ops(): readonly string[] {
    return this.pendingOps;
  }

  /** Whether the next flush has anything to write. */
  get pending(): boolean {
    return this.chain.length === 0 || this.pendingOps.length > 0 || this.overwrite;
  }

  /** Whether the next flush writes a full record (rather than a delta continuing the chain). */
  get full(): boolean {
    return (
      this.chain.length === 0 ||
      this.overwrite ||
      this.chainBytes - this.baseBytes + this.opBytes > DELTA_SHARE * this.baseBytes
    );
  }

  /** Notes a put of `item`; an update replaces the key's last put since the last flush, in its place. */
  put(item: StoredItem, update: boolean): void {
    const text = opJson({ put: item });
    const key = fullKey(item);
    const at = update ? this.lastPut.get(key) : undefined;
    if (at === undefined) {
      this.lastPut.set(key, this.pendingOps.length);
      this.pendingOps.push(text);
    } else {
      this.opBytes -= this.pendingOps[at].length;
      this.pendingOps[at] = text;
    }
    this.opBytes += text.length;
  }

  /** Notes a delete of `item`. */
  delete(item: StoredItem): void {
    const text = opJson({ delete: item });
    this.lastPut.delete(fullKey(item));
    this.pendingOps.push(text);
    this.opBytes += text.length;
  }

  /** A flush wrote record `key` (`bytes` long; a full record or a delta continuing the chain): nothing is pending. */
  flushed(key: string, bytes: number, full: boolean): void {
    this.chain = full ? [key] : [...this.chain, key];
    if (full) this.baseBytes = bytes;
    this.chainBytes = full ? bytes : this.chainBytes + bytes;
    this.overwrite = false;
    this.clear();
  }

  /** The store was opened from `chain` (its full record `baseBytes` long, all of it `chainBytes`). */
  loaded(chain: string[], baseBytes: number, chainBytes: number): void {
    this.chain = chain;
    this.baseBytes = baseBytes;
    this.chainBytes = chainBytes;
  }

  /** Every item changed at once (a re-embed): the next flush replaces the save with a full record. */
  rewrite(): void {
    this.overwrite = true;
    this.clear();
  }

  private clear(): void {
    this.pendingOps = [];
    this.opBytes = 0;
    this.lastPut.clear();
  }
}

function fullKey(item: StoredItem): string {
  return `${namespaceKey(item.namespace)}\u0000${item.key}`;
}
