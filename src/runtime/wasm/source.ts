/**
 * Module sources other than the embedded base64: bytes, an already compiled module, or a URL /
 * fetch Response. A Response served as `application/wasm` is compiled while it downloads
 * (WebAssembly.compileStreaming); any other is read to bytes first, so a server with the wrong
 * MIME type still works, only without streaming.
 */
import { InvalidArgumentError, WasmLoadError } from '../../errors.js';

declare global {
  /**
   * The WebAssembly types the declarations name, as empty interfaces: they merge with the DOM
   * lib's full definitions where it is loaded, and keep the package's types valid in a
   * Node-only project (lib es20xx + @types/node, which declares no WebAssembly).
   */
  namespace WebAssembly {
    interface Module {}
    interface Memory {}
  }
}

/** Module bytes, a compiled WebAssembly.Module, a URL (URL or string, fetched), or a fetch Response or promise of one. */
export type WasmSource =
  | Uint8Array
  | ArrayBuffer
  | WebAssembly.Module
  | URL
  | string
  | Response
  | PromiseLike<Response>;

/** One source per build: the SIMD probe (and the `simd` option) picks which one is fetched and compiled. */
export interface WasmBuilds {
  /** The SIMD build (build/elex.simd.wasm). */
  simd: WasmSource;
  /** The scalar build (build/elex.scalar.wasm). */
  scalar: WasmSource;
}

/** True for `{ simd, scalar }`, false for a single source. */
export function isWasmBuilds(value: unknown): value is WasmBuilds {
  return typeof value === 'object' && value !== null && 'simd' in value && 'scalar' in value;
}

function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Response).arrayBuffer === 'function' &&
    typeof (value as Response).headers === 'object'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Resolves `source` against the page or worker location (if any); InvalidArgumentError if it is not a URL. */
function toUrl(source: string | URL): URL {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(String(source), base);
  } catch {
    throw new InvalidArgumentError(
      `wasm: expected bytes, a WebAssembly.Module, a URL or a Response, got the string '${String(source)}' that is not a URL`,
    );
  }
}

/** Compiles `bytes`; WasmLoadError for bytes that are not a WebAssembly module. */
async function compileBytes(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw new WasmLoadError('wasm: the bytes are not a WebAssembly module', error);
  }
}

/** Fetches `url`; WasmLoadError when the fetch fails (file: URLs included, which Node's fetch does not read). */
async function fetchModule(url: URL): Promise<Response> {
  try {
    return await fetch(url);
  } catch (error) {
    const hint =
      url.protocol === 'file:' ? '; fetch() reads no file: URLs in Node, so pass the bytes (readFileSync)' : '';
    throw new WasmLoadError(`wasm: fetching ${url.href} failed${hint}`, error);
  }
}

/** Compiles a fetched module, streaming when the response says application/wasm; WasmLoadError if it cannot. */
async function compileResponse(response: Response): Promise<WebAssembly.Module> {
  if (!response.ok)
    throw new WasmLoadError(`wasm: fetching ${response.url || 'the module'} answered HTTP ${response.status}`);
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/wasm' && typeof WebAssembly.compileStreaming === 'function') {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (error) {
      throw new WasmLoadError(`wasm: ${response.url || 'the response'} is not a WebAssembly module`, error);
    }
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await response.arrayBuffer();
  } catch (error) {
    throw new WasmLoadError(`wasm: reading ${response.url || 'the response'} failed`, error);
  }
  return compileBytes(bytes);
}

/**
 * Compiles `source` into a module. URLs are fetched with the global `fetch` (browsers, workers,
 * Node 18+ for http(s) URLs). Throws InvalidArgumentError for anything that is not a source or
 * an unparsable URL; WasmLoadError for a fetch that fails or answers an error status, and for
 * bytes that are not a module. Cost: one compile, a few ms for elex's ~50 KB.
 */
export async function compileWasm(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof Uint8Array) return compileBytes(source as Uint8Array<ArrayBuffer>);
  if (source instanceof ArrayBuffer) return compileBytes(source);
  if (typeof source === 'string' || source instanceof URL) {
    const url = toUrl(source);
    if (typeof fetch !== 'function')
      throw new InvalidArgumentError('wasm: a URL needs fetch(), which this runtime lacks; pass the bytes');
    return compileResponse(await fetchModule(url));
  }
  if (isResponse(source)) return compileResponse(source);
  if (isThenable(source)) {
    let response: unknown;
    try {
      response = await source;
    } catch (error) {
      throw new WasmLoadError('wasm: the fetch given failed', error);
    }
    if (isResponse(response)) return compileResponse(response);
  }
  throw new InvalidArgumentError(
    `wasm: expected bytes, a WebAssembly.Module, a URL or a Response, got ${Object.prototype.toString.call(source)}`,
  );
}
