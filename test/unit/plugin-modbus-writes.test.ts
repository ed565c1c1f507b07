// modbus plugin, writes (ABI 1.2 wg_write, wg_write_check): every type in every order encoded from the
// point's declaration and compared with pymodbus (BinaryPayloadBuilder for the register words, its
// write request classes and framers for the frames); refusals; echoes, exceptions and mismatches in
// responses pymodbus builds.
import test from 'node:test';
import assert from 'node:assert/strict';
import { modbusDecoder, type DeviceSetting, type PointSetting } from '../support/modbus-plugin.js';
import { pymodbusEncodeMany, type PymodbusType } from '../support/pymodbus.js';
import { pymodbusFrames, type FrameSpec } from '../support/pymodbus-frames.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { isWgError } from '../../src/host/errors.js';
import type { WordOrder } from '../../src/host/demo/register-words.js';

const pymodbus = needs('python3-pymodbus', !!findPymodbusPython());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ORDERS: WordOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];
const SEQ = 0x1234;

// [type, value]: the extremes of each integer type, a negative, and floats with every byte distinct (within the 53 bits a double holds exactly).
const VALUES: Array<[PymodbusType, number | bigint]> = [
  ['int16', -32768], ['int16', 32767], ['int16', -2], ['uint16', 0], ['uint16', 65535], ['uint16', 0x0102],
  ['int32', -2147483648], ['int32', 2147483647], ['int32', -2], ['uint32', 4294967295], ['uint32', 0x01020304],
  ['int64', -9223372036854775808n], ['int64', -2], ['uint64', 0x0011223344556677n], ['uint64', 2 ** 53],
  ['float32', -2.5], ['float32', Math.fround(123.456)], ['float64', Math.PI], ['float64', -1e300],
];

for (const framing of ['tcp', 'rtu'] as const) {
  test(`${framing}: every numeric type in every order is the frame pymodbus builds from BinaryPayloadBuilder's words`, pymodbus, async () => {
    const devices: DeviceSetting[] = [{ name: 'd', unit_id: 9, framing }];
    const cases = VALUES.flatMap(([type, value]) => ORDERS.map((order) => ({ type, value, order })));
    const points: PointSetting[] = cases.map((c, i) => ({ function: 3, address: 100 + i * 4, type: c.type, order: c.order, access: 'write' }));
    const { instance } = modbusDecoder({ devices, points });
    const words = await pymodbusEncodeMany(cases);
    const specs: FrameSpec[] = cases.map((c, i) => {
      const address = 100 + i * 4;
      const w = words[i]!;
      return w.length === 1 ? { framing, tid: SEQ, unit: 9, kind: 'write_register', address, value: w[0]! } : { framing, tid: SEQ, unit: 9, kind: 'write_registers', address, values: w };
    });
    const theirs = await pymodbusFrames(specs);
    cases.forEach((c, i) => {
      const ours = instance.writeFrame(0, i, Number(c.value), SEQ);
      assert.equal(hex(ours), hex(theirs[i]!), `${c.type} ${String(c.value)} ${c.order}`);
    });
  });
}

test('scale and offset are undone, integers rounded to the nearest; write_function 16 writes one register by 16', pymodbus, async () => {
  const points: PointSetting[] = [
    { function: 3, address: 0, type: 'int16', scale: 0.1, offset: -40, access: 'read_write' },
    { function: 3, address: 1, type: 'uint16', access: 'write', write_function: 16 },
    { function: 3, address: 2, type: 'float32', scale: 2, access: 'write' },
  ];
  const { instance } = modbusDecoder({ points });
  // (25.5 + 40) / 0.1 = 654.99999... in doubles: 655. 7.4 rounds to 7. 3 / 2 = 1.5.
  const [w655, w7, w15] = await pymodbusEncodeMany([
    { type: 'int16', value: 655, order: 'ABCD' }, { type: 'uint16', value: 7, order: 'ABCD' }, { type: 'float32', value: 1.5, order: 'ABCD' },
  ]);
  const theirs = await pymodbusFrames([
    { framing: 'tcp', tid: 1, kind: 'write_register', address: 0, value: w655![0]! },
    { framing: 'tcp', tid: 1, kind: 'write_registers', address: 1, values: w7! },
    { framing: 'tcp', tid: 1, kind: 'write_registers', address: 2, values: w15! },
  ]);
  assert.equal(hex(instance.writeFrame(0, 0, 25.5, 1)), hex(theirs[0]!));
  assert.equal(hex(instance.writeFrame(0, 1, 7.4, 1)), hex(theirs[1]!));
  assert.equal(hex(instance.writeFrame(0, 2, 3, 1)), hex(theirs[2]!));
});

test('coils by function 5 (or 15), a bit of a register by function 22 (mask write), as pymodbus frames them', pymodbus, async () => {
  const points: PointSetting[] = [
    { function: 1, address: 17, type: 'bool', access: 'write' },
    { function: 1, address: 18, type: 'bool', access: 'write', write_function: 15 },
    { function: 3, address: 40, type: 'bool', bit: 5, access: 'write' },
  ];
  const { instance } = modbusDecoder({ devices: [{ name: 'd', unit_id: 3, framing: 'rtu' }], points });
  const theirs = await pymodbusFrames([
    { unit: 3, kind: 'write_coil', address: 17, on: true },
    { unit: 3, kind: 'write_coil', address: 17, on: false },
    { unit: 3, kind: 'write_coils', address: 18, bits: [true] },
    { unit: 3, kind: 'mask_write', address: 40, and_mask: 0xffff & ~(1 << 5), or_mask: 1 << 5 },
    { unit: 3, kind: 'mask_write', address: 40, and_mask: 0xffff & ~(1 << 5), or_mask: 0 },
  ]);
  const ours = [instance.writeFrame(0, 0, 1, 0), instance.writeFrame(0, 0, 0, 0), instance.writeFrame(0, 1, 1, 0), instance.writeFrame(0, 2, 1, 0), instance.writeFrame(0, 2, 0, 0)];
  assert.deepEqual(ours.map(hex), theirs.map(hex));
});

test('what cannot be written exactly is refused with the reason, before anything is sent', () => {
  const points: PointSetting[] = [
    { name: 'ro', function: 3, address: 0, type: 'uint16' },
    { name: 'input', function: 4, address: 0, type: 'uint16', access: 'write' },
    { name: 'i16', function: 3, address: 1, type: 'int16', access: 'write' },
    { name: 'u16', function: 3, address: 2, type: 'uint16', access: 'write' },
    { name: 'f32', function: 3, address: 3, type: 'float32', access: 'write' },
    { name: 'f32by6', function: 3, address: 5, type: 'float32', access: 'write', write_function: 6 },
    { name: 'text', function: 3, address: 7, type: 'string', length: 2, access: 'write' },
    { name: 'coil', function: 1, address: 0, type: 'bool', access: 'write' },
    { name: 'coilby6', function: 1, address: 1, type: 'bool', access: 'write', write_function: 6 },
    { name: 'u64', function: 3, address: 9, type: 'uint64', access: 'write' },
    { name: 'scaled', function: 3, address: 13, type: 'int16', access: 'write', scale: 0 },
  ];
  const { instance } = modbusDecoder({ points });
  const refused = (point: number, value: number, why: RegExp) =>
    assert.throws(() => instance.writeFrame(0, point, value, 0), (e: unknown) => isWgError(e, 'WG_ERR_WRITE_REFUSED') && why.test(e.message), `${points[point]!.name} ${value}`);
  refused(0, 1, /'ro': write refused: its access is read/);
  refused(1, 1, /read-only/);
  refused(2, 32767.5, /out of the type's range/); // rounds to 32768 (ties to even)
  refused(2, -32769, /out of the type's range/);
  refused(3, -1, /out of the type's range/);
  refused(3, 65536, /out of the type's range/);
  refused(3, NaN, /not a finite value/);
  refused(4, Infinity, /not a finite value/);
  refused(4, 1e39, /out of the type's range/);
  refused(5, 1, /function 6 writes one register/);
  refused(6, 1, /string points are not written/);
  refused(7, 0.5, /a bool takes 0 or 1/);
  refused(8, 1, /a coil is written by function 5 or 15/);
  refused(9, 2 ** 64, /out of the type's range/);
  refused(10, 1, /not a finite value/);
  assert.throws(() => instance.writeFrame(1, 3, 1, 0), /not a point of that device/);
  assert.throws(() => instance.writeFrame(0, 99, 1, 0), /no point 99/);
  // The largest values that fit are written.
  assert.equal(instance.writeFrame(0, 2, 32766.5, 0).length, 12, '32766.5 rounds to 32766');
  assert.equal(instance.writeFrame(0, 9, 2 ** 64 - 2048, 0).length, 7 + 6 + 8, 'the largest double below 2^64');
});

test('a write is confirmed by its echo; an exception fails with its meaning, another echo with what differs', pymodbus, async () => {
  const points: PointSetting[] = [
    { function: 3, address: 10, type: 'uint16', access: 'write' },
    { function: 3, address: 20, type: 'uint32', access: 'write' },
    { function: 3, address: 30, type: 'bool', bit: 0, access: 'write' },
  ];
  for (const framing of ['tcp', 'rtu'] as const) {
    const { instance } = modbusDecoder({ devices: [{ name: 'd', unit_id: 4, framing }], points });
    const single = instance.writeFrame(0, 0, 7, 5);
    const multiple = instance.writeFrame(0, 1, 70000, 5);
    const mask = instance.writeFrame(0, 2, 1, 5);
    const [echo6, echo16, echo22, short16, exception, wrong6, otherTid] = await pymodbusFrames([
      { framing, tid: 5, unit: 4, kind: 'write_register_response', address: 10, value: 7 },
      { framing, tid: 5, unit: 4, kind: 'write_registers_response', address: 20, count: 2 },
      { framing, tid: 5, unit: 4, kind: 'mask_write_response', address: 30, and_mask: 0xfffe, or_mask: 1 },
      { framing, tid: 5, unit: 4, kind: 'write_registers_response', address: 20, count: 1 },
      { framing, tid: 5, unit: 4, kind: 'exception', function: 16, code: 2 },
      { framing, tid: 5, unit: 4, kind: 'write_register_response', address: 10, value: 8 },
      { framing, tid: 6, unit: 4, kind: 'write_register_response', address: 10, value: 7 },
    ]);
    assert.deepEqual(instance.checkWrite(0, single, echo6!), { ok: true });
    assert.deepEqual(instance.checkWrite(1, multiple, echo16!), { ok: true });
    assert.deepEqual(instance.checkWrite(2, mask, echo22!), { ok: true });
    const failed = (verdict: ReturnType<typeof instance.checkWrite>, code: string, why: RegExp) => {
      assert.equal(verdict.ok, false, framing);
      assert.ok(!verdict.ok && verdict.code === code && why.test(verdict.detail), `${framing}: ${JSON.stringify(verdict)}`);
    };
    failed(instance.checkWrite(1, multiple, short16!), 'WG_ERR_WRITE_UNCONFIRMED', /echo byte 1, expected 2/);
    failed(instance.checkWrite(1, multiple, exception!), 'WG_ERR_DEVICE_EXCEPTION', /exception 2 \(illegal data address\)/);
    assert.equal((instance.checkWrite(1, multiple, exception!) as { exception?: number }).exception, 2);
    failed(instance.checkWrite(0, single, wrong6!), 'WG_ERR_WRITE_UNCONFIRMED', /echo byte 8, expected 7/);
    failed(instance.checkWrite(0, single, echo16!), 'WG_ERR_WRITE_UNCONFIRMED', /function code 16, expected 6/);
    if (framing === 'tcp') failed(instance.checkWrite(0, single, otherTid!), 'WG_ERR_WRITE_UNCONFIRMED', /transaction id 6, expected 5/);
    else {
      const corrupt = echo6!.slice();
      corrupt[3]! ^= 1;
      failed(instance.checkWrite(0, single, corrupt), 'WG_ERR_WRITE_UNCONFIRMED', /CRC/);
    }
  }
});
