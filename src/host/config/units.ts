/**
 * Durations and byte sizes as operators write them in YAML, and their conversion to the units the
 * resolved config uses (milliseconds, bytes). The patterns are shared with the JSON Schemas so that a
 * value the schema accepts always converts here.
 */

/** `250ms`, `1s`, `1.5s`, `2m`, `1h`; a plain number in YAML means milliseconds. */
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';

/** `512B`, `256KiB`, `1MiB`, `1GiB`; a plain number in YAML means bytes. Binary units only: `MB` is ambiguous. */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?(B|KiB|MiB|GiB)$';

/**
 * Longest delay a Node timer keeps: 2^31 - 1 ms (about 24.8 days). A longer one fires after 1 ms with a
 * TimeoutOverflowWarning, so settings used as a single timer (timeouts, back-offs, deadlines) stop here.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const BYTES_PER_UNIT: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The outcome of a conversion: the value, or why the text does not convert (phrased to follow "must"). */
export type Conversion = { ok: true; value: number } | { ok: false; reason: string };

function convert(text: string | number, pattern: string, perUnit: Readonly<Record<string, number>>, what: string): Conversion {
  if (typeof text === 'number') {
    if (!(Number.isInteger(text) && text >= 0)) return { ok: false, reason: `be a whole number of ${what} ≥ 0` };
    return Number.isSafeInteger(text) ? { ok: true, value: text } : { ok: false, reason: `be at most ${Number.MAX_SAFE_INTEGER} ${what} (got ${text})` };
  }
  const match = new RegExp(pattern).exec(text);
  if (!match) return { ok: false, reason: `be written like ${what === 'milliseconds' ? '250ms, 1.5s, 2m or 1h' : '256KiB or 1MiB'}` };
  const unit = match[2] as string;
  const number = Number(text.slice(0, text.length - unit.length));
  const value = number * (perUnit[unit] as number);
  // 1.5s is 1500 ms exactly, but 0.5ms or 1.3B are not whole units: refuse rather than round.
  const rounded = Math.round(value);
  if (!Number.isSafeInteger(rounded)) return { ok: false, reason: `be at most ${Number.MAX_SAFE_INTEGER} ${what} (got ${text})` };
  if (Math.abs(value - rounded) > 1e-9 * Math.max(1, value)) return { ok: false, reason: `be a whole number of ${what} (${text} is ${value})` };
  return { ok: true, value: rounded };
}

/** Converts a duration (`250ms`, `1.5s`, `2m`, `1h`, or a number of ms) to whole milliseconds. */
export function parseDuration(text: string | number): Conversion {
  return convert(text, DURATION_PATTERN, MS_PER_UNIT, 'milliseconds');
}

/** Converts a size (`256KiB`, `1MiB`, or a number of bytes) to whole bytes. */
export function parseSize(text: string | number): Conversion {
  return convert(text, SIZE_PATTERN, BYTES_PER_UNIT, 'bytes');
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
