/**
 * Whether a rule's write value fits its point, checked at load: the same verdict the modbus decoder
 * gives when it encodes the write (plugins/modbus/write-request.ts and value-encode.ts: the raw value
 * is (value − offset) / scale, integers rounded to the nearest, ties to even, then held to the type's
 * range; a float32 must not overflow). A value that cannot fit would otherwise be found only when
 * the rule fires, as a failed write, in the middle of the outage the rule is there for.
 */
import type { PointType } from '../config/resolved.js';

/** A number point as a write sees it. */
export interface WriteRange {
  readonly type: Exclude<PointType, 'bool' | 'string'>;
  readonly scale: number;
  readonly offset: number;
}

/** The type's lowest and highest integers, as doubles (2^63 and 2^64 are exact; the tops below them are not, so 64-bit tops are exclusive). */
const INTEGER_RANGES: Record<string, { low: number; high: number; highExclusive?: true }> = {
  int16: { low: -32768, high: 32767 },
  uint16: { low: 0, high: 65535 },
  int32: { low: -2147483648, high: 2147483647 },
  uint32: { low: 0, high: 4294967295 },
  int64: { low: -9223372036854775808, high: 9223372036854775808, highExclusive: true },
  uint64: { low: 0, high: 18446744073709551616, highExclusive: true },
};

/** Rounds to the nearest integer, ties to even, as WebAssembly's f64.nearest. */
function nearest(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Why `value` (in the point's units) cannot be written to the point; null when it can. */
export function writeRangeProblem(value: number, range: WriteRange): string | null {
  const raw = (value - range.offset) / range.scale;
  const scaled = range.scale !== 1 || range.offset !== 0 ? ` (${raw} in the register after scale ${range.scale} and offset ${range.offset})` : '';
  if (!Number.isFinite(raw)) return `${value} is not a finite value${scaled}`;
  if (range.type === 'float64') return null;
  if (range.type === 'float32') return Number.isFinite(Math.fround(raw)) ? null : `${value}${scaled} overflows a float32`;
  const limits = INTEGER_RANGES[range.type]!;
  const r = nearest(raw);
  const above = limits.highExclusive ? r >= limits.high : r > limits.high;
  if (r < limits.low || above) {
    const top = limits.highExclusive ? `below ${limits.high}` : `up to ${limits.high}`;
    return `${value}${scaled} is out of the range of ${range.type} (${limits.low} ${top})`;
  }
  return null;
}
