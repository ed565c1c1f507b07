/**
 * What the PLC of pipelines/etl-example.yaml holds and what each of its points must publish, for
 * test/integration/etl-chain.test.ts.
 *
 * Register words are written out by hand from each type's definition (two's complement, IEEE-754
 * binary32/binary64, ASCII) and the byte order's (A = most significant byte: ABCD as is, BADC the
 * bytes of each register swapped, CDAB the registers reversed, DCBA both). The simulator run serves
 * these words; the pymodbus run serves what pymodbus's BinaryPayloadBuilder makes of the same values,
 * so the two runs take their inputs from different sources. Expected values after `si` are the SI
 * definitions worked out here by hand, never the plugin's coefficients: si promises the double nearest
 * to the exact conversion of the value read, so each is compared exactly.
 */
import type { RegisterContents } from '../../src/host/demo/register-image.js';
import type { WordOrder } from '../../src/host/demo/register-words.js';
import type { PymodbusEncodeCase, PymodbusImage } from '../support/pymodbus.js';

/** Registers starting at `address`, with the value they encode when pymodbus can encode it too. */
interface RegisterBlock {
  table: 'holding' | 'input';
  address: number;
  words: readonly number[];
  encode?: PymodbusEncodeCase;
}

/** What a point publishes: its value (every aggregate of a numeric point), exactly, and unit label. */
export interface Expectation {
  value: number | boolean | string;
  unit: string;
}

const ORDERS: readonly WordOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

interface MatrixRow {
  prefix: string;
  type: PymodbusEncodeCase['type'];
  first: number; // address of the ABCD point; the other orders follow, one value width apart
  value: number | bigint;
  words: Record<WordOrder, readonly number[]>;
}

// One value per type, bytes all different so that any misplaced byte changes the value.
const MATRIX: readonly MatrixRow[] = [
  // −12345: 12345 = 0x3039, two's complement 0x10000 − 0x3039 = 0xCFC7. 16 bits: only the byte swap applies.
  { prefix: 'i16', type: 'int16', first: 0, value: -12345, words: { ABCD: [0xcfc7], BADC: [0xc7cf], CDAB: [0xcfc7], DCBA: [0xc7cf] } },
  { prefix: 'u16', type: 'uint16', first: 4, value: 0xa1b2, words: { ABCD: [0xa1b2], BADC: [0xb2a1], CDAB: [0xa1b2], DCBA: [0xb2a1] } },
  // −123456789: 123456789 = 0x075BCD15, 0x1_0000_0000 − 0x075BCD15 = 0xF8A432EB.
  { prefix: 'i32', type: 'int32', first: 8, value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], BADC: [0xa4f8, 0xeb32], CDAB: [0x32eb, 0xf8a4], DCBA: [0xeb32, 0xa4f8] } },
  { prefix: 'u32', type: 'uint32', first: 16, value: 0xdeadbeef, words: { ABCD: [0xdead, 0xbeef], BADC: [0xadde, 0xefbe], CDAB: [0xbeef, 0xdead], DCBA: [0xefbe, 0xadde] } },
  // 0xC49A522B: sign 1, exponent 0x89 = 137 (2^10), fraction 0x1A522B: −(2^23 + 0x1A522B) / 2^13 = −10113579/8192.
  { prefix: 'f32', type: 'float32', first: 24, value: -10113579 / 8192, words: { ABCD: [0xc49a, 0x522b], BADC: [0x9ac4, 0x2b52], CDAB: [0x522b, 0xc49a], DCBA: [0x2b52, 0x9ac4] } },
  // −0x00123456789ABCDE (within 2^53): 2^64 − 0x00123456789ABCDE = 0xFFEDCBA987654322.
  { prefix: 'i64', type: 'int64', first: 32, value: -0x00123456789abcde, words: { ABCD: [0xffed, 0xcba9, 0x8765, 0x4322], BADC: [0xedff, 0xa9cb, 0x6587, 0x2243], CDAB: [0x4322, 0x8765, 0xcba9, 0xffed], DCBA: [0x2243, 0x6587, 0xa9cb, 0xedff] } },
  { prefix: 'u64', type: 'uint64', first: 48, value: 0x001fedcba9876543, words: { ABCD: [0x001f, 0xedcb, 0xa987, 0x6543], BADC: [0x1f00, 0xcbed, 0x87a9, 0x4365], CDAB: [0x6543, 0xa987, 0xedcb, 0x001f], DCBA: [0x4365, 0x87a9, 0xcbed, 0x1f00] } },
  // 0xC0934A456D5CFAAD: sign 1, exponent 0x409 = 1033 (2^10), fraction 0x34A456D5CFAAD:
  // −(2^52 + 0x34A456D5CFAAD) / 2^42, the double nearest −1234.5678.
  { prefix: 'f64', type: 'float64', first: 64, value: -0x134a456d5cfaad / 2 ** 42, words: { ABCD: [0xc093, 0x4a45, 0x6d5c, 0xfaad], BADC: [0x93c0, 0x454a, 0x5c6d, 0xadfa], CDAB: [0xfaad, 0x6d5c, 0x4a45, 0xc093], DCBA: [0xadfa, 0x5c6d, 0x454a, 0x93c0] } },
];

// "wasmgate-01" + NUL: w=0x77 a=0x61 s=0x73 m=0x6D g=0x67 t=0x74 e=0x65 -=0x2D 0=0x30 1=0x31. The
// trailing NUL is trimmed. CDAB reads like ABCD for text, DCBA like BADC.
const TAG_ABCD = [0x7761, 0x736d, 0x6761, 0x7465, 0x2d30, 0x3100];
const TAG_BADC = [0x6177, 0x6d73, 0x6167, 0x6574, 0x302d, 0x0031];

const BLOCKS: readonly RegisterBlock[] = [
  ...MATRIX.flatMap((row) => ORDERS.map((order, i): RegisterBlock => ({
    table: 'holding', address: row.first + i * row.words.ABCD.length, words: row.words[order],
    encode: { type: row.type, value: row.value, order },
  }))),
  // 0xFEDCBA9876543210 needs 64 bits; a double keeps 53, so ulp = 2^11 and the low 0x210 = 528 < 1024
  // rounds down: 0xFEDCBA9876543000 = 18364758544493064192.
  { table: 'holding', address: 80, words: [0xfedc, 0xba98, 0x7654, 0x3210], encode: { type: 'uint64', value: 0xfedcba9876543210n, order: 'ABCD' } },
  // −0x0123456789ABCDEF: 2^64 − it = 0xFEDCBA9876543211, DCBA. Magnitude below 2^57: ulp 16, the low
  // nibble 0xF rounds up to −0x0123456789ABCDF0 = −81985529216486896.
  { table: 'holding', address: 84, words: [0x1132, 0x5476, 0x98ba, 0xdcfe], encode: { type: 'int64', value: -0x0123456789abcdefn, order: 'DCBA' } },
  // Text and status words: pymodbus_server.py encodes numbers only, so both runs serve these hand words.
  { table: 'holding', address: 88, words: TAG_ABCD },
  { table: 'holding', address: 94, words: TAG_BADC },
  { table: 'holding', address: 100, words: TAG_ABCD },
  { table: 'holding', address: 106, words: TAG_BADC },
  { table: 'holding', address: 112, words: [0x0180] }, // bits 8 and 7; byte-swapped 0x8001: bits 15 and 0
  { table: 'input', address: 0, words: [0x5678, 0x1234], encode: { type: 'int32', value: 0x12345678, order: 'CDAB' } },
  { table: 'input', address: 2, words: [0x4002] }, // bits 14 and 1; byte-swapped 0x0240: bits 9 and 6
  // The meter, values in engineering units.
  { table: 'holding', address: 1000, words: [0x00d7], encode: { type: 'int16', value: 215, order: 'ABCD' } },
  { table: 'holding', address: 1001, words: [0xc220, 0x0000], encode: { type: 'float32', value: -40, order: 'ABCD' } }, // sign 1, 2^5 × 1.25
  // 98.6 as binary64: 0x4058A66666666666 (2^6 × 1.540625, the repeating 6s of 0.0...0110 rounded down)
  { table: 'holding', address: 1003, words: [0x4058, 0xa666, 0x6666, 0x6666], encode: { type: 'float64', value: 98.6, order: 'ABCD' } },
  { table: 'holding', address: 1007, words: [0x0000, 0x41ac], encode: { type: 'float32', value: 21.5, order: 'CDAB' } }, // 2^4 × 1.34375
  { table: 'holding', address: 1009, words: [0x0000, 0x0064], encode: { type: 'uint32', value: 100, order: 'ABCD' } },
  { table: 'holding', address: 1011, words: [0x1200, 0x87d6], encode: { type: 'uint32', value: 1234567, order: 'BADC' } }, // 0x0012D687
  { table: 'holding', address: 1013, words: [57], encode: { type: 'uint16', value: 57, order: 'ABCD' } },
  { table: 'holding', address: 1014, words: [1500], encode: { type: 'uint16', value: 1500, order: 'ABCD' } },
  { table: 'holding', address: 1015, words: [250], encode: { type: 'uint16', value: 250, order: 'ABCD' } },
  { table: 'holding', address: 1016, words: [0x0000, 0x6145], encode: { type: 'float32', value: 3600, order: 'DCBA' } }, // 0x45610000: 2^11 × 1.7578125
];

/** Register address of tank.level, the meter reading the test makes glitch. */
export const TANK_LEVEL_ADDRESS = 1015;

/** The register contents as written above, for the simulator run. */
export function handImage(): RegisterContents {
  const image = { holding: {} as Record<number, readonly number[]>, input: {} as Record<number, readonly number[]>, coils: { 0: [true, false] }, discrete: { 0: [false, true] } };
  for (const block of BLOCKS) image[block.table][block.address] = block.words;
  return image;
}

/** The blocks pymodbus encodes itself, each with its hand words, for the pymodbus run and the cross-check. */
export function encodedBlocks(): ReadonlyArray<RegisterBlock & { encode: PymodbusEncodeCase }> {
  return BLOCKS.filter((b): b is RegisterBlock & { encode: PymodbusEncodeCase } => b.encode !== undefined);
}

/** The register contents with every number encoded by pymodbus (`words[i]` for `encodedBlocks()[i]`). */
export function pymodbusImage(words: readonly (readonly number[])[]): PymodbusImage {
  const image = handImage() as { holding: Record<number, readonly number[]>; input: Record<number, readonly number[]> };
  encodedBlocks().forEach((block, i) => (image[block.table][block.address] = words[i]!));
  return image;
}

/** Every point of pipelines/etl-example.yaml and what it must publish. */
export const EXPECTED: ReadonlyMap<string, Expectation> = new Map<string, Expectation>([
  ...MATRIX.flatMap((row) => ORDERS.map((order): [string, Expectation] => [`${row.prefix}.${order.toLowerCase()}`, { value: Number(row.value), unit: '' }])),
  ['u64.big', { value: 0xfedcba9876543000, unit: '' }], // 18364758544493064192, see the block above
  ['i64.big', { value: -0x0123456789abcdf0, unit: '' }], // −81985529216486896
  ...['abcd', 'badc', 'cdab', 'dcba'].map((o): [string, Expectation] => [`tag.${o}`, { value: 'wasmgate-01', unit: '' }]),
  ['hr.bit8', { value: true, unit: '' }],
  ['hr.bit0', { value: false, unit: '' }],
  ['hr.bit8.cdab', { value: true, unit: '' }],
  ['hr.bit0.badc', { value: true, unit: '' }],
  ['hr.bit7.badc', { value: false, unit: '' }],
  ['hr.bit15.dcba', { value: true, unit: '' }],
  ['ir.i32.cdab', { value: 0x12345678, unit: '' }],
  ['ir.bit14', { value: true, unit: '' }],
  ['ir.bit14.badc', { value: false, unit: '' }],
  ['ir.bit9.badc', { value: true, unit: '' }],
  ['pump.run', { value: true, unit: '' }],
  ['fan.run', { value: false, unit: '' }],
  ['door.open', { value: false, unit: '' }],
  ['estop.ok', { value: true, unit: '' }],
  // Each converted value below is the double nearest to the exact result (a literal, or one IEEE
  // operation on exact integers, which rounds once). T = t + 273.15 (SI Brochure): 21.5 °C (215 × 0.1,
  // which rounds to 21.5) is 294.65 K exactly.
  ['boiler.temp', { value: 294.65, unit: 'K' }],
  // The si manifest promises −40 degF → −40 degC: (t − 32) × 5/9.
  ['outdoor.temp', { value: -40, unit: 'degC' }],
  // T = (t + 459.67) × 5/9 of the double 98.6 (98.599999999999994315658…) is 310.149999999999996842…
  // K, nearest to the double that is nearest to 310.15 (310.149999999999977263…).
  ['process.temp', { value: 310.15, unit: 'K' }],
  // An integer factor: 1 bar = 100000 Pa, 1 kWh = 3.6e6 J; the products are exact.
  ['steam.press', { value: 2150000, unit: 'Pa' }],
  // 100 psi = 100 × 0.45359237 kg × 9.80665 m/s² / (0.0254 m)² = 689475.72931683613367226734… Pa,
  // 689.47572931683613367… kPa, nearest double 689.4757293168361.
  ['line.press', { value: 689.4757293168361, unit: 'kPa' }],
  ['pump.energy', { value: 4444441200000, unit: 'J' }],
  ['valve.open', { value: 57 / 100, unit: 'ratio' }],
  ['pump.speed', { value: 25, unit: 'Hz' }],
  ['tank.level', { value: 2.5, unit: 'm' }],
  // 3600 l/h = 3.6 m³/h = 0.001 m³/s.
  ['feed.flow', { value: 0.001, unit: 'm3/s' }],
]);

/** tank.level while its sensor glitches to 65535 cm: 655.35 m. */
export const TANK_GLITCH: Expectation = { value: 65535 / 100, unit: 'm' };
