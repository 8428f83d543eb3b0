// Every number the ABI returns or takes that both sides must agree on: status codes, the
// loaders' non-handle results, the "no slot" sentinel and the staging slots. The host gets the
// same table from scripts/build-wasm.mjs, which generates src/runtime/wasm/status.generated.ts from this
// file (its `export const` lines with a number literal, each with the doc comment above it).
//
// Conventions (one per kind of export):
//   - a mutation returns STATUS_OK or STATUS_BUDGET (engineFailedRequest() then tells how many
//     bytes were asked for);
//   - a loader returns a handle, or LOAD_BUDGET / LOAD_CORRUPT (handles are 16-byte aligned,
//     never 0 or 1);
//   - a bool export returns 1 or 0 ("whether").

/** The call succeeded. */
export const STATUS_OK: i32 = 0;
/** The call did not fit the engine's budget and changed nothing. */
export const STATUS_BUDGET: i32 = -1;

/** indexInsertTraced's result when the recorded trace does not fit the index (no word count). */
export const TRACE_MISMATCH: i32 = -1;

/** A loader's result instead of a handle: the object does not fit the budget. */
export const LOAD_BUDGET: usize = 0;
/** A loader's result instead of a handle: the bytes are not a valid snapshot (nothing allocated). */
export const LOAD_CORRUPT: usize = 1;

/** No slot or node: the end of a recency list, or "start from the oldest" for cacheNextVictim. */
export const NONE: u32 = 0xffffffff;

/** Staging slot of ids / the first input (assembly/runtime/staging.ts). */
export const SLOT_IDS: i32 = 0;
/** Staging slot of vectors / queries. */
export const SLOT_ROWS: i32 = 1;
/** Staging slot of outputs. */
export const SLOT_OUT: i32 = 2;
/** Staging slot of a search's allow-list (the allowed ids). */
export const SLOT_FILTER: i32 = 3;
/** How many staging slots there are. */
export const STAGING_SLOTS: i32 = 4;
