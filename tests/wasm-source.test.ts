/** Engine.create's `wasm` option: bytes, a compiled module, a Response (streamed or not), a { simd, scalar } pair, and bad sources. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, InvalidArgumentError } from '../src/index';
import { BUILDS } from './helpers/engines';

const bytes = (build: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(join(__dirname, '..', 'build', `elex.${build}.wasm`)));
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
    expect((await Engine.create({ wasm: { simd: bytes('simd'), scalar: 'http://127.0.0.1:9/x.wasm' } })).simd).toBe(true);
  }
});

test('bad sources are InvalidArgumentError; bytes that are not a module are CompileError', async () => {
  await expect(Engine.create({ wasm: response(new Uint8Array(0), 'application/wasm', 404) })).rejects.toThrow(/HTTP 404/);
  await expect(Engine.create({ wasm: 'not a url' })).rejects.toThrow(InvalidArgumentError);
  await expect(Engine.create({ wasm: 42 as unknown as Uint8Array })).rejects.toThrow(InvalidArgumentError);
  await expect(Engine.create({ wasm: new Uint8Array([1, 2, 3]) })).rejects.toThrow(WebAssembly.CompileError);
});
