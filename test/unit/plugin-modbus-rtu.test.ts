// modbus decoder, RTU framing (Modbus over Serial Line V1.02): request frames and CRC-16/MODBUS
// compared with pymodbus's RTU framer and modbus-serial's crc16, responses built by pymodbus's own
// response classes and framer decoded, and frame boundaries of every response kind.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseFramingRules, ruleFor, ruleFrameLength } from '../../src/host/engine/framing-rule.js';
import { decodeRecords, modbusDecoder, warnings, type DeviceSetting, type PointSetting } from '../support/modbus-plugin.js';
import { pymodbusFrames } from '../support/pymodbus-frames.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import { encodeFrameBatch } from '../../src/host/engine/frame-record.js';
import { decodeSamples } from '../../src/host/engine/sample-batch.js';

const crc16 = createRequire(import.meta.url)('modbus-serial/utils/crc16.js') as (b: Buffer) => number;
const pymodbus = needs('python3-pymodbus', !!findPymodbusPython());
const GOOD = 0;
const BAD = 2;

const rtu = (unit: number): DeviceSetting => ({ name: `rtu${unit}`, unit_id: unit, framing: 'rtu' });

test('CRC-16/MODBUS: the catalogue check value of "123456789" is 0x4B37 in modbus-serial and pymodbus alike', pymodbus, async () => {
  // The check value is what the reference tests of both implementations agree on; the plugin's own
  // CRC is compared with modbus-serial's on its frames below.
  assert.equal(crc16(Buffer.from('123456789')), 0x4b37);
  const [wire] = await pymodbusFrames([{ kind: 'crc', data: Buffer.from('123456789').toString('hex') }]);
  assert.deepEqual([...wire!], [0x37, 0x4b], 'sent low byte first');
});

test('RTU read requests are the address, the PDU and the CRC low byte first, as pymodbus frames them', pymodbus, async () => {
  const devices = [rtu(17), rtu(1), rtu(247)];
  const points: PointSetting[] = [
    { device: 0, function: 3, address: 0x6b, type: 'uint16' }, { device: 0, function: 3, address: 0x6d, type: 'uint16' },
    { device: 1, function: 1, address: 19, type: 'bool' }, { device: 1, function: 2, address: 196, type: 'bool' },
    { device: 2, function: 4, address: 8, type: 'float32' },
  ];
  const { instance } = modbusDecoder({ devices, points, with: { max_gap: 1 } });
  const ours = [0, 1, 2, 3].map((r) => instance.request(r, 0));
  const theirs = await pymodbusFrames([
    { kind: 'read', unit: 17, function: 3, address: 0x6b, count: 3 },
    { kind: 'read', unit: 1, function: 1, address: 19, count: 1 },
    { kind: 'read', unit: 1, function: 2, address: 196, count: 1 },
    { kind: 'read', unit: 247, function: 4, address: 8, count: 2 },
  ]);
  assert.deepEqual(ours.map((f) => Buffer.from(f).toString('hex')), theirs.map((f) => Buffer.from(f).toString('hex')));
  // The classic example of the serial line guides: unit 0x11, read 3 registers from 0x006B.
  assert.equal(Buffer.from(ours[0]!).toString('hex'), '1103006b00037687');
  for (const frame of ours) {
    const body = Buffer.from(frame.subarray(0, frame.length - 2));
    assert.equal(frame[frame.length - 2]! | (frame[frame.length - 1]! << 8), crc16(body), 'modbus-serial computes the same CRC');
  }
  assert.deepEqual([...instance.request(0, 0xa5c3)], [...ours[0]!], 'an RTU frame carries no sequence number');
});

test('RTU responses pymodbus builds decode; a bad CRC, another address or an exception are bad with the reason', pymodbus, async () => {
  const devices = [rtu(5)];
  const points: PointSetting[] = [{ function: 3, address: 0, type: 'float32' }];
  const decoder = modbusDecoder({ devices, points });
  const { instance } = decoder;
  const request = instance.request(0, 0);
  const [good, exception, other] = await pymodbusFrames([
    { kind: 'read_registers_response', unit: 5, values: [0xc020, 0x0000] }, // -2.5f
    { kind: 'exception', unit: 5, function: 3, code: 2 },
    { kind: 'read_registers_response', unit: 6, values: [0xc020, 0x0000] },
  ]);
  const badCrc = good!.slice();
  badCrc[badCrc.length - 1]! ^= 0xff;
  const record = (response: Uint8Array) => ({ ctx: { device: 0, request: 0, status: 0, seq: 0, ts: 1 }, request, response });
  const samples = decodeSamples(instance.process(encodeFrameBatch([record(good!), record(badCrc), record(other!), record(exception!)])));
  assert.deepEqual(samples.map((s) => [s.value, s.quality]), [[-2.5, GOOD], [NaN, BAD], [NaN, BAD], [NaN, BAD]]);
  // One warning per change of problem: a mismatch after a mismatch is counted, not logged again.
  const said = warnings(decoder).join('\n');
  assert.match(said, /CRC \d+, expected \d+/);
  assert.match(said, /exception 2 \(illegal data address\)/);
  const fresh = modbusDecoder({ devices, points });
  decodeSamples(fresh.instance.process(encodeFrameBatch([record(other!)])));
  assert.match(warnings(fresh).join('\n'), /device address 6, expected 5/);
});

test('a plan with a Modbus TCP device and an RTU device frames each its own way', () => {
  const devices: DeviceSetting[] = [{ name: 'tcp', unit_id: 1 }, rtu(2)];
  const points: PointSetting[] = [{ device: 0, function: 3, address: 0, type: 'uint16' }, { device: 1, function: 3, address: 0, type: 'uint16' }];
  const { instance } = modbusDecoder({ devices, points });
  assert.deepEqual([...instance.request(0, 0x0102)], [0x01, 0x02, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1]);
  const frame = instance.request(1, 0x0102);
  assert.deepEqual([...frame.subarray(0, 6)], [2, 3, 0, 0, 0, 1]);
  assert.equal(frame.length, 8);
  const decoded = decodeRecords(instance, [
    { ctx: { device: 1, request: 1, status: 0, seq: 9, ts: 1 }, request: instance.request(1, 9), response: withCrc([2, 3, 2, 0x12, 0x34]) },
  ]);
  assert.deepEqual(decoded.map((s) => [s.value, s.quality]), [[0x1234, GOOD]]);
});

test('an unknown framing is refused at configure, quoted', () => {
  assert.throws(() => modbusDecoder({ devices: [{ name: 'x', framing: 'ascii' as 'rtu' }], points: [] }), /devices\[0\] 'x': framing unknown: "ascii"/);
});

test('RTU frame ends: read byte count + 5, exception 5, write echoes 8, mask write 10; by wg_frame_length and by the rule', pymodbus, async () => {
  const { instance } = modbusDecoder({ devices: [rtu(1)], points: [{ function: 3, address: 0, type: 'uint16' }] });
  const frames = await pymodbusFrames([
    { kind: 'read_registers_response', values: [1, 2, 3] },
    { kind: 'read_coils_response', bits: [true, false, true, true, false, false, false, false, true] },
    { kind: 'exception', function: 16, code: 4 },
    { kind: 'write_coil_response', address: 7, on: true },
    { kind: 'write_register_response', address: 7, value: 9 },
    { kind: 'write_coils_response', address: 7, count: 9 },
    { kind: 'write_registers_response', address: 7, count: 2 },
    { kind: 'mask_write_response', address: 7, and_mask: 0xfffe, or_mask: 1 },
  ]);
  const rule = ruleFor(parseFramingRules(instance.framing()!, {}), 'rtu')!;
  assert.deepEqual(frames.map((f) => f.length), [11, 7, 5, 8, 8, 8, 8, 10], 'the lengths of the serial line guide');
  for (const frame of frames) {
    // Two frames back to back, as a serial line may deliver them: only the first counts.
    const stream = new Uint8Array([...frame, ...frame]);
    assert.equal(instance.frameLength(stream), frame.length);
    assert.equal(ruleFrameLength(rule, stream), frame.length);
    assert.equal(instance.frameLength(frame.subarray(0, 1)), 0);
    assert.equal(ruleFrameLength(rule, frame.subarray(0, 1)), 0);
    assert.equal(ruleFrameLength(rule, frame.subarray(0, frame.length - 1)), frame.length, 'the length is known before the frame is whole');
  }
  assert.ok(instance.frameLength(new Uint8Array([1, 7, 0, 0])) < 0, 'function 7 is not one this plugin sends');
  assert.equal(ruleFrameLength(rule, new Uint8Array([1, 7, 0, 0])), -1);
});

/** An RTU frame: `bytes` and their CRC, computed by modbus-serial. */
function withCrc(bytes: number[]): Uint8Array {
  const crc = crc16(Buffer.from(bytes));
  return new Uint8Array([...bytes, crc & 0xff, crc >> 8]);
}
