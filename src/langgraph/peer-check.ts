/**
 * CommonJS only (the ES module build leaves this file out, and there Node's own error names the
 * package): fails the import of elex-wasm/langgraph with an error naming the optional peer
 * dependency that cannot be found (@langchain/langgraph-checkpoint, or the @langchain/core it
 * needs), before anything requires it.
 */
import { ElexError } from '../index.js';

for (const [name, version] of [
  ['@langchain/core', '1.x'],
  ['@langchain/langgraph-checkpoint', '1.2 or later'],
]) {
  try {
    require.resolve(name);
  } catch (error) {
    const missing = new ElexError(
      'E_PEER',
      `elex-wasm/langgraph needs the optional peer dependency '${name}' (${version}), which is not installed: npm install @langchain/langgraph-checkpoint @langchain/core`,
    );
    (missing as { cause?: unknown }).cause = error;
    throw missing;
  }
}
