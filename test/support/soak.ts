/**
 * The soak tier: `WASMGATE_SOAK=1` makes the tests that repeat a fault (kill -9, broker flaps) repeat
 * it many more times, for a run before a release rather than on every change (README, "Tests"). And
 * the seeded randomness those tests use for their moments, printed so a failing run can be replayed.
 */

export function soakTier(): boolean {
  return process.env.WASMGATE_SOAK === '1' || process.env.WASMGATE_SOAK === 'true';
}

/** A PRNG (mulberry32) seeded from `WASMGATE_SEED`, or from the clock; `seed` to print. */
export function seededRandom(): { random: () => number; seed: number } {
  const given = Number(process.env.WASMGATE_SEED);
  const seed = Number.isInteger(given) && process.env.WASMGATE_SEED !== '' ? given >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  let state = seed;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { random, seed };
}
