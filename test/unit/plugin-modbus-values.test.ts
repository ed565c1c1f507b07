// modbus decoder, values: every type in every byte order from register words worked out by hand
// (IEEE-754 bit patterns, two's complement), the response examples of the Modbus Application Protocol
// Specification V1.1b3 (6.1-6.4), strings, bits, and scale/offset.
import test from 'node:test';
import assert from 'node:assert/strict';
import { answer, decodeRecords, modbusDecoder, registerPdu, type PointSetting } from '../support/modbus-plugin.js';

const GOOD = 0;
const NUMBER = 0;
const BOOL = 1;
const TEXT = 2;

interface Vector {
  type: string;
  order: string;
  words: number[];
  value: number;
}

// [type, value, words in ABCD, BADC, CDAB, DCBA]: A is the most significant byte; BADC swaps the bytes
// of each register, CDAB reverses the registers, DCBA both.
const TABLE: Array<[string, number, number[], number[], number[], number[]]> = [
  // 1.0f = 0x3F800000
  ['float32', 1, [0x3f80, 0x0000], [0x803f, 0x0000], [0x0000, 0x3f80], [0x0000, 0x803f]],
  // -2.5f = 0xC0200000
  ['float32', -2.5, [0xc020, 0x0000], [0x20c0, 0x0000], [0x0000, 0xc020], [0x0000, 0x20c0]],
  // 123.456f = 0x42F6E979 (the f32 nearest 123.456)
  ['float32', Math.fround(123.456), [0x42f6, 0xe979], [0xf642, 0x79e9], [0xe979, 0x42f6], [0x79e9, 0xf642]],
  // -2 = 0xFFFFFFFE
  ['int32', -2, [0xffff, 0xfffe], [0xffff, 0xfeff], [0xfffe, 0xffff], [0xfeff, 0xffff]],
  ['uint32', 0xdeadbeef, [0xdead, 0xbeef], [0xadde, 0xefbe], [0xbeef, 0xdead], [0xefbe, 0xadde]],
  // pi = 0x400921FB54442D18
  ['float64', Math.PI, [0x4009, 0x21fb, 0x5444, 0x2d18], [0x0940, 0xfb21, 0x4454, 0x182d], [0x2d18, 0x5444, 0x21fb, 0x4009], [0x182d, 0x4454, 0xfb21, 0x0940]],
  // -2 = 0xFFFFFFFFFFFFFFFE
  ['int64', -2, [0xffff, 0xffff, 0xffff, 0xfffe], [0xffff, 0xffff, 0xffff, 0xfeff], [0xfffe, 0xffff, 0xffff, 0xffff], [0xfeff, 0xffff, 0xffff, 0xffff]],
  // 2^53 = 0x0020000000000000
  ['uint64', 2 ** 53, [0x0020, 0, 0, 0], [0x2000, 0, 0, 0], [0, 0, 0, 0x0020], [0, 0, 0, 0x2000]],
  // 0x0102030405060708: every byte distinct, so a misplaced byte cannot hide
  ['uint64', 0x0102030405060708, [0x0102, 0x0304, 0x0506, 0x0708], [0x0201, 0x0403, 0x0605, 0x0807], [0x0708, 0x0506, 0x0304, 0x0102], [0x0807, 0x0605, 0x0403, 0x0201]],
  // 16-bit types: BADC and DCBA swap the two bytes of the register, ABCD and CDAB leave them.
  ['int16', -2, [0xfffe], [0xfeff], [0xfffe], [0xfeff]],
  ['uint16', 0x1234, [0x1234], [0x3412], [0x1234], [0x3412]],
  ['int16', -32768, [0x8000], [0x0080], [0x8000], [0x0080]],
];
const ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'];

const VECTORS: Vector[] = TABLE.flatMap(([type, value, ...byOrder]) => byOrder.map((words, i) => ({ type, order: ORDERS[i]!, words, value })));

test('every numeric type in every byte order decodes hand-made register words', () => {
  // All vectors side by side in one read, so each value also proves its offset in the response.
  let address = 0;
  const points: PointSetting[] = VECTORS.map((v) => {
    const p = { function: 3, address, type: v.type, order: v.order };
    address += v.words.length;
    return p;
  });
  const { instance } = modbusDecoder({ points, with: { max_registers: 125 } });
  assert.equal(instance.requests().length, 1);
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(3, VECTORS.flatMap((v) => v.words)), { ts: 1234.5 })]);
  assert.equal(samples.length, VECTORS.length);
  VECTORS.forEach((v, i) => {
    const s = samples[i]!;
    assert.equal(s.point, i);
    assert.equal(s.value, v.value, `${v.type} ${v.order} ${v.words.map((w) => w.toString(16)).join(' ')}`);
    assert.equal(s.quality, GOOD);
    assert.equal(s.type, NUMBER);
    assert.equal(s.ts, 1234.5);
  });
});

test('spec 6.3 example: holding registers 108-110 read 0x022B, 0x0000, 0x0064', () => {
  const { instance } = modbusDecoder({ points: [107, 108, 109].map((address) => ({ function: 3, address, type: 'uint16' })) });
  const samples = decodeRecords(instance, [answer(instance, 0, [0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64])]);
  assert.deepEqual(samples.map((s) => s.value), [555, 0, 100]);
});

test('spec 6.4 example: input register 9 reads 0x000A', () => {
  const { instance } = modbusDecoder({ points: [{ function: 4, address: 8, type: 'int16' }] });
  const samples = decodeRecords(instance, [answer(instance, 0, [0x04, 0x02, 0x00, 0x0a])]);
  assert.deepEqual(samples.map((s) => s.value), [10]);
});

test('spec 6.1 example: coils 20-38 from CD 6B 05, the lowest coil in bit 0 of the first byte', () => {
  const { instance } = modbusDecoder({ points: Array.from({ length: 19 }, (_, i) => ({ function: 1, address: 19 + i, type: 'bool' })) });
  const samples = decodeRecords(instance, [answer(instance, 0, [0x01, 0x03, 0xcd, 0x6b, 0x05])]);
  // 0xCD = 1100 1101: coils 27..20; 0x6B = 0110 1011: coils 35..28; 0x05 = 101: coils 38..36.
  const coils20to38 = [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1];
  assert.deepEqual(samples.map((s) => s.value), coils20to38);
  assert.ok(samples.every((s) => s.type === BOOL && s.quality === GOOD));
});

test('spec 6.2 example: discrete inputs 197-218 from AC DB 35', () => {
  const { instance } = modbusDecoder({ points: Array.from({ length: 22 }, (_, i) => ({ function: 2, address: 196 + i, type: 'bool' })) });
  const samples = decodeRecords(instance, [answer(instance, 0, [0x02, 0x03, 0xac, 0xdb, 0x35])]);
  // 0xAC = 1010 1100: inputs 204..197; 0xDB = 1101 1011: 212..205; 0x35 = 11 0101: 218..213.
  const inputs197to218 = [0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1];
  assert.deepEqual(samples.map((s) => s.value), inputs197to218);
});

test('bool on a register bit: bit 0 is the least significant; the byte order applies to the register', () => {
  const points: PointSetting[] = [
    { function: 3, address: 0, type: 'bool', bit: 0 },
    { function: 3, address: 0, type: 'bool', bit: 1 },
    { function: 3, address: 0, type: 'bool', bit: 15 },
    { function: 3, address: 0, type: 'bool', bit: 8 },
    // The same register read BADC (low byte first): its value is 0x0180.
    { function: 3, address: 0, type: 'bool', bit: 7, order: 'BADC' },
    { function: 3, address: 0, type: 'bool', bit: 15, order: 'BADC' },
  ];
  const { instance } = modbusDecoder({ points });
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(3, [0x8001]))]);
  assert.deepEqual(samples.map((s) => s.value), [1, 0, 1, 0, 1, 0]);
  assert.ok(samples.every((s) => s.type === BOOL));
});

test('strings: 2 ASCII chars per register, high byte first; trailing NULs and spaces trimmed', () => {
  const points: PointSetting[] = [
    { function: 3, address: 0, type: 'string', length: 3 }, // "HELLO\0"
    { function: 3, address: 3, type: 'string', length: 3, order: 'BADC' }, // "EHLL\0O" on the wire
    { function: 3, address: 6, type: 'string', length: 2, order: 'DCBA' }, // "BA  " on the wire: "AB  "
    { function: 3, address: 8, type: 'string', length: 2 }, // all NULs: empty
    { function: 3, address: 10, type: 'string', length: 2 }, // "A\0B " keeps the inner NUL
  ];
  const { instance } = modbusDecoder({ points });
  const words = [0x4845, 0x4c4c, 0x4f00, 0x4548, 0x4c4c, 0x004f, 0x4241, 0x2020, 0, 0, 0x4100, 0x4220];
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(3, words))]);
  assert.deepEqual(samples.map((s) => s.value), ['HELLO', 'HELLO', 'AB', '', 'A\u0000B']);
  assert.ok(samples.every((s) => s.type === TEXT && s.quality === GOOD));
});

test('string bytes above 0x7F become "?", so the text stays valid UTF-8', () => {
  const { instance } = modbusDecoder({ points: [{ function: 4, address: 0, type: 'string', length: 1 }] });
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(4, [0xe941]))]);
  assert.equal(samples[0]!.value, '?A');
});

test('texts of several frames in one batch each land at their own place in the text heap', () => {
  const { instance } = modbusDecoder({
    devices: [{ name: 'a' }, { name: 'b' }],
    points: [
      { device: 0, function: 3, address: 0, type: 'string', length: 1 },
      { device: 0, function: 3, address: 1, type: 'uint16' },
      { device: 1, function: 3, address: 0, type: 'string', length: 2 },
    ],
  });
  const samples = decodeRecords(instance, [
    answer(instance, 0, registerPdu(3, [0x4f4b, 42])),
    answer(instance, 1, null),
    answer(instance, 1, registerPdu(3, [0x5859, 0x5a00])),
    answer(instance, 0, registerPdu(3, [0x4e4f, 43])),
  ]);
  assert.deepEqual(samples.map((s) => [s.point, s.value]), [[0, 'OK'], [1, 42], [2, NaN], [2, 'XYZ'], [0, 'NO'], [1, 43]]);
});

test('scale and offset apply after decoding: raw x scale + offset', () => {
  const { instance } = modbusDecoder({
    points: [
      { function: 3, address: 0, type: 'int16', scale: 0.1, offset: -40 },
      { function: 3, address: 1, type: 'uint16', scale: 2 },
      { function: 3, address: 2, type: 'uint16', offset: 1000 },
      { function: 3, address: 3, type: 'float32' },
    ],
  });
  // 655, 7, 5, then -0.0f (0x80000000): no scale or offset declared leaves it exactly -0.
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(3, [655, 7, 5, 0x8000, 0x0000]))]);
  assert.equal(samples[0]!.value, 655 * 0.1 - 40);
  assert.equal(samples[1]!.value, 14);
  assert.equal(samples[2]!.value, 1005);
  assert.ok(Object.is(samples[3]!.value, -0), 'absent scale and offset leave -0 alone');
});

test('a float32 NaN or infinity passes through as is', () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: 0, type: 'float32' }, { function: 3, address: 2, type: 'float32' }] });
  const samples = decodeRecords(instance, [answer(instance, 0, registerPdu(3, [0x7fc0, 0, 0xff80, 0]))]);
  assert.ok(Number.isNaN(samples[0]!.value));
  assert.equal(samples[1]!.value, -Infinity);
});
