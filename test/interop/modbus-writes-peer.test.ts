/**
 * Writes the modbus plugin encodes (ABI 1.2 wg_write) sent to Debian's pymodbus server over Modbus
 * TCP, confirmed by the plugin from the server's own answer (wg_write_check), then read back through
 * an independent client (modbus-serial) and compared with the register words pymodbus's
 * BinaryPayloadBuilder gives for the same value: every numeric type in every order, coils, a bit of a
 * register by mask write, and a write the server answers with an exception.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import modbusSerial from 'modbus-serial';
import { modbusDecoder, type PointSetting } from '../support/modbus-plugin.js';
import { pymodbusEncodeMany, startPymodbusServer, type PymodbusServer, type PymodbusType } from '../support/pymodbus.js';
import { findPymodbusPython, needs } from '../support/tools.js';
import type { WordOrder } from '../../src/host/demo/register-words.js';

const ModbusRTU = modbusSerial.default;
const gate = needs('python3-pymodbus', !!findPymodbusPython());
const ORDERS: WordOrder[] = ['ABCD', 'BADC', 'CDAB', 'DCBA'];
const VALUES: Array<[PymodbusType, number]> = [
  ['int16', -1234], ['uint16', 0xbeef], ['int32', -123456789], ['uint32', 0xdeadbeef],
  ['float32', Math.fround(-123.456)], ['int64', -(2 ** 40) - 5], ['uint64', 2 ** 52 + 3], ['float64', Math.E],
];
// Holding registers 0-999 are mapped; a write at 1000 gets exception 2 (illegal data address).
const MAPPED = 1000;

let server: PymodbusServer | undefined;
let socket: Socket | undefined;

before(async () => {
  if (gate.skip) return;
  server = await startPymodbusServer({ size: { holding: MAPPED, coils: MAPPED } });
  socket = connect(server.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket!.once('connect', resolve).once('error', reject));
});

after(async () => {
  socket?.destroy();
  await server?.stop();
});

/** Sends one Modbus TCP frame and resolves with the whole response (its MBAP length + 6 bytes). */
function exchange(frame: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 6 && got.length >= 6 + got.readUInt16BE(4)) {
        socket!.off('data', onData);
        resolve(new Uint8Array(got));
      }
    };
    socket!.on('data', onData).once('error', reject);
    socket!.write(frame);
  });
}

async function readBack(fn: 'holding' | 'coils', address: number, count: number): Promise<number[]> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port: server!.port });
  client.setID(1);
  try {
    return fn === 'holding' ? (await client.readHoldingRegisters(address, count)).data : (await client.readCoils(address, count)).data.slice(0, count).map(Number);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

test('every numeric type in every order is written, confirmed, and reads back as pymodbus encodes it', gate, async () => {
  const cases = VALUES.flatMap(([type, value]) => ORDERS.map((order) => ({ type, value, order })));
  const points: PointSetting[] = cases.map((c, i) => ({ function: 3, address: i * 4, type: c.type, order: c.order, access: 'read_write' }));
  const { instance } = modbusDecoder({ points });
  const words = await pymodbusEncodeMany(cases);
  for (const [i, c] of cases.entries()) {
    const request = instance.writeFrame(0, i, c.value, i + 1);
    const response = await exchange(request);
    assert.deepEqual(instance.checkWrite(i, request, response), { ok: true }, `${c.type} ${c.order}`);
    assert.deepEqual(await readBack('holding', i * 4, words[i]!.length), words[i], `${c.type} ${c.value} ${c.order}`);
  }
});

test('coils by function 5 and 15, a register bit by mask write: confirmed and read back', gate, async () => {
  const points: PointSetting[] = [
    { function: 1, address: 500, type: 'bool', access: 'write' },
    { function: 1, address: 501, type: 'bool', access: 'write', write_function: 15 },
    { function: 3, address: 600, type: 'bool', bit: 9, access: 'write' },
    { function: 3, address: 600, type: 'uint16', access: 'write' },
  ];
  const { instance } = modbusDecoder({ points });
  const write = async (point: number, value: number) => {
    const request = instance.writeFrame(0, point, value, 1);
    assert.deepEqual(instance.checkWrite(point, request, await exchange(request)), { ok: true });
  };
  await write(0, 1);
  await write(1, 1);
  assert.deepEqual(await readBack('coils', 500, 2), [1, 1]);
  await write(0, 0);
  assert.deepEqual(await readBack('coils', 500, 2), [0, 1]);
  await write(3, 0x00ff);
  await write(2, 1);
  assert.deepEqual(await readBack('holding', 600, 1), [0x02ff], 'bit 9 set, the other bits kept');
  await write(2, 0);
  assert.deepEqual(await readBack('holding', 600, 1), [0x00ff]);
});

test('a write the server refuses fails with the exception and its meaning', gate, async () => {
  const { instance } = modbusDecoder({ points: [{ function: 3, address: MAPPED, type: 'uint32', access: 'write' }] });
  const request = instance.writeFrame(0, 0, 1, 3);
  const verdict = instance.checkWrite(0, request, await exchange(request));
  assert.equal(verdict.ok, false);
  assert.ok(!verdict.ok && verdict.code === 'WG_ERR_DEVICE_EXCEPTION' && verdict.exception === 2 && /illegal data address/.test(verdict.detail), JSON.stringify(verdict));
});
