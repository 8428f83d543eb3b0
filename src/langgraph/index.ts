/**
 * elex-wasm/langgraph: a LangGraph.js store on elex-wasm. Needs @langchain/langgraph-checkpoint
 * (an optional peer dependency); the package's main entry never imports this.
 */
import './peer-check.js';

export { ElexStore, ITEMS_KEY_PREFIX, DEFAULT_STORE_NAME } from './elex-store.js';
export type {
  ElexStoreOptions,
  ElexStoreOpenOptions,
  ElexStoreIndexConfig,
  ElexStoreTtlConfig,
  ElexPutOperation,
  ElexPutOptions,
} from './elex-store.js';
