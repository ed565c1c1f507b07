// Moving one 24-byte sample record inside a batch, for filters that compact a batch in place. Three
// 8-byte loads and stores: V8 runs a 24-byte memory.copy as an out-of-line call that costs several
// times the copy itself, and a filter that drops one sample moves every sample after it.

/** Copies the sample record at `from` to `to` (records do not overlap: `to` is at least 24 bytes lower). */
@inline export function moveSample(to: usize, from: usize): void {
  store<u64>(to, load<u64>(from, 0), 0);
  store<u64>(to, load<u64>(from, 8), 8);
  store<u64>(to, load<u64>(from, 16), 16);
}
