/**
 * The FileStore lock test's child, using the built package by name as an app would:
 *   node file-lock-child.cjs write <dir> <key> <text>   writes <key> = <text>, prints 'ready', then
 *                                                      keeps running (holding the lock) until killed
 *   node file-lock-child.cjs try <dir> <key> <text>     writes <key> = <text>, prints 'ok' or the
 *                                                      error's code and owner pid as JSON, exits
 *   node file-lock-child.cjs race <dir>                 waits for the 'go' line on stdin, takes the
 *                                                      lock, prints the outcome, holds until stdin ends
 *   node file-lock-child.cjs langchain <dir> <text>     LangChain save(<dir>) of one document <text>,
 *                                                      prints 'ready' (or the error), keeps running
 */
'use strict';

const { FileStore } = require('elex-wasm');

const print = (value) => process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
const outcome = (error) => ({ code: error.code ?? String(error), owner: error.owner?.pid });
const forever = () => setInterval(() => undefined, 1 << 30);

async function main() {
  const [mode, dir, a, b] = process.argv.slice(2);
  if (mode === 'write') {
    await new FileStore(dir).write(a, new TextEncoder().encode(b));
    print('ready');
    forever();
  } else if (mode === 'try') {
    try {
      await new FileStore(dir).write(a, new TextEncoder().encode(b));
      print({ code: 'ok' });
    } catch (error) {
      print(outcome(error));
    }
  } else if (mode === 'race') {
    const store = new FileStore(dir);
    await store.keys(); // modules loaded before the start line
    print('ready');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const result = await store.lock().then(() => ({ code: 'ok' }), outcome);
    print(result);
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  } else if (mode === 'langchain') {
    const { ElexVectorStore } = require('elex-wasm/langchain');
    const { Document } = require('@langchain/core/documents');
    const embeddings = {
      embedDocuments: async (texts) => texts.map(() => [1, 2, 3, 4]),
      embedQuery: async () => [1, 2, 3, 4],
    };
    const vs = new ElexVectorStore(embeddings, {});
    await vs.addDocuments([new Document({ pageContent: a })]);
    try {
      await vs.save(dir);
      print('ready');
    } catch (error) {
      print(outcome(error));
    }
    forever();
  } else throw new Error(`unknown mode ${mode}`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack}\n`);
  process.exit(1);
});
