/**
 * The documents of an ElexVectorStore, kept in the host beside its index: each LangChain string
 * id maps to the uint32 key its vector has in the index, with the document's text and its
 * metadata as JSON text (see metadata.ts). Keys are handed out in increasing order and never
 * reused, except that an upserted id keeps its key (so the index replaces its vector in place).
 */
import { InvalidArgumentError, MISSING_ID } from '../index.js';

/** One stored document. */
export interface StoredDocument {
  /** Its uint32 id in the index. */
  key: number;
  /** Its LangChain id. */
  id: string;
  pageContent: string;
  /** Its metadata as JSON text. */
  metadataJson: string;
  /** What filters see: a frozen Document of it, made on the first filter call that meets it. */
  filterView?: unknown;
}

/** Host bytes counted per document beside its strings: the entry object and its two map slots. */
export const ENTRY_OVERHEAD_BYTES = 96;

/** The id -> key -> document maps, and the host memory they hold. */
export class DocumentTable {
  private readonly byKey = new Map<number, StoredDocument>();
  private readonly keyById = new Map<string, number>();
  private next = 0;
  private bytes = 0;

  /** Documents held. */
  get size(): number {
    return this.byKey.size;
  }

  /** The next key a new id gets. */
  get nextKey(): number {
    return this.next;
  }

  /**
   * Host memory the documents hold, in bytes, estimated: 2 bytes per UTF-16 code unit of the
   * id, text and metadata JSON, plus ENTRY_OVERHEAD_BYTES per document. Cost: O(1).
   */
  get documentBytes(): number {
    return this.bytes;
  }

  /** The document under index key `key`, or undefined. Cost: O(1). */
  get(key: number): StoredDocument | undefined {
    return this.byKey.get(key);
  }

  /** The index key of LangChain id `id`, or undefined. Cost: O(1). */
  keyOf(id: string): number | undefined {
    return this.keyById.get(id);
  }

  /**
   * The keys `ids` would be stored under, changing nothing: an id already held keeps its key,
   * a new one takes the next free key (a repeated new id, its first one). InvalidArgumentError
   * once the uint32 keys run out. Cost: O(ids).
   */
  plan(ids: readonly string[]): number[] {
    const fresh = new Map<string, number>();
    let next = this.next;
    return ids.map((id) => {
      const key = this.keyById.get(id) ?? fresh.get(id);
      if (key !== undefined) return key;
      if (next >= MISSING_ID) throw new InvalidArgumentError('the store has used all 2^32 - 1 document keys');
      fresh.set(id, next);
      return next++;
    });
  }

  /** Stores `doc`, replacing the document of the same id (which must have the same key). Cost: O(1). */
  put(doc: StoredDocument): void {
    const old = this.byKey.get(doc.key);
    if (old) this.bytes -= entryBytes(old);
    this.byKey.set(doc.key, doc);
    this.keyById.set(doc.id, doc.key);
    this.bytes += entryBytes(doc);
    if (doc.key >= this.next) this.next = doc.key + 1;
  }

  /** Removes the document of LangChain id `id`; returns its key, or undefined if none. Cost: O(1). */
  remove(id: string): number | undefined {
    const key = this.keyById.get(id);
    if (key === undefined) return undefined;
    this.bytes -= entryBytes(this.byKey.get(key)!);
    this.byKey.delete(key);
    this.keyById.delete(id);
    return key;
  }

  /** Sets the next key handed out (a loaded table's): never below what its documents use. */
  reserveKeys(next: number): void {
    if (next > this.next) this.next = next;
  }

  /** Every document, in key order of first insertion. */
  values(): IterableIterator<StoredDocument> {
    return this.byKey.values();
  }
}

function entryBytes(doc: StoredDocument): number {
  return 2 * (doc.id.length + doc.pageContent.length + doc.metadataJson.length) + ENTRY_OVERHEAD_BYTES;
}
