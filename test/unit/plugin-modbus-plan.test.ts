// modbus decoder, planning: points coalesce into as few reads as the limits allow, in the order
// devices, function code, address; a point is never split. Expected plans are worked out by hand.
import test from 'node:test';
import assert from 'node:assert/strict';
import { modbusDecoder, plan, type PointSetting } from '../support/modbus-plugin.js';

const uint16At = (address: number, extra: Partial<PointSetting> = {}): PointSetting => ({ function: 3, address, type: 'uint16', ...extra });

test('adjacent points of one device and function make one read covering all of them', () => {
  const { instance } = modbusDecoder({ points: [uint16At(0), uint16At(1), { function: 3, address: 2, type: 'float32' }, { function: 3, address: 4, type: 'float64' }] });
  assert.deepEqual(plan(instance), [[0, 3, 0, 8]]);
});

test('a gap splits reads unless max_gap allows reading across it', () => {
  const points = [uint16At(0), uint16At(5)]; // registers 1-4 unused: a gap of 4
  assert.deepEqual(plan(modbusDecoder({ points }).instance), [[0, 3, 0, 1], [0, 3, 5, 1]], 'max_gap defaults to 0');
  assert.deepEqual(plan(modbusDecoder({ points, with: { max_gap: 3 } }).instance), [[0, 3, 0, 1], [0, 3, 5, 1]]);
  assert.deepEqual(plan(modbusDecoder({ points, with: { max_gap: 4 } }).instance), [[0, 3, 0, 6]]);
});

test('coils merge across a gap in bits the same way', () => {
  const points = [{ function: 1, address: 10, type: 'bool' }, { function: 1, address: 20, type: 'bool' }];
  assert.deepEqual(plan(modbusDecoder({ points }).instance), [[0, 1, 10, 1], [0, 1, 20, 1]]);
  assert.deepEqual(plan(modbusDecoder({ points, with: { max_gap: 9 } }).instance), [[0, 1, 10, 11]]);
});

test('a read stops at 125 registers, the protocol limit', () => {
  const points = Array.from({ length: 126 }, (_, i) => uint16At(i));
  assert.deepEqual(plan(modbusDecoder({ points: points.slice(0, 125) }).instance), [[0, 3, 0, 125]]);
  assert.deepEqual(plan(modbusDecoder({ points }).instance), [[0, 3, 0, 125], [0, 3, 125, 1]]);
});

test('a point is never split: a float32 at 124 moves whole to the next read', () => {
  const points = [...Array.from({ length: 124 }, (_, i) => uint16At(i)), { function: 3, address: 124, type: 'float32' }];
  assert.deepEqual(plan(modbusDecoder({ points }).instance), [[0, 3, 0, 124], [0, 3, 124, 2]]);
});

test('max_registers lowers the register limit', () => {
  const points = Array.from({ length: 20 }, (_, i) => uint16At(i));
  assert.deepEqual(plan(modbusDecoder({ points, with: { max_registers: 8 } }).instance), [[0, 3, 0, 8], [0, 3, 8, 8], [0, 3, 16, 4]]);
});

test('a read stops at 2000 bits for coils and discrete inputs; max_bits lowers that', () => {
  const coils = (fn: number, n: number): PointSetting[] => Array.from({ length: n }, (_, i) => ({ function: fn, address: i, type: 'bool' }));
  assert.deepEqual(plan(modbusDecoder({ points: coils(1, 2000) }).instance), [[0, 1, 0, 2000]]);
  assert.deepEqual(plan(modbusDecoder({ points: coils(2, 2001) }).instance), [[0, 2, 0, 2000], [0, 2, 2000, 1]]);
  assert.deepEqual(plan(modbusDecoder({ points: coils(1, 20), with: { max_bits: 16 } }).instance), [[0, 1, 0, 16], [0, 1, 16, 4]]);
});

test('bools on bits of one register share it, and overlapping points read it once', () => {
  const points: PointSetting[] = [
    { function: 3, address: 7, type: 'bool', bit: 0 },
    { function: 3, address: 7, type: 'bool', bit: 15 },
    { function: 3, address: 7, type: 'uint16' },
    { function: 3, address: 6, type: 'uint32' }, // registers 6-7
  ];
  assert.deepEqual(plan(modbusDecoder({ points }).instance), [[0, 3, 6, 2]]);
});

test('devices, then function codes, then addresses order the plan, whatever order the points come in', () => {
  const { instance } = modbusDecoder({
    devices: [{ name: 'a', unit_id: 1 }, { name: 'b', unit_id: 2 }],
    points: [
      uint16At(0, { device: 1, function: 4 }),
      uint16At(1, { device: 1 }),
      uint16At(0, { device: 1 }),
      uint16At(3, { device: 0, function: 4 }),
      { device: 0, function: 2, address: 0, type: 'bool' },
      uint16At(1, { device: 0 }),
      uint16At(0, { device: 0 }),
    ],
  });
  assert.deepEqual(plan(instance), [
    [0, 2, 0, 1],
    [0, 3, 0, 2],
    [0, 4, 3, 1],
    [1, 3, 0, 2],
    [1, 4, 0, 1],
  ]);
  assert.deepEqual([...instance.requests()], [0, 0, 0, 1, 1]);
  assert.equal(instance.request(3, 1)[6], 2, 'unit id of device b');
});

test('the same settings give the same plan in a second instance (the I/O thread and the worker agree)', () => {
  const settings = { points: [uint16At(9), uint16At(2), { function: 1, address: 4, type: 'bool' }, uint16At(3)] };
  assert.deepEqual(plan(modbusDecoder(settings).instance), plan(modbusDecoder(settings).instance));
  assert.deepEqual(plan(modbusDecoder(settings).instance), [[0, 1, 4, 1], [0, 3, 2, 2], [0, 3, 9, 1]]);
});
