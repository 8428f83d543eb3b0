/**
 * The exported functions of a WebAssembly binary with their wasm signatures, read from its type,
 * import, function and export sections (the JS API exposes names and kinds, not signatures).
 */
export interface WasmSignature {
  params: string[];
  results: string[];
}

const VALUE_TYPES: Record<number, string> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};

export function exportedFunctions(bytes: Uint8Array): Map<string, WasmSignature> {
  let at = 8; // magic and version
  const u8 = () => bytes[at++];
  const uleb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const name = () => {
    const n = uleb();
    const s = new TextDecoder().decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const valType = () => VALUE_TYPES[u8()] ?? 'unknown';
  const limits = () => {
    const flags = u8();
    uleb();
    if (flags & 1) uleb();
  };
  const types: WasmSignature[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const exports = new Map<string, WasmSignature>();
  while (at < bytes.length) {
    const id = u8();
    const size = uleb();
    const end = at + size;
    if (id === 1) {
      for (let n = uleb(); n > 0; n--) {
        if (u8() !== 0x60) throw new Error('unsupported type form');
        const params = Array.from({ length: uleb() }, valType);
        const results = Array.from({ length: uleb() }, valType);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = uleb(); n > 0; n--) {
        name();
        name();
        const kind = u8();
        if (kind === 0) funcTypes.push(uleb());
        else if (kind === 1) {
          u8();
          limits();
        } else if (kind === 2) limits();
        else if (kind === 3)
          at += 2; // value type, mutability
        else throw new Error(`unsupported import kind ${kind}`);
      }
    } else if (id === 3) {
      for (let n = uleb(); n > 0; n--) funcTypes.push(uleb());
    } else if (id === 7) {
      for (let n = uleb(); n > 0; n--) {
        const exportName = name();
        const kind = u8();
        const index = uleb();
        if (kind === 0) exports.set(exportName, types[funcTypes[index]]);
      }
    }
    at = end;
  }
  return exports;
}
