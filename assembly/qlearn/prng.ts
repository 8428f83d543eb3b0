// The seeded generator of the Q-learning engine (epsilon-greedy draws, replay sampling):
// xorshift64* (Vigna), 64 bits of state kept in the owner's header and saved in its snapshot,
// so a table or buffer reloaded from bytes continues the same sequence.

/** A non-zero starting state for `seed` (splitmix64 of it). Cost: O(1). */
export function prngSeed(seed: u32): u64 {
  let z = <u64>seed + 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z ^= z >> 31;
  return z != 0 ? z : 0x9E3779B97F4A7C15;
}

/** The state after `x` (never 0 for a non-zero x). */
@inline export function prngNext(x: u64): u64 {
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x;
}

/** A uniform f64 in [0, 1) from state `x`: the top 53 bits of its xorshift64* output. */
@inline export function prngUnit(x: u64): f64 {
  return <f64>((x * 0x2545F4914F6CDD1D) >> 11) * (1.0 / 9007199254740992.0);
}

/** A uniform integer in [0, n) from state `x` (multiply-shift of the top 32 output bits). */
@inline export function prngBelow(x: u64, n: u32): u32 {
  return <u32>((((x * 0x2545F4914F6CDD1D) >> 32) * <u64>n) >> 32);
}
