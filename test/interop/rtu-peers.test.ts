/**
 * The Modbus RTU peers the bus tests use answer real requests, read by clients that are not ours:
 * pymodbus's RTU server on a socat pty (several unit ids, per-unit faults) read by Debian's mbpoll;
 * pymodbus's RTU-over-TCP server read by modbus-serial's raw-TCP RTU client (connectTelnet; its
 * "TcpRTUBuffered" port speaks Modbus TCP framing, not RTU); modbus-serial's
 * ServerSerial on a pty read by mbpoll. The CRC is checked against the spec's example and two
 * implementations (pymodbus's computeCRC, modbus-serial's crc16). Values are written out by hand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect as connectTcp, type Socket } from 'node:net';
import modbusSerial from 'modbus-serial';
import { serialTransport } from '../../src/hal/serial.js';
import { findMbpoll, mbpollRead, MbpollFailure, type MbpollRead } from '../support/mbpoll.js';
import { startModbusSerialRtu, type ModbusSerialRtuServer } from '../support/modbus-serial-rtu.js';
import { pymodbusCrc } from '../support/pymodbus.js';
import { startPymodbusRtuOverTcp, startPymodbusRtuSerial, type PymodbusRtuServer } from '../support/pymodbus-rtu.js';
import { findSocat, startPtyPair, type PtyPair } from '../support/pty-pair.js';
import { findPymodbusPython, needs } from '../support/tools.js';

const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;
/** modbus-serial's CRC-16/MODBUS; it returns the register value, whose low byte goes first on the wire. */
const crc16 = createRequire(import.meta.url)('modbus-serial/utils/crc16') as (frame: Buffer) => number;

const hasSocat = !!findSocat();
const hasMbpoll = !!findMbpoll();
const hasPymodbus = !!findPymodbusPython();

/** The spec's example request: unit 1, read holding registers (3) from 0, ten of them; CRC C5 CD. */
const READ_10 = Uint8Array.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]);

function crcBytes(frame: Uint8Array): [number, number] {
  const value = crc16(Buffer.from(frame));
  return [value & 0xff, value >> 8];
}

/** Polls and returns the failure mbpoll reported; fails the test if the poll succeeded. */
async function mbpollFails(read: MbpollRead): Promise<MbpollFailure> {
  const error = await mbpollRead(read).then(
    (values) => assert.fail(`expected the poll to fail, got ${JSON.stringify(values)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MbpollFailure, String(error));
  return error;
}

test('CRC-16/MODBUS: modbus-serial crc16 and pymodbus computeCRC give the published bytes', needs('python3-pymodbus', hasPymodbus), async () => {
  // 01 03 00 00 00 0A -> C5 CD (the brief's example); the common FC 3 tutorial pair, unit 0x11:
  // request 11 03 00 6B 00 03 -> 76 87, answer 11 03 06 AE 41 56 52 43 40 -> 49 AD.
  const frames = [
    { body: READ_10.subarray(0, 6), crc: [0xc5, 0xcd] },
    { body: Uint8Array.from([0x11, 0x03, 0x00, 0x6b, 0x00, 0x03]), crc: [0x76, 0x87] },
    { body: Uint8Array.from([0x11, 0x03, 0x06, 0xae, 0x41, 0x56, 0x52, 0x43, 0x40]), crc: [0x49, 0xad] },
  ];
  const fromPymodbus = await pymodbusCrc(frames.map((f) => f.body));
  frames.forEach(({ body, crc }, i) => {
    assert.deepEqual(crcBytes(body), crc, `modbus-serial, frame ${i}`);
    assert.deepEqual(fromPymodbus[i], crc, `pymodbus, frame ${i}`);
  });
});

describe('pymodbus RTU server on a socat pty, several units and their faults, read by mbpoll', { ...needs('socat', hasSocat), ...needs('mbpoll', hasMbpoll), ...needs('python3-pymodbus', hasPymodbus) }, () => {
  let pair: PtyPair;
  let server: PymodbusRtuServer;
  let serial: MbpollRead['serial'];
  before(async () => {
    pair = await startPtyPair();
    serial = { path: pair.busPath, baudRate: 9600, parity: 'even' };
    server = await startPymodbusRtuSerial({
      path: pair.peerPath,
      baudRate: 9600,
      parity: 'even',
      units: {
        1: { holding: { 0: [0x1234, 0xabcd, 7] }, input: { 0: [11, 12] } },
        2: { holding: { 0: [2, 3] } },
        3: { holding: { 0: [33] }, fault: { kind: 'silent' } },
        4: { holding: { 0: [44] }, fault: { kind: 'exception', code: 6 } },
        5: { holding: { 0: [55] }, fault: { kind: 'slow', delayMs: 1_000 } },
        6: { holding: { 0: [66] }, fault: { kind: 'bad-crc' } },
        7: { holding: { 0: [77] }, fault: { kind: 'garbage' } },
      },
    });
  });
  after(async () => {
    await server?.stop();
    await pair?.stop();
  });

  test('each unit answers its own register image', async () => {
    assert.deepEqual(await mbpollRead({ serial, unitId: 1, table: 'holding', address: 0, count: 3 }), [0x1234, 0xabcd, 7]);
    assert.deepEqual(await mbpollRead({ serial, unitId: 1, table: 'input', address: 0, count: 2 }), [11, 12]);
    assert.deepEqual(await mbpollRead({ serial, unitId: 2, table: 'holding', address: 0, count: 2 }), [2, 3]);
  });

  test('our serial transport gets the answer to the spec frame, and its CRC checks by two implementations', async () => {
    const transport = serialTransport({ device: 'unit-1', path: pair.busPath, baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1, connectTimeoutMs: 5_000 });
    await transport.open();
    try {
      await transport.write(READ_10);
      let answer = new Uint8Array(0);
      while (answer.length < 25) answer = new Uint8Array(Buffer.concat([answer, await transport.read(5_000)]));
      // unit 1, FC 3, 20 bytes: 12 34 AB CD 00 07 and seven zero registers, then the CRC.
      const body = Uint8Array.from([0x01, 0x03, 0x14, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x07, ...new Array<number>(14).fill(0)]);
      assert.deepEqual(answer.subarray(0, 23), body);
      assert.deepEqual([...answer.subarray(23)], crcBytes(body), 'modbus-serial crc16');
      assert.deepEqual([...answer.subarray(23)], (await pymodbusCrc([body]))[0], 'pymodbus computeCRC');
    } finally {
      await transport.close();
    }
  });

  test('a silent unit and a unit not on the bus never answer', async () => {
    assert.ok((await mbpollFails({ serial, unitId: 3, table: 'holding', address: 0, timeoutSeconds: 0.3 })).timedOut);
    assert.ok((await mbpollFails({ serial, unitId: 9, table: 'holding', address: 0, timeoutSeconds: 0.3 })).timedOut);
  });

  test('the exception unit answers every read with its exception code (6, busy), whatever the table', async () => {
    assert.equal((await mbpollFails({ serial, unitId: 4, table: 'holding', address: 0 })).modbusException, 6);
    assert.equal((await mbpollFails({ serial, unitId: 4, table: 'input', address: 5 })).modbusException, 6);
  });

  test('the bad-CRC unit is rejected by libmodbus for its CRC; the garbage unit is no answer to the request', async () => {
    assert.ok((await mbpollFails({ serial, unitId: 6, table: 'holding', address: 0 })).badCrc);
    const garbage = await mbpollFails({ serial, unitId: 7, table: 'holding', address: 0, timeoutSeconds: 0.3 });
    assert.equal(garbage.modbusException, undefined);
    assert.equal(garbage.badCrc, false, 'the garbage fails before any CRC check (its first byte is no unit we asked)');
  });

  test('a unit can stop answering and come back while the bus runs; pymodbus counts every request it saw', async () => {
    const before = (await server.requestsSeen())[1] ?? 0;
    await server.setFault(1, { kind: 'silent' });
    assert.ok((await mbpollFails({ serial, unitId: 1, table: 'holding', address: 0, timeoutSeconds: 0.3 })).timedOut);
    await server.setFault(1, null);
    assert.deepEqual(await mbpollRead({ serial, unitId: 1, table: 'holding', address: 0 }), [0x1234]);
    assert.equal((await server.requestsSeen())[1], before + 2, 'the silent read reached it too');
  });

  // Last in this bus: a late answer stays on the line after the client gave up, as on a real bus.
  test('the slow unit answers correctly when waited for, and not within a timeout shorter than its delay', async () => {
    assert.deepEqual(await mbpollRead({ serial, unitId: 5, table: 'holding', address: 0, timeoutSeconds: 5 }), [55]);
    assert.ok((await mbpollFails({ serial, unitId: 5, table: 'holding', address: 0, timeoutSeconds: 0.1 })).timedOut);
  });
});

describe('pymodbus RTU over TCP, read by modbus-serial\'s RTU-over-TCP client (connectTelnet)', needs('python3-pymodbus', hasPymodbus), () => {
  let server: PymodbusRtuServer;
  let client: ModbusRTU;
  before(async () => {
    server = await startPymodbusRtuOverTcp({
      units: {
        1: { holding: { 0: [0x1234, 0xabcd, 7] } },
        2: { holding: { 0: [2, 3] } },
        3: { fault: { kind: 'exception', code: 2 } },
        4: { fault: { kind: 'silent' } },
      },
    });
    client = new ModbusRTU();
    await client.connectTelnet('127.0.0.1', { port: server.port as number });
    client.setTimeout(500);
  });
  after(async () => {
    await new Promise<void>((resolve) => (client?.isOpen ? client.close(() => resolve()) : resolve()));
    await server?.stop();
  });

  test('each unit answers its own image over one connection', async () => {
    client.setID(1);
    assert.deepEqual((await client.readHoldingRegisters(0, 3)).data, [0x1234, 0xabcd, 7]);
    client.setID(2);
    assert.deepEqual((await client.readHoldingRegisters(0, 2)).data, [2, 3]);
  });

  test('the exception unit answers exception 2; the silent unit times out', async () => {
    client.setID(3);
    const exception = await client.readHoldingRegisters(0, 1).then(() => assert.fail('expected an exception'), (e: { modbusCode?: number }) => e);
    assert.equal(exception.modbusCode, 2);
    client.setID(4);
    const silent = await client.readHoldingRegisters(0, 1).then(() => assert.fail('expected a timeout'), (e: { errno?: string }) => e);
    assert.equal(silent.errno, 'ETIMEDOUT');
  });

  test('the bytes on the TCP stream are RTU frames: the spec request in, an answer with a good CRC out', async () => {
    const socket: Socket = connectTcp({ host: '127.0.0.1', port: server.port as number });
    await once(socket, 'connect');
    try {
      socket.write(READ_10);
      let answer = Buffer.alloc(0);
      while (answer.length < 25) answer = Buffer.concat([answer, (await once(socket, 'data'))[0] as Buffer]);
      assert.deepEqual([...answer.subarray(0, 9)], [0x01, 0x03, 0x14, 0x12, 0x34, 0xab, 0xcd, 0x00, 0x07]);
      assert.deepEqual([...answer.subarray(23)], crcBytes(answer.subarray(0, 23)));
    } finally {
      socket.destroy();
    }
  });
});

describe('modbus-serial ServerSerial on a socat pty, read by mbpoll', { ...needs('socat', hasSocat), ...needs('mbpoll', hasMbpoll) }, () => {
  let pair: PtyPair;
  let server: ModbusSerialRtuServer;
  let serial: MbpollRead['serial'];
  before(async () => {
    pair = await startPtyPair();
    serial = { path: pair.busPath, baudRate: 19200, parity: 'none', stopBits: 2 };
    server = await startModbusSerialRtu({ path: pair.peerPath, unitId: 17, baudRate: 19200, parity: 'none', holding: { 0: [500, 501] }, input: { 3: [9] } });
  });
  after(async () => {
    await server?.stop();
    await pair?.stop();
  });

  test('its unit answers holding and input registers', async () => {
    assert.deepEqual(await mbpollRead({ serial, unitId: 17, table: 'holding', address: 0, count: 2 }), [500, 501]);
    assert.deepEqual(await mbpollRead({ serial, unitId: 17, table: 'input', address: 3 }), [9]);
    server.setHolding(1, [0xfffe]);
    assert.deepEqual(await mbpollRead({ serial, unitId: 17, table: 'holding', address: 1 }), [0xfffe]);
  });

  test('another unit id gets no answer', async () => {
    assert.ok((await mbpollFails({ serial, unitId: 18, table: 'holding', address: 0, timeoutSeconds: 0.3 })).timedOut);
  });
});
