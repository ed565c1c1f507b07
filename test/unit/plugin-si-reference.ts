/**
 * An independent reference for the si plugin's tests: every unit's definition as an exact rational
 * (BigInt), conversions computed exactly, then rounded once to the nearest double. Written from the
 * definitions (SI Brochure, NIST SP 811, the 1959 yard and pound agreement), not from the plugin's table.
 */

/** An exact rational n/d with d > 0. */
export type Rat = readonly [bigint, bigint];

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
function norm(n: bigint, d: bigint): Rat {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return [n / g, d / g];
}
export const rat = (n: bigint, d = 1n): Rat => norm(n, d);
export const mul = (a: Rat, b: Rat): Rat => norm(a[0] * b[0], a[1] * b[1]);
export const div = (a: Rat, b: Rat): Rat => norm(a[0] * b[1], a[1] * b[0]);
export const add = (a: Rat, b: Rat): Rat => norm(a[0] * b[1] + b[0] * a[1], a[1] * b[1]);
export const sub = (a: Rat, b: Rat): Rat => add(a, [-b[0], b[1]]);
/** A decimal written as text, exactly: "0.45359237" → 45359237/10^8. */
export function dec(text: string): Rat {
  const [whole, fraction = ''] = text.split('.');
  return rat(BigInt(whole + fraction), 10n ** BigInt(fraction.length));
}

/** The exact value of a double. */
export function ratOf(x: number): Rat {
  if (x === 0) return [0n, 1n];
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (biased !== 0) mantissa |= 1n << 52n;
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  const signed = hi >>> 31 ? -mantissa : mantissa;
  return exponent >= 0 ? rat(signed << BigInt(exponent)) : rat(signed, 1n << BigInt(-exponent));
}

/** Bits needed to write n ≥ 1 in binary. */
const bitLength = (n: bigint): number => n.toString(2).length;

/**
 * Where |r| ≠ 0 falls on the grid of doubles, from the IEEE 754 binary64 format (precision p = 53,
 * emin = −1022): the quantum is 2^(e − 52) for 2^e ≤ |r| < 2^(e+1), and 2^−1074 for every |r| below
 * 2^−1022 (subnormals). |r| = (whole + rest/den) × 2^exponent with 0 ≤ rest < den.
 */
function onGrid(r: Rat): { negative: boolean; exponent: number; whole: bigint; rest: bigint; den: bigint } {
  const negative = r[0] < 0n;
  const n = negative ? -r[0] : r[0];
  const d = r[1];
  // e = floor(log2 |r|): the difference of bit lengths, or one less.
  let e = bitLength(n) - bitLength(d);
  if (e >= 0 ? n < d << BigInt(e) : n << BigInt(-e) < d) e--;
  const exponent = Math.max(e, -1022) - 52;
  const [num, den] = exponent >= 0 ? [n, d << BigInt(exponent)] : [n << BigInt(-exponent), d];
  return { negative, exponent, whole: num / den, rest: num % den, den };
}

/**
 * The double nearest to `r`, ties to the even significand: IEEE 754 roundTiesToEven in binary64,
 * subnormals included, and infinity for results at or past 2^1024 after rounding. Zero is +0.
 */
export function nearest(r: Rat): number {
  if (r[0] === 0n) return 0;
  const { negative, exponent, whole, rest, den } = onGrid(r);
  // Round the multiple of the quantum: up past the halfway point, and at it when that makes it even.
  const up = 2n * rest > den || (2n * rest === den && whole % 2n === 1n);
  const m = whole + (up ? 1n : 0n);
  // Positive doubles encode in increasing order: for m ≤ 2^53 multiples of 2^exponent the bits are
  // (exponent + 1074) × 2^52 + m, in the normal range (biased exponent exponent + 1075, hidden bit
  // 2^52 in m), for subnormals (exponent −1074, m < 2^52), and when rounding carries m to 2^53 (the
  // next binade). Bits at or past those of infinity mean overflow.
  const bits = BigInt(exponent + 1074) * 2n ** 52n + m;
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, (bits < 0x7ffn << 52n ? bits : 0x7ffn << 52n) | (negative ? 1n << 63n : 0n));
  return view.getFloat64(0);
}

/**
 * How far `r` is from the nearest point halfway between two neighbouring doubles, the one place
 * where rounding to nearest changes its answer.
 */
export function distanceToTie(r: Rat): Rat {
  if (r[0] === 0n) return rat(1n, 2n ** 1075n); // halfway to the least subnormal
  const { exponent, rest, den } = onGrid(r);
  const off = norm(2n * rest - den, 2n * den); // in quanta
  const magnitude: Rat = off[0] < 0n ? [-off[0], off[1]] : off;
  return exponent >= 0 ? mul(magnitude, rat(1n << BigInt(exponent))) : mul(magnitude, rat(1n, 1n << BigInt(-exponent)));
}

/** |r| ≤ bound × 2^power, for comparing errors against a power of two. */
function within(r: Rat, bound: Rat, power: number): boolean {
  const scaled = power >= 0 ? mul(bound, rat(1n << BigInt(power))) : mul(bound, rat(1n, 1n << BigInt(-power)));
  const a = r[0] < 0n ? -r[0] : r[0];
  const b = scaled[0] < 0n ? -scaled[0] : scaled[0];
  return a * scaled[1] <= b * r[1];
}

export interface UnitDef {
  canonical: string;
  aliases: string[];
  /** Value in SI = (value + offset) × factor. */
  factor: Rat;
  offset: Rat;
}
export interface QuantityDef {
  name: string;
  /** The first unit is the SI coherent unit. */
  units: UnitDef[];
}

const ONE = rat(1n);
const ZERO = rat(0n);
const u = (canonical: string, aliases: string[], factor: Rat, offset: Rat = ZERO): UnitDef => ({ canonical, aliases, factor, offset });

const INCH = dec('0.0254'); // m, 1959 agreement
const FOOT = mul(rat(12n), INCH); // 0.3048 m
const POUND = dec('0.45359237'); // kg, 1959 agreement
const STANDARD_GRAVITY = dec('9.80665'); // m/s², 3rd CGPM (1901)
const POUND_FORCE = mul(POUND, STANDARD_GRAVITY); // N
const LITRE = rat(1n, 1000n); // m³, 12th CGPM (1964)
const US_GALLON = mul(rat(231n), mul(INCH, mul(INCH, INCH))); // 231 in³ = 3.785411784 L
const MILE = mul(rat(5280n), FOOT); // 1609.344 m
const NAUTICAL_MILE = rat(1852n); // m
const MINUTE = rat(60n);
const HOUR = rat(3600n);
const MERCURY_DENSITY = dec('13595.1'); // kg/m³, conventional
const ABSOLUTE_ZERO_IN_DEGC = dec('273.15'); // 0 °C = 273.15 K
const RANKINE = rat(5n, 9n); // 1 °F step = 5/9 K

export const QUANTITIES: QuantityDef[] = [
  { name: 'temperature', units: [
    u('K', ['kelvin'], ONE),
    u('degC', ['°C', '℃', 'C', 'celsius'], ONE, ABSOLUTE_ZERO_IN_DEGC),
    // T/K = (t/°F + 459.67) × 5/9: 459.67 = 273.15 × 9/5 − 32
    u('degF', ['°F', '℉', 'F', 'fahrenheit'], RANKINE, sub(div(ABSOLUTE_ZERO_IN_DEGC, RANKINE), rat(32n))),
  ] },
  { name: 'pressure', units: [
    u('Pa', ['pascal'], ONE),
    u('hPa', [], rat(100n)),
    u('kPa', [], rat(1000n)),
    u('MPa', [], rat(1000000n)),
    u('mbar', [], rat(100n)),
    u('bar', [], rat(100000n)),
    u('psi', [], div(POUND_FORCE, mul(INCH, INCH))),
    u('atm', [], rat(101325n)),
    u('mmHg', [], mul(MERCURY_DENSITY, mul(rat(1n, 1000n), STANDARD_GRAVITY))),
  ] },
  { name: 'volumetric flow', units: [
    u('m3/s', ['m³/s'], ONE),
    u('m3/h', ['m³/h'], div(ONE, HOUR)),
    u('l/s', ['L/s'], LITRE),
    u('l/min', ['L/min', 'lpm'], div(LITRE, MINUTE)),
    u('l/h', ['L/h'], div(LITRE, HOUR)),
    u('gpm', ['gal/min'], div(US_GALLON, MINUTE)),
  ] },
  { name: 'energy', units: [
    u('J', ['joule'], ONE),
    u('kJ', [], rat(1000n)),
    u('MJ', [], rat(1000000n)),
    u('Wh', [], HOUR),
    u('kWh', [], mul(rat(1000n), HOUR)),
    u('MWh', [], mul(rat(1000000n), HOUR)),
  ] },
  { name: 'power', units: [u('W', ['watt'], ONE), u('kW', [], rat(1000n)), u('MW', [], rat(1000000n))] },
  { name: 'length', units: [
    u('m', ['metre', 'meter'], ONE),
    u('mm', [], rat(1n, 1000n)),
    u('cm', [], rat(1n, 100n)),
    u('km', [], rat(1000n)),
    u('in', ['inch'], INCH),
    u('ft', ['foot'], FOOT),
  ] },
  { name: 'mass', units: [u('kg', [], ONE), u('g', [], rat(1n, 1000n)), u('t', ['tonne'], rat(1000n)), u('lb', ['lbs'], POUND)] },
  { name: 'speed', units: [
    u('m/s', [], ONE),
    u('km/h', ['kph'], div(rat(1000n), HOUR)),
    u('mph', [], div(MILE, HOUR)),
    u('kn', ['knot'], div(NAUTICAL_MILE, HOUR)),
  ] },
  { name: 'ratio', units: [u('ratio', [], ONE), u('%', ['percent'], rat(1n, 100n))] },
  { name: 'frequency', units: [u('Hz', [], ONE), u('kHz', [], rat(1000n)), u('rpm', ['rev/min', 'r/min'], div(ONE, MINUTE))] },
];

export const ALL_UNITS: { quantity: QuantityDef; unit: UnitDef }[] = QUANTITIES.flatMap((q) => q.units.map((unit) => ({ quantity: q, unit })));

/** Exact coefficients a, b of to = from × a + b. */
export function coefficients(from: UnitDef, to: UnitDef): { a: Rat; b: Rat } {
  const a = div(from.factor, to.factor);
  return { a, b: sub(mul(from.offset, a), to.offset) };
}

/** The double nearest to the exact conversion of the double `x`. */
export function convert(x: number, from: UnitDef, to: UnitDef): number {
  const { a, b } = coefficients(from, to);
  return nearest(add(mul(ratOf(x), a), b));
}

/**
 * Whether the exact conversion of `x` lies within 2^−100 × (|a·x| + |b|) of a tie: the one case
 * where si's double-double evaluation may round the other way (plugins/si/conversion.ts).
 */
export function nearTie(x: number, from: UnitDef, to: UnitDef): boolean {
  const { a, b } = coefficients(from, to);
  const ax = mul(ratOf(x), a);
  const abs = (r: Rat): Rat => (r[0] < 0n ? [-r[0], r[1]] : r);
  return within(distanceToTie(add(ax, b)), add(abs(ax), abs(b)), -100);
}
