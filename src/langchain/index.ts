/**
 * elex-wasm/langchain: a LangChain.js vector store on elex-wasm. Needs @langchain/core (an
 * optional peer dependency); the package's main entry never imports this.
 */
import './peer-check.js';

export { ElexVectorStore, DIRECTORY_STORE_NAME } from './vector-store.js';
export type {
  DocumentFilter,
  ElexFilter,
  ElexVectorStoreOptions,
  ElexEngineOptions,
  ElexAddOptions,
} from './vector-store.js';
export { DOCUMENTS_KEY_PREFIX } from './store-persistence.js';
