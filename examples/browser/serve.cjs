#!/usr/bin/env node
/**
 * A tiny static server for the browser demo and the browser tests, on 127.0.0.1 only. It
 * serves the repository root (so pages load dist/browser/ and build/*.wasm) and maps /data/
 * to the SIFT sample in data/sift128 (or $ELEX_DATA_DIR). .wasm goes out as application/wasm,
 * so Engine.create({ wasm: url }) streams it.
 *
 *   node examples/browser/serve.cjs [port]     then open http://127.0.0.1:<port>/examples/browser/
 */
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DATA_DIR = process.env.ELEX_DATA_DIR || path.resolve(ROOT, 'data', 'sift128');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The file a URL path names under `root` (or DATA_DIR for /data/), or null if it would leave it. */
function resolveFile(urlPath, root) {
  const decoded = decodeURIComponent(urlPath);
  const [base, rest] = decoded.startsWith('/data/') ? [DATA_DIR, decoded.slice(6)] : [root, decoded];
  const file = path.resolve(base, '.' + path.posix.normalize('/' + rest));
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  return file.endsWith(path.sep) || rest.endsWith('/') ? path.join(file, 'index.html') : file;
}

function handle(root, req, res) {
  let file;
  let isolated = true;
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    file = resolveFile(url.pathname, root);
    // ?isolation=off serves a page without COOP/COEP: not cross-origin isolated, no SharedArrayBuffer.
    isolated = url.searchParams.get('isolation') !== 'off';
  } catch {
    file = null;
  }
  if (file === null || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(400).end();
    return;
  }
  fs.stat(file, (error, stat) => {
    if (error || !stat.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // Cross-origin isolation: finer performance.now() for the latency numbers the demo shows, and
    // SharedArrayBuffer for an engine's threads (docs/threads.md).
    const isolation = isolated
      ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
      : {};
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-store',
      ...isolation,
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
}

/**
 * Starts the server on 127.0.0.1:`port` (0 = any free port) for `root` (default the repository;
 * the bundler tests serve their build output); resolves to { port, close() }.
 */
function startServer(port = 0, root = ROOT) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => handle(base, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({ port: server.address().port, close: () => new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }) });
    });
  });
}

module.exports = { startServer };

if (require.main === module) {
  startServer(Number(process.argv[2] || 8080)).then(({ port }) => {
    console.log(`serving ${ROOT} (and /data/ from ${DATA_DIR}) on http://127.0.0.1:${port}/examples/browser/`);
  });
}
