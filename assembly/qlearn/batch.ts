// A transition batch: one block, structure of arrays. The host writes one for batchUpdate;
// a trajectory buffer writes one when it samples, so a sample is ready for batchUpdate as is.
//
//   +0    u32 states[n]       +4n   u32 actions[n]      +8n   f32 rewards[n]
//   +12n  u32 nextStates[n]   +16n  u32 dones[n]        (0 = not terminal)
//
// 20 bytes a transition. Every array is of 32-bit words, so the host fills each with one
// typed-array copy.

/** Byte offset of the actions of an n-transition batch. */
@inline export function batchActions(n: u32): usize { return <usize>n << 2; }

/** Byte offset of the rewards of an n-transition batch. */
@inline export function batchRewards(n: u32): usize { return <usize>n << 3; }

/** Byte offset of the next states of an n-transition batch. */
@inline export function batchNextStates(n: u32): usize { return <usize>n * 12; }

/** Byte offset of the done flags of an n-transition batch. */
@inline export function batchDones(n: u32): usize { return <usize>n << 4; }
