/**
 * Saving and loading an ElexVectorStore through a byte store (docs/format.md, "LangChain
 * stores"): the index and a documents record (EXLC) of the same generation, saved and loaded
 * together by src/hnsw/store/sidecar.ts:
 *
 *   @index/<name>/...                       the index, exactly as VectorIndex.save writes it
 *   @langchain/<name>/<generation>-<token>  the documents record (EXLC) of that index generation
 */
import type { ByteStore, Engine, SaveOptions, SaveResult, VectorIndex } from '../index.js';
import { loadWithSidecar, saveWithSidecar, type Sidecar } from '../hnsw/store/sidecar.js';
import { decodeDocumentRecord, encodeDocumentRecord, type DocumentRecord } from './document-record.js';
import type { DocumentTable } from './document-table.js';

/** Every key of a documents record starts with this. */
export const DOCUMENTS_KEY_PREFIX = '@langchain/';

/** The documents record of `table` as a sidecar of the index (the table is read when a save encodes it). */
function documents(table?: DocumentTable): Sidecar<DocumentRecord> {
  return {
    keyPrefix: DOCUMENTS_KEY_PREFIX,
    kind: 'vector store',
    encode: (generation) => encodeDocumentRecord(table!, generation),
    decode: decodeDocumentRecord,
    mismatch: (record, index) =>
      record.docs.length !== index.size || !record.docs.every((d) => index.has(d.key))
        ? 'holds other ids than the index'
        : undefined,
  };
}

/**
 * Saves `index` and the documents of `table` to `store` under `name`, atomically together (see
 * saveWithSidecar). Cost: the index save plus one write of every document's bytes.
 */
export function saveStore(
  index: VectorIndex,
  table: DocumentTable,
  store: ByteStore,
  name: string,
  options?: SaveOptions,
): Promise<SaveResult> {
  return saveWithSidecar(index, documents(table), store, name, options).then(({ result }) => result);
}

/**
 * The index and documents saved in `store` under `name`, loaded into `engine` (see
 * loadWithSidecar). Cost: openIndex, plus reading and parsing the record.
 */
export function loadStore(
  engine: Engine,
  store: ByteStore,
  name: string,
): Promise<{ index: VectorIndex; record: DocumentRecord }> {
  return loadWithSidecar((s, n) => engine.openIndex(s, n), documents(), store, name);
}
