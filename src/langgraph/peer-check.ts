/**
 * CommonJS only (the ES module build leaves this file out, and there Node's own error names the
 * package): fails the import of elex-wasm/langgraph with an error naming the optional peer
 * dependency when @langchain/langgraph-checkpoint cannot be found, before anything requires it.
 */
import { ElexError } from '../index.js';

try {
  require.resolve('@langchain/langgraph-checkpoint');
} catch (error) {
  const missing = new ElexError(
    'E_PEER',
    "elex-wasm/langgraph needs the optional peer dependency '@langchain/langgraph-checkpoint' (1.2 or later), which is not installed: npm install @langchain/langgraph-checkpoint",
  );
  (missing as { cause?: unknown }).cause = error;
  throw missing;
}
