/**
 * Index snapshots (EXIX, docs/format.md) written by the host straight out of linear memory:
 * the engine only describes where each section lies (a header in a small static area), and the
 * bytes are copied into host memory in chunks, so saving an index needs no budget headroom and a
 * large index never needs one large ArrayBuffer. Every address is read unsigned, so blocks
 * above 2 GiB work.
 */
import { crc32Final, crc32Update, CRC32_INIT } from '../util/crc32.js';
import { CorruptSnapshotError } from '../errors.js';
import {
  EXIX_HEADER,
  EXIX_VERSION_ATTRIBUTES,
  sectionSizes,
  snapshotSections,
  SNAPSHOT_HEADER as HEADER,
  type Section,
} from './layout.js';
import type { Runtime } from '../runtime/runtime.js';
import { LOAD_BUDGET, LOAD_CORRUPT } from '../runtime/wasm/exports.js';

/** The default chunk size of {@link snapshotChunks}: bounded IndexedDB and file writes. */
export const SNAPSHOT_CHUNK_BYTES = 4 << 20;

/** Sections of every version (vectors, links0, upperAt, upper, labels, tombs); version 3's attributes follow. */
const CORE_SECTIONS = 6;
/** The largest attributes section a loader reads (it is held in host memory whole). */
const MAX_ATTRIBUTE_BYTES = 2 ** 30;

/** A stretch of the snapshot: bytes the host holds, or a section in linear memory. */
type Piece = { bytes: Uint8Array } | { section: Section };

/** Where everything of the snapshot lies, read from the engine's info area. */
interface Layout {
  header: Uint8Array;
  total: number;
  pieces: () => Piece[];
}

function readLayout(rt: Runtime, handle: number, efSearch: number, seed: number, attributes?: Uint8Array): Layout {
  const info = rt.exports.indexSnapshotInfo(handle, efSearch, seed) >>> 0;
  const header = new Uint8Array(rt.memory.buffer, info, HEADER).slice();
  const view = new DataView(header.buffer);
  const extra = attributes ?? new Uint8Array(0);
  if (attributes !== undefined) {
    view.setUint32(EXIX_HEADER.version, EXIX_VERSION_ATTRIBUTES, true);
    view.setUint32(EXIX_HEADER.attributeBytes, attributes.length, true);
  }
  const M = view.getUint32(EXIX_HEADER.M, true);
  const upperUsed = view.getUint32(EXIX_HEADER.upperUsed, true);
  const sizes = sectionSizes(header);
  const [vectors, links0, upperAt, upper, labels, tombs] = snapshotSections(rt, info, sizes);
  const total = HEADER + sizes.reduce((a, b) => a + b, 0) + extra.length + 4;
  return {
    header,
    total,
    pieces: () => [
      { bytes: header },
      { section: vectors },
      { section: links0 },
      { section: upperAt },
      { bytes: upperRecords(rt, upper.locate(0)[0], upperUsed, M) },
      { section: labels },
      { section: tombs },
      { bytes: extra },
    ],
  };
}

/** Words 1..upperUsed-1 of the upper block (from `upper`, the address of word 1), each [count, ids] list without its stale tail. Cost: O(upper words). */
function upperRecords(rt: Runtime, upper: number, upperUsed: number, M: number): Uint8Array {
  const out = new Uint32Array(upperUsed - 1);
  out.set(new Uint32Array(rt.memory.buffer, upper, upperUsed - 1));
  for (let w = 1; w < upperUsed; ) {
    const level = out[w - 1];
    for (let l = 0; l < level; l++) {
      const at = w + l * (1 + M); // out[k] is block word k + 1, so this is the list's count
      out.fill(0, at + 1 + out[at], at + 1 + M);
    }
    w += 1 + level * (1 + M);
  }
  return new Uint8Array(out.buffer);
}

/**
 * Copies `take` bytes of a [count, ids] list (from byte `within` of it, at `addr` in linear
 * memory) into chunk at `at`, with zeros past the list's count.
 */
function copyList(mem: Uint8Array, chunk: Uint8Array, at: number, addr: number, within: number, take: number): void {
  chunk.set(mem.subarray(addr, addr + take), at);
  const listAddr = addr - within;
  const count =
    (mem[listAddr] | (mem[listAddr + 1] << 8) | (mem[listAddr + 2] << 16) | (mem[listAddr + 3] << 24)) >>> 0;
  const usedEnd = 4 * (count + 1);
  if (usedEnd < within + take) chunk.fill(0, at + Math.max(0, usedEnd - within), at + take);
}

/**
 * The snapshot of index `handle` as chunks of `chunkBytes` (the last one shorter), ending with
 * the CRC-32; with `attributes` (an attributes section), version 3 with it before the CRC. Lazy: each chunk is copied out of linear memory when it is asked for, and
 * `check` runs before anything is read at every step, the first included (it throws if the
 * index changed or went away since the iterator was made: a handle freed meanwhile, whose
 * memory another index may hold now, is never read). Cost: O(snapshot bytes) in all, no engine memory.
 */
export function* snapshotChunks(
  rt: Runtime,
  handle: number,
  efSearch: number,
  seed: number,
  chunkBytes: number,
  check: () => void,
  attributes?: Uint8Array,
): Generator<Uint8Array, void, undefined> {
  check();
  const layout = readLayout(rt, handle, efSearch, seed, attributes);
  let remaining = layout.total;
  let chunk = new Uint8Array(Math.min(chunkBytes, remaining));
  let fill = 0;
  let crc = CRC32_INIT;
  const full = function* () {
    crc = crc32Update(crc, chunk.subarray(0, fill));
    remaining -= chunk.length;
    yield chunk;
    check();
    chunk = new Uint8Array(Math.min(chunkBytes, remaining));
    fill = 0;
  };
  for (const piece of layout.pieces()) {
    const len = 'bytes' in piece ? piece.bytes.length : piece.section.len;
    for (let done = 0; done < len; ) {
      let take = Math.min(len - done, chunk.length - fill);
      if ('bytes' in piece) {
        chunk.set(piece.bytes.subarray(done, done + take), fill);
      } else {
        const [addr, contiguous] = piece.section.locate(done);
        take = Math.min(take, contiguous);
        const mem = new Uint8Array(rt.memory.buffer);
        if (piece.section.listSlots !== undefined)
          copyList(mem, chunk, fill, addr, done % ((piece.section.listSlots + 1) * 4), take);
        else chunk.set(mem.subarray(addr, addr + take), fill);
      }
      fill += take;
      done += take;
      if (fill === chunk.length && remaining > chunk.length) yield* full();
    }
  }
  crc = crc32Update(crc, chunk.subarray(0, fill));
  // The CRC-32 ends the last chunk, or straddles the last two.
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc32Final(crc), true);
  for (let done = 0; ; ) {
    const take = Math.min(4 - done, chunk.length - fill);
    chunk.set(tail.subarray(done, done + take), fill);
    fill += take;
    done += take;
    if (done === 4) break;
    remaining -= chunk.length;
    yield chunk;
    check();
    chunk = new Uint8Array(Math.min(chunkBytes, remaining));
    fill = 0;
  }
  yield chunk;
}

/**
 * Rebuilds an index from snapshot bytes fed in any number of chunks of any sizes, straight
 * into the index's final blocks: the header first (checked, and the blocks allocated, as soon
 * as its 80 bytes are in), then every section copied where it belongs while the CRC-32 runs,
 * then the engine checks the structure in place. Memory: the index itself, nothing staged.
 * On any failure (or `abort`) everything allocated is freed.
 */
export class SnapshotLoader {
  private readonly header = new Uint8Array(HEADER);
  private handle = 0;
  private total = 0;
  private fed = 0;
  private crc = CRC32_INIT;
  private readonly trailer = new Uint8Array(4);
  /** Set when the blocks did not fit: the rest is only read (length, CRC) to tell corrupt bytes from a real index too large. */
  private overBudget: Error | undefined;
  /** Snapshot offsets where each section starts, and where in linear memory the engine wants it. */
  private starts: number[] = [];
  private sections: Section[] = [];
  /** Version 3: the attributes section, read into host memory (the last section). */
  private attributeSection: Uint8Array | undefined;

  /** `expectedBytes`: the whole snapshot's length when known (checked against the header before anything is allocated). */
  constructor(
    private readonly rt: Runtime,
    private readonly what: string,
    private readonly expectedBytes?: number,
  ) {}

  /** Takes the next chunk. Throws CorruptSnapshotError (all freed). Cost: O(chunk). */
  feed(chunk: Uint8Array): void {
    try {
      for (let at = 0; at < chunk.length; ) at += this.take(chunk.subarray(at));
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /**
   * Ends the stream: the index's handle, ready. Throws CorruptSnapshotError (all freed), or
   * BudgetExceededError for well-formed bytes of an index that does not fit. Cost: O(size).
   */
  finish(): number {
    try {
      if (this.fed < HEADER || this.fed !== this.total)
        throw this.corrupt(`the bytes end after ${this.fed} of ${this.fed < HEADER ? 'the header' : this.total}`);
      const stored = new DataView(this.trailer.buffer).getUint32(0, true);
      if (stored !== crc32Final(this.crc)) throw this.corrupt('the checksum does not match');
      if (this.overBudget) throw this.overBudget;
      const handle = this.handle;
      this.handle = 0;
      if (this.rt.exports.indexLoadFinish(handle) !== 1)
        throw this.corrupt('the links, levels, tombstones or ids are not consistent');
      return handle;
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** The attributes section of a version 3 snapshot, once finished; undefined for versions 1 and 2. */
  get attributes(): Uint8Array | undefined {
    return this.attributeSection;
  }

  /** The header, once fed (efSearch, seed and the parameters the host keeps). */
  headerView(): DataView {
    return new DataView(this.header.buffer);
  }

  /** Frees what was allocated so far; the loader is spent. Cost: O(1). */
  abort(): void {
    if (this.handle !== 0) this.rt.exports.indexDispose(this.handle);
    this.handle = 0;
    this.total = -1;
  }

  private corrupt(why: string): CorruptSnapshotError {
    return new CorruptSnapshotError(`${this.what}: not a valid index snapshot (${why})`);
  }

  /** Consumes a prefix of `bytes`; returns its length. */
  private take(bytes: Uint8Array): number {
    if (this.total < 0) throw this.corrupt('the load was abandoned');
    if (this.fed < HEADER) {
      const n = Math.min(HEADER - this.fed, bytes.length);
      this.header.set(bytes.subarray(0, n), this.fed);
      this.advance(bytes.subarray(0, n));
      if (this.fed === HEADER) this.begin();
      return n;
    }
    if (this.fed >= this.total) throw this.corrupt(`more than the ${this.total} bytes its header announces`);
    const crcAt = this.total - 4;
    if (this.fed >= crcAt) {
      const n = Math.min(this.total - this.fed, bytes.length);
      this.trailer.set(bytes.subarray(0, n), this.fed - crcAt);
      this.fed += n;
      return n;
    }
    let s = this.starts.length - 1;
    while (this.starts[s] > this.fed) s--;
    const end = s + 1 < this.starts.length ? this.starts[s + 1] : crcAt;
    let n = Math.min(end - this.fed, bytes.length);
    if (s === CORE_SECTIONS) {
      this.attributeSection!.set(bytes.subarray(0, n), this.fed - this.starts[s]);
    } else if (!this.overBudget) {
      const [addr, contiguous] = this.sections[s].locate(this.fed - this.starts[s]);
      n = Math.min(n, contiguous);
      new Uint8Array(this.rt.memory.buffer, addr, n).set(bytes.subarray(0, n));
    }
    this.advance(bytes.subarray(0, n));
    return n;
  }

  private advance(bytes: Uint8Array): void {
    this.crc = crc32Update(this.crc, bytes);
    this.fed += bytes.length;
  }

  /** Header complete: the engine checks it and allocates the blocks. */
  private begin(): void {
    if (String.fromCharCode(...this.header.subarray(0, 4)) !== 'EXIX')
      throw this.corrupt("the bytes do not start with the magic 'EXIX'");
    const sizes = sectionSizes(this.header);
    // Version 3 is version 2 plus an attributes section, its length in the reserved word at 72:
    // the engine checks the core as version 2, and the host reads the section.
    const engineHeader = this.header.slice();
    const view = new DataView(engineHeader.buffer);
    let attributeBytes = 0;
    if (view.getUint32(EXIX_HEADER.version, true) === EXIX_VERSION_ATTRIBUTES) {
      attributeBytes = view.getUint32(EXIX_HEADER.attributeBytes, true);
      if (attributeBytes === 0 || attributeBytes > MAX_ATTRIBUTE_BYTES)
        throw this.corrupt(`an attributes section of ${attributeBytes} bytes`);
      view.setUint32(EXIX_HEADER.version, 2, true);
      view.setUint32(EXIX_HEADER.attributeBytes, 0, true);
    }
    const total = HEADER + sizes.reduce((a, b) => a + b, 0) + attributeBytes + 4;
    if (this.expectedBytes !== undefined && total !== this.expectedBytes) {
      throw this.corrupt(`its header announces ${total} bytes, not ${this.expectedBytes}`);
    }
    if (attributeBytes > 0) this.attributeSection = new Uint8Array(attributeBytes);
    const area = this.rt.exports.indexSnapshotArea() >>> 0;
    new Uint8Array(this.rt.memory.buffer, area, HEADER).set(engineHeader);
    const handle = this.rt.exports.indexLoadBegin() >>> 0;
    if (handle === LOAD_CORRUPT) throw this.corrupt('the header is out of range');
    if (handle === LOAD_BUDGET) this.overBudget = this.rt.budgetError(this.what);
    else this.handle = handle;
    if (!this.overBudget) this.sections = snapshotSections(this.rt, area, sizes);
    this.starts = [];
    if (attributeBytes > 0) sizes.push(attributeBytes);
    for (let at = HEADER, s = 0; s < sizes.length; at += sizes[s++]) this.starts.push(at);
    this.total = total;
  }
}
