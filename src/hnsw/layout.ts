/**
 * Where each section of an index snapshot (EXIX, docs/format.md) lies in linear memory. The
 * engine keeps nodes in segments of records (assembly/hnsw/graph.ts): a node's vector and its
 * level-0 links share a record, labels and upperAt are per-segment side arrays. The snapshot
 * keeps each field in its own section in node order, so a section is a sequence of runs: one per
 * node for the record parts, one per segment for the side arrays, one for the flat blocks. The
 * host walks those runs to copy sections out of, or into, linear memory with no staging.
 */
import type { Runtime } from '../runtime/runtime.js';

/** Bytes of the snapshot header before the layout words in the engine's info area. */
export const SNAPSHOT_HEADER = 80;

/**
 * Byte offsets of the EXIX header's fields (docs/format.md, "Index snapshot"; every field a
 * little-endian u32 except `entry`, an i32). The engine writes and checks the header
 * (assembly/hnsw/snapshot.ts); the host reads the fields it needs to size sections and rebuild
 * the options.
 */
export const EXIX_HEADER = {
  magic: 0,
  version: 4,
  kind: 8,
  dim: 12,
  metric: 16,
  M: 20,
  efConstruction: 24,
  efSearch: 28,
  seed: 32,
  count: 36,
  deleted: 40,
  entry: 44,
  maxLevel: 48,
  upperUsed: 52,
  reuseHint: 56,
  /** Version 2: the quantization code (0 f32, 1 f16, 2 i8); version 1: reserved, 0. */
  quantization: 60,
  /** Version 3: the attributes section's bytes (src/hnsw/attributes.ts); versions 1, 2: reserved, 0. */
  attributeBytes: 72,
} as const;
/** The version of a snapshot with an attributes section (the engine checks its core as version 2). */
export const EXIX_VERSION_ATTRIBUTES = 3;
const LAYOUT_WORDS = 8;

/** The layout words the engine writes after the header in its info area (snapshot.ts). */
interface MemoryLayout {
  table: number;
  segments: number;
  shift: number;
  sideBytes: number;
  recordBytes: number;
  linkBytes: number;
  upper: number;
  tombs: number;
}

/**
 * A snapshot section: `len` bytes; `locate(o)` says where byte o lies in linear memory and how
 * many bytes from there are contiguous (within the section). `listSlots`: the section is
 * [count, ids x listSlots] lists, one per run, whose tails past count the snapshot writes as zeros.
 */
export interface Section {
  len: number;
  locate(o: number): [addr: number, contiguous: number];
  listSlots?: number;
}

/**
 * Bytes of a stored vector part (assembly/hnsw/vector-form.ts) of `dim` under quantization
 * code `quant`: f32 4 * (dim padded to 4), f16 2 * (dim padded to 8), i8 8 + (dim padded to 16).
 * An unknown code is sized as f32 (the engine refuses the header).
 */
export function vectorBytesFor(dim: number, quant: number): number {
  if (quant === 2) return 8 + ((dim + 15) & ~15);
  if (quant === 1) return 2 * ((dim + 7) & ~7);
  return 4 * ((dim + 3) & ~3);
}

/** Byte sizes of the six sections a header announces (vectors, links0, upperAt, upper, labels, tombs). */
export function sectionSizes(header: Uint8Array): number[] {
  const view = new DataView(header.buffer, header.byteOffset, SNAPSHOT_HEADER);
  const dim = view.getUint32(EXIX_HEADER.dim, true);
  const M = view.getUint32(EXIX_HEADER.M, true);
  const n = view.getUint32(EXIX_HEADER.count, true);
  const upperUsed = view.getUint32(EXIX_HEADER.upperUsed, true);
  // Version 1 keeps its reserved quantization word zero (f32); version 2 holds the code there.
  return [
    n * vectorBytesFor(dim, view.getUint32(EXIX_HEADER.quantization, true)),
    n * (1 + 2 * M) * 4,
    n * 4,
    Math.max(0, upperUsed - 1) * 4,
    n * 4,
    Math.ceil(n / 32) * 4,
  ];
}

function readMemoryLayout(rt: Runtime, info: number): MemoryLayout {
  const w = Array.from(new Uint32Array(rt.memory.buffer, info + SNAPSHOT_HEADER, LAYOUT_WORDS), (x) => x >>> 0);
  return {
    table: w[0],
    segments: w[1],
    shift: w[2],
    sideBytes: w[3],
    recordBytes: w[4],
    linkBytes: w[5],
    upper: w[6],
    tombs: w[7],
  };
}

/**
 * The six sections of the index whose layout the engine wrote in the info area at `info`, for a
 * header announcing `sizes` (sectionSizes). The upper section is located at word 1 of the
 * upper block (the saver copies it itself to clear stale list tails). Cost: O(1); each locate O(1).
 */
export function snapshotSections(rt: Runtime, info: number, sizes: number[]): Section[] {
  const layout = readMemoryLayout(rt, info);
  const segNodes = 2 ** layout.shift;
  let tableView = new Uint32Array(0);
  const segmentAddr = (s: number): number => {
    if (tableView.buffer !== rt.memory.buffer)
      tableView = new Uint32Array(rt.memory.buffer, layout.table, layout.segments);
    return tableView[s] >>> 0;
  };
  const recordPart = (len: number, offset: number, unit: number, listSlots?: number): Section => ({
    len,
    listSlots,
    locate(o) {
      const node = Math.floor(o / unit);
      const within = o - node * unit;
      const slot = node % segNodes;
      const record = segmentAddr((node - slot) / segNodes) + layout.sideBytes + slot * layout.recordBytes;
      return [record + offset + within, unit - within];
    },
  });
  const sideArray = (len: number, offset: number): Section => ({
    len,
    locate(o) {
      const node = Math.floor(o / 4);
      const slot = node % segNodes;
      const within = o - node * 4;
      return [
        segmentAddr((node - slot) / segNodes) + offset + slot * 4 + within,
        Math.min((segNodes - slot) * 4, len - node * 4) - within,
      ];
    },
  });
  const flat = (len: number, addr: number): Section => ({ len, locate: (o) => [addr + o, len - o] });
  const dimBytes = sizes[0] === 0 ? 0 : layout.recordBytes - layout.linkBytes;
  const listBytes = sizes[2] === 0 ? 0 : (sizes[1] / sizes[2]) * 4;
  return [
    recordPart(sizes[0], layout.linkBytes, dimBytes),
    recordPart(sizes[1], 0, listBytes, listBytes / 4 - 1),
    sideArray(sizes[2], 4 * segNodes),
    flat(sizes[3], layout.upper),
    sideArray(sizes[4], 0),
    flat(sizes[5], layout.tombs),
  ];
}
