/**
 * The items of an ElexStore, kept in the host: namespace -> key -> item, in insertion order (a
 * namespace that empties is dropped, and goes to the end when it fills again), and the uint32
 * keys of each item's vectors in the store's index. Each item's value is kept as JSON text; a
 * frozen parse of it is made the first time a filter reads it.
 */
import { InvalidArgumentError, MISSING_ID } from '../index.js';

/** One stored item. */
export interface StoredItem {
  namespace: readonly string[];
  key: string;
  /** Its value as JSON text. */
  json: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** Its time to live in minutes, or undefined for none. */
  ttl?: number;
  /** When it expires (ms since the epoch), or undefined for never. */
  expiresAt?: number;
  /** The index keys of its vectors (one per embedded text; none when not indexed). */
  vectors: number[];
  /** The field paths its put gave (`false`: not indexed); undefined: the store's fields. */
  fields?: false | string[];
  /** What filters see: the parsed value, deep-frozen, made on first use. */
  view?: Record<string, unknown>;
}

/** Host bytes counted per item beside its strings and vector keys: the item object and its map slots. */
export const ITEM_OVERHEAD_BYTES = 128;

/** The map key of a namespace (labels cannot hold ':', so this is one to one). */
export function namespaceKey(namespace: readonly string[]): string {
  return namespace.join(':');
}

/** Host memory an item holds, estimated: 2 bytes per UTF-16 code unit of its strings, 8 per vector key. */
export function itemBytes(item: StoredItem): number {
  let labels = 0;
  for (const label of item.namespace) labels += label.length;
  return 2 * (labels + item.key.length + item.json.length) + 8 * item.vectors.length + ITEM_OVERHEAD_BYTES;
}

/** The namespace -> key -> item maps, the vector key -> item map, and the host bytes they hold. */
export class ItemTable {
  private readonly spaces = new Map<string, { namespace: readonly string[]; items: Map<string, StoredItem> }>();
  private readonly byVector = new Map<number, StoredItem>();
  private next = 0;
  private bytes = 0;
  private count = 0;
  /** Items with an expiry time: when none, nothing needs an expiry check. */
  private expiring = 0;

  /** Items held (expired ones included until removed). */
  get size(): number {
    return this.count;
  }

  /** Host bytes the items hold (see itemBytes). Cost: O(1). */
  get itemBytes(): number {
    return this.bytes;
  }

  /** Items held that have an expiry time. */
  get expiringItems(): number {
    return this.expiring;
  }

  /** The next vector key handed out. */
  get nextVectorKey(): number {
    return this.next;
  }

  /** The item at `namespace`/`key`, expired or not. Cost: O(namespace). */
  get(namespace: readonly string[], key: string): StoredItem | undefined {
    return this.spaces.get(namespaceKey(namespace))?.items.get(key);
  }

  /** The item a vector key belongs to. Cost: O(1). */
  ofVector(vectorKey: number): StoredItem | undefined {
    return this.byVector.get(vectorKey);
  }

  /** `n` fresh vector keys (not yet taken: put takes them). InvalidArgumentError when the uint32 keys run out. */
  planVectorKeys(n: number): number[] {
    if (this.next + n > MISSING_ID) throw new InvalidArgumentError('the store has used all 2^32 - 1 vector keys');
    return Array.from({ length: n }, (_, i) => this.next + i);
  }

  /** Stores `item`, replacing the one at its namespace and key. Returns the replaced one. Cost: O(vectors). */
  put(item: StoredItem): StoredItem | undefined {
    const nsKey = namespaceKey(item.namespace);
    let space = this.spaces.get(nsKey);
    if (space === undefined) this.spaces.set(nsKey, (space = { namespace: item.namespace, items: new Map() }));
    const old = space.items.get(item.key);
    if (old !== undefined) this.forget(old);
    space.items.set(item.key, item);
    this.count++;
    this.bytes += itemBytes(item);
    if (item.expiresAt !== undefined) this.expiring++;
    for (const v of item.vectors) {
      this.byVector.set(v, item);
      if (v >= this.next) this.next = v + 1;
    }
    return old;
  }

  /** Removes the item at `namespace`/`key`; returns it, or undefined if none. Cost: O(vectors). */
  remove(namespace: readonly string[], key: string): StoredItem | undefined {
    const nsKey = namespaceKey(namespace);
    const space = this.spaces.get(nsKey);
    const item = space?.items.get(key);
    if (item === undefined) return undefined;
    this.forget(item);
    space!.items.delete(key);
    if (space!.items.size === 0) this.spaces.delete(nsKey);
    return item;
  }

  /** Sets an item's expiry time (a refresh on read). Cost: O(1). */
  setExpiry(item: StoredItem, expiresAt: number): void {
    item.expiresAt = expiresAt;
  }

  /** Sets the next vector key handed out (a loaded table's): never below what its items use. */
  reserveVectorKeys(next: number): void {
    if (next > this.next) this.next = next;
  }

  private forget(item: StoredItem): void {
    this.count--;
    this.bytes -= itemBytes(item);
    if (item.expiresAt !== undefined) this.expiring--;
    for (const v of item.vectors) this.byVector.delete(v);
  }

  /** The namespaces that hold items, in the order they were first filled. */
  *namespaces(): IterableIterator<{ namespace: readonly string[]; items: Map<string, StoredItem> }> {
    yield* this.spaces.values();
  }

  /**
   * The items of every namespace equal to `prefix` or under it (every item for []), namespace
   * by namespace in insertion order. Cost: O(namespaces) plus O(1) per item yielded.
   */
  *under(prefix: readonly string[]): IterableIterator<StoredItem> {
    const p = namespaceKey(prefix);
    for (const [nsKey, space] of this.spaces) {
      if (prefix.length === 0 || nsKey === p || nsKey.startsWith(`${p}:`)) yield* space.items.values();
    }
  }

  /** Every item, namespace by namespace in insertion order. */
  values(): IterableIterator<StoredItem> {
    return this.under([]);
  }
}
