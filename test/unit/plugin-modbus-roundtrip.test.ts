// modbus decoder, round trips: random values of every type in every byte order, encoded into register
// words by an encoder written here from the byte-order definitions (A = most significant byte; ABCD
// big-endian, BADC bytes swapped inside each register, CDAB registers reversed, DCBA both), must
// decode to themselves. Then the same against pymodbus's BinaryPayloadBuilder, an independent encoder.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pymodbusEncodeMany, type PymodbusEncodeCase, type PymodbusType } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { answer, decodeRecords, modbusDecoder, registerPdu, type PointSetting } from '../support/modbus-plugin.js';

type Order = 'ABCD' | 'BADC' | 'CDAB' | 'DCBA';
const ORDERS: readonly Order[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];
type NumericType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'int64' | 'uint64' | 'float64';
const NUMERIC: readonly NumericType[] = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64'];
const BYTES: Record<NumericType, number> = { int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 };
const STRING_REGISTERS = 4;

/** The value's bytes, most significant (A) first. */
function bigEndianBytes(type: NumericType, value: number | bigint): number[] {
  const view = new DataView(new ArrayBuffer(BYTES[type]));
  switch (type) {
    case 'int16': view.setInt16(0, Number(value)); break;
    case 'uint16': view.setUint16(0, Number(value)); break;
    case 'int32': view.setInt32(0, Number(value)); break;
    case 'uint32': view.setUint32(0, Number(value)); break;
    case 'float32': view.setFloat32(0, Number(value)); break;
    case 'int64': view.setBigInt64(0, BigInt(value)); break;
    case 'uint64': view.setBigUint64(0, BigInt(value)); break;
    case 'float64': view.setFloat64(0, Number(value)); break;
  }
  return [...new Uint8Array(view.buffer)];
}

/** Register words of `bytes` (A first) laid out in `order`. */
function wordsInOrder(bytes: number[], order: Order, reverseRegisters = true): number[] {
  let registers: Array<[number, number]> = [];
  for (let i = 0; i < bytes.length; i += 2) registers.push([bytes[i]!, bytes[i + 1]!]);
  if (order === 'BADC' || order === 'DCBA') registers = registers.map(([hi, lo]) => [lo, hi]);
  if (reverseRegisters && (order === 'CDAB' || order === 'DCBA')) registers.reverse();
  return registers.map(([hi, lo]) => (hi << 8) | lo);
}

/** What the decoder must give for `value` of `type` (64-bit integers: the nearest f64). */
function expected(type: NumericType, value: number | bigint): number {
  return typeof value === 'bigint' ? Number(value) : type === 'float32' ? Math.fround(value) : value;
}

const arbitraries: Record<NumericType, fc.Arbitrary<number | bigint>> = {
  int16: fc.integer({ min: -0x8000, max: 0x7fff }),
  uint16: fc.integer({ min: 0, max: 0xffff }),
  int32: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  uint32: fc.integer({ min: 0, max: 0xffffffff }),
  float32: fc.float(),
  int64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  uint64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  float64: fc.double(),
};

// One point of each numeric type in each order, then a string and a register bit in each order, all
// in one read; 16 coils in a second.
const numericCases = NUMERIC.flatMap((type) => ORDERS.map((order) => ({ type, order })));
const BITS = [0, 5, 10, 15];

function layout(): { points: PointSetting[]; registers: number } {
  let address = 0;
  const points: PointSetting[] = [];
  for (const { type, order } of numericCases) {
    points.push({ function: 3, address, type, order });
    address += BYTES[type] / 2;
  }
  for (const order of ORDERS) {
    points.push({ function: 3, address, type: 'string', length: STRING_REGISTERS, order });
    address += STRING_REGISTERS;
  }
  ORDERS.forEach((order, i) => {
    points.push({ function: 3, address, type: 'bool', bit: BITS[i]!, order });
    address += 1;
  });
  for (let i = 0; i < 16; i++) points.push({ function: 1, address: i, type: 'bool' });
  return { points, registers: address };
}

test('decode(encode(x)) == x for random values of every type in every byte order', () => {
  const { points, registers } = layout();
  assert.ok(registers <= 125);
  const { instance } = modbusDecoder({ points });
  const printable = fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: STRING_REGISTERS * 2 }).map((codes) => String.fromCharCode(...codes));
  fc.assert(
    fc.property(
      fc.tuple(...numericCases.map((c) => arbitraries[c.type])),
      fc.tuple(...ORDERS.map(() => printable)),
      fc.tuple(...ORDERS.map(() => fc.integer({ min: 0, max: 0xffff }))),
      fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }),
      (values, texts, bitRegisters, coils) => {
        const words = [
          ...numericCases.flatMap((c, i) => wordsInOrder(bigEndianBytes(c.type, values[i]!), c.order)),
          ...ORDERS.flatMap((order, i) => {
            const bytes = [...texts[i]!].map((ch) => ch.charCodeAt(0));
            while (bytes.length < STRING_REGISTERS * 2) bytes.push(0);
            return wordsInOrder(bytes, order, false); // text: chars swap within registers, never move across
          }),
          ...ORDERS.flatMap((order, i) => wordsInOrder(bigEndianBytes('uint16', bitRegisters[i]!), order)),
        ];
        const coilBytes = [0, 8].map((from) => coils.slice(from, from + 8).reduce((b, on, bit) => b | (on ? 1 << bit : 0), 0));
        // Request 0 reads the coils (function 1 plans first), request 1 the registers.
        const samples = decodeRecords(instance, [answer(instance, 1, registerPdu(3, words)), answer(instance, 0, [0x01, 0x02, ...coilBytes])]);
        const want: Array<number | string> = [
          ...numericCases.map((c, i) => expected(c.type, values[i]!)),
          ...texts.map((t) => t.replace(/[ ]+$/, '')),
          ...bitRegisters.map((v, i) => (v >> BITS[i]!) & 1),
          ...coils.map((on) => (on ? 1 : 0)),
        ];
        assert.equal(samples.length, want.length);
        samples.forEach((s, i) => {
          assert.ok(Object.is(s.value, want[i]), `point ${i} (${JSON.stringify(points[i])}): got ${String(s.value)}, want ${String(want[i])}`);
          assert.equal(s.quality, 0);
        });
      },
    ),
    { numRuns: 200 },
  );
});

// Values chosen so every byte differs and signs and fractions show; 64-bit ones beyond 2^53 too.
const PYMODBUS_VALUES: Array<[PymodbusType, number | bigint]> = [
  ['int16', -12345],
  ['uint16', 0xfe21],
  ['int32', -123456789],
  ['uint32', 0xf1e2d3c4],
  ['float32', Math.fround(-1234.5678)],
  ['int64', -1234567890123456789n],
  ['uint64', 0xfedcba9876543210n],
  ['float64', -Math.E * 1e100],
];

test('decodes what pymodbus\'s BinaryPayloadBuilder encodes, in all four orders', needs('python3-pymodbus', !!findPymodbusPython()), async () => {
  const cases: PymodbusEncodeCase[] = PYMODBUS_VALUES.flatMap(([type, value]) => ORDERS.map((order) => ({ type, value, order })));
  const encoded = await pymodbusEncodeMany(cases);
  let address = 0;
  const points: PointSetting[] = cases.map((c, i) => {
    const point = { function: 4, address, type: c.type, order: c.order };
    address += encoded[i]!.length;
    return point;
  });
  const { instance } = modbusDecoder({ points });
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(4, encoded.flat()))]);
  cases.forEach((c, i) => {
    assert.equal(samples[i]!.value, expected(c.type as NumericType, c.value), `${c.type} ${c.order}: pymodbus words ${encoded[i]!.map((w) => w.toString(16)).join(' ')}`);
  });
});
