// The engine's arena: every structure lives in blocks carved from linear memory here.
//
//   0 ........ heapStart ................................................ top ..... memory end
//   | static   | [hdr|payload][hdr|payload (free)][hdr|payload] ...        |  (grown on demand)
//
//   block header (16 bytes, block start is 16-byte aligned, payload follows it):
//     +0  u32 size      whole block in bytes (header included), multiple of 16; bit 0 = free
//     +4  u32 prevSize  size of the block physically before this one (0 for the first)
//     +8  u32 nextFree  next block in the free list (0 = end), valid while free
//     +12 u32 prevFree  previous block in the free list (0 = head), valid while free
//
// Allocation is first fit over one doubly linked free list (there are few, large blocks: a
// handful per index or Q-table), splitting what is left over. Freeing coalesces with both
// physical neighbours; a free block that ends at `top` is returned to the unused tail, so an
// add/remove loop reaches a steady state. Growing linear memory never traps: a failed
// `memory.grow`, or a request past the byte budget, returns 0 and records what was asked.

const HEADER: u32 = 16;
const MIN_BLOCK: u32 = 32;
const FREE_BIT: u32 = 1;
const PAGE: u32 = 65536;

let heapStart: u32 = 0;
let top: u32 = 0;
let lastBlock: u32 = 0;
let freeHead: u32 = 0;
let limitBytes: u32 = 0;
let liveBytes: u32 = 0;
let failedRequest: u32 = 0;

@inline function sizeOf(block: u32): u32 {
  return load<u32>(block) & ~FREE_BIT;
}

@inline function isFree(block: u32): bool {
  return (load<u32>(block) & FREE_BIT) != 0;
}

@inline function setHeader(block: u32, size: u32, free: bool): void {
  store<u32>(block, size | (free ? FREE_BIT : 0));
}

/** Sets the arena up below `budgetBytes` (the hard cap on `top`). Cost: O(1). */
export function arenaInit(budgetBytes: u32): void {
  heapStart = (<u32>__heap_base + 15) & ~15;
  top = heapStart;
  lastBlock = 0;
  freeHead = 0;
  liveBytes = 0;
  failedRequest = 0;
  limitBytes = budgetBytes;
}

/** Bytes from address 0 to the end of the last block: what the engine occupies. */
export function arenaTop(): u32 {
  return top;
}

/** Bytes in use: static data plus live blocks (free holes below `top` excluded). */
export function arenaUsed(): u32 {
  return heapStart + liveBytes;
}

/** Bytes the most recent failed allocation asked for (0 if none failed yet). */
export function arenaFailedRequest(): u32 {
  return failedRequest;
}

/** The byte budget the arena was set up with. */
export function arenaLimit(): u32 {
  return limitBytes;
}

function unlinkFree(block: u32): void {
  const next = load<u32>(block, 8);
  const prev = load<u32>(block, 12);
  if (prev != 0) store<u32>(prev, next, 8);
  else freeHead = next;
  if (next != 0) store<u32>(next, prev, 12);
}

function linkFree(block: u32): void {
  store<u32>(block, freeHead, 8);
  store<u32>(block, 0, 12);
  if (freeHead != 0) store<u32>(freeHead, block, 12);
  freeHead = block;
}

/** Makes sure linear memory reaches `end`, within the budget. Returns false on failure. */
function ensureMemory(end: u64): bool {
  if (end > <u64>limitBytes) return false;
  const have = <u64>memory.size() * PAGE;
  if (end <= have) return true;
  const pages = <i32>((end - have + PAGE - 1) / PAGE);
  return memory.grow(pages) >= 0;
}

@inline function blockSizeFor(bytes: u32): u64 {
  const size = (<u64>bytes + HEADER + 15) & ~(<u64>15);
  return size < MIN_BLOCK ? <u64>MIN_BLOCK : size;
}

/** Splits `block` (in use, of size `have`) to `need` bytes when the rest can stand alone. */
function splitTail(block: u32, have: u32, need: u32): u32 {
  if (have - need < MIN_BLOCK) return have;
  const rest = block + need;
  setHeader(block, need, false);
  setHeader(rest, have - need, true);
  store<u32>(rest, need, 4);
  if (rest + (have - need) == top) lastBlock = rest;
  else store<u32>(rest + (have - need), have - need, 4);
  coalesceAndRelease(rest);
  return need;
}

/** Allocates `bytes` (16-byte aligned payload). Returns the payload address, or 0. Cost: O(free blocks). */
export function arenaAlloc(bytes: u32): usize {
  const need64 = blockSizeFor(bytes);
  if (need64 > 0xFFFF0000) {
    failedRequest = bytes;
    return 0;
  }
  const need = <u32>need64;
  let block = freeHead;
  while (block != 0) {
    const have = sizeOf(block);
    if (have >= need) {
      unlinkFree(block);
      setHeader(block, have, false);
      const size = splitTail(block, have, need);
      liveBytes += size;
      return block + HEADER;
    }
    block = load<u32>(block, 8);
  }
  // A free block never ends at `top` (freeing gives it back), so open a new one there.
  if (!ensureMemory(<u64>top + need)) {
    failedRequest = bytes;
    return 0;
  }
  block = top;
  setHeader(block, need, false);
  store<u32>(block, lastBlock != 0 ? sizeOf(lastBlock) : 0, 4);
  lastBlock = block;
  top = block + need;
  liveBytes += need;
  return block + HEADER;
}

/** Marks `block` free, merges it with free neighbours, and gives a free tail back to `top`. */
function coalesceAndRelease(block: u32): void {
  let size = sizeOf(block);
  const next = block + size;
  if (next < top && isFree(next)) {
    unlinkFree(next);
    size += sizeOf(next);
  }
  const prevSize = load<u32>(block, 4);
  if (prevSize != 0 && isFree(block - prevSize)) {
    block -= prevSize;
    unlinkFree(block);
    size += prevSize;
  }
  if (block + size == top) {
    top = block;
    const prevOfBlock = load<u32>(block, 4);
    lastBlock = prevOfBlock != 0 ? block - prevOfBlock : 0;
    return;
  }
  setHeader(block, size, true);
  store<u32>(block + size, size, 4);
  linkFree(block);
}

/** Returns a block to the arena. `ptr` 0 is ignored. Cost: O(1). */
export function arenaFree(ptr: usize): void {
  if (ptr == 0) return;
  const block = <u32>ptr - HEADER;
  liveBytes -= sizeOf(block);
  setHeader(block, sizeOf(block), true);
  coalesceAndRelease(block);
}

/** Bytes a live block takes in the arena, its header included; 0 for `ptr` 0. Cost: O(1). */
export function arenaBlockBytes(ptr: usize): u32 {
  return ptr == 0 ? 0 : sizeOf(<u32>ptr - HEADER);
}

/** Usable payload bytes of an allocated block. */
export function arenaCapacity(ptr: usize): u32 {
  return sizeOf(<u32>ptr - HEADER) - HEADER;
}

/**
 * Grows a block to `bytes`, keeping its contents: in place when the block is last or its
 * neighbour is free, else by copy. Returns the (possibly new) address, or 0 with the old block
 * untouched. Cost: O(1) in place, O(bytes) when copying.
 */
export function arenaRealloc(ptr: usize, bytes: u32): usize {
  if (ptr == 0) return arenaAlloc(bytes);
  const block = <u32>ptr - HEADER;
  const have = sizeOf(block);
  const need64 = blockSizeFor(bytes);
  if (need64 <= <u64>have) return ptr;
  if (need64 > 0xFFFF0000) {
    failedRequest = bytes;
    return 0;
  }
  const need = <u32>need64;
  if (block == lastBlock) {
    if (!ensureMemory(<u64>block + need)) {
      failedRequest = bytes;
      return 0;
    }
    setHeader(block, need, false);
    top = block + need;
    liveBytes += need - have;
    return ptr;
  }
  const next = block + have;
  if (isFree(next) && have + sizeOf(next) >= need) {
    const merged = have + sizeOf(next);
    unlinkFree(next);
    const afterNext = block + merged;
    setHeader(block, merged, false);
    if (afterNext < top) store<u32>(afterNext, merged, 4);
    else lastBlock = block;
    liveBytes += splitTail(block, merged, need) - have;
    return ptr;
  }
  const fresh = arenaAlloc(bytes);
  if (fresh == 0) return 0;
  memory.copy(fresh, ptr, <usize>(have - HEADER));
  arenaFree(ptr);
  return fresh;
}

/**
 * arenaRealloc for a size computed in 64 bits: sizes past what a 32-bit arena can hold fail
 * (return 0, recording the request) instead of wrapping around. Cost: as arenaRealloc.
 */
export function arenaGrow(ptr: usize, bytes: u64): usize {
  if (bytes > 0xFFFF0000) {
    failedRequest = 0xFFFFFFFF;
    return 0;
  }
  return arenaRealloc(ptr, <u32>bytes);
}
