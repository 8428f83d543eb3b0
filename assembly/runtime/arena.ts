// The engine's arena: every structure lives in blocks carved from linear memory here.
//
//   0 ......................... heapStart ............................... top ..... memory end
//   | static | journal, save area | [hdr|payload][hdr|payload (free)] ...  |  (grown on demand)
//
//   block header (16 bytes, payload follows it; a block starts 16 bytes before a 64-byte
//   boundary, so every payload starts a cache line: an index's records line up with the lines
//   its searches fetch):
//     +0  u32 size      whole block in bytes (header included), multiple of 64; bit 0 = free
//     +4  u32 prevSize  size of the block physically before this one (0 for the first)
//     +8  u32 nextFree  next block in the free list (0 = end), valid while free
//     +12 u32 prevFree  previous block in the free list (0 = head), valid while free
//
// Allocation is first fit over one doubly linked free list (there are few, large blocks: a
// handful per index or Q-table), splitting what is left over. Freeing coalesces with both
// physical neighbours; a free block that ends at `top` is returned to the unused tail, so an
// add/remove loop reaches a steady state. Growing linear memory never traps: a failed
// `memory.grow`, or a request past the byte budget, returns 0 and records what was asked.
//
// Transactions. Between arenaBegin and arenaEnd every allocation, free and grow is written to
// an undo journal, and arenaSave copies an object header aside, so an operation that runs out
// of budget halfway puts everything back: the same blocks at the same addresses with the same
// contents, the same top and usedBytes (only the free list's order may differ), the saved
// headers as they were. Undoing runs the journal backwards, each step inverting one operation
// on exactly the layout that operation left:
//
//   entry (5 u32)                                     undo
//   ALLOC   block                                     free it
//   GROWN   block, old size                           give the tail back (grown in place)
//   MOVED   old block, its size, run start, new block carve the old block back out of the free
//                                                     run it joined, copy the contents back, free the new
//   FREED   block, size, run start                    carve it back (contents not kept)
//   RETIRED block                                     none; freed when the outermost transaction ends
//   SAVED   address, bytes, copy offset               copy the saved bytes back
//
// ("run start": where the free run the freed block merged into begins: the block itself, or its
// free neighbour before it.) Transactions nest: an inner arenaEnd keeps or drops its own entries,
// the outermost also frees the RETIRED blocks and empties the journal. Growth is geometric, so
// a transaction records a few entries per block it grows (~150 for the largest batch that fits
// 4 GiB); but near the budget a table grows by exactly what it needs, a row at a time, so an
// allocation or grow that would leave fewer than JOURNAL_HEADROOM entries fails like one past
// the budget (the operation then undoes whole). The headroom is for the frees and saves of
// that undo path; running out of it is a bug and traps.

const HEADER: u32 = 16;
// Block header fields (byte offsets from the block's address; size, at 0, is read through
// sizeOf/isFree/setHeader because it carries the free bit).
const PREV_SIZE: u32 = 4;
const NEXT_FREE: u32 = 8;
const PREV_FREE: u32 = 12;
/** Block sizes are multiples of this, and payloads start at multiples of it (a cache line). */
const GRAIN: u32 = 64;
const MIN_BLOCK: u32 = GRAIN;
const FREE_BIT: u32 = 1;
const PAGE: u32 = 65536;

let heapStart: u32 = 0;
let top: u32 = 0;
let lastBlock: u32 = 0;
let freeHead: u32 = 0;
let limitBytes: u32 = 0;
let liveBytes: u32 = 0;
/** The most liveBytes has been since arenaInit or the last arenaResetPeak. */
let peakLiveBytes: u32 = 0;
let failedRequest: u32 = 0;

const ALLOC: u32 = 1;
const GROWN: u32 = 2;
const MOVED: u32 = 3;
const FREED: u32 = 4;
const RETIRED: u32 = 5;
const SAVED: u32 = 6;
const ENTRY_BYTES: u32 = 20;
// Journal entry fields: the kind, then up to four operands (a, b, c, d in the table at the top).
const ENTRY_KIND: u32 = 0;
const ENTRY_A: u32 = 4;
const ENTRY_B: u32 = 8;
const ENTRY_C: u32 = 12;
const ENTRY_D: u32 = 16;
const JOURNAL_ENTRIES: u32 = 512;
const JOURNAL_HEADROOM: u32 = 64;
const SAVE_BYTES: u32 = 2048;
// The journal and the save area sit between the static data and the first block (not in the
// module's data segments, which would ship their zeros).
let journal: usize = 0;
let saveArea: usize = 0;
let entries: u32 = 0;
let savedBytes: u32 = 0;
let depth: u32 = 0;

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
  journal = (<u32>__heap_base + 15) & ~15;
  saveArea = journal + JOURNAL_ENTRIES * ENTRY_BYTES;
  heapStart = ((<u32>saveArea + SAVE_BYTES + HEADER + GRAIN - 1) & ~(GRAIN - 1)) - HEADER;
  limitBytes = budgetBytes;
  ensureMemory(heapStart);
  top = heapStart;
  lastBlock = 0;
  freeHead = 0;
  liveBytes = 0;
  peakLiveBytes = 0;
  failedRequest = 0;
  entries = 0;
  savedBytes = 0;
  depth = 0;
}

/** Bytes from address 0 to the end of the last block: what the engine occupies. */
export function arenaTop(): u32 {
  return top;
}

/** Bytes in use: static data plus live blocks (free holes below `top` excluded). */
export function arenaUsed(): u32 {
  return heapStart + liveBytes;
}

@inline function notePeak(): void {
  if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
}

/** The most arenaUsed() has been since arenaInit or the last arenaResetPeak. Cost: O(1). */
export function arenaPeak(): u32 {
  return heapStart + peakLiveBytes;
}

/** Starts the peak over at the bytes in use now. Cost: O(1). */
export function arenaResetPeak(): void {
  peakLiveBytes = liveBytes;
}

/** Bytes the most recent failed allocation asked for (0 if none failed yet). */
export function arenaFailedRequest(): u32 {
  return failedRequest;
}

/**
 * The most payload bytes one allocation can have now without passing the budget: the largest
 * free block's, or the room between `top` and the budget if that is more. Cost: O(free blocks).
 */
export function arenaLargestFree(): u32 {
  let most: u32 = limitBytes > top + HEADER ? limitBytes - top : 0;
  let block = freeHead;
  while (block != 0) {
    most = max(most, sizeOf(block));
    block = load<u32>(block, NEXT_FREE);
  }
  return most >= GRAIN ? (most & ~(GRAIN - 1)) - HEADER : 0;
}

/** The byte budget the arena was set up with. */
export function arenaLimit(): u32 {
  return limitBytes;
}

function unlinkFree(block: u32): void {
  const next = load<u32>(block, NEXT_FREE);
  const prev = load<u32>(block, PREV_FREE);
  if (prev != 0) store<u32>(prev, next, NEXT_FREE);
  else freeHead = next;
  if (next != 0) store<u32>(next, prev, PREV_FREE);
}

function linkFree(block: u32): void {
  store<u32>(block, freeHead, NEXT_FREE);
  store<u32>(block, 0, PREV_FREE);
  if (freeHead != 0) store<u32>(freeHead, block, PREV_FREE);
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
  const size = (<u64>bytes + HEADER + GRAIN - 1) & ~(<u64>(GRAIN - 1));
  return size < MIN_BLOCK ? <u64>MIN_BLOCK : size;
}

/** Cuts `block` (in use, of size `have`) to `keep` bytes and frees the rest (any multiple of GRAIN). */
function releaseTail(block: u32, have: u32, keep: u32): void {
  const rest = block + keep;
  setHeader(block, keep, false);
  setHeader(rest, have - keep, true);
  store<u32>(rest, keep, PREV_SIZE);
  if (rest + (have - keep) == top) lastBlock = rest;
  else store<u32>(rest + (have - keep), have - keep, PREV_SIZE);
  coalesceAndRelease(rest);
}

/** Splits `block` (in use, of size `have`) to `need` bytes when the rest can stand alone; returns its size. */
function splitTail(block: u32, have: u32, need: u32): u32 {
  if (have - need < MIN_BLOCK) return have;
  releaseTail(block, have, need);
  return need;
}

/** Takes a block of `bytes` payload: first fit, else at `top`. Returns the block (not the payload), or 0. */
function allocBlock(bytes: u32): u32 {
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
      notePeak();
      return block;
    }
    block = load<u32>(block, NEXT_FREE);
  }
  // A free block never ends at `top` (freeing gives it back), so open a new one there.
  if (!ensureMemory(<u64>top + need)) {
    failedRequest = bytes;
    return 0;
  }
  block = top;
  setHeader(block, need, false);
  store<u32>(block, lastBlock != 0 ? sizeOf(lastBlock) : 0, PREV_SIZE);
  lastBlock = block;
  top = block + need;
  liveBytes += need;
  notePeak();
  return block;
}

/** Whether the open transaction (if any) may journal one more allocation or grow; records the request if not. */
@inline function mayGrow(bytes: u32): bool {
  if (depth == 0 || entries + JOURNAL_HEADROOM < JOURNAL_ENTRIES) return true;
  failedRequest = bytes;
  return false;
}

/** Allocates `bytes` (64-byte aligned payload). Returns the payload address, or 0. Cost: O(free blocks). */
export function arenaAlloc(bytes: u32): usize {
  if (!mayGrow(bytes)) return 0;
  const block = allocBlock(bytes);
  if (block == 0) return 0;
  if (depth > 0) record(ALLOC, block, 0, 0, 0);
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
  const prevSize = load<u32>(block, PREV_SIZE);
  if (prevSize != 0 && isFree(block - prevSize)) {
    block -= prevSize;
    unlinkFree(block);
    size += prevSize;
  }
  if (block + size == top) {
    top = block;
    const prevOfBlock = load<u32>(block, PREV_SIZE);
    lastBlock = prevOfBlock != 0 ? block - prevOfBlock : 0;
    return;
  }
  setHeader(block, size, true);
  store<u32>(block + size, size, PREV_SIZE);
  linkFree(block);
}

/** Frees `block` (not journaled). */
function freeBlock(block: u32): void {
  liveBytes -= sizeOf(block);
  setHeader(block, sizeOf(block), true);
  coalesceAndRelease(block);
}

/** Where the free run `block` joins when freed begins: its free neighbour before it, or itself. */
@inline function runStart(block: u32): u32 {
  const prevSize = load<u32>(block, PREV_SIZE);
  return prevSize != 0 && isFree(block - prevSize) ? block - prevSize : block;
}

/**
 * Returns a block to the arena. `ptr` 0 is ignored. Inside a transaction an undo brings the
 * block back, but not its contents: use arenaRetire for a block whose contents it must keep.
 * Cost: O(1).
 */
export function arenaFree(ptr: usize): void {
  if (ptr == 0) return;
  const block = <u32>ptr - HEADER;
  if (depth > 0) record(FREED, block, sizeOf(block), runStart(block), 0);
  freeBlock(block);
}

/**
 * Frees a block whose contents an undo must find as they were: now outside a transaction (or if
 * the transaction allocated it), else when the outermost transaction ends. Cost: O(journal).
 */
export function arenaRetire(ptr: usize): void {
  if (ptr == 0) return;
  const block = <u32>ptr - HEADER;
  if (depth > 0 && !allocatedInJournal(block)) record(RETIRED, block, 0, 0, 0);
  else arenaFree(ptr);
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
 * Cuts a live block down to `bytes` of payload and frees the rest, when the rest can stand
 * alone as a block (else keeps it whole). Does nothing inside a transaction: an undo could not
 * grow the block back in place. Cost: O(1).
 */
export function arenaShrink(ptr: usize, bytes: u32): void {
  if (ptr == 0 || depth > 0) return;
  const block = <u32>ptr - HEADER;
  const have = sizeOf(block);
  const need = <u32>blockSizeFor(bytes);
  if (need >= have) return;
  liveBytes -= have - splitTail(block, have, need);
}

/**
 * Grows a block to `bytes`, keeping its contents: in place when the block is last (and the
 * budget allows it there) or its neighbour is free, else by copy (into a hole, or at `top`).
 * Returns the (possibly new) address, or 0 with the old block untouched. Cost: O(1) in place,
 * O(bytes) when copying.
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
  if (!mayGrow(bytes)) return 0;
  if (block == lastBlock) {
    // Past the budget in place, a hole below may still hold it: the copy below (a last block
    // that could only grow in place once stopped an index at the top of a 1 MiB engine whose
    // other 1 MB was free).
    if (ensureMemory(<u64>block + need)) {
      if (depth > 0) record(GROWN, block, have, 0, 0);
      setHeader(block, need, false);
      top = block + need;
      liveBytes += need - have;
      notePeak();
      return ptr;
    }
  } else if (isFree(block + have) && have + sizeOf(block + have) >= need) {
    const next = block + have;
    if (depth > 0) record(GROWN, block, have, 0, 0);
    const merged = have + sizeOf(next);
    unlinkFree(next);
    const afterNext = block + merged;
    setHeader(block, merged, false);
    if (afterNext < top) store<u32>(afterNext, merged, PREV_SIZE);
    else lastBlock = block;
    liveBytes += splitTail(block, merged, need) - have;
    notePeak();
    return ptr;
  }
  const fresh = allocBlock(bytes);
  if (fresh == 0) return 0;
  memory.copy(fresh + HEADER, ptr, <usize>(have - HEADER));
  if (depth > 0) record(MOVED, block, have, runStart(block), fresh);
  freeBlock(block);
  return fresh + HEADER;
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

// ---- transactions (see the top of the file) ----

/** Appends a journal entry; a full journal is a bug (mayGrow keeps headroom for frees) and traps. */
function record(kind: u32, a: u32, b: u32, c: u32, d: u32): void {
  if (entries == JOURNAL_ENTRIES) unreachable();
  const e = journal + <usize>(entries * ENTRY_BYTES);
  store<u32>(e, kind, ENTRY_KIND);
  store<u32>(e, a, ENTRY_A);
  store<u32>(e, b, ENTRY_B);
  store<u32>(e, c, ENTRY_C);
  store<u32>(e, d, ENTRY_D);
  entries++;
}

/** Whether the journal holds the allocation of `block` (ALLOC, or the new block of a MOVED). */
function allocatedInJournal(block: u32): bool {
  for (let i: u32 = 0; i < entries; i++) {
    const e = journal + <usize>(i * ENTRY_BYTES);
    const kind = load<u32>(e, ENTRY_KIND);
    if ((kind == ALLOC && load<u32>(e, ENTRY_A) == block) || (kind == MOVED && load<u32>(e, ENTRY_D) == block)) return true;
  }
  return false;
}

/**
 * Makes `block` (of `size` bytes, freed into the free run starting at `start`, the layout as
 * that free left it) a live block again at its old address.
 */
function carve(block: u32, size: u32, start: u32): void {
  if (start == top) {
    // The run went back to the unused tail: `block` was the last block.
    const before = lastBlock != 0 ? sizeOf(lastBlock) : 0;
    if (start < block) {
      setHeader(start, block - start, true);
      store<u32>(start, before, PREV_SIZE);
      linkFree(start);
      store<u32>(block, block - start, PREV_SIZE);
    } else {
      store<u32>(block, before, PREV_SIZE);
    }
    setHeader(block, size, false);
    top = block + size;
    lastBlock = block;
  } else {
    const end = start + sizeOf(start);
    unlinkFree(start);
    if (start < block) {
      setHeader(start, block - start, true);
      linkFree(start);
      store<u32>(block, block - start, PREV_SIZE);
    }
    setHeader(block, size, false);
    const rest = block + size;
    if (rest < end) {
      setHeader(rest, end - rest, true);
      store<u32>(rest, size, PREV_SIZE);
      linkFree(rest);
    }
    store<u32>(end, end - rest == 0 ? size : end - rest, PREV_SIZE);
  }
  liveBytes += size;
  notePeak();
}

/** Undoes journal entry i. */
function undo(i: u32): void {
  const e = journal + <usize>(i * ENTRY_BYTES);
  const kind = load<u32>(e, ENTRY_KIND);
  const a = load<u32>(e, ENTRY_A);
  const b = load<u32>(e, ENTRY_B);
  const c = load<u32>(e, ENTRY_C);
  if (kind == ALLOC) {
    freeBlock(a);
  } else if (kind == GROWN) {
    const size = sizeOf(a);
    liveBytes -= size - b;
    releaseTail(a, size, b);
  } else if (kind == MOVED) {
    const fresh = load<u32>(e, ENTRY_D);
    carve(a, b, c);
    memory.copy(a + HEADER, fresh + HEADER, <usize>(b - HEADER));
    freeBlock(fresh);
  } else if (kind == FREED) {
    carve(a, b, c);
  } else if (kind == SAVED) {
    memory.copy(a, saveArea + c, b);
    savedBytes = c;
  }
}

/**
 * Opens a transaction (they nest); returns the mark its arenaEnd takes. Until then every arena
 * operation is journaled. Cost: O(1).
 */
export function arenaBegin(): u32 {
  depth++;
  return entries;
}

/**
 * Copies `bytes` at `ptr` (an object's header, a slot word) aside, for an undo of the open
 * transaction to restore; nothing outside a transaction. Cost: O(bytes).
 */
export function arenaSave(ptr: usize, bytes: u32): void {
  if (depth == 0) return;
  if (savedBytes + bytes > SAVE_BYTES) unreachable();
  memory.copy(saveArea + savedBytes, ptr, bytes);
  record(SAVED, <u32>ptr, bytes, savedBytes, 0);
  savedBytes += bytes;
}

/**
 * Closes the transaction opened at `mark`: keeps what it did when `ok`, else undoes it all
 * (blocks, contents, saved bytes). The outermost end also frees the retired blocks. Returns
 * `ok`. Cost: O(entries), plus the copies back when undoing.
 */
export function arenaEnd(mark: u32, ok: bool): bool {
  if (!ok) {
    while (entries > mark) {
      entries--;
      undo(entries);
    }
  }
  depth--;
  if (depth == 0) {
    for (let i: u32 = 0; i < entries; i++) {
      const e = journal + <usize>(i * ENTRY_BYTES);
      if (load<u32>(e, ENTRY_KIND) == RETIRED) freeBlock(load<u32>(e, ENTRY_A));
    }
    entries = 0;
    savedBytes = 0;
  }
  return ok;
}
