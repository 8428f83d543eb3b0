/**
 * Engine.create's `wasm` option: bytes, a compiled module, a Response (streamed or not), a
 * { simd, scalar } pair, and bad sources (issue 10, finding 15: typed errors, never raw ones).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElexError, Engine, InvalidArgumentError, WasmLoadError } from '../../src/index';
import { BUILDS } from '../helpers/engines';

const bytes = (build: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(join(__dirname, '..', '..', 'build', `elex.${build}.wasm`)));
const response = (body: Uint8Array<ArrayBuffer>, type: string, status = 200) =>
  new Response(status === 200 ? body : null, { status, headers: { 'content-type': type } });

test('a compiled WebAssembly.Module runs as given', async () => {
  const engine = await Engine.create({ wasm: await WebAssembly.compile(bytes('scalar')) });
  expect(engine.simd).toBe(false);
});

test.each(BUILDS)('a Response runs, streamed as application/wasm or read whole otherwise (simd %s)', async (simd) => {
  const build = simd === 'on' ? 'simd' : 'scalar';
  for (const type of ['application/wasm', 'application/octet-stream']) {
    const engine = await Engine.create({ wasm: Promise.resolve(response(bytes(build), type)) });
    expect(engine.simd).toBe(simd === 'on');
    const index = engine.createIndex({ dim: 4, metric: 'l2' });
    index.add(7, [1, 2, 3, 4]);
    expect(Array.from(index.search([1, 2, 3, 4.5], 1).ids)).toEqual([7]);
  }
});

test('{ simd, scalar } compiles only the build the mode picks', async () => {
  const scalarOnly = { simd: 'http://127.0.0.1:9/never-fetched.wasm', scalar: bytes('scalar') };
  expect((await Engine.create({ wasm: scalarOnly, simd: 'off' })).simd).toBe(false);
  if (BUILDS.includes('on')) {
    expect((await Engine.create({ wasm: { simd: bytes('simd'), scalar: 'http://127.0.0.1:9/x.wasm' } })).simd).toBe(
      true,
    );
  }
});

test('what is not a source is InvalidArgumentError', async () => {
  await expect(Engine.create({ wasm: 'not a url' })).rejects.toThrow(InvalidArgumentError);
  await expect(Engine.create({ wasm: 42 as unknown as Uint8Array })).rejects.toThrow(InvalidArgumentError);
});

/** The error Engine.create rejects with for `wasm`. */
async function loadError(wasm: unknown): Promise<WasmLoadError> {
  const error = await Engine.create({ wasm: wasm as Uint8Array }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WasmLoadError);
  expect(error).toBeInstanceOf(ElexError);
  expect((error as WasmLoadError).code).toBe('E_WASM');
  return error as WasmLoadError;
}

test('a source that cannot be fetched, compiled or instantiated is WasmLoadError (E_WASM), never a raw TypeError or CompileError', async () => {
  expect((await loadError(response(new Uint8Array(0), 'application/wasm', 404))).message).toMatch(/HTTP 404/);
  const notWasm = await loadError(new Uint8Array([1, 2, 3]));
  expect(notWasm.message).toMatch(/not a WebAssembly module/);
  expect(notWasm.cause).toBeInstanceOf(WebAssembly.CompileError);
  expect((await loadError(new Uint8Array([1, 2, 3]).buffer)).cause).toBeInstanceOf(WebAssembly.CompileError);
  for (const type of ['application/wasm', 'text/plain']) {
    expect((await loadError(response(new Uint8Array([0, 1, 2, 3]), type))).message).toMatch(/not a WebAssembly module/);
  }
  const file = await loadError(new URL('../../build/elex.simd.wasm', `file://${__filename}`));
  expect(file.message).toMatch(/file: URLs in Node.*pass the bytes/);
  expect((await loadError('http://127.0.0.1:9/unreachable.wasm')).message).toMatch(
    /fetching http:\/\/127\.0\.0\.1:9\/unreachable\.wasm failed/,
  );
  expect((await loadError(Promise.reject(new TypeError('network down')))).cause).toBeInstanceOf(TypeError);
  // Valid WebAssembly that is not an elex build: the 8-byte empty module.
  expect((await loadError(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).message).toMatch(/not an elex build/);
});
