/**
 * CommonJS only (the ES module build leaves this file out, and there Node's own error names the
 * package): fails the import of elex-wasm/langchain with an error naming the optional peer
 * dependency when @langchain/core cannot be found, before anything requires it.
 */
import { ElexError } from '../index.js';

try {
  require.resolve('@langchain/core/vectorstores');
} catch (error) {
  const missing = new ElexError(
    'E_PEER',
    "elex-wasm/langchain needs the optional peer dependency '@langchain/core' (1.x), which is not installed: npm install @langchain/core",
  );
  (missing as { cause?: unknown }).cause = error;
  throw missing;
}
