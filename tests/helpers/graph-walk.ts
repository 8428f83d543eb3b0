/** Walks an index's own graph (layer 0 of serialize()'s EXIX bytes, in plain JS) and churns ids, for the reachability and compaction suites. */
import type { VectorIndex } from '../../src/index';
import { rng } from './random';

/**
 * Layer-0 lists that are not well formed (a member out of range, the node itself, a repeat, more
 * than `most` members), as "node: list", read from a snapshot.
 */
export function malformedLists(index: VectorIndex, most: number): string[] {
  const { lists } = readLayer0(index);
  return lists
    .map((list, x) => ({ list, x }))
    .filter(
      ({ list, x }) =>
        list.length > most || new Set(list).size !== list.length || list.some((y) => y === x || y >= lists.length),
    )
    .map(({ list, x }) => `${x}: ${list}`);
}

/** Nodes (slots) a walk over layer 0 from the entry does not reach, read from a snapshot. */
export function unreachedSlots(index: VectorIndex): number[] {
  const { lists, entry } = readLayer0(index);
  const seen = entry >= 0 ? walkFrom(lists, entry) : new Uint8Array(lists.length);
  return Array.from(seen.keys()).filter((i) => !seen[i]);
}

/** The slots a walk over `lists` from `from` reaches (1 each), `from` included. */
function walkFrom(lists: number[][], from: number): Uint8Array {
  const seen = new Uint8Array(lists.length);
  seen[from] = 1;
  const stack = [from];
  while (stack.length > 0) {
    for (const t of lists[stack.pop()!]) {
      if (!seen[t]) {
        seen[t] = 1;
        stack.push(t);
      }
    }
  }
  return seen;
}

/** Applies `ops` seeded operations over ids 0..idSpace-1 (adds, replaces, removes with `removeShare`) to an index holding `live`; returns the live ids (`live`, updated). */
export function churn(
  index: VectorIndex,
  seed: number,
  ops: number,
  idSpace: number,
  removeShare: number,
  live = new Set<number>(),
): Set<number> {
  const next = rng(seed);
  for (let i = 0; i < ops; i++) {
    if (next() < removeShare) {
      const id = Math.floor(next() * idSpace);
      expect(index.remove(id)).toBe(live.delete(id));
      continue;
    }
    const id = Math.floor(next() * idSpace);
    index.add(
      id,
      Float32Array.from({ length: index.dim }, () => next()),
    );
    live.add(id);
  }
  return live;
}

/** Asserts index holds exactly `live`, every slot is reached from the entry, search(q, size) returns them all and a one-id filter finds each. */
export function expectAllReachable(index: VectorIndex, live: Set<number>): void {
  expect(index.size).toBe(live.size);
  expect(unreachedSlots(index)).toEqual([]);
  const all = index.search(new Float32Array(index.dim), live.size, { ef: live.size });
  expect(new Set(all.ids)).toEqual(live);
  for (const id of live) {
    const found = index.search(index.get(id)!, 1, { filter: (candidate) => candidate === id });
    expect(Array.from(found.ids)).toEqual([id]);
  }
}

/** Layer 0 and the nodes a search can start its layer-0 walk from, read from a snapshot (docs/format.md). */
export function readLayer0(index: VectorIndex): {
  lists: number[][];
  live: boolean[];
  landing: number[];
  entry: number;
} {
  const bytes = index.serialize();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [M, n, entry, upperUsed] = [
    dv.getUint32(20, true),
    dv.getUint32(36, true),
    dv.getInt32(44, true),
    dv.getUint32(52, true),
  ];
  const row = 1 + 2 * M;
  const T = Math.ceil(n / 32);
  // The vectors section's row size, whatever the quantization: the rest of the bytes is known
  // (docs/format.md: 80 + n V + 4 (n (M0 + 3) + U - 1 + T) + 4).
  const rest = 84 + 4 * (n * (row + 2) + upperUsed - 1 + T);
  const links0 = 80 + (bytes.length - rest);
  const upperAt = links0 + 4 * n * row;
  const tombs = bytes.length - 4 - 4 * T;
  const lists: number[][] = [];
  const live: boolean[] = [];
  const landing: number[] = [];
  for (let x = 0; x < n; x++) {
    const count = dv.getUint32(links0 + x * row * 4, true);
    lists.push(Array.from({ length: count }, (_, j) => dv.getUint32(links0 + (x * row + j + 1) * 4, true)));
    live.push(((dv.getUint32(tombs + 4 * (x >> 5), true) >>> (x & 31)) & 1) === 0);
    // The descent through the upper layers ends on a node of level >= 1, or at the entry.
    if (x === entry || dv.getUint32(upperAt + 4 * x, true) !== 0) landing.push(x);
  }
  return { lists, live, landing, entry };
}

/**
 * The invariant of README "Reachability": on layer 0, every live node is reachable from every
 * node the upper-layer descent can land on (the entry, and every node of level >= 1). Returns
 * the [from, to] slot pairs that break it (at most `limit`), from a plain-JS walk of serialize()'s bytes.
 */
export function unreachedPairs(index: VectorIndex, limit = 10): Array<[number, number]> {
  const { lists, live, landing } = readLayer0(index);
  const out: Array<[number, number]> = [];
  for (const from of landing) {
    const seen = walkFrom(lists, from);
    for (let x = 0; x < lists.length; x++) {
      if (live[x] && !seen[x] && out.length < limit) out.push([from, x]);
    }
  }
  return out;
}
