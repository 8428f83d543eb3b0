// Fixed-capacity binary max-heaps of (distance, node) pairs over raw memory.
//
//   base: [f32 key0 | u32 node0][f32 key1 | u32 node1] ...   8 bytes an entry, entry 0 = max
//
// The caller owns the storage and the size (kept in locals on the hot path). A min-heap is the
// same heap over negated keys, as hnswlib does it. No bounds checks: callers size the storage
// for the most entries they can push (search reserves it before it starts).

@inline function keyAt(base: usize, i: u32): f32 {
  return load<f32>(base + (<usize>i << 3));
}

@inline function nodeAt(base: usize, i: u32): u32 {
  return load<u32>(base + (<usize>i << 3), 4);
}

@inline function put(base: usize, i: u32, key: f32, node: u32): void {
  const p = base + (<usize>i << 3);
  store<f32>(p, key);
  store<u32>(p, node, 4);
}

/** Largest key (entry 0). */
@inline export function heapTopKey(base: usize): f32 {
  return load<f32>(base);
}

/** Node of the largest key (entry 0). */
@inline export function heapTopNode(base: usize): u32 {
  return load<u32>(base, 4);
}

/** Pushes (key, node) onto a heap of `size` entries; returns the new size. Cost: O(log size). */
export function heapPush(base: usize, size: u32, key: f32, node: u32): u32 {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pk = keyAt(base, parent);
    if (pk >= key) break;
    put(base, i, pk, nodeAt(base, parent));
    i = parent;
  }
  put(base, i, key, node);
  return size + 1;
}

/** Removes the largest entry of a heap of `size` (> 0) entries; returns the new size. Cost: O(log size). */
@inline export function heapPop(base: usize, size: u32): u32 {
  const last = size - 1;
  if (last == 0) return 0;
  const key = keyAt(base, last);
  const node = nodeAt(base, last);
  let i: u32 = 0;
  while (true) {
    let child = (i << 1) + 1;
    if (child >= last) break;
    let ck = keyAt(base, child);
    const right = child + 1;
    if (right < last) {
      const rk = keyAt(base, right);
      if (rk > ck) {
        child = right;
        ck = rk;
      }
    }
    if (ck <= key) break;
    put(base, i, ck, nodeAt(base, child));
    i = child;
  }
  put(base, i, key, node);
  return last;
}

/**
 * Empties a heap of `size` entries into `out` as (key, node) pairs in ascending key order.
 * `out` may not overlap `base`. Cost: O(size log size).
 */
export function heapDrainAscending(base: usize, size: u32, out: usize): void {
  while (size > 0) {
    const i = size - 1;
    const p = out + (<usize>i << 3);
    store<f32>(p, heapTopKey(base));
    store<u32>(p, heapTopNode(base), 4);
    size = heapPop(base, size);
  }
}
